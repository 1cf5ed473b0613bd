"""Escalation notices are rewritten only when what they show changes: every check owes an
update of every notice, and Slack rate-limits `chat.update` (issue 10)."""

from datetime import timedelta

from sqlmodel import Session, select

from bot.services.grading import record_grade
from bot.services.outbox import OutboxKind
from bot.store.db import session_scope
from bot.store.models import Grade, OutboxItem
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import LEAD, MANAGER
from tests.support.harness import RunningBot

BAD_WEEKS = [["major", "minor", "major", "pass", "major"], ["major"] * 5]


def _check(bot: RunningBot) -> None:
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()


def _updates(bot: RunningBot) -> list[str]:
    """The notices (in DMs) updated, by ts; sample messages in the channel are not asked."""
    return [c.params.get("ts") for c in bot.sandbox.calls("chat.update")
            if str(c.params.get("channel")).startswith("D")]


def test_checks_that_change_nothing_update_no_notice(bot):
    audited_weeks(bot, BAD_WEEKS)
    _check(bot)  # opens the escalation: the lead is told
    assert [m for m in bot.sandbox.dms(LEAD) if "scalation" in m.text]
    for _ in range(4):
        bot.ctx.clock.advance(timedelta(minutes=5))
        _check(bot)
    assert _updates(bot) == []


def test_a_climb_updates_each_earlier_notice_once(bot):
    audited_weeks(bot, BAD_WEEKS)
    _check(bot)
    [lead_notice] = [m for m in bot.sandbox.dms(LEAD) if "scalation" in m.text]
    bot.ctx.clock.advance(timedelta(hours=4, minutes=1))  # past the first level's ack_within
    _check(bot)
    assert [m for m in bot.sandbox.dms(MANAGER) if "scalation" in m.text]
    for _ in range(3):
        bot.ctx.clock.advance(timedelta(minutes=5))
        _check(bot)
    assert _updates(bot) == [lead_notice.ts]


def test_checks_that_change_nothing_owe_no_update(bot):
    audited_weeks(bot, BAD_WEEKS)
    _check(bot)
    for _ in range(3):
        bot.ctx.clock.advance(timedelta(minutes=5))
        _check(bot)
    with Session(bot.ctx.engine) as session:
        owed = session.exec(select(OutboxItem).where(
            OutboxItem.kind == OutboxKind.ESCALATION_UPDATE)).all()
    assert owed == []


def test_a_changed_grade_updates_each_notice_once(bot):
    audited_weeks(bot, BAD_WEEKS)
    _check(bot)
    bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
    _check(bot)  # the manager is told too: two notices now
    before = _updates(bot)
    with session_scope(bot.ctx.engine) as session:
        grade = session.exec(select(Grade).where(Grade.grade == "major")).first()
        assert grade is not None
        record_grade(session, bot.ctx.workspace, sample_id=grade.sample_id,
                     reviewer=grade.reviewer, grade="pass", category=None, explanation=None,
                     now=bot.ctx.clock.now())
    for _ in range(3):
        _check(bot)
        bot.ctx.clock.advance(timedelta(minutes=5))
    notices = [m.ts for m in bot.sandbox.dms(LEAD) + bot.sandbox.dms(MANAGER)
               if "scalation" in m.text]
    assert sorted(_updates(bot)[len(before):]) == sorted(notices)
