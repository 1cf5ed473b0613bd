"""Signed clicks and form submissions with forged or foreign values, on a real audit week:
a value that is not the sample's id in plain ASCII digits, another channel's sample, a grade
that does not exist, a person not in the config, damaged modal metadata. Nothing is recorded
that a valid action would not record, nothing is a 5xx or a traceback, and the person who
clicked gets an answer they can act on.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from bot.sandbox import payloads
from bot.sandbox.records import Message
from bot.store.models import Escalation, Grade
from schedules.escalation_check import run_escalation_check
from tests.support.escalation_setup import audited_weeks
from tests.support.factories import (
    CLINICAL_CHANNEL,
    LAWYER,
    LEAD,
    LEGAL_CHANNEL,
    NURSE,
    OUTSIDER,
    TRAINER1,
    TRAINER2,
    week_of_records,
)
from tests.support.harness import RunningBot

HOSTILE = settings(max_examples=30, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

NO_SUCH_GRADE = "Superb"
Tamper = Callable[[str, str], str]  # (the button's value, a sample id of another channel)
TAMPERINGS: dict[str, Tamper] = {
    "as sent": lambda v, _: v,
    "leading space": lambda v, _: f" {v}",
    "trailing newline": lambda v, _: f"{v}\n",
    "arabic-indic digits": lambda v, _: v.translate(ARABIC_INDIC),
    "plus sign": lambda v, _: f"+{v}",
    "underscore": lambda v, _: f"{v[0]}_{v[1:]}" if len(v) > 1 else f"0_{v}",
    "10**30": lambda v, _: str(10**30),
    "another channel's sample": lambda _, other: other,
    "no such sample": lambda _, __: "999999",
}


@pytest.fixture
def week(bot: RunningBot) -> dict[str, list[Message]]:
    """This week's audit posted: the sample replies per channel."""
    now = bot.ctx.clock.now()
    bot.ingest(week_of_records(now, count=3))
    bot.ingest(week_of_records(now, trainer=TRAINER2, task_type="legal", count=2))
    bot.run_audit()
    return {channel: bot.thread_replies(channel) for channel in (CLINICAL_CHANNEL, LEGAL_CHANNEL)}


def _grades(bot: RunningBot) -> int:
    with Session(bot.ctx.engine) as session:
        return session.exec(select(func.count()).select_from(Grade)).one()


def _answers(bot: RunningBot, user: str) -> int:
    """What the person has seen from auditbot: ephemerals, DMs, modals."""
    return len(bot.sandbox.ephemerals(user)) + len(bot.sandbox.dms(user)) + \
        len(bot.sandbox.views(user))


def _button_value(message: Message, text: str) -> str:
    _, element = payloads.find_button(message.blocks, text)
    return str(element["value"])


def _click_with_value(bot: RunningBot, user: str, message: Message, button: str,
                      value: str, channel: str) -> Any:
    """A signed click on ``message`` whose button carries ``value``; the message as Slack
    would send it back, but not stored in the sandbox (so the driver sends it as given)."""
    blocks = json.loads(json.dumps(message.blocks))
    if button == NO_SUCH_GRADE:  # a grade that does not exist, on a button like Pass
        _, element = payloads.find_button(blocks, "Pass")
        element.update(action_id=f"grade_{button.lower()}", text={"type": "plain_text",
                                                                   "text": button})
    _, element = payloads.find_button(blocks, button)
    element["value"] = value
    forged = {"ts": f"{message.ts}9", "thread_ts": message.thread_ts, "blocks": blocks,
              "text": message.text}
    return bot.driver.click(user, forged, button, channel=channel)


@given(user=st.sampled_from([NURSE, LAWYER, OUTSIDER, TRAINER1, "U0NOBODY"]),
       button=st.sampled_from(["Pass", "Minor issue", "Major error", NO_SUCH_GRADE]),
       tampering=st.sampled_from(sorted(TAMPERINGS)),
       channel=st.sampled_from([CLINICAL_CHANNEL, LEGAL_CHANNEL, "C0GENERAL"]))
@example(user=NURSE, button="Pass", tampering="arabic-indic digits", channel=CLINICAL_CHANNEL)
@example(user=NURSE, button="Pass", tampering="leading space", channel=CLINICAL_CHANNEL)
@example(user=NURSE, button="Pass", tampering="10**30", channel=CLINICAL_CHANNEL)
@example(user=LAWYER, button="Pass", tampering="as sent", channel=LEGAL_CHANNEL)
@HOSTILE
def test_a_forged_or_foreign_click_records_nothing_and_is_answered(
        bot: RunningBot, week: dict[str, list[Message]], caplog: pytest.LogCaptureFixture,
        user: str, button: str, tampering: str, channel: str) -> None:
    sample = week[CLINICAL_CHANNEL][0]
    value = _button_value(sample, "Pass")
    other = _button_value(week[LEGAL_CHANNEL][0], "Pass")
    forged = TAMPERINGS[tampering](value, other)
    bot.wait_listeners()
    caplog.clear()
    grades, answers = _grades(bot), _answers(bot, user)
    response = _click_with_value(bot, user, sample, button, forged, channel)
    bot.wait_listeners()
    # The clinical sample for its reviewer; the legal one (however it got there) for its own.
    valid = (user, tampering) in ((NURSE, "as sent"), (LAWYER, "another channel's sample"))
    if not valid:
        assert _grades(bot) == grades
    if button == NO_SUCH_GRADE:  # no such action: Slack is told, nobody else
        assert response.status == 404
        assert _answers(bot, user) == answers
    else:
        assert response.status == 200
        if user != "U0NOBODY" and not (valid and button == "Pass"):
            # a real person clicked: they read why, or see the modal (a valid Pass shows on
            # the sample itself)
            assert _answers(bot, user) > answers
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def _grade_form(bot: RunningBot, sample: Message) -> Any:
    bot.driver.click(NURSE, sample, "Minor issue", channel=CLINICAL_CHANNEL)
    return bot.driver.wait_for(lambda: bot.driver.open_modal(NURSE))


@pytest.mark.parametrize("metadata", [
    "{damaged", "[]", "null", '"text"',
    json.dumps({"sample_id": 10**30, "grade": "minor", "task_type": "clinical"}),
    json.dumps({"sample_id": "٣", "grade": "minor", "task_type": "clinical"}),
    json.dumps({"sample_id": " 1", "grade": "minor", "task_type": "clinical"}),
    json.dumps({"sample_id": 1, "grade": ["minor"], "task_type": "clinical"}),
    json.dumps({"sample_id": 1, "grade": "superb", "task_type": "clinical"}),
    json.dumps({"sample_id": 1, "grade": "minor", "task_type": "nonexistent"}),
])
def test_a_grade_form_with_damaged_metadata_gets_a_field_error_and_records_nothing(
        bot: RunningBot, week: dict[str, list[Message]], caplog: pytest.LogCaptureFixture,
        metadata: str) -> None:
    modal = _grade_form(bot, week[CLINICAL_CHANNEL][0])
    state = payloads.view_state(modal.view, {
        "category": "Other", "explanation": "Misses the dosage check the prompt asked for."})
    view = {**payloads.with_state(modal.view, state), "private_metadata": metadata}
    payload = bot.driver._common("view_submission", NURSE)
    payload.update(view=view, response_urls=[])
    response = bot.driver.send_payload(payload)
    bot.wait_listeners()
    assert response.status == 200 and not response.timed_out
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] and all(answer["errors"].values())  # words on a field
    assert _grades(bot) == 0
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


@pytest.fixture
def notice(bot: RunningBot) -> Message:
    """An open escalation of TRAINER1, its notice in the lead's DM."""
    audited_weeks(bot, [["major", "minor", "major", "pass", "major"], ["major"] * 5])
    run_escalation_check(bot.ctx, now=bot.ctx.clock.now())
    bot.deliver()
    return next(m for m in bot.sandbox.dms(LEAD) if "scalation" in m.text)


def _escalation_state(bot: RunningBot) -> list[tuple[Any, ...]]:
    with Session(bot.ctx.engine) as session:
        return [(e.id, e.status, e.acknowledged_by, e.acknowledged_at)
                for e in session.exec(select(Escalation)).all()]


@given(user=st.sampled_from([LEAD, NURSE, OUTSIDER, "U0NOBODY"]),
       button=st.sampled_from(["Acknowledge", "Resolve"]),
       tampering=st.sampled_from(sorted(set(TAMPERINGS) - {"another channel's sample"})))
@example(user=NURSE, button="Acknowledge", tampering="as sent")  # another person's escalation
@example(user=LEAD, button="Acknowledge", tampering="arabic-indic digits")
@HOSTILE
def test_a_forged_or_foreign_escalation_click_changes_nothing_and_is_answered(
        bot: RunningBot, notice: Message, caplog: pytest.LogCaptureFixture,
        user: str, button: str, tampering: str) -> None:
    value = _button_value(notice, button)
    bot.wait_listeners()
    caplog.clear()
    before, answers = _escalation_state(bot), _answers(bot, user)
    response = _click_with_value(bot, user, notice, button, TAMPERINGS[tampering](value, ""),
                                 notice.channel)
    bot.wait_listeners()
    assert response.status == 200
    if not (user == LEAD and tampering == "as sent"):
        assert _escalation_state(bot) == before
        if user != "U0NOBODY":
            assert _answers(bot, user) > answers
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
