"""The week's numbers per trainer (the demo's table) count samples as the standing does."""

from sqlmodel import Session

from bot.common.clock import iso_week
from bot.services.disputes import settle
from bot.services.standings import week_standings
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1

WORKSPACE = double_review_workspace()
POLICY = WORKSPACE.task_type("clinical").policy


def test_week_numbers_leave_out_calibration_items_and_open_disputes(session: Session):
    agreed, disputed, minor, gold = audited(session, WORKSPACE, count=4,
                                            gold=[None, None, None, "major"])
    for sample, first, second in ((agreed, "pass", "pass"), (disputed, "pass", "major"),
                                  (minor, "minor", "minor"), (gold, "major", "major")):
        grade(session, WORKSPACE, sample, NURSE, first)
        grade(session, WORKSPACE, sample, DOCTOR, second)

    [(key, week)] = week_standings(session, WORKSPACE, iso_week=iso_week(NOW)).items()
    assert key == (TRAINER1, "clinical")
    assert (week.graded, dict(week.counts)) == (2, {"pass": 2, "minor": 2, "major": 0})
    assert week.score == (1.0 + POLICY.weight("minor")) / 2

    settle(session, WORKSPACE, sample_id=disputed.id or 0, manager=MANAGER, grade="major",
           note="The dose is wrong for CKD stage 3: a major error.", now=NOW)
    week = week_standings(session, WORKSPACE, iso_week=iso_week(NOW))[key]
    assert (week.graded, dict(week.counts)) == (3, {"pass": 2, "minor": 2, "major": 1})
    assert week.score == (1.0 + POLICY.weight("minor") + POLICY.weight("major")) / 3
