"""Snooze: managers and the trainer's lead pause the climb and the reminders, with a reason
and an end; everyone notified sees it; at the end the time to acknowledge starts again."""

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot.sandbox.records import Message
from bot.store.models import Escalation, EscalationEvent
from tests.support.escalation_setup import (
    BAD_WEEKS,
    audited_weeks,
    check,
    escalation_dms,
    shown_text,
)
from tests.support.factories import LEAD, MANAGER, NURSE
from tests.support.harness import RunningBot

REASON = "Tara is on leave this week; coaching booked for her return."


def _escalation(bot: RunningBot) -> Escalation:
    with Session(bot.ctx.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        return escalation


@pytest.fixture
def opened(bot: RunningBot) -> Message:
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    [notice] = escalation_dms(bot, LEAD)
    return notice


def _snooze(bot: RunningBot, user: str, notice: Message, values: dict, *,
            client_checks: bool = True) -> dict:
    bot.driver.click(user, notice, "Snooze", channel=notice.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(user))
    response = bot.driver.submit_view(user, modal, values, client_checks=client_checks)
    assert response.status == 200
    return response.json() or {}


def test_the_lead_snoozes_a_day_the_climb_waits_and_restarts_from_the_end(bot, opened):
    answer = _snooze(bot, LEAD, opened, {"until": "1d", "reason": REASON})
    assert answer == {}  # stored before the form closed
    snoozed = _escalation(bot)
    assert snoozed.snoozed_by == LEAD and snoozed.snoozed_until == bot.ctx.clock.now() + \
        timedelta(days=1)
    bot.deliver()
    view = shown_text(bot.sandbox.message(opened.channel, opened.ts))
    assert f"Snoozed until <!date^{int(snoozed.snoozed_until.timestamp())}^" in view
    assert f"by <@{LEAD}> — {REASON}" in view
    assert f"snoozed by <@{LEAD}> until" in view  # and in the timeline

    bot.ctx.clock.advance(timedelta(hours=23))  # the lead's 4h passed long ago
    check(bot)
    assert escalation_dms(bot, MANAGER) == []
    bot.ctx.clock.advance(timedelta(hours=1, minutes=5))  # the snooze is over: 4h again
    check(bot)
    assert escalation_dms(bot, MANAGER) == []
    after = shown_text(bot.sandbox.message(opened.channel, opened.ts))
    assert "Snoozed until" not in after and "snooze ended" in after
    bot.ctx.clock.advance(timedelta(hours=3, minutes=50))
    check(bot)
    assert escalation_dms(bot, MANAGER) == []
    bot.ctx.clock.advance(timedelta(minutes=10))  # 4h after the snooze ended
    check(bot)
    assert len(escalation_dms(bot, MANAGER)) == 1
    with Session(bot.ctx.engine) as session:
        kinds = [e.kind for e in session.exec(select(EscalationEvent)
                                              .order_by(col(EscalationEvent.id))).all()]
    assert kinds == ["opened", "notified", "snoozed", "unsnoozed", "climbed", "notified"]


def test_a_snooze_pauses_reminders_of_an_acknowledged_escalation(bot, opened):
    bot.driver.click(LEAD, opened, "Acknowledge", channel=opened.channel)
    bot.driver.wait_for(lambda: _escalation(bot).acknowledged_at is not None)
    _snooze(bot, MANAGER, opened, {"until": "3d", "reason": REASON})
    bot.ctx.clock.advance(timedelta(days=2))
    check(bot)
    assert len(escalation_dms(bot, LEAD)) == 1  # no reminder while snoozed
    bot.ctx.clock.advance(timedelta(days=1, minutes=5))
    check(bot)  # the snooze ended: the next reminder is reack_after (24h) later
    assert len(escalation_dms(bot, LEAD)) == 1
    bot.ctx.clock.advance(timedelta(hours=24))
    check(bot)
    assert len(escalation_dms(bot, LEAD)) == 2


def test_someone_not_a_manager_or_the_lead_is_refused(bot, opened):
    bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
    check(bot)
    # Nora reviews: she may not snooze, though she could act on a notice sent to her.
    bot.driver.click(NURSE, opened, "Snooze", channel=opened.channel)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.ephemerals(user=NURSE)
                                  or bot.sandbox.dms(NURSE))
    assert "Only managers and the trainer's lead can snooze" in refusal[0].text
    assert bot.driver.open_modal(NURSE) is None
    assert _escalation(bot).snoozed_until is None


def test_the_form_asks_for_a_reason_and_a_day_in_range(bot, opened):
    answer = _snooze(bot, LEAD, opened, {"until": "1d", "reason": "  busy   "},
                     client_checks=False)
    assert "at least 10 characters" in answer["errors"]["reason"]
    today = bot.ctx.clock.now().date()
    answer = _snooze(bot, LEAD, opened, {"until": "date", "reason": REASON})
    assert answer["errors"] == {"day": "Pick the day the escalation should wake up."}
    answer = _snooze(bot, LEAD, opened, {"until": "date", "day": today.isoformat(),
                                         "reason": REASON})
    assert answer["errors"] == {"day": "Pick a day after today."}
    answer = _snooze(bot, LEAD, opened, {"until": "date",
                                         "day": (today + timedelta(days=40)).isoformat(),
                                         "reason": REASON})
    assert answer["errors"] == {"day": "Snooze at most 30 days ahead."}
    assert _escalation(bot).snoozed_until is None
    day = today + timedelta(days=5)
    assert _snooze(bot, LEAD, opened, {"until": "date", "day": day.isoformat(),
                                       "reason": REASON}) == {}
    until = _escalation(bot).snoozed_until
    assert until is not None
    local = until.astimezone(bot.ctx.workspace.tz)
    assert (local.date(), local.hour, local.minute) == (day, 0, 0)


def test_a_closed_escalation_cannot_be_snoozed(bot, opened):
    bot.driver.click(LEAD, opened, "Resolve", channel=opened.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(LEAD))
    bot.driver.submit_view(LEAD, modal, {"note": "Coached on renal dosing; re-audit."})
    bot.driver.wait_for(lambda: _escalation(bot).status == "resolved")
    # A stale copy of the message (a client that missed the update) still sends the click.
    stale = {"ts": "1.000001", "blocks": opened.blocks}
    bot.driver.click(LEAD, stale, "Snooze", channel=opened.channel)
    refusal = bot.driver.wait_for(lambda: [e for e in bot.sandbox.ephemerals(user=LEAD)
                                           + bot.sandbox.dms(LEAD)
                                           if "closed already" in e.text], timeout=5)
    assert "nothing to snooze" in refusal[0].text
    assert _escalation(bot).snoozed_until is None
