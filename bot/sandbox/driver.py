"""`SlackDriver`: sends the app what Slack would send, signed as Slack signs it.

    driver = SlackDriver(app_url=f"http://127.0.0.1:{port}/slack/events",
                         signing_secret=SECRET, sandbox=sandbox)
    driver.slash_command("U0NURSE1", "status")
    sample = sandbox.thread("C0CLINICAL", parent_ts)[1]
    driver.click("U0NURSE1", sample, "Minor issue", channel="C0CLINICAL")
    modal = driver.wait_for(lambda: driver.open_modal("U0NURSE1"))
    reply = driver.submit_view("U0NURSE1", modal, {"category": "factual",
                                                   "explanation": "States the wrong dose..."})
    driver.wait_for(lambda: sandbox.dms("U0TRAINER1"))

Every call returns a `DriverResponse` (see `bot.sandbox.transport`, which also sends events;
`bot.sandbox.modals` holds the modal and App Home interactions). Trigger ids and response_urls
in payloads are issued by the sandbox, so what the app does with them lands in the sandbox's
records. The HTTP answers Slack itself acts on (slash-command ack bodies, view_submission
`response_action`) are applied to the sandbox as Slack would, unless the app took longer than
3 seconds.
"""

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox import payloads
from bot.sandbox.modals import ModalActions
from bot.sandbox.records import Ephemeral, Message
from bot.sandbox.state import ApiError
from bot.sandbox.transport import DriverResponse, Signature

T = TypeVar("T")


class SlackDriver(ModalActions):
    """Sends slash commands, clicks, view submissions and events to the app under test."""

    def slash_command(
        self,
        user: str,
        text: str,
        *,
        command: str = "/audit",
        channel: str = "C0GENERAL",
        signature: Signature = "valid",
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """Sends a slash command; an ack body with text/blocks is shown to the user."""
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user(user)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.sandbox.new_response_url(user=user, channel=channel),
            "trigger_id": self.sandbox.issue_trigger_id(user),
        }
        response = self.send_form(fields, signature=signature, timestamp_offset=timestamp_offset)
        if response.status == 200 and response.body.strip() and not response.timed_out:
            try:
                ack = response.json()
            except json.JSONDecodeError:
                ack = {"text": response.body}
            try:
                self.sandbox.deliver_ack(ack, user=user, channel=channel)
            except ApiError as error:
                response.delivery_error = error.error
        return response

    def click(
        self,
        user: str,
        message: Message | Ephemeral | dict[str, Any],
        button: str,
        *,
        channel: str,
        signature: Signature = "valid",
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """Clicks a button (by visible text or action_id) on a message in `channel`.

        The payload carries the message as currently stored in the sandbox.
        """
        stored: dict[str, Any] | None = None
        if isinstance(message, Ephemeral):
            ts, blocks = message.message_ts, message.blocks
        else:
            ts = message.ts if isinstance(message, Message) else str(message.get("ts"))
            found = self.sandbox.message(channel, ts)
            stored = found.to_slack() if found else dict(message)  # type: ignore[arg-type]
            blocks = stored.get("blocks", [])
        block, element = payloads.find_button(blocks, button)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": stored is None,
        }
        if stored and stored.get("thread_ts") and stored["thread_ts"] != ts:
            container["thread_ts"] = stored["thread_ts"]
        payload = self._common("block_actions", user)
        payload.update(
            container=container,
            channel={"id": channel, "name": self._channel_name(channel)},
            state={"values": {}},
            response_url=self.sandbox.new_response_url(user=user, channel=channel, message_ts=ts),
            actions=[payloads.button_action(block, element, f"{time.time():.6f}")],
        )
        if stored is not None:
            payload["message"] = stored
        return self.send_payload(payload, signature=signature, timestamp_offset=timestamp_offset)

    def app_home_opened(
        self, user: str, *, signature: Signature = "valid", timestamp_offset: int = 0
    ) -> DriverResponse:
        """The app_home_opened event for `user` (with their current home view, if any)."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.sandbox.dm_id(user),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self.sandbox.home(user)
        if home is not None:
            event["view"] = home
        return self.event(event, signature=signature, timestamp_offset=timestamp_offset)

    @staticmethod
    def wait_for(predicate: Callable[[], T | None], timeout: float = 15.0,
                 interval: float = 0.02) -> T:
        """Polls until `predicate()` is truthy and returns it (so never None); TimeoutError
        after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)
