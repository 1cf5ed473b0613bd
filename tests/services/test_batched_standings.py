"""The batched standings (``scoring.standings``, over the trainer-week tallies) decide what
the per-trainer standing decides, field for field, so the two can never drift.

``scoring.standing`` (one trainer's samples) is a thin call of ``scoring.standings``; what a
batch shares between its trainers (each kind's score, each bound) must change nothing. On
a seeded store with several trainers and weeks of mixed grades (double reviews, whole-step
disagreements open and settled, calibration items, ungraded samples), the weekly plan's
read (``all_standings``) and the status rows' (``tally_standings``), from the tallies, equal
``trainer_standing``, which reads the grades themselves.
"""

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from bot.common.errors import AuditbotError
from bot.services.disputes import settle
from bot.services.scoring import GradedSample, Kinds, standing, standings
from bot.services.standings import all_standings, tally_standings, trainer_standing
from bot.workspace import Policy, Workspace
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import (
    DOCTOR,
    LAWYER,
    LEAD,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    TRAINER3,
)
from tests.support.policy_strategies import policies

# --- the rule alone: a batch decides each trainer as one trainer alone -----------------------

WEEKS = ("2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48")
GRADE = st.sampled_from(["pass", "minor", "major"])
SAMPLE = st.tuples(st.sampled_from([*WEEKS, "2026-W41"]),  # a week outside: ignored
                   st.one_of(st.tuples(GRADE), st.tuples(GRADE, GRADE), st.just(())))
TRAINERS = st.lists(st.lists(SAMPLE, max_size=30), min_size=1, max_size=6)
POLICIES = policies(watch_margin=True)
PREVIOUS = st.sampled_from([None, "ok", "watch", "escalate", "insufficient"])


def _counted(samples: list[GradedSample]) -> Kinds:
    return Counter((s.week, tuple(sorted(s.grades))) for s in samples)


@settings(max_examples=150, deadline=None)  # a first bound is a bisection: slow on a loaded machine
@given(TRAINERS, POLICIES, st.integers(1, 4), st.data())
def test_a_batch_decides_each_trainer_as_standing_decides_them_alone(trainers, policy, window,
                                                                     data):
    weeks, before = list(WEEKS[-window:]), list(WEEKS[:-window])
    samples = {i: [GradedSample(n, week, grades) for n, (week, grades) in enumerate(drawn)]
               for i, drawn in enumerate(trainers)}
    previous = {i: data.draw(PREVIOUS) for i in samples}
    batched = standings({i: _counted(s) for i, s in samples.items()}, policy, weeks=weeks,
                        before=before, previous=previous)
    assert batched == {i: standing(s, policy, weeks=weeks, before=before,
                                   previous=previous[i]) for i, s in samples.items()}


def test_reviewers_order_within_a_sample_changes_nothing():
    policy = Policy(grade_weights={"pass": 0.7, "minor": 0.3, "major": 0.1})
    one = [GradedSample(i, "2026-W48", ("pass", "minor", "major")) for i in range(7)]
    other = [GradedSample(i, "2026-W48", ("major", "pass", "minor")) for i in range(7)]
    assert standing(one, policy, weeks=["2026-W48"]) == standing(other, policy,
                                                                 weeks=["2026-W48"])


def test_an_unknown_grade_in_a_batch_is_a_value_error():
    with pytest.raises(ValueError, match="unknown grade 'superb'"):
        standings({"a": {("2026-W48", ("pass",)): 2}, "b": {("2026-W01", ("superb",)): 1}},
                  Policy(), weeks=["2026-W48"])


# --- the store: the tallies' batch equals the grades' per-trainer read ----------------------

TRAINER4, TRAINER5 = "U0TRAINER4", "U0TRAINER5"
CLINICAL = (TRAINER1, TRAINER3, TRAINER4, TRAINER5)
HISTORY = 8  # audited weeks, more than the decision span (2 * window_weeks - 1 = 7)
WHY = "The dose is wrong for a patient with stated CKD stage 3: a major error."


def _workspace() -> Workspace:
    trainers = [{"user": t, "task_types": ["clinical"], "lead": LEAD} for t in CLINICAL]
    trainers.append({"user": TRAINER2, "task_types": ["legal"], "lead": LEAD})
    return double_review_workspace(trainers=trainers, double_review_fraction=0.5,
                                   disagreement_deadline="30d")


def _varied_store(session: Session, workspace: Workspace, seed: int) -> None:
    """``HISTORY`` weeks up to NOW of each trainer's audits, graded at random: each trainer
    its own quality, some samples left ungraded (more in the newest weeks), double reviews
    that agree, differ by a step or disagree by a whole one (some of those settled), and a
    calibration item now and then."""
    rng = random.Random(seed)
    for trainer in (*CLINICAL, TRAINER2):
        task_type = "legal" if trainer == TRAINER2 else "clinical"
        reviewers = (LAWYER,) if trainer == TRAINER2 else (NURSE, DOCTOR)
        category = "Misstated law" if trainer == TRAINER2 else "Unsafe advice"
        quality = rng.choice([0.55, 0.8, 0.95])
        for back in range(HISTORY - 1, -1, -1):
            now = NOW - timedelta(weeks=back)
            gold = [rng.choice(["pass", "major"]) if rng.random() < 0.15 else None
                    for _ in range(5)]
            samples = audited(session, workspace, now=now, trainer=trainer,
                              task_type=task_type, count=5, gold=gold)
            later = now + timedelta(days=1)
            for sample in samples:
                if rng.random() < (0.5 if back == 0 else 0.1):
                    continue  # not graded (yet)
                for reviewer in reviewers[:2 if sample.needs_double_review else 1]:
                    value = ("pass" if rng.random() < quality
                             else rng.choice(["minor", "major"]))
                    grade(session, workspace, sample, reviewer, value, now=later,
                          category=category)
                if sample.needs_double_review and rng.random() < 0.5:
                    try:  # settles a whole-step disagreement; refused when there is none
                        settle(session, workspace, sample_id=sample.id or 0, manager=MANAGER,
                               grade=rng.choice(["pass", "minor", "major"]), note=WHY,
                               now=later)
                        session.commit()
                    except AuditbotError:
                        session.rollback()


def _per_trainer(session: Session, workspace: Workspace, pairs: list[tuple[str, str]],
                 now: datetime) -> dict:
    return {(trainer, key): trainer_standing(session, workspace, trainer=trainer,
                                             task_type=key, now=now)[0]
            for trainer, key in pairs}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_tallies_batch_equals_each_trainers_standing_on_a_varied_store(session: Session,
                                                                           seed: int):
    workspace = _workspace()
    _varied_store(session, workspace, seed)
    configured = [(t.user, key) for t in workspace.trainers for key in t.task_types]
    states = set()
    for now in (NOW, NOW + timedelta(weeks=1)):  # the newest week being graded; a new week
        expected = _per_trainer(session, workspace, [*configured, (TRAINER1, "legal")], now)
        assert all_standings(session, workspace, now=now) == {
            pair: expected[pair] for pair in configured}
        assert tally_standings(session, workspace, pairs=[*configured, (TRAINER1, "legal")],
                               now=now) == expected
        states |= {s.state for s in expected.values()}
    assert len(states) >= 2  # the store is varied enough to decide differently
