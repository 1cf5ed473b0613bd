"""Reviewer reminders and the weekly digest on a frozen clock: who gets a DM, with what,
and that running the jobs again sends nothing twice."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.services.people import set_away
from schedules.escalation_check import run_escalation_check
from schedules.nudges import run_reviewer_reminders, run_weekly_digest
from schedules.runner import REVIEWER_REMINDER, WEEKLY_DIGEST
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    week_of_records,
)
from tests.support.harness import RunningBot
from tests.support.status_support import shown


def _reminders(bot: RunningBot, user: str) -> list:
    return [m for m in bot.sandbox.dms(user) if "waited more than a day" in m.text]


def _remind(bot: RunningBot):
    summary = run_reviewer_reminders(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    return summary


@pytest.fixture
def audited(bot: RunningBot) -> RunningBot:
    """Monday's audit: five clinical samples (TRAINER1) and three legal (TRAINER2), ungraded."""
    now = bot.ctx.clock.now()
    bot.ingest(week_of_records(now, count=5))
    bot.ingest(week_of_records(now, trainer=TRAINER2, task_type="legal", count=3))
    bot.run_audit()
    return bot


def test_reviewers_with_samples_waiting_over_a_day_get_one_dm_with_links(audited):
    bot = audited
    bot.ctx.clock.advance(timedelta(days=2))  # Wednesday, the default reminder day
    assert sorted(_remind(bot).sent) == sorted([DOCTOR, LAWYER, NURSE])
    [lawyer] = _reminders(bot, LAWYER)
    text = shown(lawyer)
    assert "3 samples have waited more than a day for your grade" in text
    assert text.count("https://sandbox.slack.test/archives/C0LEGAL/") == 3
    assert "waiting 2d" in text and "`/audit pending`" in text
    assert len(_reminders(bot, NURSE)) == 1 and "5 samples" in _reminders(bot, NURSE)[0].text
    assert _reminders(bot, LEAD) == [] and _reminders(bot, MANAGER) == []


def test_running_again_the_same_day_nudges_nobody_twice(audited):
    bot = audited
    bot.ctx.clock.advance(timedelta(days=2))
    _remind(bot)
    bot.ctx.clock.advance(timedelta(hours=6))
    assert _remind(bot).sent == ()
    assert len(_reminders(bot, LAWYER)) == 1
    bot.ctx.clock.advance(timedelta(days=1))  # another day, still waiting: nudged again
    assert LAWYER in _remind(bot).sent
    assert len(_reminders(bot, LAWYER)) == 2


def test_samples_younger_than_a_day_wait_without_a_nudge(audited):
    audited.ctx.clock.advance(timedelta(hours=20))
    assert _remind(audited).sent == ()


def test_an_away_reviewer_is_not_nudged(audited):
    bot = audited
    with Session(bot.ctx.engine) as session:
        set_away(session, bot.ctx.workspace, user=LAWYER, until=bot.ctx.clock.now().date()
                 + timedelta(days=7), by=LAWYER, now=bot.ctx.clock.now())
        session.commit()
    bot.ctx.clock.advance(timedelta(days=2))
    assert LAWYER not in _remind(bot).sent
    assert _reminders(bot, LAWYER) == []


def test_nothing_is_sent_when_nothing_waits(bot: RunningBot):
    audited_weeks(bot, [["pass"] * 5])
    bot.ctx.clock.advance(timedelta(days=2))
    assert _remind(bot).sent == ()
    assert all(_reminders(bot, r) == [] for r in (NURSE, DOCTOR, LAWYER))


# --- the weekly digest ------------------------------------------------------------------------

def _digests(bot: RunningBot, user: str) -> list:
    return [m for m in bot.sandbox.dms(user) if "Weekly audit digest" in m.text]


@pytest.fixture
def two_weeks(bot: RunningBot) -> RunningBot:
    """TRAINER1 good in W47, poor in W48 (escalated: four Majors in a week are a severe
    drop); the digest runs the Monday after."""
    audited_weeks(bot, [["pass"] * 5, ["major", "major", "major", "major", "pass"]])
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.ingest(week_of_records(bot.ctx.clock.now(), trainer=TRAINER2, task_type="legal",
                               count=3))
    bot.run_audit()
    bot.ctx.clock.advance(timedelta(weeks=1, hours=1))  # Monday 2026-11-30, 10:00 New York
    return bot


def test_managers_get_last_weeks_scores_movers_escalations_and_backlog(two_weeks):
    bot = two_weeks
    summary = run_weekly_digest(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    assert summary.sent == (MANAGER,)
    [digest] = _digests(bot, MANAGER)
    text = shown(digest)
    assert "Weekly audit digest · 2026-W48" in text
    assert "*Clinical NLP* 0.20 ▼ -0.80 (5 graded, threshold 0.85)" in text
    assert f"below threshold: <@{TRAINER1}>" in text
    assert f"▼ <@{TRAINER1}> · Clinical NLP 1.00 → 0.20 (-0.80)" in text
    assert "Open escalations: 1" in text and "level 1 of 2" in text
    assert "*Legal drafting* – (0 graded" in text and "backlog 3" in text
    assert _digests(bot, LEAD) == []


def test_the_digest_is_sent_once_per_week_and_not_to_an_away_manager(two_weeks):
    bot = two_weeks
    run_weekly_digest(bot.ctx, now=bot.ctx.clock.now())
    bot.ctx.clock.advance(timedelta(hours=3))
    assert run_weekly_digest(bot.ctx, now=bot.ctx.clock.now()).sent == ()
    bot.deliver()
    assert len(_digests(bot, MANAGER)) == 1
    with Session(bot.ctx.engine) as session:
        set_away(session, bot.ctx.workspace, user=MANAGER, by=MANAGER,
                 until=bot.ctx.clock.now().date() + timedelta(days=14),
                 now=bot.ctx.clock.now())
        session.commit()
    bot.ctx.clock.advance(timedelta(weeks=1))
    assert run_weekly_digest(bot.ctx, now=bot.ctx.clock.now()).sent == ()


def test_the_jobs_have_explicit_ids_and_follow_the_audit_by_default(workspace):
    assert (REVIEWER_REMINDER, WEEKLY_DIGEST) == ("reviewer-reminder", "weekly-digest")
    assert str(workspace.schedule.reviewer_reminder) == "wed 09:00"
    assert str(workspace.schedule.weekly_digest) == "mon 10:00"
