"""The outbox at scale, as Slack sees it: channels in parallel, each in order and paced;
permanent failures kept with what to fix, and sent once the cause is fixed."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.common.clock import FixedClock
from bot.sandbox import SlackSandbox
from bot.services.outbox import FailedDelivery, failed_deliveries, retry_failed
from bot.slack.delivery import OutboxWorker, outbox_client
from bot.slack.errors import fix_for
from bot.slack.pacing import Pace
from bot.store.db import session_scope
from bot.store.models import OutboxItem
from bot.workspace import Workspace
from tests.support.factories import (
    CHANNELS,
    CLINICAL_CHANNEL,
    LEGAL_CHANNEL,
    NURSE,
    TRAINER1,
    TRAINER2,
    USERS,
    week_of_records,
)
from tests.support.harness import RunningBot, start_bot


@pytest.fixture
def paced_bot(engine: Engine, workspace: Workspace, clock: FixedClock) -> Iterator[RunningBot]:
    """The bot against a Slack that allows 20 posts a second per channel, bursts of 2
    (Slack's one a second, sped up): the outbox paces itself to that."""
    sandbox = SlackSandbox(bot_token="xoxb-sandbox", users=dict(USERS), channels=dict(CHANNELS),
                           post_rate_per_sec=20, post_burst=2).start()
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox)
    try:
        yield bot
    finally:
        bot.stop()


def _sample_numbers(bot: RunningBot, channel: str) -> dict[str, list[str]]:
    threads: dict[str, list[str]] = {}
    for reply in bot.thread_replies(channel):
        threads.setdefault(reply.thread_ts or "", []).append(
            reply.blocks[0]["text"]["text"].split("*")[1])
    return threads


def test_channels_are_delivered_side_by_side_each_in_order(paced_bot: RunningBot):
    now = paced_bot.ctx.clock.now()
    paced_bot.ingest(week_of_records(now, count=8))
    paced_bot.ingest(week_of_records(now, trainer=NURSE, count=6))
    paced_bot.ingest(week_of_records(now, trainer=TRAINER2, task_type="legal", count=7))
    paced_bot.run_audit()

    posts = [c for c in paced_bot.sandbox.calls("chat.postMessage") if c.ok]
    assert len(posts) == 2 * 6 + 6
    order = [c.params["channel"] for c in posts]
    # The legal channel did not wait for the clinical one to finish (nor the other way).
    assert order.index(LEGAL_CHANNEL) < max(i for i, c in enumerate(order)
                                            if c == CLINICAL_CHANNEL)
    assert order.index(CLINICAL_CHANNEL) < max(i for i, c in enumerate(order)
                                               if c == LEGAL_CHANNEL)
    for channel in (CLINICAL_CHANNEL, LEGAL_CHANNEL):
        for numbers in _sample_numbers(paced_bot, channel).values():
            assert numbers == [f"Sample {i} of 5" for i in range(1, 6)]


def test_two_replicas_draining_together_keep_to_one_channel_pace(
        engine: Engine, workspace: Workspace, clock: FixedClock):
    # Slack's limit, sped up x10: posts beyond it are answered 429. The bot paces itself one
    # post of burst inside it (a slot is taken a moment before the request reaches Slack).
    pace = Pace(per_second=10, burst=2)
    sandbox = SlackSandbox(bot_token="xoxb-sandbox", users=dict(USERS), channels=dict(CHANNELS),
                           post_rate_per_sec=pace.per_second, post_burst=pace.burst + 1).start()
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox,
                    worker=False)
    replicas = [OutboxWorker(engine=engine, client=outbox_client("xoxb-sandbox", sandbox.url),
                             workspace=workspace, clock=clock, backoff_factor=0.05, pace=pace)
                for _ in range(2)]
    try:
        now = clock.now()
        bot.ingest(week_of_records(now, count=8))
        bot.ingest(week_of_records(now, trainer=NURSE, count=6))
        bot.run_audit(deliver=False)
        for replica in replicas:
            replica.start(interval=0.02)
        bot.driver.wait_for(lambda: len(bot.thread_replies(CLINICAL_CHANNEL)) == 10, timeout=30)
    finally:
        for replica in replicas:
            replica.stop()
        bot.stop()
    posts = sandbox.calls("chat.postMessage")
    assert sum(1 for c in posts if c.ok) == 2 + 10
    # Both replicas posted, and together they never went past the channel's pace.
    with Session(engine) as session:
        owners = {i.lease_owner for i in session.exec(select(OutboxItem)).all()}
    assert owners == {r.owner for r in replicas}
    assert [c for c in posts if c.status == 429] == []


def test_a_429_holds_its_own_channel_for_retry_after_while_the_others_go_on(
        engine: Engine, workspace: Workspace, clock: FixedClock):
    pace = Pace(per_second=10, burst=2)
    sandbox = SlackSandbox(bot_token="xoxb-sandbox", users=dict(USERS), channels=dict(CHANNELS),
                           post_rate_per_sec=pace.per_second, post_burst=pace.burst + 1).start()
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox,
                    worker=False)
    worker = OutboxWorker(engine=engine, client=outbox_client("xoxb-sandbox", sandbox.url),
                          workspace=workspace, clock=clock, backoff_factor=0.05, pace=pace)
    try:
        now = clock.now()
        bot.ingest(week_of_records(now, count=8))
        bot.ingest(week_of_records(now, trainer=TRAINER2, task_type="legal", count=8))
        bot.run_audit(deliver=False)
        sandbox.ratelimit_next("chat.postMessage", retry_after=1, channel=CLINICAL_CHANNEL)
        due = worker.run_until_idle(timeout=30)
    finally:
        worker.stop()
        bot.stop()
    assert due.pending == 0
    calls = sandbox.calls("chat.postMessage")
    # The injected 429 is the only one: the pace alone never runs into Slack's limit.
    [limited] = [c for c in calls if c.status == 429]
    assert limited.params["channel"] == CLINICAL_CHANNEL
    clinical = [c for c in calls if c.params["channel"] == CLINICAL_CHANNEL and c.ok]
    legal = [c for c in calls if c.params["channel"] == LEGAL_CHANNEL and c.ok]
    assert len(clinical) == len(legal) == 6
    # Its channel waited out Retry-After (its parent first, then the replies, in order) ...
    assert clinical[0].time - limited.time >= 1.0
    assert [c.params.get("thread_ts") is None for c in clinical] == [True] + [False] * 5
    # ... while the other channel went on posting during the wait.
    assert any(limited.time < c.time < clinical[0].time for c in legal)


@pytest.mark.parametrize("setup, error", [
    ({"archived": True}, "is_archived"),
    ({"bot_is_member": False}, "not_in_channel"),
])
def test_a_channel_that_refuses_posts_is_kept_failed_with_the_fix_then_retried(
        bot: RunningBot, setup: dict, error: str):
    now = bot.ctx.clock.now()
    bot.ingest(week_of_records(now, count=3))
    bot.ingest(week_of_records(now, trainer=TRAINER2, task_type="legal", count=2))
    bot.sandbox.add_channel(CLINICAL_CHANNEL, CHANNELS[CLINICAL_CHANNEL], **setup)
    bot.run_audit()
    assert len(bot.thread_replies(LEGAL_CHANNEL)) == 2  # the other channel went on

    with Session(bot.ctx.engine) as session:
        failures = failed_deliveries(session)
    assert [(f.channel, f.error, f.count) for f in failures] == [
        (CLINICAL_CHANNEL, f"parent message failed: {error}", 3),
        (CLINICAL_CHANNEL, error, 1)]
    assert all(isinstance(f, FailedDelivery) and fix_for(f.error) for f in failures)
    fix = fix_for(failures[1].error)
    assert "invite" in fix.lower() or "archived" in fix

    bot.sandbox.add_channel(CLINICAL_CHANNEL, CHANNELS[CLINICAL_CHANNEL])  # someone fixed it
    with session_scope(bot.ctx.engine) as session:
        assert retry_failed(session, channel=LEGAL_CHANNEL) == 0
        assert retry_failed(session, channel=CLINICAL_CHANNEL) == 4
    bot.deliver()

    [parent] = bot.parents(CLINICAL_CHANNEL)
    assert f"<@{TRAINER1}>" in parent.text
    assert _sample_numbers(bot, CLINICAL_CHANNEL) == {
        parent.ts: [f"Sample {i} of 3" for i in range(1, 4)]}
    with Session(bot.ctx.engine) as session:
        assert failed_deliveries(session) == []
        assert {i.status for i in session.exec(select(OutboxItem)).all()} == {"sent"}


def test_a_revoked_token_fails_every_write_for_good_naming_the_token(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=1))
    bot.sandbox.fail_next("chat.postMessage", times=1, status=200, error="invalid_auth")
    bot.run_audit()
    with Session(bot.ctx.engine) as session:
        failures = failed_deliveries(session)
    assert [(f.error, f.count) for f in failures] == [
        ("invalid_auth", 1), ("parent message failed: invalid_auth", 1)]
    assert all("SLACK_BOT_TOKEN" in fix_for(f.error) for f in failures)


def test_a_post_in_doubt_that_then_fails_for_good_is_looked_for_again_after_the_fix(
        bot: RunningBot):
    """The parent post lands but its answer is lost (in doubt); looking for it then fails
    for good (the token was revoked). Once the token works again and the failures are
    retried, the post is found in Slack, not posted a second time."""
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=1))
    bot.sandbox.accept_then_fail("chat.postMessage", status=0, channel=CLINICAL_CHANNEL)
    bot.sandbox.fail_next("conversations.history", status=200, error="invalid_auth")
    bot.run_audit()
    with Session(bot.ctx.engine) as session:
        assert [f.error for f in failed_deliveries(session)] == [
            "invalid_auth", "parent message failed: invalid_auth"]
    with session_scope(bot.ctx.engine) as session:
        assert retry_failed(session) == 2
    bot.deliver()
    [parent] = bot.parents(CLINICAL_CHANNEL)
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 1
    assert [r.thread_ts for r in bot.thread_replies(CLINICAL_CHANNEL)] == [parent.ts]


def test_an_update_slack_failed_internally_is_tried_again(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=1))
    bot.run_audit()
    [sample] = bot.thread_replies(CLINICAL_CHANNEL)
    bot.sandbox.fail_next("chat.update", status=200, error="update_failed")
    bot.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
    graded = bot.driver.wait_for(lambda: (m := bot.sandbox.message(CLINICAL_CHANNEL, sample.ts))
                                 and f"<@{NURSE}>" in str(m.blocks) and m, timeout=30)
    assert graded.edited
    updates = [c.response.get("error") for c in bot.sandbox.calls("chat.update")]
    assert updates[0] == "update_failed" and updates[-1] is None
    with Session(bot.ctx.engine) as session:
        assert failed_deliveries(session) == []
