"""Turns one HTTP request into a Slack answer: auth, faults, latency, method, call log.

`Dispatcher.web_api` serves ``/api/<method>`` and `Dispatcher.response_url` serves
``/response/<id>``; both return an `Outcome` that the HTTP handler writes out (or, when
`drop` is set, answers with a closed connection). All state changes happen under `lock`.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import api_chat, api_conversations, api_files, api_views
from bot.sandbox.faults import Faults
from bot.sandbox.params import Params, parse_body, redacted
from bot.sandbox.records import Call
from bot.sandbox.responses import post_to_response_url
from bot.sandbox.socket_mode import SocketModeHub
from bot.sandbox.state import ApiError, RateLimited, Workspace

Method = Callable[[Workspace, Params], dict[str, Any]]
METHODS: dict[str, Method] = {
    **api_chat.METHODS,
    **api_conversations.METHODS,
    **api_views.METHODS,
    **api_files.METHODS,
}
# Methods that take the app-level token (xapp-…) and no other; every other method refuses it.
APP_TOKEN_METHODS = {"apps.connections.open"}
JSON_TYPE = "application/json; charset=utf-8"
log = logging.getLogger("bot.sandbox")


@dataclass
class Outcome:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Outcome:
    all_headers = {"Content-Type": JSON_TYPE, **(headers or {})}
    return Outcome(status, json.dumps(body).encode("utf-8"), all_headers)


class Dispatcher:
    """Serves Web API calls and response_url posts against one workspace."""

    def __init__(self, *, ws: Workspace, lock: threading.RLock, faults: Faults, token: str,
                 app_token: str, socket_mode: SocketModeHub) -> None:
        self.ws = ws
        self.lock = lock
        self.faults = faults
        self.token = token
        self.app_token = app_token
        self.socket_mode = socket_mode
        self.calls: list[Call] = []

    def web_api(
        self, method: str, *, query: str, body: bytes, content_type: str, authorization: str
    ) -> Outcome:
        delay = self.faults.latency(method)
        if delay:
            time.sleep(delay)
        values: dict[str, Any] = {}
        try:
            values = parse_body(query, body, content_type)
            outcome, fault = self._run(method, values, authorization)
        except ApiError as exc:
            outcome, fault = _json(200, exc.body()), None
        except Exception as exc:  # a sandbox bug: answer like a Slack outage, loudly
            log.exception("sandbox failed on %s", method)
            outcome, fault = _json(500, {"ok": False, "error": "internal_error"}), f"bug: {exc!r}"
        self._log(method, values, outcome, fault)
        return outcome

    def _run(
        self, method: str, values: dict[str, Any], authorization: str
    ) -> tuple[Outcome, str | None]:
        app_level = method in APP_TOKEN_METHODS
        handler = METHODS.get(method)
        if handler is None and not app_level:
            raise ApiError("unknown_method")
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
        token = token or str(values.get("token") or "")
        if not token:
            raise ApiError("not_authed")
        if token not in (self.token, self.app_token):
            raise ApiError("invalid_auth")
        if (token == self.app_token) != app_level:
            raise ApiError("not_allowed_token_type")
        channels = self._channels_of(values)
        fault = self.faults.take(method, channels, kinds=("fail", "ratelimit"))
        if fault is not None and fault.kind == "ratelimit":
            retry = {"Retry-After": str(fault.retry_after)}
            return _json(429, {"ok": False, "error": "ratelimited"}, retry), "ratelimit"
        if fault is not None:
            return _json(fault.status, {"ok": False, "error": fault.error}), "fail"
        if app_level:  # apps.connections.open: the one app-level method
            return _json(200, {"ok": True, "url": self.socket_mode.open_url()}), None
        assert handler is not None
        with self.lock:
            try:
                answer = handler(self.ws, Params(values))
            except RateLimited as exc:
                retry = {"Retry-After": str(exc.retry_after)}
                return _json(429, {"ok": False, "error": "ratelimited"}, retry), None
        after = self.faults.take(method, channels, kinds=("accept_then_fail",))
        if after is None:
            return _json(200, answer), None
        if after.status == 0:
            return Outcome(0, b"", drop=True), "accept_then_fail"
        return _json(after.status, {"ok": False, "error": after.error}), "accept_then_fail"

    def _channels_of(self, values: dict[str, Any]) -> set[str]:
        """The raw channel of a call plus its resolved id (a user id means their DM)."""
        raw = values.get("channel")
        if not isinstance(raw, str) or not raw:
            return set()
        with self.lock:
            try:
                return {raw, self.ws.resolve(raw).id}
            except ApiError:
                return {raw}

    def _log(
        self, method: str, values: dict[str, Any], outcome: Outcome, fault: str | None
    ) -> None:
        try:
            response = json.loads(outcome.body) if outcome.body else {}
        except json.JSONDecodeError:
            response = {"raw": outcome.body.decode("utf-8", "replace")}
        call = Call(method, redacted(values), outcome.status, response, self.ws.wall_clock(), fault)
        with self.lock:
            self.calls.append(call)

    def upload(self, file_id: str, body: bytes) -> Outcome:
        """A file's bytes POSTed to the URL files.getUploadURLExternal gave out."""
        with self.lock:
            status, answer = api_files.upload(self.ws, file_id, body)
        return Outcome(status, answer.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def response_url(self, key: str, url: str, body: bytes) -> Outcome:
        delay = self.faults.latency("response_url")
        if delay:
            time.sleep(delay)
        fault = self.faults.take("response_url", set(), kinds=("fail", "ratelimit"))
        if fault is not None:
            status = 429 if fault.kind == "ratelimit" else fault.status
            error = "ratelimited" if fault.kind == "ratelimit" else fault.error
            return Outcome(status, error.encode(), {"Content-Type": "text/plain"})
        try:
            payload: Any = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        with self.lock:
            status, answer = post_to_response_url(self.ws, key, url, payload)
        return Outcome(status, answer.encode(), {"Content-Type": "text/plain; charset=utf-8"})
