"""The escalation path as the people on it see it: DMs, buttons, the climb, the close."""

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.sandbox.records import Message
from bot.store.models import Escalation
from schedules.escalation_check import run_escalation_check
from tests.support.busy_store import store_locked
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import CLINICAL_CHANNEL, LEAD, MANAGER, NURSE, OUTSIDER, TRAINER1
from tests.support.harness import RunningBot

BAD_WEEKS = [["major", "minor", "major", "pass", "major"], ["major"] * 5]


def _check(bot: RunningBot):
    summary = run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    return summary


def _notices(bot: RunningBot, user: str) -> list[Message]:
    return [m for m in bot.sandbox.dms(user) if "Quality escalation" in m.text
            or "Escalation" in m.text]


def _text(message: Message) -> str:
    parts = []
    for block in message.blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(element.get("text", "") if isinstance(element.get("text"), str)
                         else element.get("text", {}).get("text", ""))
    return "\n".join(parts)


def _escalations(bot: RunningBot) -> list[Escalation]:
    with Session(bot.ctx.engine) as session:
        return list(session.exec(select(Escalation)).all())


@pytest.fixture
def opened(bot: RunningBot) -> Message:
    audited_weeks(bot, BAD_WEEKS)
    summary = _check(bot)
    assert [o.trainer for o in summary.outcomes if o.opened] == [TRAINER1]
    [notice] = _notices(bot, LEAD)
    return notice


def test_a_confident_drop_notifies_the_lead_with_score_trend_and_worst_samples(bot, opened):
    text = _text(opened)
    assert f"<@{TRAINER1}>" in text
    assert "against the threshold 0.85" in text and "80% interval" in text
    assert "Trend" in text and "W47" in text and "W48" in text
    assert "Worst samples" in text and "Recommends ibuprofen" in text
    assert "Unsafe advice" in text
    assert "archives" in text  # links to the samples (permalinks)
    labels = [e["text"]["text"] for b in opened.blocks if b["type"] == "actions"
              for e in b["elements"]]
    assert labels == ["Acknowledge", "Snooze", "Resolve"]
    assert bot.sandbox.dms(MANAGER) == []


def test_a_busy_slack_delays_the_notice_rather_than_sending_it_without_links(bot):
    """Permalinks are looked up when the notice is rendered; a 429 on that look-up makes
    the notice wait for Retry-After (a DM is posted once: links left out stay out)."""
    audited_weeks(bot, BAD_WEEKS)
    bot.sandbox.ratelimit_next("chat.getPermalink", retry_after=1)
    _check(bot)
    [notice] = _notices(bot, LEAD)
    samples = re.findall(r"Sample \d+ of \d+", _text(notice))
    linked = re.findall(r"<https?://[^|>]*archives[^|>]*\|Sample \d+ of \d+", _text(notice))
    assert samples and len(linked) == len(samples)  # every worst sample links to its post
    assert bot.sandbox.calls("chat.getPermalink")[0].status == 429


def test_a_second_check_while_open_pings_nobody_again(bot, opened):
    _check(bot)
    _check(bot)
    assert len(_notices(bot, LEAD)) == 1
    assert len(_escalations(bot)) == 1


def test_unacknowledged_in_time_the_next_level_is_notified_and_the_first_message_says_so(
        bot, opened):
    bot.ctx.clock.advance(timedelta(hours=3))
    _check(bot)
    assert bot.sandbox.dms(MANAGER) == []
    bot.ctx.clock.advance(timedelta(hours=1, minutes=1))
    _check(bot)
    assert len(_notices(bot, MANAGER)) == 1
    lead_view = bot.sandbox.message(opened.channel, opened.ts)
    assert "Escalated to level 2" in _text(lead_view)
    bot.ctx.clock.advance(timedelta(days=3))
    _check(bot)  # the last level stays: nothing more to climb
    assert len(_notices(bot, MANAGER)) == 1


def test_acknowledge_stops_the_climb_and_updates_the_message(bot, opened):
    response = bot.driver.click(LEAD, opened, "Acknowledge", channel=opened.channel)
    assert response.status == 200
    updated = bot.driver.wait_for(lambda: (
        m := bot.sandbox.message(opened.channel, opened.ts)) and "Acknowledged by" in _text(m)
        and m)
    assert f"<@{LEAD}>" in _text(updated)
    assert "Acknowledge" not in [e["text"]["text"] for b in updated.blocks
                                 if b["type"] == "actions" for e in b["elements"]]
    bot.ctx.clock.advance(timedelta(hours=5))
    _check(bot)
    assert bot.sandbox.dms(MANAGER) == []


def test_after_reack_after_the_same_level_is_reminded(bot, opened):
    bot.driver.click(LEAD, opened, "Acknowledge", channel=opened.channel)
    bot.driver.wait_for(lambda: _escalations(bot)[0].acknowledged_at is not None)
    bot.ctx.clock.advance(timedelta(hours=23))
    _check(bot)
    assert len(_notices(bot, LEAD)) == 1
    bot.ctx.clock.advance(timedelta(hours=2))
    _check(bot)
    assert len(_notices(bot, LEAD)) == 2
    assert bot.sandbox.dms(MANAGER) == []


def test_someone_else_cannot_acknowledge(bot, opened):
    bot.driver.click(OUTSIDER, opened, "Acknowledge", channel=opened.channel)
    refusal = bot.driver.wait_for(lambda: bot.sandbox.dms(OUTSIDER)
                                  or bot.sandbox.ephemerals(user=OUTSIDER))
    assert "can acknowledge or resolve" in refusal[0].text
    assert _escalations(bot)[0].acknowledged_at is None


def test_a_manager_may_acknowledge_without_being_notified(bot, opened):
    bot.driver.click(MANAGER, opened, "Acknowledge", channel=opened.channel)
    bot.driver.wait_for(lambda: _escalations(bot)[0].acknowledged_by == MANAGER)


def test_resolve_asks_for_a_note_then_closes_and_tells_everyone(bot, opened):
    bot.ctx.clock.advance(timedelta(hours=5))
    _check(bot)  # the manager is notified too
    bot.driver.click(LEAD, opened, "Resolve", channel=opened.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(LEAD))
    answer = bot.driver.submit_view(LEAD, modal, {"note": "short"}, client_checks=False).json()
    assert "at least 10 characters" in answer["errors"]["note"]
    bot.driver.submit_view(LEAD, modal, {"note": "Coached Tara on renal dosing; re-audit."})
    bot.driver.wait_for(lambda: _escalations(bot)[0].status == "resolved")
    bot.deliver()
    for person in (LEAD, MANAGER):
        closing = [m for m in bot.sandbox.dms(person) if "resolved the escalation" in m.text]
        assert len(closing) == 1 and "renal dosing" in closing[0].text
    final = bot.sandbox.message(opened.channel, opened.ts)
    assert not [b for b in final.blocks if b["type"] == "actions"]
    assert "Resolved by" in _text(final)
    _check(bot)  # the same grades do not reopen what someone resolved
    assert [e.status for e in _escalations(bot)] == ["resolved"]


def test_recovery_closes_it_with_a_message_to_those_notified(bot, opened):
    bot.ctx.clock.advance(timedelta(weeks=4))
    audited_weeks(bot, [["pass"] * 5] * 4)
    _check(bot)
    assert [e.status for e in _escalations(bot)] == ["recovered"]
    closing = [m for m in bot.sandbox.dms(LEAD) if "closed itself" in m.text]
    assert len(closing) == 1


def test_a_grade_click_runs_the_threshold_check(bot):
    audited_weeks(bot, [["major"] * 5, ["major"] * 4 + ["pass"]])
    # The last sample was graded pass above; a reviewer changes it to major in Slack.
    reply = bot.thread_replies(CLINICAL_CHANNEL)[-1]
    bot.driver.click(NURSE, reply, "Major error", channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))
    bot.driver.submit_view(NURSE, modal, {"category": "Unsafe advice",
                                          "explanation": "Advises doubling the insulin dose."})
    bot.driver.wait_for(lambda: _escalations(bot))
    bot.deliver()
    assert len(_notices(bot, LEAD)) == 1


def test_an_acknowledge_on_a_locked_store_is_answered_not_recorded_and_keeps_nothing(
        bot, opened):
    """A click answered is a click kept: Acknowledge is stored before its ack, so a store
    that cannot take it in time keeps nothing and says so; once free, the click works."""
    with store_locked(bot.ctx.engine, table="escalation"):
        response = bot.driver.click(LEAD, opened, "Acknowledge", channel=opened.channel)
        assert response.status == 200 and not response.timed_out
        told = bot.driver.wait_for(lambda: [
            e for e in bot.sandbox.ephemerals(user=LEAD) + bot.sandbox.dms(LEAD)
            if "not recorded" in e.text])
    assert "try again" in told[0].text
    assert _escalations(bot)[0].acknowledged_at is None
    response = bot.driver.click(LEAD, opened, "Acknowledge", channel=opened.channel)
    assert response.status == 200 and not response.timed_out
    assert _escalations(bot)[0].acknowledged_at is not None  # stored before the 200


def test_a_resolve_submitted_on_a_locked_store_stays_open_saying_not_recorded(bot, opened):
    bot.driver.click(LEAD, opened, "Resolve", channel=opened.channel)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(LEAD))
    note = "Talked it through with the trainer; retraining booked."
    with store_locked(bot.ctx.engine, table="escalation"):
        response = bot.driver.submit_view(LEAD, modal, {"note": note})
    assert response.status == 200 and not response.timed_out
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "not recorded" in answer["errors"]["note"]
    assert _escalations(bot)[0].status == "open"
    response = bot.driver.submit_view(LEAD, modal, {"note": note})
    assert response.status == 200 and not response.json()
    assert _escalations(bot)[0].status == "resolved"
