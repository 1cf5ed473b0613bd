"""Every change of an escalation, with who and when: on the message (a context block) and
in `/audit escalations`, newest last, bounded."""

import re
from datetime import timedelta

from sqlmodel import Session, col, select

from bot.sandbox.records import Message
from bot.store.models import Escalation, EscalationEvent
from tests.support.escalation_setup import BAD_WEEKS, audited_weeks, check, escalation_dms
from tests.support.factories import LEAD, MANAGER, TRAINER1
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown


def _timeline(message: Message) -> list[str]:
    """The timeline block's lines, without the heading."""
    [block] = [b for b in message.blocks if b["type"] == "context"
               and b["elements"][0]["text"].startswith("*Timeline*")]
    return block["elements"][0]["text"].split("\n")[1:]


def _kinds(bot: RunningBot) -> list[str]:
    with Session(bot.ctx.engine) as session:
        return [e.kind for e in session.exec(select(EscalationEvent)
                                             .order_by(col(EscalationEvent.id))).all()]


def _escalation(bot: RunningBot) -> Escalation:
    with Session(bot.ctx.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
        return escalation


def test_the_message_shows_each_change_with_who_and_when_newest_last(bot: RunningBot):
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    [lead_notice] = escalation_dms(bot, LEAD)
    assert [re.sub(r"<!date\^\d+\^[^|]*\|[^>]*> · ", "", line)
            for line in _timeline(lead_notice)] == [
        "opened at level 1", f"level 1 notified: <@{LEAD}>"]
    opened_at = int(bot.ctx.clock.now().timestamp())
    assert _timeline(lead_notice)[0].startswith(f"<!date^{opened_at}^")

    bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
    check(bot)  # nobody acknowledged: the manager is told
    [manager_notice] = escalation_dms(bot, MANAGER)
    bot.driver.click(MANAGER, manager_notice, "Acknowledge", channel=manager_notice.channel)
    bot.driver.wait_for(lambda: _escalation(bot).acknowledged_by == MANAGER)
    bot.deliver()
    bot.ctx.clock.advance(timedelta(hours=25))
    check(bot)  # acknowledged a day ago: reminded
    bot.driver.click(LEAD, lead_notice, "Resolve", channel=lead_notice.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(LEAD))
    bot.driver.submit_view(LEAD, modal, {"note": "Coached on renal dosing; re-audit next week."})
    bot.driver.wait_for(lambda: _escalation(bot).status == "resolved")
    bot.deliver()

    assert _kinds(bot) == ["opened", "notified", "climbed", "notified", "acknowledged",
                           "reminded", "resolved"]
    final = bot.sandbox.message(lead_notice.channel, lead_notice.ts)
    lines = _timeline(final)
    assert "climbed to level 2: not acknowledged in time" in lines[2]
    assert f"level 2 notified: <@{MANAGER}>" in lines[3]
    assert f"acknowledged by <@{MANAGER}>" in lines[4]
    assert f"level 2 reminded: <@{MANAGER}>" in lines[5]
    assert f"resolved by <@{LEAD}>: Coached on renal dosing" in lines[6]


def test_audit_escalations_shows_the_timeline_of_open_ones(bot: RunningBot):
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    bot.ctx.clock.advance(timedelta(hours=4, minutes=1))
    check(bot)
    text = shown(ask(bot, LEAD, "escalations"))
    assert f"<@{TRAINER1}>" in text and "Timeline" in text
    assert text.index("opened at level 1") < text.index("climbed to level 2") \
        < text.index(f"level 2 notified: <@{MANAGER}>")


def test_a_long_timeline_is_cut_to_its_newest_changes(bot: RunningBot):
    """Reminders every day for two weeks: the message and the command show the newest
    changes and say how many earlier ones are left out."""
    audited_weeks(bot, BAD_WEEKS)
    check(bot)
    [lead_notice] = escalation_dms(bot, LEAD)
    bot.driver.click(LEAD, lead_notice, "Acknowledge", channel=lead_notice.channel)
    bot.driver.wait_for(lambda: _escalation(bot).acknowledged_by == LEAD)
    for _ in range(14):
        bot.ctx.clock.advance(timedelta(hours=24, minutes=5))
        check(bot)
    assert _kinds(bot).count("reminded") == 14
    lines = _timeline(bot.sandbox.message(lead_notice.channel, lead_notice.ts))
    assert lines[0] == "… 5 earlier" and len(lines) == 13  # the newest 12, then the count
    assert "reminded" in lines[-1]
    text = shown(ask(bot, LEAD, "escalations"))
    assert "… 9 earlier" in text and text.count("reminded") == 8
