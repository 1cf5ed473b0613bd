"""Modal and App Home interactions of `SlackDriver` (a base class, not used on its own).

Clicks inside views and view submissions, built from the latest version of the view stored in
the sandbox; the app's answer to a submission is applied to the sandbox as Slack would.
"""

import json
import time
from typing import Any

from bot.sandbox import payloads
from bot.sandbox.records import APP_ID, TEAM_ID, ViewRecord
from bot.sandbox.server import SlackSandbox
from bot.sandbox.state import ApiError
from bot.sandbox.transport import DriverResponse, Signature, SlackTransport

AnyView = ViewRecord | dict[str, Any] | str


class ModalActions(SlackTransport):
    """Sandbox-aware transport: people, payload basics, and everything about views."""

    def __init__(
        self,
        *,
        sandbox: SlackSandbox,
        app_url: str = "",
        signing_secret: str = "",
        socket_mode: bool = False,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
        verification_token: str = "sandbox-verification-token",
        timeout: float = 10.0,
    ) -> None:
        """Over HTTP to `app_url` signed with `signing_secret`; or, with `socket_mode`, as
        envelopes over the app's Socket Mode connections to `sandbox`."""
        if not socket_mode and not (app_url and signing_secret):
            raise ValueError("app_url and signing_secret are needed unless socket_mode=True")
        super().__init__(
            app_url=app_url,
            signing_secret=signing_secret,
            team_id=team_id,
            api_app_id=api_app_id,
            verification_token=verification_token,
            bot_user_id=sandbox.bot_user_id,
            timeout=timeout,
            socket=sandbox.socket_mode if socket_mode else None,
        )
        self.sandbox = sandbox

    def _user(self, user: str) -> dict[str, str]:
        name = self.sandbox.user_names.get(user, user).lower().replace(" ", ".")
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _common(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": {"id": self.team_id, "domain": "sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self.sandbox.issue_trigger_id(user),
        }

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        return self.sandbox.channel_names.get(channel, channel)

    def _latest_view(self, view: AnyView) -> ViewRecord:
        if isinstance(view, str):
            view_id = view
        else:
            view_id = view.id if isinstance(view, ViewRecord) else str(view["id"])
        record = self.sandbox.view(view_id)
        if record is None:
            raise LookupError(f"no modal {view_id!r} in the sandbox")
        return record

    def _click_view(
        self,
        user: str,
        view: dict[str, Any],
        button: str,
        values: dict[str, Any] | None,
        **opts: Any,
    ) -> DriverResponse:
        block, element = payloads.find_button(view.get("blocks", []), button)
        state = payloads.view_state(view, values or {}, client_checks=False)
        payload = self._common("block_actions", user)
        payload.update(
            container={"type": "view", "view_id": view["id"]},
            state=state,
            view=payloads.with_state(view, state),
            actions=[payloads.button_action(block, element, f"{time.time():.6f}")],
        )
        return self.send_payload(payload, **opts)

    def click_in_view(
        self,
        user: str,
        view: AnyView,
        button: str,
        *,
        values: dict[str, Any] | None = None,
        signature: Signature = "valid",
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """Clicks a button inside a modal (its latest version); `values` fill its inputs."""
        record = self._latest_view(view)
        return self._click_view(
            user,
            record.view,
            button,
            values,
            signature=signature,
            timestamp_offset=timestamp_offset,
        )

    def click_in_home(
        self, user: str, button: str, *, signature: Signature = "valid", timestamp_offset: int = 0
    ) -> DriverResponse:
        """Clicks a button on the App Home tab last published for `user`."""
        home = self.sandbox.home(user)
        if home is None:
            raise LookupError(f"no App Home published for {user}")
        return self._click_view(
            user, home, button, None, signature=signature, timestamp_offset=timestamp_offset
        )

    def submit_view(
        self,
        user: str,
        view: AnyView,
        values: dict[str, Any],
        *,
        client_checks: bool = True,
        signature: Signature = "valid",
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """Submits an open modal with `values` (action_id or block_id → value or option value).

        Raises ValueError where the Slack client itself would refuse to submit (a required
        input empty, text outside min/max length) unless `client_checks` is False.
        """
        record = self._latest_view(view)
        if record.closed:
            raise LookupError(f"modal {record.id} is closed; Slack cannot submit it")
        state = payloads.view_state(record.view, values, client_checks=client_checks)
        payload = self._common("view_submission", user)
        payload.update(view=payloads.with_state(record.view, state), response_urls=[])
        response = self.send_payload(
            payload, signature=signature, timestamp_offset=timestamp_offset
        )
        if response.status == 200 and not response.timed_out:
            try:
                answer = response.json()
            except json.JSONDecodeError:
                answer = None
            try:
                self.sandbox.apply_view_answer(record.id, answer)
            except ApiError as error:
                response.delivery_error = error.error
        return response

    def latest_modal(self, user: str) -> ViewRecord | None:
        """The user's most recently opened or pushed modal (open or closed), from the sandbox.

        To wait for a new modal after a click, prefer `open_modal`: an older closed modal
        would satisfy `latest_modal` at once.
        """
        return self.sandbox.latest_modal(user)

    def open_modal(self, user: str) -> ViewRecord | None:
        """The modal the user has in front of them (top of their stack), or None."""
        stack = self.sandbox.open_modals(user)
        return stack[-1] if stack else None
