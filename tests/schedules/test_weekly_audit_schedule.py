"""The weekly audit on its schedule: once per ISO week, missed runs caught up within the week.

Business time is the FixedClock; the scenarios stay at or before the conftest's NOW
(Monday 2026-11-23 14:00 UTC) because the outbox worker delivers on the system clock, so
posts owed "in the future" would not be due yet.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.common.clock import FixedClock
from bot.services.audit import audit_week
from bot.store.models import AuditThread, JobRun, OutboxItem, Sample
from bot.workspace import Workspace, parse_workspace
from schedules.runner import (
    WEEKLY_AUDIT,
    catch_up_weekly_audit,
    scheduled_weekly_audit,
    start_scheduler,
)
from tests.support.factories import (
    CLINICAL_CHANNEL,
    LEGAL_CHANNEL,
    NURSE,
    TRAINER1,
    TRAINER2,
    output_record,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot, start_bot

NEW_YORK = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NEW_YORK)


def workspace_scheduled(at: str) -> Workspace:
    data = workspace_data()
    data["schedule"] = {**data["schedule"], "weekly_audit": at}
    return parse_workspace(data)


@contextmanager
def running_bot(engine: Engine, workspace: Workspace, clock: FixedClock) -> Iterator[RunningBot]:
    bot = start_bot(engine=engine, workspace=workspace, clock=clock)
    try:
        yield bot
    finally:
        bot.stop()


def ok_posts(bot: RunningBot) -> list:
    return [c for c in bot.sandbox.calls("chat.postMessage") if c.ok]


def job_runs(engine: Engine) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).order_by(JobRun.id)).all())


def thread_weeks(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(AuditThread).order_by(AuditThread.id)).all()
        return [(t.trainer, t.task_type, t.iso_week) for t in rows]


def owed_items(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(OutboxItem)).all())


# --- once per ISO week ------------------------------------------------------------------------


def test_a_second_scheduled_run_in_the_same_week_neither_audits_nor_posts(bot: RunningBot):
    clock = bot.ctx.clock
    assert isinstance(clock, FixedClock)
    bot.ingest(week_of_records(clock.now(), count=8))
    scheduled_weekly_audit(bot.ctx)
    bot.deliver(timeout=10)
    assert len(bot.parents(CLINICAL_CHANNEL)) == 1
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5
    posts_after_first = len(ok_posts(bot))
    assert posts_after_first == 6

    # Later the same week a trainer who had nothing now has outputs: a second audit *run*
    # would post their thread, so seeing nothing proves the week's claim stopped the run.
    clock.advance(timedelta(hours=2))
    bot.ingest(week_of_records(clock.now(), trainer=TRAINER2, task_type="legal", count=3))
    scheduled_weekly_audit(bot.ctx)
    bot.deliver(timeout=10)

    assert len(ok_posts(bot)) == posts_after_first
    assert bot.parents(LEGAL_CHANNEL) == []
    assert len(bot.parents(CLINICAL_CHANNEL)) == 1
    assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5
    runs = job_runs(bot.ctx.engine)
    assert [(r.job, r.period) for r in runs] == [(WEEKLY_AUDIT, "2026-W48")]
    assert runs[0].finished_at is not None
    assert "Weekly audit 2026-W48" in (runs[0].summary or "")
    assert thread_weeks(bot.ctx.engine) == [(TRAINER1, "clinical", "2026-W48")]


def test_the_next_iso_week_is_claimed_and_audited_afresh(engine, workspace, clock):
    clock.set(ny(2026, 11, 16, 9))  # Monday of 2026-W47
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        scheduled_weekly_audit(bot.ctx)
        clock.set(ny(2026, 11, 23, 9))  # Monday of 2026-W48
        bot.ingest(week_of_records(clock.now(), count=8, trainer=TRAINER2, task_type="legal"))
        scheduled_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        assert [r.period for r in job_runs(engine)] == ["2026-W47", "2026-W48"]
        assert thread_weeks(engine) == [(TRAINER1, "clinical", "2026-W47"),
                                        (TRAINER2, "legal", "2026-W48")]
        assert "2026-W47" in bot.parents(CLINICAL_CHANNEL)[0].text
        assert "2026-W48" in bot.parents(LEGAL_CHANNEL)[0].text


# --- missed runs ------------------------------------------------------------------------------


def test_a_run_missed_earlier_this_week_is_caught_up(engine, workspace, clock):
    clock.set(ny(2026, 11, 17, 10))  # Tuesday of 2026-W47; "mon 09:00" was yesterday
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        assert catch_up_weekly_audit(bot.ctx) is True
        bot.deliver(timeout=10)
        parents = bot.parents(CLINICAL_CHANNEL)
        assert len(parents) == 1 and "2026-W47" in parents[0].text
        assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5
        assert [r.period for r in job_runs(engine)] == ["2026-W47"]


def test_the_last_minute_of_the_iso_week_still_catches_up(engine, workspace, clock):
    clock.set(ny(2026, 11, 22, 23, 59))  # Sunday 23:59, the end of 2026-W47
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=3))
        assert catch_up_weekly_audit(bot.ctx) is True
        bot.deliver(timeout=10)
        assert "2026-W47" in bot.parents(CLINICAL_CHANNEL)[0].text


def test_no_catch_up_before_this_weeks_scheduled_time(engine, workspace, clock):
    clock.set(ny(2026, 11, 23, 8))  # Monday 08:00 New York, an hour before "mon 09:00"
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        assert catch_up_weekly_audit(bot.ctx) is False
        bot.deliver(timeout=10)
        assert ok_posts(bot) == []
        assert job_runs(engine) == []
        assert thread_weeks(engine) == []
        assert owed_items(engine) == 0


def test_no_catch_up_when_this_weeks_audit_already_ran(engine, workspace, clock):
    clock.set(ny(2026, 11, 16, 9))  # the scheduled run, Monday of 2026-W47
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        scheduled_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        posted = len(ok_posts(bot))
        assert posted == 6

        clock.set(ny(2026, 11, 18, 12))  # the bot restarts on Wednesday
        bot.ingest(week_of_records(clock.now(), count=4, trainer=TRAINER2, task_type="legal"))
        catch_up_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        assert len(ok_posts(bot)) == posted
        assert bot.parents(LEGAL_CHANNEL) == []
        assert [r.period for r in job_runs(engine)] == ["2026-W47"]
        assert thread_weeks(engine) == [(TRAINER1, "clinical", "2026-W47")]


def test_a_sunday_run_missed_is_not_caught_up_once_its_iso_week_has_ended(engine, clock):
    workspace = workspace_scheduled("sun 20:00")
    clock.set(ny(2026, 11, 16, 10))  # Monday; Sunday 2026-11-15 20:00 (2026-W46) was missed
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        assert catch_up_weekly_audit(bot.ctx) is False
        bot.deliver(timeout=10)
        assert ok_posts(bot) == []
        assert job_runs(engine) == []
        assert thread_weeks(engine) == []


def test_a_sunday_run_missed_by_an_hour_is_caught_up_the_same_evening(engine, clock):
    workspace = workspace_scheduled("sun 20:00")
    clock.set(ny(2026, 11, 22, 21))  # Sunday 21:00, still 2026-W47
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        assert catch_up_weekly_audit(bot.ctx) is True
        bot.deliver(timeout=10)
        assert "2026-W47" in bot.parents(CLINICAL_CHANNEL)[0].text
        assert [r.period for r in job_runs(engine)] == ["2026-W47"]


def test_a_run_that_died_after_claiming_the_week_is_caught_up_on_restart(
        engine, workspace, clock, monkeypatch):
    """A crash between the week's claim and the plan's commit must not lose the week."""
    from bot.follow import weekly_audit

    clock.set(ny(2026, 11, 16, 9))
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))

        def dies(*_args, **_kwargs):
            raise RuntimeError("the process died mid-run")

        with monkeypatch.context() as patch:
            patch.setattr(weekly_audit, "plan_weekly_audit", dies)
            patch.setattr("schedules.runner.plan_weekly_audit", dies, raising=False)
            with pytest.raises(RuntimeError):
                scheduled_weekly_audit(bot.ctx)
        assert thread_weeks(engine) == []

        clock.set(ny(2026, 11, 16, 9, 5))  # the bot is back five minutes later
        catch_up_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        assert thread_weeks(engine) == [(TRAINER1, "clinical", "2026-W47")]
        assert len(bot.parents(CLINICAL_CHANNEL)) == 1
        assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5
        runs = job_runs(engine)
        assert [r.period for r in runs] == ["2026-W47"] and runs[0].finished_at is not None


def test_a_scheduled_run_firing_after_its_iso_week_ended_does_not_take_the_next_week(
        engine, clock):
    """APScheduler may fire late (misfire grace: 7 days), e.g. after the machine slept."""
    workspace = workspace_scheduled("sun 23:30")
    clock.set(ny(2026, 11, 16, 0, 10))  # Monday 00:10: Sunday's 23:30 run fires 40 min late
    with running_bot(engine, workspace, clock) as bot:
        bot.ingest(week_of_records(clock.now(), count=8))
        scheduled_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        assert ok_posts(bot) == []
        assert job_runs(engine) == []
        assert thread_weeks(engine) == []

        clock.set(ny(2026, 11, 22, 23, 30))  # this week's own run, on time, still happens
        bot.ingest(week_of_records(clock.now(), count=4, trainer=TRAINER2, task_type="legal"))
        scheduled_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)
        assert [r.period for r in job_runs(engine)] == ["2026-W47"]
        assert "2026-W47" in bot.parents(LEGAL_CHANNEL)[0].text


# --- the scheduler ----------------------------------------------------------------------------


@pytest.mark.parametrize(("at", "weekday", "hour", "minute"), [
    ("mon 09:00", 0, 9, 0),
    ("sun 20:30", 6, 20, 30),
])
def test_the_scheduler_registers_the_weekly_audit_at_the_workspace_time(
        engine, clock, at, weekday, hour, minute):
    workspace = workspace_scheduled(at)
    clock.set(ny(2026, 11, 23, 8))  # before "mon 09:00": start-up has nothing to catch up
    with running_bot(engine, workspace, clock) as bot:
        scheduler = start_scheduler(bot.ctx)
        try:
            job = scheduler.get_job(WEEKLY_AUDIT)
            assert job is not None
            assert job.func is scheduled_weekly_audit
            assert job.args == (bot.ctx,)
            # The trigger runs on real time: only the wall-clock shape is fixed.
            at_local = job.next_run_time
            assert at_local.tzinfo is not None
            assert getattr(at_local.tzinfo, "key", str(at_local.tzinfo)) == "America/New_York"
            assert (at_local.weekday(), at_local.hour, at_local.minute) == (weekday, hour, minute)
            real_now = datetime.now(UTC)
            assert real_now < at_local <= real_now + timedelta(days=7)
        finally:
            scheduler.shutdown(wait=True)
        assert job_runs(engine) == []


def test_starting_the_scheduler_catches_up_this_weeks_missed_run(bot: RunningBot):
    bot.ingest(week_of_records(bot.ctx.clock.now(), count=8))  # clock: Monday 09:00 New York
    scheduler = start_scheduler(bot.ctx)
    try:
        bot.deliver(timeout=10)
        assert [r.period for r in job_runs(bot.ctx.engine)] == ["2026-W48"]
        assert len(bot.parents(CLINICAL_CHANNEL)) == 1
        assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 5
    finally:
        scheduler.shutdown(wait=True)


# --- which week, which outputs ----------------------------------------------------------------


@pytest.mark.parametrize(("moment", "week"), [
    (ny(2026, 11, 22, 23, 59, 59), "2026-W47"),  # Sunday night in New York
    (ny(2026, 11, 23, 0, 0), "2026-W48"),  # midnight: Monday starts the new week
    (datetime(2026, 11, 23, 3, 0, tzinfo=UTC), "2026-W47"),  # Monday in UTC, Sunday in NY
    (ny(2027, 1, 1, 12), "2026-W53"),  # a Friday in January in the last ISO week of 2026
    (ny(2027, 1, 4, 0, 0), "2027-W01"),
])
def test_the_run_belongs_to_the_iso_week_of_the_workspace_time_zone(workspace, moment, week):
    assert audit_week(workspace, moment.astimezone(UTC)) == week


def test_a_run_just_after_midnight_monday_audits_the_new_week_and_exactly_seven_days_back(
        engine, clock):
    workspace = workspace_scheduled("mon 00:00")
    # Monday 00:01 New York = 05:01 UTC (output_record writes its time as UTC: pass UTC).
    now = ny(2026, 11, 23, 0, 1).astimezone(UTC)
    clock.set(now)
    seven_days = timedelta(days=7)
    records = [
        output_record(1, created_at=now - seven_days),  # exactly 7 days: in
        output_record(2, created_at=now - seven_days - timedelta(seconds=1)),  # older: out
        output_record(3, created_at=now - timedelta(seconds=1)),  # just before the run: in
        output_record(4, created_at=now - timedelta(minutes=2)),  # Sunday 23:59, last week: in
        output_record(5, trainer=NURSE, created_at=now - timedelta(days=8)),  # older: out
    ]
    with running_bot(engine, workspace, clock) as bot:
        report = bot.ingest(records)
        assert report.ok, report.rejected
        scheduled_weekly_audit(bot.ctx)
        bot.deliver(timeout=10)

        with Session(engine) as session:
            audited = sorted(s.output_id for s in session.exec(select(Sample)).all())
        assert audited == sorted(records[i]["id"] for i in (0, 2, 3))
        assert thread_weeks(engine) == [(TRAINER1, "clinical", "2026-W48")]
        assert [r.period for r in job_runs(engine)] == ["2026-W48"]
        parents = bot.parents(CLINICAL_CHANNEL)
        assert len(parents) == 1
        assert "2026-W48" in parents[0].text and "3 samples" in parents[0].text
        assert len(bot.thread_replies(CLINICAL_CHANNEL)) == 3
