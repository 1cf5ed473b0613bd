"""`/audit status @trainer` for a trainer in their first 90 days: onboarding progress against
the `[onboarding]` markers; and what stays hidden (calibration items, blind double review)."""

import pytest
from sqlmodel import Session, select

from bot.services.grading import record_grade
from bot.services.home import recent_graded
from bot.store.models import Sample
from bot.workspace import parse_workspace
from tests.support.escalation_setup import WHY, audited_weeks
from tests.support.factories import DOCTOR, LEAD, NURSE, TRAINER1, TRAINER2, workspace_data
from tests.support.harness import RunningBot
from tests.support.status_support import ask, shown


def _onboarding_workspace(**onboarding):
    data = workspace_data()
    data["trainers"][0]["started"] = "2026-10-19"  # a Monday, five weeks before NOW
    if onboarding:
        data["onboarding"] = onboarding
    return parse_workspace(data)


@pytest.mark.parametrize("workspace", [_onboarding_workspace()])
def test_a_new_trainer_sees_weeks_in_against_the_default_markers(bot: RunningBot):
    audited_weeks(bot, [["pass"] * 5, ["pass", "minor", "pass", "pass", "pass"],
                        ["pass"] * 5])  # W46 (onboarding week 4), W47, W48
    text = shown(ask(bot, LEAD, f"status <@{TRAINER1}>"))
    assert "started 2026-10-19" in text
    assert "*Onboarding* week 6 of 13 (started 2026-10-19)" in text
    assert "✅ week 4 ≥ 0.75 1.00" in text
    assert "· week 8 ≥ 0.85 · · week 12 ≥ 0.85" in text  # the last: the task threshold
    assert "Onboarding" not in shown(ask(bot, LEAD, f"status <@{TRAINER2}>"))


@pytest.mark.parametrize("workspace", [_onboarding_workspace(
    days=60, markers=[{"week": 3, "min_score": 0.95}, {"week": 6, "min_score": "threshold"}])])
def test_the_markers_come_from_the_config(bot: RunningBot):
    audited_weeks(bot, [["pass", "major", "pass", "pass", "pass"], ["pass"] * 5])  # W47, W48
    text = shown(ask(bot, TRAINER1, "status <@U0TRAINER1>"))
    assert "week 6 of 9" in text
    assert "– week 3 ≥ 0.95 no grades" in text  # W45: nothing audited yet
    assert "⏳ week 6 ≥ 0.85 0.90" in text  # now: W44–W48 so far


@pytest.mark.parametrize("workspace", [parse_workspace(
    workspace_data(double_review_fraction=1.0))])
def test_a_double_review_waiting_for_its_second_grade_stays_blind(bot: RunningBot):
    audited_weeks(bot, [["major"] * 3])  # each sample graded once, all need two reviews
    assert "Worst recent samples" not in shown(ask(bot, LEAD, f"status <@{TRAINER1}>"))
    with Session(bot.ctx.engine) as session:
        assert recent_graded(session, bot.ctx.workspace, trainer=TRAINER1) == ()
        first = session.exec(select(Sample).order_by(Sample.id)).first()
        record_grade(session, bot.ctx.workspace, sample_id=first.id, reviewer=DOCTOR
                     if first.position % 2 == 0 else NURSE, grade="major",
                     category="Unsafe advice", explanation=WHY, now=bot.ctx.clock.now())
        session.commit()
        assert len(recent_graded(session, bot.ctx.workspace, trainer=TRAINER1)) == 1
    assert "Worst recent samples" in shown(ask(bot, LEAD, f"status <@{TRAINER1}>"))

