"""A real Bolt app, driven by SlackDriver and talking to the sandbox, both ways Slack reaches
an app: behind WSGI (signed HTTP requests) and behind Bolt's SocketModeHandler (envelopes over
the sandbox's Socket Mode WebSocket).

Proves the driver's requests pass Bolt's signature check and parse as Slack's do, and that
Bolt's client calls (WebClient, respond) land in the sandbox.
"""

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox import SlackDriver, SlackSandbox

SECRET = "bolt-secret"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        return


def build_app(sandbox: SlackSandbox, grade_modal: dict) -> App:
    client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
    app = App(signing_secret=SECRET, client=client)

    @app.command("/audit")
    def audit(ack, respond, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(f"Status for <@{command['user_id']}>: all good")

    @app.action("grade_minor")
    def minor(ack, body, client) -> None:  # type: ignore[no-untyped-def]
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=grade_modal)

    @app.view("grade_modal")
    def submitted(ack, body, view, client) -> None:  # type: ignore[no-untyped-def]
        text = view["state"]["values"]["explanation"]["explanation_input"]["value"] or ""
        if len(text) < 30:
            ack(response_action="errors", errors={"explanation": "Say a bit more"})
            return
        ack()
        client.chat_postMessage(channel=body["user"]["id"], text=f"Recorded: {text}")

    @app.event("app_home_opened")
    def home(event, client) -> None:  # type: ignore[no-untyped-def]
        header = {"type": "header", "text": {"type": "plain_text", "text": "Your queue"}}
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [header]})

    return app


@pytest.fixture(params=["http", "socket_mode"])
def driver(request: pytest.FixtureRequest, sandbox: SlackSandbox,
           grade_modal: dict) -> Iterator[SlackDriver]:
    if request.param == "socket_mode":
        socket = SocketModeHandler(build_app(sandbox, grade_modal), sandbox.app_token)
        socket.connect()
        yield SlackDriver(sandbox=sandbox, socket_mode=True)
        socket.close()
        return
    handler = SlackRequestHandler(build_app(sandbox, grade_modal))
    server: WSGIServer = make_server("127.0.0.1", 0, handler, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    yield SlackDriver(app_url=url, signing_secret=SECRET, sandbox=sandbox)
    server.shutdown()
    server.server_close()


def test_bolt_refuses_bad_signatures(driver: SlackDriver, sandbox: SlackSandbox) -> None:
    if driver.socket is not None:
        pytest.skip("Socket Mode has no signatures: the app-level token opened the socket")
    assert driver.slash_command("U0NURSE1", "status", signature="wrong").status == 401
    assert driver.slash_command("U0NURSE1", "status", timestamp_offset=-400).status == 401
    assert sandbox.responses() == []


def test_command_respond_reaches_the_user(driver: SlackDriver, sandbox: SlackSandbox) -> None:
    assert driver.slash_command("U0NURSE1", "status").status == 200
    seen = driver.wait_for(lambda: sandbox.ephemerals(user="U0NURSE1"))
    assert seen[0].text == "Status for <@U0NURSE1>: all good"


def test_click_opens_modal_and_submission_round_trip(
    driver: SlackDriver, sandbox: SlackSandbox, client: WebClient, grade_buttons: dict
) -> None:
    posted = client.chat_postMessage(channel="C0CLINICAL", text="sample", blocks=[grade_buttons])
    assert (
        driver.click("U0NURSE1", posted["message"], "Minor issue", channel="C0CLINICAL").status
        == 200
    )
    modal = driver.wait_for(lambda: driver.open_modal("U0NURSE1"))
    refused = driver.submit_view(
        "U0NURSE1", modal, {"category_select": "factual", "explanation_input": "x" * 20}
    )
    assert refused.json()["errors"] == {"explanation": "Say a bit more"}
    assert driver.open_modal("U0NURSE1") is not None
    text = "The output recommends ibuprofen despite CKD."
    done = driver.submit_view("U0NURSE1", modal, {"category_select": "other", "explanation": text})
    assert done.status == 200 and driver.open_modal("U0NURSE1") is None
    dm = driver.wait_for(lambda: sandbox.dms("U0NURSE1"))
    assert dm[0].text == f"Recorded: {text}"


def test_app_home_opened_publishes(driver: SlackDriver, sandbox: SlackSandbox) -> None:
    assert driver.app_home_opened("U0NURSE1").status == 200
    home = driver.wait_for(lambda: sandbox.home("U0NURSE1"))
    assert home["blocks"][0]["text"]["text"] == "Your queue"
