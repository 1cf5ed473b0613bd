"""Outliers from the store: the window's tallies per task type, the flags the scheduled check
stores, and who status names to whom."""

import pytest
from sqlmodel import Session

from bot.services.outliers import below_rest, spreads, store_outliers
from bot.services.status import team_status
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, LEAD, MANAGER, NURSE, TRAINER1, TRAINER3

WORKSPACE = double_review_workspace(
    double_review_fraction=0.0, samples_per_trainer=10,
    trainers=[{"user": TRAINER1, "task_types": ["clinical"], "lead": LEAD},
              {"user": TRAINER3, "task_types": ["clinical"]},
              {"user": NURSE, "task_types": ["clinical"]}])


def _graded(session: Session, passes: dict[str, int], *, miss: str = "major") -> None:
    for trainer, passed in passes.items():
        reviewer = DOCTOR if trainer == NURSE else NURSE
        for i, sample in enumerate(audited(session, WORKSPACE, trainer=trainer, count=10)):
            grade(session, WORKSPACE, sample, reviewer, "pass" if i < passed else miss)


def test_a_trainer_significantly_below_the_rest_is_flagged(session: Session):
    _graded(session, {TRAINER1: 2, TRAINER3: 10, NURSE: 9})
    [clinical, legal] = spreads(session, WORKSPACE, now=NOW)
    by_trainer = {t.trainer: t for t in clinical.trainers}
    assert [t.trainer for t in clinical.outliers] == [TRAINER1]
    assert by_trainer[TRAINER1].pass_rate == 0.2 and by_trainer[TRAINER1].p_value < 0.001
    assert by_trainer[NURSE].p_value > 0.05 and not by_trainer[NURSE].outlier
    assert (clinical.score_min, clinical.score_max) == (0.2, 1.0)
    assert clinical.score_stdev == pytest.approx(0.4358898944)
    assert legal.trainers == () and legal.score_min is None


def test_the_weighted_score_counts_not_only_the_pass_rate(session: Session):
    # Eight Minor issues against two: the same pass rate test would see 2/10 against
    # 19/20; the weighted score (0.6) is what is compared.
    _graded(session, {TRAINER1: 2, TRAINER3: 10, NURSE: 9}, miss="minor")
    [clinical, _] = spreads(session, WORKSPACE, now=NOW)
    low = next(t for t in clinical.trainers if t.trainer == TRAINER1)
    assert low.score == pytest.approx(0.6) and low.outlier


def test_a_lone_trainer_has_nobody_to_be_compared_with(session: Session):
    for sample in audited(session, WORKSPACE, count=3):
        grade(session, WORKSPACE, sample, NURSE, "major")
    [clinical, _] = spreads(session, WORKSPACE, now=NOW)
    by_trainer = {t.trainer: t for t in clinical.trainers}
    assert by_trainer[TRAINER1].p_value is None and clinical.outliers == ()
    assert by_trainer[TRAINER3].graded == 0 and by_trainer[TRAINER3].score is None


def test_the_check_stores_flags_and_status_names_them_only_to_who_may_see(session: Session):
    _graded(session, {TRAINER1: 2, TRAINER3: 10, NURSE: 9})
    assert store_outliers(session, WORKSPACE, now=NOW) == 1
    session.commit()
    assert below_rest(session, task_types=["clinical", "legal"]) == {"clinical": (TRAINER1,)}

    def seen_by(viewer: str) -> tuple[tuple[str, ...], int]:
        clinical = team_status(session, WORKSPACE, now=NOW, viewer=viewer).task_types[0]
        return clinical.below_rest, clinical.below_rest_others
    assert seen_by(MANAGER) == ((TRAINER1,), 0)
    assert seen_by(LEAD) == ((TRAINER1,), 0)
    assert seen_by(TRAINER1) == ((TRAINER1,), 0)  # their own name
    assert seen_by(TRAINER3) == ((), 1)  # a peer: a count, never a name

    # Recovered (every later sample passes, the old ones leave the window): the flag goes.
    later = NOW.replace(year=NOW.year + 1)
    assert store_outliers(session, WORKSPACE, now=later) == 0
    session.commit()
    assert below_rest(session, task_types=["clinical"]) == {}
