"""What Slack sends a Slack app, as Slack sends it (base of `SlackDriver`).

    transport = SlackTransport(app_url=url, signing_secret=secret)
    transport.event({"type": "app_mention", ...}, retry_num=1)
    transport.send(body, content_type="application/json", signature="wrong")

Over HTTP, signing is Slack's v0 scheme: ``X-Slack-Request-Timestamp`` and
``X-Slack-Signature: v0=HMAC_SHA256(secret, "v0:{ts}:{body}")``. `signature` may be "valid",
"missing" or "wrong"; `timestamp_offset` shifts the timestamp (e.g. -400 is stale).

With `socket` (a `SocketModeHub`), slash commands, interactions and events go out as Socket
Mode envelopes instead, and the app's ack (its `payload`, where the envelope accepts one)
comes back as the response body. Socket Mode has no signatures: the app-level token that
opened the connection is the proof, so `signature` and `timestamp_offset` do not apply.
"""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.records import APP_ID, BOT_USER_ID, TEAM_ID
from bot.sandbox.socket_mode import EnvelopeType, NoConnection, SocketModeHub

Signature = Literal["valid", "missing", "wrong"]
ACK_DEADLINE_SECONDS = 3.0


@dataclass
class DriverResponse:
    """The app's HTTP answer; `delivery_error` is set when Slack would reject what it said."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float
    delivery_error: str | None = field(default=None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def timed_out(self) -> bool:
        """True when Slack would have given up waiting (3 seconds)."""
        return self.elapsed > ACK_DEADLINE_SECONDS


class SlackTransport:
    """Signs and POSTs bodies to the app; sends Events API envelopes."""

    def __init__(
        self,
        *,
        app_url: str,
        signing_secret: str,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
        verification_token: str = "sandbox-verification-token",
        bot_user_id: str = BOT_USER_ID,
        timeout: float = 10.0,
        socket: SocketModeHub | None = None,
    ) -> None:
        self.app_url = app_url
        self.socket = socket
        # How long an envelope waits for the app to (re)connect before Slack gives up.
        self.socket_connect_wait = 10.0
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.bot_user_id = bot_user_id
        self.timeout = timeout
        self._events = 0

    def signed_headers(
        self, body: str, *, signature: Signature = "valid", timestamp_offset: int = 0
    ) -> dict[str, str]:
        """X-Slack-Request-Timestamp and X-Slack-Signature for `body`."""
        timestamp = str(int(time.time()) + timestamp_offset)
        headers = {"X-Slack-Request-Timestamp": timestamp}
        if signature != "missing":
            secret = self.signing_secret if signature == "valid" else self.signing_secret + "-x"
            signed = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
            headers["X-Slack-Signature"] = signed or ""
        return headers

    def send(
        self,
        body: str,
        *,
        content_type: str,
        signature: Signature = "valid",
        timestamp_offset: int = 0,
        headers: dict[str, str] | None = None,
    ) -> DriverResponse:
        """POSTs a raw body to the app, signed (or not) as asked; never raises on HTTP errors."""
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **self.signed_headers(body, signature=signature, timestamp_offset=timestamp_offset),
            **(headers or {}),
        }
        request = urllib.request.Request(
            self.app_url, data=body.encode("utf-8"), headers=all_headers, method="POST"
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status, raw, got = answer.status, answer.read(), dict(answer.headers.items())
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers.items())
        text = raw.decode("utf-8", "replace")
        return DriverResponse(status, text, got, time.monotonic() - started)

    def send_form(self, fields: dict[str, str], **opts: Any) -> DriverResponse:
        """A slash command: form fields over HTTP, a ``slash_commands`` envelope in Socket
        Mode (whose ack payload is the answer, as the HTTP body would be)."""
        if self.socket is not None:
            return self.send_envelope("slash_commands", dict(fields), accepts_response=True)
        form = urlencode(fields)
        return self.send(form, content_type="application/x-www-form-urlencoded", **opts)

    def send_payload(self, payload: dict[str, Any], **opts: Any) -> DriverResponse:
        """An interactivity request: form field ``payload`` holding the JSON over HTTP, an
        ``interactive`` envelope in Socket Mode (view submissions may answer in the ack)."""
        if self.socket is not None:
            accepts = payload.get("type") in ("view_submission", "block_suggestion")
            return self.send_envelope("interactive", payload, accepts_response=accepts)
        return self.send_form({"payload": json.dumps(payload)}, **opts)

    def send_envelope(
        self,
        kind: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> DriverResponse:
        """Sends one Socket Mode envelope and waits for its ack (up to `timeout`).

        Status 200 when acked, with the ack's payload as the body where the envelope accepts
        one; 0 when nothing acked in time; 503 when the app has no connection open.
        """
        if self.socket is None:
            raise RuntimeError("this transport speaks HTTP; pass socket= for Socket Mode")
        try:
            ack = self.socket.send(kind, payload, accepts_response_payload=accepts_response,
                                   retry_attempt=retry_attempt, retry_reason=retry_reason,
                                   wait=self.timeout, connect_wait=self.socket_connect_wait)
        except NoConnection as error:
            return DriverResponse(503, str(error), {}, 0.0)
        body = json.dumps(ack.payload) if ack.payload else ""
        headers = {"X-Envelope-Id": ack.envelope.envelope_id}
        return DriverResponse(200 if ack.acked else 0, body, headers, ack.elapsed)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        signature: Signature = "valid",
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """Sends an Events API `event_callback`; `retry_num` makes it a Slack retry."""
        self._events += 1
        authorization = {
            "enterprise_id": None,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": False,
        }
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev0SBX{int(time.time())}{self._events:04d}",
            "event_time": int(time.time()),
            "event_context": f"sandbox-{self._events}",
            "is_ext_shared_channel": False,
            "authorizations": [authorization],
        }
        if self.socket is not None:
            return self.send_envelope("events_api", envelope, accepts_response=False,
                                      retry_attempt=retry_num or 0,
                                      retry_reason=retry_reason if retry_num else "")
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.send(
            json.dumps(envelope),
            content_type="application/json",
            headers=headers,
            signature=signature,
            timestamp_offset=timestamp_offset,
        )

    def url_verification(
        self, challenge: str, *, signature: Signature = "valid", timestamp_offset: int = 0
    ) -> DriverResponse:
        body = {"token": self.verification_token, "challenge": challenge}
        body["type"] = "url_verification"
        return self.send(
            json.dumps(body),
            content_type="application/json",
            signature=signature,
            timestamp_offset=timestamp_offset,
        )
