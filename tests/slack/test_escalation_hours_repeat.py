"""Working hours per level (nobody paged outside them; ack_within counts from delivery) and
`repeat` (the path starts again after the last level, a bounded number of times)."""

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot.store.models import Escalation, EscalationEvent
from bot.workspace import Workspace, parse_workspace
from tests.support.escalation_setup import (
    BAD_WEEKS,
    audited_weeks,
    check,
    escalation_dms,
    shown_text,
)
from tests.support.factories import LEAD, MANAGER, workspace_data
from tests.support.harness import RunningBot

# The clock starts on Monday 2026-11-23 09:00 in New York (the workspace timezone).


def _workspace(**escalation: object) -> Workspace:
    data = workspace_data()
    data["escalation"] = escalation
    return parse_workspace(data)


def _escalation(bot: RunningBot) -> Escalation:
    with Session(bot.ctx.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        return escalation


def _kinds(bot: RunningBot) -> list[str]:
    with Session(bot.ctx.engine) as session:
        return [e.kind for e in session.exec(select(EscalationEvent)
                                             .order_by(col(EscalationEvent.id))).all()]


class TestWorkingHours:
    @pytest.fixture
    def workspace(self) -> Workspace:
        return _workspace(levels=[
            {"notify": ["lead"], "ack_within": "4h", "working_hours": "mon-fri 10:00-18:00"},
            {"notify": [MANAGER], "ack_within": "24h", "working_hours": "mon-fri 09:00-17:00"}])

    def test_a_page_waits_for_the_opening_and_ack_within_counts_from_delivery(self, bot):
        audited_weeks(bot, BAD_WEEKS)
        check(bot)  # Monday 09:00: the lead's hours open at 10:00
        assert escalation_dms(bot, LEAD) == []
        assert _escalation(bot).notify_at is not None
        bot.ctx.clock.advance(timedelta(minutes=59))
        check(bot)
        assert escalation_dms(bot, LEAD) == []
        bot.ctx.clock.advance(timedelta(minutes=1))  # 10:00
        check(bot)
        [notice] = escalation_dms(bot, LEAD)
        bot.ctx.clock.advance(timedelta(hours=3, minutes=55))  # 5h after opening, 4h - 5m
        check(bot)
        assert escalation_dms(bot, MANAGER) == []
        bot.ctx.clock.advance(timedelta(minutes=5))  # 14:00, 4h after delivery
        check(bot)
        assert len(escalation_dms(bot, MANAGER)) == 1
        assert _kinds(bot) == ["opened", "waiting", "notified", "climbed", "notified"]
        timeline = shown_text(bot.sandbox.message(notice.channel, notice.ts))
        assert "level 1 waits for its working hours: paged <!date^" in timeline

    def test_nobody_is_paged_at_night_or_at_the_weekend(self, bot):
        bot.ctx.clock.advance(timedelta(days=4, hours=4))  # Friday 13:00
        audited_weeks(bot, BAD_WEEKS)
        check(bot)
        [notice] = escalation_dms(bot, LEAD)
        bot.ctx.clock.advance(timedelta(hours=4, minutes=5))  # Friday 17:05: level 2 closed
        check(bot)
        assert escalation_dms(bot, MANAGER) == []
        waiting = _escalation(bot)
        assert waiting.level == 1 and waiting.notify_at is not None
        monday = waiting.notify_at.astimezone(bot.ctx.workspace.tz)
        assert (monday.weekday(), monday.hour) == (0, 9)
        view = shown_text(bot.sandbox.message(notice.channel, notice.ts))
        assert "Level 2 of 2 is paged when its working hours open" in view
        assert f"Notified so far: <@{LEAD}>" in view
        for _ in range(6):  # the night and the weekend: nothing
            bot.ctx.clock.advance(timedelta(hours=10))
            check(bot)
        assert escalation_dms(bot, MANAGER) == []
        bot.ctx.clock.advance(waiting.notify_at - bot.ctx.clock.now())
        check(bot)  # Monday 09:00
        assert len(escalation_dms(bot, MANAGER)) == 1
        assert _escalation(bot).level_notified_at == waiting.notify_at


    def test_an_acknowledgement_while_a_level_waits_cancels_its_page(self, bot):
        bot.ctx.clock.advance(timedelta(days=4, hours=4))  # Friday 13:00
        audited_weeks(bot, BAD_WEEKS)
        check(bot)
        [notice] = escalation_dms(bot, LEAD)
        bot.ctx.clock.advance(timedelta(hours=4, minutes=5))  # level 2 waits for Monday
        check(bot)
        assert _escalation(bot).notify_at is not None
        bot.driver.click(LEAD, notice, "Acknowledge", channel=notice.channel)
        bot.driver.wait_for(lambda: _escalation(bot).acknowledged_by == LEAD)
        assert _escalation(bot).notify_at is None
        bot.ctx.clock.advance(timedelta(days=2, hours=16))  # Monday 09:05
        check(bot)  # the manager's hours are open, but someone has it: no page
        assert escalation_dms(bot, MANAGER) == []
        bot.ctx.clock.advance(timedelta(hours=1))  # the lead's hours open: reminded
        check(bot)
        assert escalation_dms(bot, MANAGER) == []
        assert len(escalation_dms(bot, LEAD)) == 2


class TestRepeat:
    @pytest.fixture
    def workspace(self) -> Workspace:
        return _workspace(repeat=1, levels=[{"notify": ["lead"], "ack_within": "4h"},
                                            {"notify": [MANAGER], "ack_within": "4h"}])

    def test_the_path_starts_again_once_then_stops_and_says_so(self, bot):
        audited_weeks(bot, BAD_WEEKS)
        check(bot)
        for lead_dms, manager_dms in ((1, 1), (2, 1), (2, 2)):
            bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
            check(bot)
            assert (len(escalation_dms(bot, LEAD)),
                    len(escalation_dms(bot, MANAGER))) == (lead_dms, manager_dms)
        first = escalation_dms(bot, LEAD)[0]
        assert "started again (1 of 1 repeats)" in shown_text(
            bot.sandbox.message(first.channel, first.ts))
        bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
        check(bot)  # the repeat's last level passed too: stop
        for _ in range(3):
            bot.ctx.clock.advance(timedelta(hours=8))
            check(bot)
        assert (len(escalation_dms(bot, LEAD)), len(escalation_dms(bot, MANAGER))) == (2, 2)
        assert _kinds(bot) == ["opened", "notified", "climbed", "notified", "repeated",
                               "notified", "climbed", "notified", "stopped"]
        for notice in escalation_dms(bot, LEAD) + escalation_dms(bot, MANAGER):
            view = shown_text(bot.sandbox.message(notice.channel, notice.ts))
            assert "The path has run out: nobody will be paged again" in view
        # It stays open: acknowledging it still works, and starts the reminders.
        bot.driver.click(MANAGER, first, "Acknowledge", channel=first.channel)
        bot.driver.wait_for(lambda: _escalation(bot).acknowledged_by == MANAGER)
        bot.deliver()
        assert "run out" not in shown_text(bot.sandbox.message(first.channel, first.ts))


class TestNoRepeat:
    @pytest.fixture
    def workspace(self) -> Workspace:
        return _workspace(levels=[{"notify": ["lead"], "ack_within": "4h"},
                                  {"notify": [MANAGER], "ack_within": "4h"}])

    def test_without_repeat_a_timed_last_level_stops_once(self, bot):
        audited_weeks(bot, BAD_WEEKS)
        check(bot)
        for _ in range(4):
            bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
            check(bot)
        assert (len(escalation_dms(bot, LEAD)), len(escalation_dms(bot, MANAGER))) == (1, 1)
        assert _kinds(bot).count("stopped") == 1
        assert _escalation(bot).stopped_at is not None
