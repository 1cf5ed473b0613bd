"""Rate limits and injected faults, as the real slack_sdk client experiences them."""

import time
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox


@pytest.fixture
def tight(clock) -> SlackSandbox:  # type: ignore[no-untyped-def]
    sandbox = SlackSandbox(
        channels={"C0A": "a", "C0B": "b"}, post_rate_per_sec=1.0, post_burst=3, clock=clock
    )
    with sandbox:
        yield sandbox


def test_bucket_answers_429_with_retry_after_and_records_nothing(
    tight: SlackSandbox, clock
) -> None:  # type: ignore[no-untyped-def]
    client = WebClient(token=tight.bot_token, base_url=tight.url)
    for n in range(3):
        client.chat_postMessage(channel="C0A", text=str(n))
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0A", text="too many")
    response = raised.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "1"
    assert [m.text for m in tight.messages("C0A")] == ["0", "1", "2"]
    client.chat_postMessage(channel="C0B", text="other channel has its own bucket")
    clock.advance(1.0)
    client.chat_postMessage(channel="C0A", text="after waiting")
    assert tight.messages("C0A")[-1].text == "after waiting"
    assert [c.status for c in tight.calls("chat.postMessage")] == [200, 200, 200, 429, 200, 200]
    # Counted without copying, refused calls included, per method or all.
    assert tight.call_count("chat.postMessage") == 6
    assert tight.call_count("chat.update") == 0
    assert tight.call_count() == len(tight.calls())


def test_retry_after_is_whole_seconds_at_least_one(clock) -> None:  # type: ignore[no-untyped-def]
    with SlackSandbox(post_rate_per_sec=0.25, post_burst=1, clock=clock) as sandbox:
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        client.chat_postMessage(channel="C0GENERAL", text="one")
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C0GENERAL", text="two")
        assert raised.value.response.headers["Retry-After"] == "4"


def test_ratelimit_next(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.ratelimit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert sandbox.messages("C0GENERAL") == []
    client.chat_postMessage(channel="C0GENERAL", text="x")
    assert len(sandbox.messages("C0GENERAL")) == 1
    assert [c.fault for c in sandbox.calls()] == ["ratelimit", None]


def test_fail_next_with_http_500(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.fail_next("chat.postMessage", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C0GENERAL", text="x")
        assert raised.value.response.status_code == 500
        assert raised.value.response["error"] == "internal_error"
    assert sandbox.messages("C0GENERAL") == []
    client.chat_postMessage(channel="C0GENERAL", text="x")
    assert len(sandbox.messages("C0GENERAL")) == 1


def test_fail_next_with_an_ok_false_answer_for_one_channel(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    sandbox.fail_next("chat.postMessage", status=200, error="fatal_error", channel="C0CLINICAL")
    client.chat_postMessage(channel="C0GENERAL", text="unaffected")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0CLINICAL", text="x")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "fatal_error"
    assert sandbox.messages("C0CLINICAL") == []


def test_fail_next_matches_a_dm_by_user_id(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.fail_next("chat.postMessage", channel=sandbox.dm_id("U0NURSE1"))
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="U0NURSE1", text="x")
    assert sandbox.dms("U0NURSE1") == []


def test_accept_then_fail_stores_the_message_but_answers_500(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    sandbox.accept_then_fail("chat.postMessage")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0GENERAL", text="did it land?")
    assert raised.value.response.status_code == 500
    assert [m.text for m in sandbox.messages("C0GENERAL")] == ["did it land?"]
    assert sandbox.calls()[-1].fault == "accept_then_fail"


def test_accept_then_fail_can_drop_the_connection(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.accept_then_fail("chat.postMessage", status=0)
    with pytest.raises((URLError, ConnectionError)):
        client.chat_postMessage(channel="C0GENERAL", text="lost answer")
    assert [m.text for m in sandbox.messages("C0GENERAL")] == ["lost answer"]
    assert sandbox.calls()[-1].status == 0


def test_accept_then_fail_waits_for_a_successful_call(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    sandbox.accept_then_fail("chat.postMessage")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert raised.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert raised.value.response.status_code == 500


def test_latency(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.set_latency("auth.test", 0.2)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.2
    sandbox.set_latency("auth.test", 0)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started < 0.2


def test_calls_log_params_without_token(client: WebClient, sandbox: SlackSandbox) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="x")
    (call,) = sandbox.calls("chat.postMessage")
    assert call.params == {"channel": "C0GENERAL", "text": "x"} and call.ok
    assert call.response["ts"] == sandbox.messages("C0GENERAL")[0].ts
    sandbox.reset_calls()
    assert sandbox.calls() == []
