"""The weekly audit as Slack sees it: one thread per trainer, once, whatever goes wrong."""

from datetime import timedelta

from sqlmodel import Session, select

from bot.store.models import OutboxItem
from tests.support.factories import (
    CLINICAL_CHANNEL,
    LEGAL_CHANNEL,
    TRAINER1,
    TRAINER2,
    week_of_records,
)
from tests.support.harness import RunningBot, start_bot


def _posts(bot: RunningBot) -> list:
    return [c for c in bot.sandbox.calls("chat.postMessage") if c.ok]


def test_audit_posts_a_parent_and_one_reply_per_sample(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=8))
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer=TRAINER2, task_type="legal",
                               count=2))
    bot.run_audit()

    parents = bot.parents(CLINICAL_CHANNEL)
    assert len(parents) == 1
    assert f"<@{TRAINER1}>" in parents[0].text
    assert "2026-W48" in parents[0].text and "5 samples" in parents[0].text
    replies = bot.thread_replies(CLINICAL_CHANNEL)
    assert len(replies) == 5
    assert all(r.thread_ts == parents[0].ts for r in replies)
    labels = _button_labels(replies[0])
    assert labels[:3] == ["Pass", "Minor issue", "Major error"]
    assert [len(bot.thread_replies(LEGAL_CHANNEL)), len(bot.parents(LEGAL_CHANNEL))] == [2, 1]


def test_a_second_run_posts_nothing_more(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=8))
    bot.run_audit()
    before = len(_posts(bot))
    summary = bot.run_audit()
    assert len(_posts(bot)) == before == 6
    assert {r.outcome for r in summary.results if r.trainer == TRAINER1} == {"already posted"}


def test_rate_limits_and_server_errors_delay_posts_but_never_lose_or_double_them(
        bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=8))
    bot.sandbox.ratelimit_next("chat.postMessage", times=2, retry_after=1)
    bot.sandbox.fail_next("chat.postMessage", times=2, status=500)
    bot.run_audit()
    statuses = [c.status for c in bot.sandbox.calls("chat.postMessage")]
    assert statuses.count(429) == 2 and statuses.count(500) == 2
    assert len(bot.parents(CLINICAL_CHANNEL)) == 1
    replies = bot.thread_replies(CLINICAL_CHANNEL)
    assert len(replies) == 5
    assert [r.blocks[0]["text"]["text"].split("*")[1] for r in replies] == [
        f"Sample {i} of 5" for i in range(1, 6)]


def test_a_post_slack_accepted_without_answering_is_not_posted_again(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=3))
    # Slack stores the parent and one reply but the answers are lost on the way back.
    bot.sandbox.accept_then_fail("chat.postMessage", times=2)
    bot.run_audit()
    assert len(bot.parents(CLINICAL_CHANNEL)) == 1
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 3


def test_a_crash_mid_audit_resumes_where_it_stopped(engine, workspace, clock):
    first = start_bot(engine=engine, workspace=workspace, clock=clock, worker=False)
    first.ingest(week_of_records(clock.now(), count=8))
    first.run_audit(deliver=False)
    first.ctx.outbox.drain_once(limit=3)  # the parent and two replies, then the process dies
    first.stop(keep_sandbox=True)
    assert len(first.sandbox.messages(CLINICAL_CHANNEL)) == 3

    second = start_bot(engine=engine, workspace=workspace, clock=clock, sandbox=first.sandbox)
    try:
        second.run_audit()  # the restarted job finds the week planned and only delivers
        assert len(second.parents(CLINICAL_CHANNEL)) == 1
        assert len(second.thread_replies(CLINICAL_CHANNEL)) == 5
    finally:
        second.stop()


def test_a_permanent_failure_is_kept_not_dropped(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=2))
    bot.sandbox.fail_next("chat.postMessage", times=1, status=200, error="channel_not_found")
    bot.run_audit()
    with Session(bot.ctx.engine) as session:
        failed = session.exec(select(OutboxItem).where(OutboxItem.status == "failed")).all()
        waiting = session.exec(select(OutboxItem).where(OutboxItem.status == "pending")).all()
    assert [f.last_error for f in failed] == ["channel_not_found"] + [
        "parent message failed: channel_not_found"] * 2
    assert waiting == []  # kept as failed with the reason, for someone to fix; none dropped


def test_samples_from_last_week_are_not_posted_this_week(bot: RunningBot):
    now = bot.ctx.clock.now()
    bot.ingest(week_of_records(now - timedelta(days=8), count=4))
    summary = bot.run_audit()
    assert bot.sandbox.messages(CLINICAL_CHANNEL) == []
    assert "no outputs" in summary.describe()


def _button_labels(message) -> list[str]:
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"]]
