"""chat.*, conversations.*, users.info and auth through the real slack_sdk WebClient."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def test_auth_test_names_the_bot(client: WebClient) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == "U0AUDITBOT" and answer["bot_id"] == "B0AUDITBOT"
    assert answer["team_id"] == "T0SANDBOX" and answer["url"].startswith("https://")


def test_missing_and_wrong_tokens_are_refused(sandbox: SlackSandbox) -> None:
    no_token = WebClient(base_url=sandbox.url)
    wrong = WebClient(token="xoxb-wrong", base_url=sandbox.url)
    assert error_of(lambda: no_token.auth_test()) == "not_authed"
    assert error_of(lambda: wrong.chat_postMessage(channel="C0GENERAL", text="x")) == "invalid_auth"
    assert sandbox.messages("C0GENERAL") == []
    assert [c.status for c in sandbox.calls()] == [200, 200]


def test_token_may_come_as_a_form_field(sandbox: SlackSandbox) -> None:
    answer = WebClient(base_url=sandbox.url).api_call("auth.test", params={"token": "xoxb-sandbox"})
    assert answer["ok"]


def test_unknown_method_is_a_slack_error_not_a_404(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.teleport")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "unknown_method"


def test_post_message_stores_and_returns_the_message(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    first = client.chat_postMessage(channel="C0CLINICAL", text="Audit for <@U0TRAINER1>")
    second = client.chat_postMessage(channel="C0CLINICAL", text="two")
    assert re.fullmatch(r"\d{10}\.\d{6}", first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C0CLINICAL"
    assert first["message"]["bot_id"] == "B0AUDITBOT" and first["message"]["user"] == "U0AUDITBOT"
    stored = sandbox.messages("C0CLINICAL")
    assert [m.text for m in stored] == ["Audit for <@U0TRAINER1>", "two"]
    assert stored[0].ts == first["ts"] and stored[0].thread_ts is None


def test_form_encoded_blocks_and_metadata_are_decoded(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    metadata = {"event_type": "audit_sample", "event_payload": {"sample": "s1"}}
    client.api_call(
        "chat.postMessage",
        data={
            "channel": "C0GENERAL",
            "text": "hi",
            "blocks": json.dumps(blocks),
            "metadata": json.dumps(metadata),
        },
    )
    (message,) = sandbox.messages("C0GENERAL")
    assert message.blocks == blocks and message.metadata == metadata


def test_thread_replies(client: WebClient, sandbox: SlackSandbox) -> None:
    parent = client.chat_postMessage(channel="C0CLINICAL", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0CLINICAL", text="reply", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    assert [m.text for m in sandbox.thread("C0CLINICAL", parent)] == ["parent", "reply"]
    history = client.conversations_history(channel="C0CLINICAL")["messages"]
    assert [m["text"] for m in history] == ["parent"] and history[0]["reply_count"] == 1


@pytest.mark.parametrize("bad_ts", ["1.000001", "reply"])
def test_thread_ts_must_be_a_parent_in_that_channel(client: WebClient, bad_ts: str) -> None:
    parent = client.chat_postMessage(channel="C0CLINICAL", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0CLINICAL", text="r", thread_ts=parent)["ts"]
    thread_ts = reply if bad_ts == "reply" else bad_ts
    post = lambda: client.chat_postMessage(channel="C0CLINICAL", text="x", thread_ts=thread_ts)  # noqa: E731
    assert error_of(post) == "thread_not_found"
    other = lambda: client.chat_postMessage(channel="C0GENERAL", text="x", thread_ts=parent)  # noqa: E731
    assert error_of(other) == "thread_not_found"


def test_posting_to_a_user_id_goes_to_their_dm(client: WebClient, sandbox: SlackSandbox) -> None:
    posted = client.chat_postMessage(channel="U0NURSE1", text="psst")
    opened = client.conversations_open(users="U0NURSE1")["channel"]["id"]
    assert posted["channel"] == opened == sandbox.dm_id("U0NURSE1")
    assert opened.startswith("D")
    assert client.conversations_open(users="U0NURSE1")["channel"]["id"] == opened
    client.chat_postMessage(channel=opened, text="again")
    assert [m.text for m in sandbox.dms("U0NURSE1")] == ["psst", "again"]
    assert error_of(lambda: client.conversations_open(users="U0NOBODY")) == "user_not_found"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.add_channel("C0PRIVATE", "private", bot_is_member=False)
    sandbox.add_channel("C0OLD", "old", archived=True)
    post = client.chat_postMessage
    assert error_of(lambda: post(channel="C0NOPE", text="x")) == "channel_not_found"
    assert error_of(lambda: post(channel="U0NOBODY", text="x")) == "channel_not_found"
    assert error_of(lambda: post(channel="C0PRIVATE", text="x")) == "not_in_channel"
    assert error_of(lambda: post(channel="C0OLD", text="x")) == "is_archived"
    assert error_of(lambda: post(channel="C0GENERAL", text="x" * 40_001)) == "msg_too_long"
    assert error_of(lambda: post(channel="C0GENERAL", text="")) == "no_text"
    bad = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    with pytest.raises(SlackApiError) as raised:
        post(channel="C0GENERAL", text="x", blocks=bad)
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert sandbox.messages("C0GENERAL") == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_blocks_alone_are_enough(
    client: WebClient, sandbox: SlackSandbox, grade_buttons: dict
) -> None:
    client.chat_postMessage(channel="C0GENERAL", blocks=[grade_buttons])
    assert sandbox.messages("C0GENERAL")[0].blocks[0]["block_id"] == "grade"


def test_update_replaces_text_and_blocks(
    client: WebClient, sandbox: SlackSandbox, grade_buttons: dict
) -> None:
    ts = client.chat_postMessage(channel="C0CLINICAL", text="sample", blocks=[grade_buttons])["ts"]
    answer = client.chat_update(channel="C0CLINICAL", ts=ts, text="graded: Pass", blocks=[])
    assert answer["ts"] == ts and answer["text"] == "graded: Pass"
    (message,) = sandbox.messages("C0CLINICAL")
    assert message.text == "graded: Pass" and message.blocks == [] and message.edited
    assert error_of(lambda: client.chat_update(channel="C0CLINICAL", ts="1.2", text="x")) == (
        "message_not_found"
    )
    human = sandbox.post_as_user("U0NURSE1", "C0CLINICAL", "my words")
    assert error_of(lambda: client.chat_update(channel="C0CLINICAL", ts=human.ts, text="x")) == (
        "cant_update_message"
    )


def test_update_keeps_blocks_and_metadata_unless_given(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    blocks = [{"type": "section", "block_id": "b", "text": {"type": "mrkdwn", "text": "hi"}}]
    metadata = {"event_type": "sample", "event_payload": {"id": 1}}
    ts = client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks, metadata=metadata)[
        "ts"
    ]
    client.chat_update(channel="C0GENERAL", ts=ts, text="t2")
    message = sandbox.message("C0GENERAL", ts)
    assert message is not None and message.blocks == blocks and message.metadata == metadata


def test_ephemeral_needs_a_member(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.add_channel("C0SMALL", "small", members=["U0NURSE1"])
    answer = client.chat_postEphemeral(channel="C0SMALL", user="U0NURSE1", text="only you")
    assert re.fullmatch(r"\d+\.\d{6}", answer["message_ts"])
    (seen,) = sandbox.ephemerals(user="U0NURSE1")
    assert (seen.channel, seen.text, seen.message_ts) == (
        "C0SMALL",
        "only you",
        answer["message_ts"],
    )
    refused = lambda: client.chat_postEphemeral(channel="C0SMALL", user="U0MD0002", text="x")  # noqa: E731
    assert error_of(refused) == "user_not_in_channel"
    assert sandbox.messages("C0SMALL") == [] and len(sandbox.ephemerals()) == 1


def test_permalinks(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0CLINICAL", text="p")["ts"]
    reply = client.chat_postMessage(channel="C0CLINICAL", text="r", thread_ts=parent)["ts"]
    link = client.chat_getPermalink(channel="C0CLINICAL", message_ts=parent)["permalink"]
    assert link == f"https://sandbox.slack.test/archives/C0CLINICAL/p{parent.replace('.', '')}"
    reply_link = client.chat_getPermalink(channel="C0CLINICAL", message_ts=reply)["permalink"]
    assert reply_link.endswith(f"p{reply.replace('.', '')}?thread_ts={parent}&cid=C0CLINICAL")
    missing = lambda: client.chat_getPermalink(channel="C0CLINICAL", message_ts="1.1")  # noqa: E731
    assert error_of(missing) == "message_not_found"


def test_users_info(client: WebClient) -> None:
    user = client.users_info(user="U0NURSE1")["user"]
    assert user["id"] == "U0NURSE1" and user["profile"]["display_name"] == "Nurse Joy"
    assert user["real_name"] == "Nurse Joy" and user["is_bot"] is False and user["tz"]
    assert error_of(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"


def test_metadata_round_trips_only_when_asked(client: WebClient) -> None:
    metadata = {"event_type": "audit_thread", "event_payload": {"trainer": "U0TRAINER1"}}
    parent = client.chat_postMessage(channel="C0CLINICAL", text="p", metadata=metadata)["ts"]
    client.chat_postMessage(
        channel="C0CLINICAL",
        text="r",
        thread_ts=parent,
        metadata={"event_type": "audit_sample", "event_payload": {"sample": "s1"}},
    )
    plain = client.conversations_history(channel="C0CLINICAL")["messages"][0]
    assert "metadata" not in plain
    full = client.conversations_history(channel="C0CLINICAL", include_all_metadata=True)
    assert full["messages"][0]["metadata"] == metadata
    replies = client.conversations_replies(
        channel="C0CLINICAL", ts=parent, include_all_metadata=True
    )
    assert [m["metadata"]["event_type"] for m in replies["messages"]] == [
        "audit_thread",
        "audit_sample",
    ]
    bad = lambda: client.chat_postMessage(channel="C0CLINICAL", text="x", metadata={"x": 1})  # noqa: E731
    assert error_of(bad) == "invalid_metadata_format"


def test_history_pages_newest_first(client: WebClient) -> None:
    for n in range(5):
        client.chat_postMessage(channel="C0GENERAL", text=str(n))
    first = client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"] and first["has_more"]
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C0GENERAL", limit=10, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["2", "1", "0"] and not second["has_more"]


def test_paging_resumes_at_a_ts_so_deletes_and_new_posts_shift_nothing(
        client: WebClient) -> None:
    posted = [client.chat_postMessage(channel="C0GENERAL", text=str(n))["ts"]
              for n in range(5)]
    first = client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"]
    client.chat_delete(channel="C0GENERAL", ts=posted[4])  # seen on page one
    client.chat_postMessage(channel="C0GENERAL", text="new")
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C0GENERAL", limit=10, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["2", "1", "0"]

    thread = [client.chat_postMessage(channel="C0GENERAL", text=f"r{n}",
                                      thread_ts=posted[0])["ts"] for n in range(3)]
    top = client.conversations_replies(channel="C0GENERAL", ts=posted[0], limit=2)
    assert [m["text"] for m in top["messages"]] == ["0", "r0"]
    client.chat_delete(channel="C0GENERAL", ts=thread[0])
    rest = client.conversations_replies(channel="C0GENERAL", ts=posted[0], limit=10,
                                        cursor=top["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["r1", "r2"]


def test_bad_cursors_and_timestamps_are_named(client: WebClient) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="x")
    history = client.conversations_history
    assert error_of(lambda: history(channel="C0GENERAL", cursor="bm9wZQ==")) == "invalid_cursor"
    assert error_of(lambda: history(channel="C0GENERAL", oldest="soon")) == "invalid_ts_oldest"
    assert error_of(lambda: history(channel="C0GENERAL", latest="later")) == "invalid_ts_latest"


def test_a_bot_cannot_be_sent_a_dm(client: WebClient, sandbox: SlackSandbox) -> None:
    sandbox.add_user("U0OTHERBOT", "otherbot", is_bot=True)
    own = client.auth_test()["user_id"]
    for bot in ("U0OTHERBOT", own):
        assert error_of(lambda bot=bot: client.conversations_open(users=bot)) == "cannot_dm_bot"
        assert error_of(lambda bot=bot: client.chat_postMessage(channel=bot, text="hi")) == \
            "cannot_dm_bot"


def test_history_of_unknown_channel(client: WebClient) -> None:
    assert error_of(lambda: client.conversations_history(channel="C0NOPE")) == "channel_not_found"
    missing = lambda: client.conversations_replies(channel="C0GENERAL", ts="1.1")  # noqa: E731
    assert error_of(missing) == "thread_not_found"


def test_dm_ids_from_events_and_channel_names_resolve(
    client: WebClient, sandbox: SlackSandbox
) -> None:
    client.chat_postMessage(channel=sandbox.dm_id("U0MD0002"), text="from app_home_opened")
    client.chat_postMessage(channel="#clinical", text="by name")
    assert [m.text for m in sandbox.dms("U0MD0002")] == ["from app_home_opened"]
    assert [m.text for m in sandbox.messages("C0CLINICAL")] == ["by name"]
    assert error_of(lambda: client.chat_postMessage(channel="D0NOBODY", text="x")) == (
        "channel_not_found"
    )


def test_concurrent_posts_get_unique_timestamps(sandbox: SlackSandbox) -> None:
    def post(n: int) -> str:
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        return str(client.chat_postMessage(channel="C0GENERAL", text=str(n))["ts"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = list(pool.map(post, range(24)))
    assert len(set(stamps)) == 24
    assert sorted(m.ts for m in sandbox.messages("C0GENERAL")) == sorted(stamps)
