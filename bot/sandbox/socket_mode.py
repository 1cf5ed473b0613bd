"""Slack's side of Socket Mode: connection tickets, WebSocket links, envelopes and their acks.

The protocol, as Slack documents it:

1. The app calls ``apps.connections.open`` with its app-level token (``xapp-…``) and gets a
   ``url`` carrying a one-use ``ticket`` (``ws://127.0.0.1:<port>/link/?ticket=…&app_id=…``
   here, ``wss://wss-primary.slack.com/link/?…`` in Slack).
2. On connecting, the app receives ``{"type": "hello", "num_connections": N, …}``.
3. Slack sends what it would have POSTed over HTTP as envelopes: ``{"envelope_id", "type":
   "events_api" | "interactive" | "slash_commands", "payload", "accepts_response_payload",
   "retry_attempt", "retry_reason"}``, spread over the app's open connections.
4. The app acknowledges each with ``{"envelope_id": …, "payload": {…}}`` within 3 seconds;
   the payload counts only where ``accepts_response_payload`` is true (slash commands,
   view submissions), as the HTTP response body would.
5. Slack may send ``{"type": "disconnect", "reason": "refresh_requested" | "warning" |
   "link_disabled"}``; the app then opens a new connection (a new ticket) and Slack closes
   the old one.

`SocketModeHub` serves that with the ``websockets`` library on loopback, started on the first
``apps.connections.open``, and keeps a record of every envelope (`envelopes`).
"""

import itertools
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

EnvelopeType = Literal["events_api", "interactive", "slash_commands"]
DisconnectReason = Literal["refresh_requested", "warning", "link_disabled"]
# After a disconnect message Slack closes the old link shortly, whether or not the app left.
DISCONNECT_GRACE_SECONDS = 1.0
log = logging.getLogger("bot.sandbox.socket_mode")


@dataclass
class Envelope:
    """One envelope as sent, and what came back for it."""

    envelope_id: str
    type: EnvelopeType
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int
    connection: int
    sent_at: float
    acked: bool = False
    ack_seconds: float | None = None
    ack_payload: dict[str, Any] | None = None

    def copy(self) -> "Envelope":
        return replace(self, payload=dict(self.payload))


@dataclass
class Ack:
    """The app's answer to one envelope; `payload` only where the envelope accepted one."""

    acked: bool
    elapsed: float
    payload: dict[str, Any] | None
    envelope: Envelope


@dataclass
class _Link:
    number: int
    websocket: ServerConnection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    closing: bool = False

    def send(self, message: dict[str, Any]) -> None:
        with self.send_lock:
            self.websocket.send(json.dumps(message))


class NoConnection(Exception):
    """No Socket Mode connection is open: Slack would fail the request for the user."""


class SocketModeHub:
    """Tickets, live links and envelopes for one app (`app_id`)."""

    def __init__(self, *, app_id: str) -> None:
        self.app_id = app_id
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._envelopes: list[Envelope] = []
        self._by_id: dict[str, Envelope] = {}
        self._waiting: dict[str, threading.Event] = {}
        self._numbers = itertools.count(1)
        self._turn = itertools.count()
        self._server: Server | None = None
        self.refused_tickets = 0

    # lifecycle ------------------------------------------------------------------------------
    def _ensure_started(self) -> Server:
        with self._lock:
            if self._server is None:
                self._server = serve(self._session, "127.0.0.1", 0,
                                     process_request=self._check_ticket, compression=None)
                threading.Thread(target=self._server.serve_forever, daemon=True,
                                 name="slack-sandbox-socket-mode").start()
            return self._server

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            links = list(self._links)
        for link in links:
            link.websocket.close()
        if server is not None:
            server.shutdown()

    # apps.connections.open --------------------------------------------------------------------
    def open_url(self) -> str:
        """A fresh one-use WebSocket URL, as ``apps.connections.open`` answers."""
        server = self._ensure_started()
        host, port = server.socket.getsockname()[:2]
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://{host}:{port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, websocket: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._lock:
            valid = parts.path == "/link/" and ticket in self._tickets
            self._tickets.discard(ticket)  # a ticket opens one connection, once
            if not valid:
                self.refused_tickets += 1
        if not valid:
            return websocket.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
        return None

    # one connection ---------------------------------------------------------------------------
    def _session(self, websocket: ServerConnection) -> None:
        link = _Link(next(self._numbers), websocket)
        with self._changed:
            self._links.append(link)
            count = len(self._links)
        try:
            link.send({
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "applink-sandbox", "build_number": 1,
                               "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            })
            with self._changed:
                self._changed.notify_all()
            for raw in websocket:
                self._receive(link, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if link in self._links:
                    self._links.remove(link)
                self._changed.notify_all()

    def _receive(self, link: _Link, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("socket mode link %s sent something that is not JSON", link.number)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            record = self._by_id.get(envelope_id) if isinstance(envelope_id, str) else None
            if record is None or record.acked:
                log.warning("ack for unknown or already acked envelope %r", envelope_id)
                return
            record.acked = True
            record.ack_seconds = time.monotonic() - record.sent_at
            payload = message.get("payload")
            record.ack_payload = payload if isinstance(payload, dict) else None
            event = self._waiting.get(record.envelope_id)
        if event is not None:
            event.set()

    # what Slack sends ---------------------------------------------------------------------------
    def send(
        self,
        kind: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
        wait: float = 10.0,
        connect_wait: float = 10.0,
    ) -> Ack:
        """Sends one envelope on an open link (taking turns) and waits up to `wait` seconds for
        its ack. Raises `NoConnection` if no link opens within `connect_wait` seconds."""
        link = self._a_link(connect_wait)
        envelope = Envelope(
            envelope_id=secrets.token_hex(18),
            type=kind,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            connection=link.number,
            sent_at=time.monotonic(),
        )
        acked = threading.Event()
        with self._lock:
            self._envelopes.append(envelope)
            self._by_id[envelope.envelope_id] = envelope
            self._waiting[envelope.envelope_id] = acked
        message: dict[str, Any] = {
            "envelope_id": envelope.envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            message.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        try:
            link.send(message)
        except ConnectionClosed as error:
            raise NoConnection(f"link {link.number} closed while sending") from error
        acked.wait(wait)
        with self._lock:
            self._waiting.pop(envelope.envelope_id, None)
            record = envelope.copy()
        elapsed = record.ack_seconds if record.acked else time.monotonic() - record.sent_at
        answer = record.ack_payload if accepts_response_payload else None
        return Ack(record.acked, elapsed or 0.0, answer, record)

    def _a_link(self, connect_wait: float) -> _Link:
        deadline = time.monotonic() + connect_wait
        with self._changed:
            while True:
                open_links = [link for link in self._links if not link.closing]
                if open_links:
                    return open_links[next(self._turn) % len(open_links)]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NoConnection("no Socket Mode connection is open")
                self._changed.wait(left)

    def disconnect(self, reason: DisconnectReason = "refresh_requested") -> int:
        """Asks every open link to reconnect, then closes them (except for a warning);
        returns how many links were asked."""
        with self._lock:
            links = [link for link in self._links if not link.closing]
            if reason != "warning":
                for link in links:
                    link.closing = True
        for link in links:
            try:
                link.send({"type": "disconnect", "reason": reason,
                           "debug_info": {"host": "applink-sandbox"}})
            except ConnectionClosed:
                continue
            if reason != "warning":
                timer = threading.Timer(DISCONNECT_GRACE_SECONDS, link.websocket.close)
                timer.daemon = True
                timer.start()
        return len(links)

    def drop_connections(self) -> None:
        """Closes every link without a word, as a network failure would."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.websocket.close()

    # records ---------------------------------------------------------------------------------
    def connection_count(self) -> int:
        with self._lock:
            return sum(1 for link in self._links if not link.closing)

    def wait_for_connections(self, count: int = 1, timeout: float = 15.0) -> int:
        """Blocks until at least `count` links are open; returns the number open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                open_count = sum(1 for link in self._links if not link.closing)
                if open_count >= count:
                    return open_count
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{open_count} of {count} Socket Mode connections open")
                self._changed.wait(left)

    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return [e.copy() for e in self._envelopes]
