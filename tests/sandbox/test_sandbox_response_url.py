"""response_url: what Bolt's `respond` (slack_sdk's WebhookClient) sees and what people see."""

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.sandbox import SlackSandbox


def test_ephemeral_reply_reaches_the_user(sandbox: SlackSandbox) -> None:
    url = sandbox.new_response_url(user="U0NURSE1", channel="C0CLINICAL")
    answer = WebhookClient(url).send(text="Your queue: 3 samples")
    assert (answer.status_code, answer.body) == (200, "ok")
    (seen,) = sandbox.ephemerals(user="U0NURSE1")
    assert (seen.channel, seen.text, seen.source) == (
        "C0CLINICAL",
        "Your queue: 3 samples",
        "response_url",
    )
    (post,) = sandbox.responses(url)
    assert post.body["text"] == "Your queue: 3 samples" and post.status == 200


def test_five_uses_then_used_url(sandbox: SlackSandbox) -> None:
    hook = WebhookClient(sandbox.new_response_url(user="U0NURSE1", channel="C0GENERAL"))
    assert [hook.send(text=str(n)).status_code for n in range(5)] == [200] * 5
    sixth = hook.send(text="six")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert len(sandbox.ephemerals(user="U0NURSE1")) == 5


def test_expires_after_thirty_minutes(sandbox: SlackSandbox, clock) -> None:  # type: ignore[no-untyped-def]
    hook = WebhookClient(sandbox.new_response_url(user="U0NURSE1", channel="C0GENERAL"))
    clock.advance(30 * 60 + 1)
    answer = hook.send(text="late")
    assert (answer.status_code, answer.body) == (404, "expired_url")
    assert sandbox.ephemerals() == []


def test_invalid_blocks_are_refused(sandbox: SlackSandbox) -> None:
    hook = WebhookClient(sandbox.new_response_url(user="U0NURSE1", channel="C0GENERAL"))
    answer = hook.send(text="x", blocks=[{"type": "section"}])
    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert sandbox.ephemerals() == []


def test_in_channel_posts_a_message(sandbox: SlackSandbox) -> None:
    hook = WebhookClient(sandbox.new_response_url(user="U0NURSE1", channel="C0CLINICAL"))
    hook.send(text="Weekly audit posted", response_type="in_channel")
    (message,) = sandbox.messages("C0CLINICAL")
    assert message.text == "Weekly audit posted" and message.user == "U0AUDITBOT"


def test_replace_and_delete_original(client: WebClient, sandbox: SlackSandbox) -> None:
    ts = client.chat_postMessage(channel="C0CLINICAL", text="sample 1")["ts"]
    url = sandbox.new_response_url(user="U0NURSE1", channel="C0CLINICAL", message_ts=ts)
    WebhookClient(url).send(text="sample 1 — Pass by Nurse Joy", replace_original=True)
    message = sandbox.message("C0CLINICAL", ts)
    assert message is not None and message.edited and message.text.endswith("Nurse Joy")
    WebhookClient(url).send_dict({"delete_original": True})
    assert sandbox.messages("C0CLINICAL") == []


def test_faults_apply_to_response_urls(sandbox: SlackSandbox) -> None:
    hook = WebhookClient(sandbox.new_response_url(user="U0NURSE1", channel="C0GENERAL"))
    sandbox.fail_next("response_url", status=503, error="service_unavailable")
    assert hook.send(text="x").status_code == 503
    assert hook.send(text="x").status_code == 200
