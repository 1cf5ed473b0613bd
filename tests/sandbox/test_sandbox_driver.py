"""SlackDriver against a tiny recording HTTP app: signatures, payload shapes, Slack's reactions."""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import DriverResponse, SlackDriver, SlackSandbox

SECRET = "sandbox-signing-secret"


@dataclass
class Seen:
    headers: dict[str, str]
    body: str

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body).items()}

    def payload(self) -> dict[str, Any]:
        return json.loads(self.form()["payload"])


@dataclass
class Recorder:
    """Records requests; `answer` decides the reply (status, body)."""

    seen: list[Seen] = field(default_factory=list)
    answer: Callable[[Seen], tuple[int, str]] = lambda _: (200, "")


@pytest.fixture
def app() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            seen = Seen(dict(self.headers.items()), body)
            recorder.seen.append(seen)
            status, answer = recorder.answer(seen)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.encode())))
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events", recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def driver(app: tuple[str, Recorder], sandbox: SlackSandbox) -> SlackDriver:
    return SlackDriver(app_url=app[0], signing_secret=SECRET, sandbox=sandbox)


@pytest.fixture
def recorder(app: tuple[str, Recorder]) -> Recorder:
    return app[1]


def verified(seen: Seen) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(seen.body, seen.headers)


def test_signatures_verify_with_slack_sdk(driver: SlackDriver, recorder: Recorder) -> None:
    driver.slash_command("U0NURSE1", "status")
    driver.slash_command("U0NURSE1", "status", signature="wrong")
    driver.slash_command("U0NURSE1", "status", signature="missing")
    driver.slash_command("U0NURSE1", "status", timestamp_offset=-400)
    assert [verified(s) for s in recorder.seen] == [True, False, False, False]
    assert "X-Slack-Signature" not in recorder.seen[2].headers


def test_slash_command_form(
    driver: SlackDriver, recorder: Recorder, sandbox: SlackSandbox, client: WebClient
) -> None:
    driver.slash_command("U0NURSE1", "status @U0TRAINER1", channel="C0CLINICAL")
    form = recorder.seen[0].form()
    assert recorder.seen[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/audit" and form["text"] == "status @U0TRAINER1"
    assert (form["user_id"], form["user_name"]) == ("U0NURSE1", "nurse.joy")
    assert (form["channel_id"], form["channel_name"]) == ("C0CLINICAL", "clinical")
    assert form["team_id"] == "T0SANDBOX" and form["api_app_id"] == "A0AUDITBOT"
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    client.views_open(trigger_id=form["trigger_id"], view=modal)
    assert sandbox.views("U0NURSE1")
    assert form["response_url"].startswith(sandbox.base_url + "/response/")


def test_slash_command_ack_body_is_shown_to_the_user(
    driver: SlackDriver, recorder: Recorder, sandbox: SlackSandbox
) -> None:
    recorder.answer = lambda _: (200, json.dumps({"text": "Working on it"}))
    response = driver.slash_command("U0NURSE1", "status")
    assert response.json() == {"text": "Working on it"} and response.delivery_error is None
    (seen,) = sandbox.ephemerals(user="U0NURSE1")
    assert (seen.text, seen.source, seen.channel) == ("Working on it", "command_ack", "C0GENERAL")
    recorder.answer = lambda _: (200, json.dumps({"blocks": [{"type": "bogus"}]}))
    assert driver.slash_command("U0NURSE1", "status").delivery_error == "invalid_blocks"


def test_click_sends_a_block_actions_payload(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_buttons: dict,
) -> None:
    parent = client.chat_postMessage(channel="C0CLINICAL", text="Audit")["ts"]
    ts = client.chat_postMessage(
        channel="C0CLINICAL", thread_ts=parent, text="sample", blocks=[grade_buttons]
    )["ts"]
    sample = sandbox.thread("C0CLINICAL", parent)[1]
    driver.click("U0NURSE1", sample, "Minor issue", channel="C0CLINICAL")
    payload = recorder.seen[0].payload()
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0NURSE1"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0CLINICAL",
        "is_ephemeral": False,
        "thread_ts": parent,
    }
    assert payload["channel"] == {"id": "C0CLINICAL", "name": "clinical"}
    assert payload["message"]["ts"] == ts and payload["message"]["bot_id"] == "B0AUDITBOT"
    assert payload["message"]["blocks"] == sample.blocks and payload["state"] == {"values": {}}
    (action,) = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "grade_minor",
        "grade",
        "s1",
    )
    assert action["type"] == "button" and action["text"]["text"] == "Minor issue"
    assert (
        payload["team"] == {"id": "T0SANDBOX", "domain": "sandbox"}
        and payload["enterprise"] is None
    )
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    client.views_open(trigger_id=payload["trigger_id"], view=modal)
    from slack_sdk.webhook import WebhookClient

    WebhookClient(payload["response_url"]).send(text="graded", replace_original=True)
    assert sandbox.message("C0CLINICAL", ts).text == "graded"  # type: ignore[union-attr]


def test_click_finds_buttons_by_action_id_and_refuses_ambiguity(
    driver: SlackDriver, recorder: Recorder, client: WebClient, grade_buttons: dict
) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="s", blocks=[grade_buttons])
    driver.click("U0NURSE1", posted["message"], "grade_pass", channel="C0GENERAL")
    assert recorder.seen[0].payload()["actions"][0]["style"] == "primary"
    with pytest.raises(LookupError, match="not found"):
        driver.click("U0NURSE1", posted["message"], "Escalate", channel="C0GENERAL")
    twice = [
        grade_buttons,
        {
            **grade_buttons,
            "block_id": "again",
            "elements": [
                {**e, "action_id": e["action_id"] + "_2"} for e in grade_buttons["elements"]
            ],
        },
    ]
    again = client.chat_postMessage(channel="C0GENERAL", text="s", blocks=twice)
    with pytest.raises(LookupError, match="ambiguous"):
        driver.click("U0NURSE1", again["message"], "Pass", channel="C0GENERAL")


def test_click_on_an_ephemeral_message(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_buttons: dict,
) -> None:
    client.chat_postEphemeral(
        channel="C0GENERAL", user="U0NURSE1", text="e", blocks=[grade_buttons]
    )
    (ephemeral,) = sandbox.ephemerals(user="U0NURSE1")
    driver.click("U0NURSE1", ephemeral, "Pass", channel="C0GENERAL")
    payload = recorder.seen[0].payload()
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload


def open_modal(client: WebClient, sandbox: SlackSandbox, view: dict) -> str:
    trigger = sandbox.issue_trigger_id("U0NURSE1")
    return str(client.views_open(trigger_id=trigger, view=view)["view"]["id"])


def test_submit_view_builds_state_like_slack(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_modal: dict,
) -> None:
    view_id = open_modal(client, sandbox, grade_modal)
    record = driver.latest_modal("U0NURSE1")
    explanation = "Recommends ibuprofen despite CKD."
    driver.submit_view(
        "U0NURSE1", record, {"category_select": "factual", "explanation": explanation}
    )  # type: ignore[arg-type]
    payload = recorder.seen[0].payload()
    assert payload["type"] == "view_submission" and payload["response_urls"] == []
    view = payload["view"]
    assert view["id"] == view_id and view["callback_id"] == "grade_modal"
    assert view["private_metadata"] == '{"sample": "s1"}' and view["hash"]
    assert view["state"]["values"] == {
        "category": {
            "category_select": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Factual error"},
                    "value": "factual",
                },
            }
        },
        "explanation": {"explanation_input": {"type": "plain_text_input", "value": explanation}},
        "note": {"note_input": {"type": "plain_text_input", "value": None}},
    }
    assert sandbox.view(view_id).closed, "an empty 200 answer closes the modal"  # type: ignore[union-attr]


def test_submit_view_with_errors_keeps_the_modal_open(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_modal: dict,
) -> None:
    view_id = open_modal(client, sandbox, grade_modal)
    errors = {"response_action": "errors", "errors": {"explanation": "At least 20 characters"}}
    recorder.answer = lambda _: (200, json.dumps(errors))
    response = driver.submit_view(
        "U0NURSE1",
        view_id,
        {"category": "other", "explanation_input": "short"},
        client_checks=False,
    )
    assert response.json() == errors
    assert sandbox.open_modals("U0NURSE1")[0].id == view_id
    assert driver.open_modal("U0NURSE1").id == view_id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"category_select": "factual"}, "'Explanation' is required"),
        ({"category_select": "factual", "explanation_input": "too short"}, "min_length"),
        ({"category_select": "nope", "explanation_input": "x" * 30}, "not an option"),
        ({"category_select": "factual", "explanation_input": "x" * 30, "bogus": "1"}, "bogus"),
    ],
)
def test_submit_view_refuses_what_the_slack_client_refuses(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_modal: dict,
    values: dict,
    message: str,
) -> None:
    view_id = open_modal(client, sandbox, grade_modal)
    with pytest.raises(ValueError, match=message):
        driver.submit_view("U0NURSE1", view_id, values)
    assert recorder.seen == []


def test_click_in_view_and_home(
    driver: SlackDriver,
    recorder: Recorder,
    sandbox: SlackSandbox,
    client: WebClient,
    grade_buttons: dict,
) -> None:
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Full"},
        "blocks": [grade_buttons],
    }
    view_id = open_modal(client, sandbox, modal)
    driver.click_in_view("U0NURSE1", view_id, "Pass")
    payload = recorder.seen[0].payload()
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id and payload["actions"][0]["action_id"] == "grade_pass"
    client.views_publish(user_id="U0NURSE1", view={"type": "home", "blocks": [grade_buttons]})
    driver.click_in_home("U0NURSE1", "Major error")
    home_payload = recorder.seen[1].payload()
    assert home_payload["view"]["type"] == "home" and home_payload["container"]["type"] == "view"
    with pytest.raises(LookupError):
        driver.click_in_home("U0MD0002", "Pass")


def test_events_and_retries(driver: SlackDriver, recorder: Recorder) -> None:
    driver.event({"type": "app_mention", "user": "U0NURSE1", "text": "hi"}, event_id="Ev1")
    driver.event(
        {"type": "app_mention", "user": "U0NURSE1", "text": "hi"}, event_id="Ev1", retry_num=1
    )
    first, retry = recorder.seen
    envelope = json.loads(first.body)
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0]["user_id"] == "U0AUDITBOT"
    assert envelope["team_id"] == "T0SANDBOX" and envelope["api_app_id"] == "A0AUDITBOT"
    assert "X-Slack-Retry-Num" not in first.headers and verified(first)
    assert retry.headers["X-Slack-Retry-Num"] == "1"
    assert retry.headers["X-Slack-Retry-Reason"] == "http_timeout"


def test_app_home_opened_and_url_verification(
    driver: SlackDriver, recorder: Recorder, sandbox: SlackSandbox
) -> None:
    driver.app_home_opened("U0NURSE1")
    event = json.loads(recorder.seen[0].body)["event"]
    assert event["type"] == "app_home_opened" and event["tab"] == "home"
    assert event["channel"] == sandbox.dm_id("U0NURSE1") and "view" not in event
    recorder.answer = lambda seen: (
        200,
        json.dumps({"challenge": json.loads(seen.body)["challenge"]}),
    )
    assert driver.url_verification("abc").json() == {"challenge": "abc"}


def test_wait_for() -> None:
    values = iter([None, 0, "done"])
    assert SlackDriver.wait_for(lambda: next(values), timeout=1, interval=0.001) == "done"
    with pytest.raises(TimeoutError):
        SlackDriver.wait_for(lambda: False, timeout=0.05, interval=0.01)


def test_slow_answers_count_as_timed_out() -> None:
    assert DriverResponse(200, "", {}, elapsed=3.2).timed_out
    assert not DriverResponse(200, "", {}, elapsed=0.1).timed_out
