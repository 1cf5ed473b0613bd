"""Agreement per task type and its alerts, on a real database."""

import pytest
from sqlmodel import Session

from bot.services.agreement import ordinal_alpha
from bot.services.consistency import (
    agreement_by_task_type,
    alerts_after_grade,
    consistency_alerts,
)
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade, weeks_back
from tests.support.factories import DOCTOR, NURSE

WORKSPACE = double_review_workspace(agreement_min_samples=6)
# (nurse, doctor) per double-reviewed sample, over two weeks of the window.
PAIRS = [("pass", "pass"), ("pass", "minor"), ("major", "major"), ("minor", "minor"),
         ("pass", "major"), ("minor", "pass"), ("major", "minor"), ("pass", "pass"),
         ("pass", "pass"), ("major", "pass")]


def _double_reviewed(session: Session, workspace=WORKSPACE, pairs=PAIRS) -> list:
    samples = (audited(session, workspace, now=weeks_back(1))
               + audited(session, workspace))[:len(pairs)]
    for sample, (first, second) in zip(samples, pairs, strict=True):
        grade(session, workspace, sample, NURSE, first)
        grade(session, workspace, sample, DOCTOR, second)
    return samples


def _clinical(session: Session, workspace=WORKSPACE):
    return next(a for a in agreement_by_task_type(session, workspace, now=NOW)
                if a.task_type == "clinical")


def test_alpha_percent_and_count_over_the_windows_double_reviews(session: Session):
    _double_reviewed(session)
    clinical = _clinical(session)
    assert clinical.double_reviewed == 10
    assert clinical.alpha == pytest.approx(ordinal_alpha(PAIRS))
    assert clinical.percent == 0.5
    assert [(r.reviewer, r.shared, r.agreed) for r in clinical.reviewers] == [
        (DOCTOR, 10, 5), (NURSE, 10, 5)]
    assert clinical.weeks == ("2026-W45", "2026-W46", "2026-W47", "2026-W48")


def test_agreement_uses_the_blind_grades_not_later_copies(session: Session):
    samples = _double_reviewed(session)
    before = _clinical(session)
    grade(session, WORKSPACE, samples[4], NURSE, "major")  # copies the doctor once shown
    assert _clinical(session).alpha == before.alpha
    assert _clinical(session).percent == before.percent


def test_samples_not_marked_for_double_review_do_not_count(session: Session):
    single = double_review_workspace(double_review_fraction=0.0)
    sample = audited(session, single)[0]
    grade(session, single, sample, NURSE, "pass")
    grade(session, single, sample, DOCTOR, "major")
    clinical = _clinical(session, single)
    assert (clinical.double_reviewed, clinical.alpha, clinical.percent) == (0, None, None)


def test_the_alert_needs_enough_double_reviews_and_alpha_below_the_bar(session: Session):
    _double_reviewed(session)
    clinical = _clinical(session)
    assert clinical.alpha < 0.667 and clinical.alert
    [alert] = consistency_alerts(session, WORKSPACE, now=NOW)
    assert alert.key == "agreement:clinical:2026-W48" and alert.agreement == clinical
    assert not _clinical(session, double_review_workspace(agreement_min_samples=11)).alert
    assert not _clinical(session, double_review_workspace(agreement_min_samples=6,
                                                          agreement_alert_alpha=0.1)).alert


def test_after_a_grade_only_the_alerts_that_grade_can_change_are_worked_out(session: Session):
    """A double review's grade re-measures agreement; a single review's changes neither
    agreement nor calibration, so nothing is re-read for it. The scheduled check
    (``consistency_alerts`` over every task type) still finds the standing alert."""
    samples = _double_reviewed(session)
    single_review = double_review_workspace(double_review_fraction=0.0)
    [single, *_] = audited(session, single_review, now=weeks_back(2))
    assert not single.needs_double_review and samples[0].needs_double_review
    [alert] = alerts_after_grade(session, WORKSPACE, now=NOW, task_type="clinical",
                                 sample_id=samples[0].id or 0)
    assert alert.key == "agreement:clinical:2026-W48"
    grade(session, WORKSPACE, single, NURSE, "major")
    assert alerts_after_grade(session, WORKSPACE, now=NOW, task_type="clinical",
                              sample_id=single.id or 0) == []
    assert consistency_alerts(session, WORKSPACE, now=NOW) == [alert]


def test_reviewers_who_grade_alike_raise_no_alert(session: Session):
    _double_reviewed(session, pairs=[(g, g) for g, _ in PAIRS])
    clinical = _clinical(session)
    assert clinical.alpha == 1.0 and clinical.percent == 1.0 and not clinical.alert
