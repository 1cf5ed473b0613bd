"""Calibration items on a real database: the reveal, each reviewer's record, the flag."""

from sqlmodel import Session

from bot.services.calibration import (
    calibration_by_reviewer,
    calibration_by_task_type,
    grader_feedback,
    verdict,
)
from bot.services.consistency import consistency_alerts
from bot.services.standings import trainer_standing
from tests.conftest import NOW
from tests.support.consistency_setup import (
    GOLD_NOTE,
    audited,
    double_review_workspace,
    grade,
    weeks_back,
)
from tests.support.factories import DOCTOR, NURSE, TRAINER1

SINGLE = double_review_workspace(double_review_fraction=0.0)
GOLD = ["major", "minor", "major", "pass", "pass"]
NURSE_GRADES = ["major", "pass", "minor", "pass", "major"]  # match, missed, caught, ok, alarm


def _nurse(session: Session, workspace=SINGLE):
    [record] = [c for c in calibration_by_reviewer(session, workspace,
                                                   task_type=workspace.task_type("clinical"),
                                                   now=NOW) if c.reviewer == NURSE]
    return record


def _graded_gold_week(session: Session, workspace=SINGLE, *, now=NOW):
    samples = audited(session, workspace, gold=GOLD, now=now)
    for sample, value in zip(samples, NURSE_GRADES, strict=True):
        grade(session, workspace, sample, NURSE, value, now=now)
    return samples


def test_catch_rate_false_alarms_and_severity_match_per_reviewer(session: Session):
    _graded_gold_week(session)
    nurse = _nurse(session)
    assert (nurse.errors, nurse.caught, nurse.severity_matched) == (3, 2, 1)
    assert (nurse.passes, nurse.false_alarms) == (2, 1)
    assert nurse.catch_rate == 2 / 3 and nurse.false_alarm_rate == 0.5
    assert nurse.severity_match_rate == 0.5
    assert calibration_by_task_type(session, SINGLE, now=NOW)["legal"] == []


def test_the_record_keeps_the_first_grade_not_one_changed_after_the_reveal(session: Session):
    samples = _graded_gold_week(session)
    grade(session, SINGLE, samples[1], NURSE, "minor")  # the missed one, after seeing gold
    assert grader_feedback(session, sample_id=samples[1].id,
                           reviewer=NURSE).calibration.verdict == "match"
    assert (_nurse(session).caught, _nurse(session).severity_matched) == (2, 1)


def test_a_reviewer_is_flagged_below_the_catch_rate_only_with_enough_items(session: Session):
    _graded_gold_week(session)
    assert not _nurse(session).flagged  # 3 gold errors, the default needs 10
    strict = double_review_workspace(double_review_fraction=0.0, calibration_min_items=3)
    assert _nurse(session, strict).flagged  # 2 of 3 caught < 0.7
    lenient = double_review_workspace(double_review_fraction=0.0, calibration_min_items=3,
                                      calibration_min_catch_rate=0.6)
    assert not _nurse(session, lenient).flagged
    [alert] = consistency_alerts(session, strict, now=NOW)
    assert alert.key == f"calibration:clinical:{NURSE}:2026-W48"
    assert alert.calibration.reviewer == NURSE


def test_calibration_outside_the_window_does_not_count(session: Session):
    _graded_gold_week(session, now=weeks_back(4))  # the window is the 4 weeks ending now
    assert calibration_by_reviewer(session, SINGLE, task_type=SINGLE.task_type("clinical"),
                                   now=NOW) == []


def test_calibration_grades_never_count_towards_the_trainers_score(session: Session):
    samples = audited(session, SINGLE, gold=["major", "major", "major", "major", None])
    for sample in samples:
        grade(session, SINGLE, sample, DOCTOR, "pass")
    current, records = trainer_standing(session, SINGLE, trainer=TRAINER1,
                                        task_type="clinical", now=NOW)
    assert current.graded == 1 and current.score == 1.0
    assert [r.sample_id for r in records] == [samples[4].id]


def test_the_reveal_tells_the_grader_how_they_did(session: Session):
    samples = _graded_gold_week(session)
    verdicts = [grader_feedback(session, sample_id=s.id, reviewer=NURSE).calibration.verdict
                for s in samples]
    assert verdicts == ["match", "missed", "caught", "match", "false alarm"]
    reveal = grader_feedback(session, sample_id=samples[0].id, reviewer=NURSE).calibration
    assert (reveal.gold_grade, reveal.gold_note, reveal.grade) == ("major", GOLD_NOTE, "major")
    assert grader_feedback(session, sample_id=samples[0].id, reviewer=DOCTOR) is None


def test_an_ordinary_sample_reveals_nothing(session: Session):
    sample = audited(session, SINGLE)[0]
    grade(session, SINGLE, sample, NURSE, "pass")
    feedback = grader_feedback(session, sample_id=sample.id, reviewer=NURSE)
    assert feedback.calibration is None and feedback.double_review is None


def test_a_double_review_tells_the_first_grader_it_waits_for_a_second(session: Session):
    workspace = double_review_workspace()
    sample = audited(session, workspace)[0]
    grade(session, workspace, sample, NURSE, "pass")
    assert grader_feedback(session, sample_id=sample.id, reviewer=NURSE).double_review == \
        "waiting"
    grade(session, workspace, sample, NURSE, "minor")
    assert grader_feedback(session, sample_id=sample.id, reviewer=NURSE).double_review == \
        "own change"
    grade(session, workspace, sample, DOCTOR, "minor")
    assert grader_feedback(session, sample_id=sample.id, reviewer=DOCTOR).double_review is None


def test_verdicts():
    assert verdict("major", "major") == "match"
    assert verdict("major", "minor") == "caught"
    assert verdict("minor", "pass") == "missed"
    assert verdict("pass", "minor") == "false alarm"
