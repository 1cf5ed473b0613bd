"""The whole loop on a workspace's own four-level scale (Pass / Minor / Major / Critical):
audit, grade with the Critical button, score, escalate, status and export, as people do it
in Slack (signed requests into the running bot, answers read in the sandbox)."""

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.common.clock import FixedClock
from bot.sandbox.records import Message
from bot.store.models import Escalation, Grade
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.support.escalation_setup import audited_weeks, check, escalation_dms, shown_text
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown

FOUR_LEVELS: list[dict[str, Any]] = [
    {"key": "pass", "label": "Pass", "marker": "✅", "style": "primary", "weight": 1.0},
    {"key": "minor", "label": "Minor issue", "marker": "🟡", "weight": 0.6},
    {"key": "major", "label": "Major error", "marker": "🔴", "weight": 0.2, "severe": True},
    {"key": "critical", "label": "Critical", "marker": "⛔", "style": "danger",
     "weight": 0.0, "severe": True},
]
WHY = "Tells a patient on warfarin to double the dose after a missed one."
# Two weeks graded before this one (through the grading service, as a click records them).
EARLIER = [["critical", "major", "pass", "minor", "pass"],
           ["major", "critical", "pass", "critical", "minor"]]


@pytest.fixture
def workspace() -> Workspace:
    # severe_majors off: the escalation comes from the score's confidence bound, so the
    # weights of the four levels are what decide it.
    return parse_workspace({**workspace_data(severe_majors=0), "grade_scale": FOUR_LEVELS})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW - timedelta(weeks=1))  # the earlier weeks end here; then a week on


def _sample_replies(bot: RunningBot) -> list[Message]:
    parent = bot.parents(CLINICAL_CHANNEL)[-1]
    assert f"<@{TRAINER1}>" in parent.text
    return [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]


def _grades(bot: RunningBot) -> dict[tuple[int, str], str]:
    with Session(bot.ctx.engine) as session:
        return {(g.sample_id, g.reviewer): g.grade for g in session.exec(select(Grade))}


def _grade_with_modal(bot: RunningBot, sample: Message, reviewer: str, button: str,
                      category: str) -> dict[str, Any]:
    before = len(_grades(bot))
    bot.driver.click(reviewer, sample, button, channel=CLINICAL_CHANNEL)
    modal = bot.driver.wait_for(lambda: bot.driver.open_modal(reviewer))
    response = bot.driver.submit_view(reviewer, modal, {"category": category,
                                                        "explanation": WHY})
    assert response.status == 200 and not response.json()  # recorded: the modal closes
    bot.driver.wait_for(lambda: len(_grades(bot)) > before or None)
    return modal.view


def test_the_whole_loop_runs_on_a_four_level_scale(bot: RunningBot, clock: FixedClock):
    audited_weeks(bot, EARLIER)
    clock.advance(timedelta(weeks=1))

    # Audit: the week's samples carry a button per level, in the scale's order and styles.
    bot.ingest(week_of_records(clock.now(), count=5))
    bot.run_audit()
    replies = _sample_replies(bot)
    assert len(replies) == 5
    [actions] = [b for b in replies[0].blocks if b["type"] == "actions"]
    grade_buttons = [(e["text"]["text"], e["action_id"], e.get("style"))
                     for e in actions["elements"] if e["action_id"].startswith("grade_")]
    assert grade_buttons == [("Pass", "grade_pass", "primary"),
                             ("Minor issue", "grade_minor", None),
                             ("Major error", "grade_major", None),
                             ("Critical", "grade_critical", "danger")]
    parent = bot.parents(CLINICAL_CHANNEL)[-1]
    assert "*Pass*, *Minor issue*, *Major error* or *Critical*" in shown(parent)

    # Grade: Critical opens the modal titled with its label; the submit records it.
    view = _grade_with_modal(bot, replies[0], NURSE, "Critical", "Unsafe advice")
    assert view["title"]["text"] == "Critical"
    assert "as *Critical*" in shown(view)
    critical_id = int(actions["block_id"].removeprefix("sample-"))
    def shows_critical() -> Message | None:
        message = bot.sandbox.message(CLINICAL_CHANNEL, replies[0].ts)
        return message if message and "⛔ Critical" in shown(message) else None
    updated = bot.driver.wait_for(shows_critical)
    assert f"<@{NURSE}>" in shown(updated) and "Unsafe advice" in shown(updated)
    _grade_with_modal(bot, replies[1], DOCTOR, "Major error", "Factual error")
    bot.driver.click(NURSE, replies[2], "Pass", channel=CLINICAL_CHANNEL)  # at once
    _grade_with_modal(bot, replies[3], DOCTOR, "Critical", "Unsafe advice")
    _grade_with_modal(bot, replies[4], NURSE, "Minor issue", "Other")
    bot.driver.wait_for(lambda: len(_grades(bot)) == 15 or None)
    stored = list(_grades(bot).values())
    assert stored.count("critical") == 5 and stored.count("pass") == 4
    assert _grades(bot)[(critical_id, NURSE)] == "critical"

    # Score and escalate: 15 graded samples, a mean of 0.43 on this scale's weights.
    check(bot)
    with Session(bot.ctx.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
    assert escalation.trainer == TRAINER1 and escalation.status == "open"
    [notice] = escalation_dms(bot, LEAD)
    notice_text = shown_text(notice)
    assert "⛔ Critical" in notice_text and WHY in notice_text  # the worst samples

    # Status: the trainer's row for their manager, and the trainer's worst samples.
    status = shown(ask(bot, MANAGER, "status"))
    assert "Clinical NLP" in status and f"<@{TRAINER1}>" in status
    trainer_status = shown(ask(bot, MANAGER, f"status <@{TRAINER1}>"))
    assert "⛔ Critical" in trainer_status

    # Export: the window's grades as CSV, with the new level's key as stored.
    assert "grades" in ask(bot, MANAGER, "export").text
    [export] = bot.sandbox.files(MANAGER)
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8"))))
    assert sorted(r["grade"] for r in rows).count("critical") == 5
    assert {r["grade"] for r in rows} == {"pass", "minor", "major", "critical"}


def test_the_store_takes_the_workspace_s_levels_and_refuses_others(bot: RunningBot,
                                                                 engine: Engine):
    audited_weeks(bot, [["critical"]])
    insert = text("INSERT INTO grade_event (sample_id, reviewer, grade, recorded_at) "
                  "SELECT id, 'U0NURSE01', :grade, :at FROM sample LIMIT 1")
    with engine.begin() as connection:  # the new level is a valid value in the store
        connection.execute(insert, {"grade": "critical", "at": NOW})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"grade": "catastrophic", "at": NOW})
