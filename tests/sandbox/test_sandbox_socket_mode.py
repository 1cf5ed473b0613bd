"""The sandbox's Socket Mode: apps.connections.open, the WebSocket link and its envelopes.

Spoken to by a raw WebSocket client (to check the protocol byte for byte), by slack_sdk's own
SocketModeClient (reconnection), and by a Bolt app behind SocketModeHandler driven with
`SlackDriver(socket_mode=True)` (in test_sandbox_bolt.py).
"""

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.records import APP_ID
from bot.sandbox.socket_mode import NoConnection


@pytest.fixture
def app_client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token=sandbox.app_token, base_url=sandbox.url, retry_handlers=[])


def _open(app_client: WebClient) -> str:
    return str(app_client.apps_connections_open(app_token=app_client.token)["url"])


@pytest.fixture
def link(app_client: WebClient) -> Iterator[ClientConnection]:
    with connect(_open(app_client)) as websocket:
        hello = json.loads(websocket.recv(timeout=5))
        assert hello["type"] == "hello"
        yield websocket


def _send_in_background(sandbox: SlackSandbox, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Runs `sandbox.socket_mode.send` on a thread; the dict gets "ack" when it returns."""
    result: dict[str, Any] = {}

    def run() -> None:
        result["ack"] = sandbox.socket_mode.send(*args, **kwargs)

    thread = threading.Thread(target=run)
    thread.start()
    result["thread"] = thread
    return result


# apps.connections.open ----------------------------------------------------------------------

def test_connections_open_gives_a_loopback_websocket_url_with_a_ticket(app_client):
    url = urlsplit(_open(app_client))
    assert (url.scheme, url.hostname, url.path) == ("ws", "127.0.0.1", "/link/")
    query = parse_qs(url.query)
    assert query["app_id"] == [APP_ID] and len(query["ticket"][0]) >= 16


def test_connections_open_refuses_a_bot_token_and_a_wrong_one(sandbox, client):
    with pytest.raises(SlackApiError) as bot_token:
        client.apps_connections_open(app_token=sandbox.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    wrong = WebClient(token="xapp-wrong", base_url=sandbox.url, retry_handlers=[])
    with pytest.raises(SlackApiError) as wrong_token:
        wrong.apps_connections_open(app_token="xapp-wrong")
    assert wrong_token.value.response["error"] == "invalid_auth"


def test_the_app_token_is_refused_by_bot_methods(sandbox, app_client):
    with pytest.raises(SlackApiError) as refused:
        app_client.chat_postMessage(channel="C0GENERAL", text="hi")
    assert refused.value.response["error"] == "not_allowed_token_type"
    assert sandbox.messages("C0GENERAL") == []


# the link -----------------------------------------------------------------------------------

def test_hello_counts_connections_and_names_the_app(app_client):
    # One after the other: two handshakes at once may register in either order.
    with connect(_open(app_client)) as first:
        hellos = [json.loads(first.recv(timeout=5))]
        with connect(_open(app_client)) as second:
            hellos.append(json.loads(second.recv(timeout=5)))
    assert [h["num_connections"] for h in hellos] == [1, 2]
    assert all(h["connection_info"] == {"app_id": APP_ID} for h in hellos)
    assert all("approximate_connection_time" in h["debug_info"] for h in hellos)


def test_a_ticket_opens_one_connection_only(sandbox, app_client):
    url = _open(app_client)
    with connect(url) as websocket:
        assert json.loads(websocket.recv(timeout=5))["type"] == "hello"
        with pytest.raises(InvalidStatus) as reused:
            connect(url)
    assert reused.value.response.status_code == 401
    forged = url.split("ticket=")[0] + "ticket=made-up&app_id=" + APP_ID
    with pytest.raises(InvalidStatus):
        connect(forged)
    assert sandbox.socket_mode.refused_tickets == 2


# envelopes ----------------------------------------------------------------------------------

def test_a_slash_command_envelope_is_answered_by_its_ack_payload(sandbox, link):
    pending = _send_in_background(sandbox, "slash_commands", {"command": "/audit"},
                                  accepts_response_payload=True)
    envelope = json.loads(link.recv(timeout=5))
    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert envelope["payload"] == {"command": "/audit"}
    link.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}))
    pending["thread"].join(5)
    ack = pending["ack"]
    assert ack.acked and ack.payload == {"text": "ok"} and ack.elapsed < 3
    assert sandbox.socket_mode.envelopes()[0].ack_payload == {"text": "ok"}


def test_an_ack_payload_is_ignored_where_the_envelope_accepts_none(sandbox, link):
    pending = _send_in_background(sandbox, "interactive", {"type": "block_actions"},
                                  accepts_response_payload=False)
    envelope = json.loads(link.recv(timeout=5))
    assert envelope["accepts_response_payload"] is False
    link.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "x"}}))
    pending["thread"].join(5)
    assert pending["ack"].acked and pending["ack"].payload is None


def test_an_events_envelope_carries_its_retry_attempt(sandbox, link):
    pending = _send_in_background(sandbox, "events_api", {"type": "event_callback"},
                                  accepts_response_payload=False, retry_attempt=2,
                                  retry_reason="timeout")
    envelope = json.loads(link.recv(timeout=5))
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (2, "timeout")
    link.send(json.dumps({"envelope_id": envelope["envelope_id"]}))
    pending["thread"].join(5)
    assert pending["ack"].acked


def test_an_envelope_nobody_acks_is_reported_unacked(sandbox, link):
    ack = sandbox.socket_mode.send("events_api", {"type": "event_callback"},
                                   accepts_response_payload=False, wait=0.3)
    assert json.loads(link.recv(timeout=5))["type"] == "events_api"
    assert not ack.acked and ack.elapsed >= 0.3
    # An ack for an envelope that was never sent changes nothing.
    link.send(json.dumps({"envelope_id": "never-sent"}))
    assert [e.acked for e in sandbox.socket_mode.envelopes()] == [False]


def test_envelopes_take_turns_over_the_open_connections(sandbox, app_client):
    with connect(_open(app_client)) as first, connect(_open(app_client)) as second:
        for websocket in (first, second):
            websocket.recv(timeout=5)  # hello
        for _ in range(4):
            sandbox.socket_mode.send("events_api", {}, accepts_response_payload=False, wait=0)
    assert sorted(e.connection for e in sandbox.socket_mode.envelopes()) == [1, 1, 2, 2]


def test_without_a_connection_nothing_can_be_delivered(sandbox):
    with pytest.raises(NoConnection):
        sandbox.socket_mode.send("events_api", {}, accepts_response_payload=False,
                                 connect_wait=0.2)
    driver = SlackDriver(sandbox=sandbox, socket_mode=True)
    driver.socket_connect_wait = 0.2
    assert driver.event({"type": "app_home_opened", "user": "U0NURSE1"}).status == 503


# slack_sdk's client ---------------------------------------------------------------------------

def test_slack_sdk_client_reconnects_when_asked_and_keeps_receiving(sandbox, app_client):
    received: list[str] = []
    client = SocketModeClient(app_token=sandbox.app_token, web_client=app_client,
                              auto_reconnect_enabled=True)

    def on_request(socket: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request.type)
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
    client.connect()
    try:
        sandbox.socket_mode.wait_for_connections(1)
        assert sandbox.socket_mode.send("events_api", {}, accepts_response_payload=False).acked
        assert sandbox.socket_mode.disconnect("refresh_requested") == 1
        deadline = time.monotonic() + 10
        while len(_opened(sandbox)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        sandbox.socket_mode.wait_for_connections(1)
        assert sandbox.socket_mode.send("events_api", {}, accepts_response_payload=False).acked
    finally:
        client.close()
    assert received == ["events_api", "events_api"]
    assert len(_opened(sandbox)) == 2  # a new ticket for the new connection


def _opened(sandbox: SlackSandbox) -> list[Any]:
    return [c for c in sandbox.calls() if c.method == "apps.connections.open"]
