"""The team score in `/audit status`: every trainer weighs the same, and its interval counts
the differences between trainers (issue 13's honest displays)."""

import pytest
from scipy.stats import t
from sqlmodel import Session

from bot.services.scoring import between_trainers, t_cdf, t_quantile
from bot.services.standings import task_type_summary, window_weeks
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, NURSE, TRAINER1, TRAINER2, TRAINER3

WORKSPACE = double_review_workspace(
    double_review_fraction=0.0, samples_per_trainer=30,
    trainers=[{"user": TRAINER1, "task_types": ["clinical"]},
              {"user": TRAINER2, "task_types": ["clinical"]},
              {"user": TRAINER3, "task_types": ["clinical"]}])


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8, 13, 40, 250])
def test_students_t_matches_scipy(df: int):
    for x in (-4.0, -1.3, 0.0, 0.4, 2.2, 9.0):
        assert t_cdf(x, df) == pytest.approx(t.cdf(x, df), abs=1e-12)
    for p in (0.6, 0.8, 0.9, 0.95, 0.99):
        assert t_quantile(p, df) == pytest.approx(t.ppf(p, df), abs=1e-8)


def test_the_team_interval_is_students_t_on_the_trainers_scores():
    scores = [1.0, 0.5, 0.8]
    mean, lower, upper = between_trainers(3, sum(scores), sum(s * s for s in scores), 0.9)
    sd = (sum((s - mean) ** 2 for s in scores) / 2) ** 0.5
    half = t.ppf(0.9, 2) * sd / 3 ** 0.5
    assert mean == pytest.approx(2.3 / 3)
    assert (lower, upper) == (pytest.approx(mean - half), pytest.approx(min(1.0, mean + half)))
    with pytest.raises(ValueError):
        between_trainers(1, 0.5, 0.25, 0.9)


def _graded(session: Session, trainer: str, grades: list[str]) -> None:
    reviewer = NURSE
    for sample, value in zip(audited(session, WORKSPACE, trainer=trainer, count=len(grades)),
                             grades, strict=True):
        grade(session, WORKSPACE, sample, reviewer if trainer != NURSE else DOCTOR, value)


def test_each_trainer_weighs_the_same_however_many_samples_they_have(session: Session):
    _graded(session, TRAINER1, ["pass"] * 5)                     # 1.0 on 5 samples
    _graded(session, TRAINER2, ["pass"] * 15 + ["major"] * 15)   # 0.5 on 30 (tightened)
    _graded(session, TRAINER3, ["pass"] * 8 + ["minor"] * 2)     # 0.9 on 10
    clinical = WORKSPACE.task_type("clinical")
    summary = task_type_summary(session, task_type=clinical,
                                weeks=window_weeks(WORKSPACE, NOW, 4))
    assert summary.trainers == 3 and summary.graded == 45
    # Pooled, the tightened trainer's 30 samples would pull it to (5 + 15 + 9) / 45 = 0.64.
    assert summary.score == pytest.approx(2.4 / 3)
    expected = between_trainers(3, 2.4, 1.0 + 0.25 + 0.81, clinical.policy.escalation_confidence)
    assert (summary.lower, summary.upper) == (pytest.approx(expected[1]),
                                              pytest.approx(expected[2]))
    assert summary.weekly[-1] == pytest.approx(2.4 / 3)
    assert summary.upper - summary.lower > 0.4  # trainers this different: a wide interval


def test_one_trainer_is_their_own_score_and_interval(session: Session):
    _graded(session, TRAINER1, ["pass"] * 8 + ["major"] * 2)
    summary = task_type_summary(session, task_type=WORKSPACE.task_type("clinical"),
                                weeks=window_weeks(WORKSPACE, NOW, 4))
    assert summary.trainers == 1 and summary.score == pytest.approx(0.8)
    assert summary.lower is not None and summary.lower < 0.8 < (summary.upper or 0)


def test_status_says_the_trainers_count_once(session: Session):
    from bot.services.status import team_status
    from bot.slack.status_blocks import task_type_lines

    _graded(session, TRAINER1, ["pass"] * 5)
    _graded(session, TRAINER2, ["pass"] * 15 + ["major"] * 15)
    clinical = team_status(session, WORKSPACE, now=NOW, viewer=None).task_types[0]
    assert clinical.scored_trainers == 2 and clinical.score == pytest.approx(0.75)
    assert "Score *0.75*" in task_type_lines(clinical, now=NOW)[1]
    assert "2 trainers, each counted once" in task_type_lines(clinical, now=NOW)[1]
