"""Trainer-week tallies equal a count from scratch, whatever reviewers and managers do.

The tallies are moved by ``record_grade`` and ``settle`` in their own transactions; what
they must say is what ``window_samples`` computes from the grades (blind double reviews,
open and settled disputes, calibration items and changed grades included).
"""

from collections import Counter

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, text
from sqlmodel import Session, SQLModel

from bot.common.clock import iso_week
from bot.common.errors import AuditbotError
from bot.services.disputes import settle
from bot.services.grade_levels import sync_grade_levels
from bot.services.grading import record_grade
from bot.services.standings import window_samples
from bot.services.tallies import DISPUTED, as_samples, sample_kind, window_tallies
from bot.store.db import downgrade, upgrade
from bot.store.models import Sample
from bot.store.models.tally import TrainerWeekTally
from bot.workspace import Workspace
from tests.conftest import NOW
from tests.support.consistency_setup import WHY, audited, double_review_workspace
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1

MIXED = double_review_workspace(double_review_fraction=0.5)
WEEK = iso_week(NOW.astimezone(MIXED.tz))
REVIEWERS = (NURSE, DOCTOR, MANAGER)
GRADES = ("pass", "minor", "major")
SAMPLES = 5
NOTE = "The dose is wrong for a patient with stated CKD stage 3."

Action = tuple[str, int, int, str]  # ("grade" | "settle", sample, reviewer, grade)
# Few samples and many pass/major grades, so disputes and settlements come up often.
actions = st.lists(st.tuples(st.sampled_from(["grade", "grade", "settle"]),
                             st.integers(0, 2), st.integers(0, len(REVIEWERS) - 1),
                             st.sampled_from(("pass", "major", "pass", "major", "minor"))),
                   max_size=20)


def _counted(session: Session, workspace: Workspace) -> Counter[tuple[str, tuple[str, ...]]]:
    samples, _ = window_samples(session, workspace, trainer=TRAINER1, task_type="clinical",
                                weeks=[WEEK])
    return Counter((s.week, tuple(sorted(s.grades))) for s in samples)


def _tallied(session: Session) -> Counter[tuple[str, tuple[str, ...]]]:
    tally = window_tallies(session, pairs=[(TRAINER1, "clinical")], weeks=[WEEK])
    samples = as_samples(tally.get((TRAINER1, "clinical"), {}))
    return Counter((s.week, tuple(sorted(s.grades))) for s in samples)


def _apply(session: Session, workspace: Workspace, samples: list[Sample],
           action: Action) -> None:
    what, index, who, value = action
    sample_id = samples[index].id or 0
    try:
        if what == "grade":
            record_grade(session, workspace, sample_id=sample_id, reviewer=REVIEWERS[who],
                         grade=value, category=None if value == "pass" else "Unsafe advice",
                         explanation=None if value == "pass" else WHY, now=NOW)
        else:
            settle(session, workspace, sample_id=sample_id, manager=MANAGER, grade=value,
                   note=NOTE, now=NOW)
        session.commit()
    except AuditbotError:  # a third reviewer, nothing disputed, already settled: refused
        session.rollback()


def _empty(session: Session) -> None:
    for table in reversed(SQLModel.metadata.sorted_tables):
        session.exec(delete(table))  # type: ignore[call-overload]
    sync_grade_levels(session, MIXED.scale)  # the scale's keys, as the bot writes at start
    session.commit()


def test_tallies_equal_a_count_from_scratch_after_any_grading(engine: Engine):
    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(actions)
    @example([("grade", 0, 0, "pass"), ("grade", 0, 1, "major"), ("grade", 0, 2, "pass"),
              ("settle", 0, 0, "minor"), ("grade", 0, 0, "major"), ("grade", 1, 1, "minor"),
              ("grade", 1, 1, "pass"), ("grade", 1, 0, "major"), ("grade", 1, 0, "minor")])
    def check(steps: list[Action]) -> None:
        with Session(engine, expire_on_commit=False) as session:
            _empty(session)
            samples = audited(session, MIXED, count=SAMPLES,
                              gold=[None, None, None, None, "major"])
            assert _tallied(session) == _counted(session, MIXED)
            for step in steps:
                _apply(session, MIXED, samples, step)
                assert _tallied(session) == _counted(session, MIXED), step

    check()


def test_a_calibration_item_or_an_open_dispute_counts_nowhere():
    """(An open dispute is tallied as ``DISPUTED``, which every score reads as not graded
    yet.)"""
    assert sample_kind(["pass"], double_review=False, calibration=True, settled=None) is None
    assert sample_kind(["pass", "major"], double_review=True, calibration=False,
                       settled=None) == DISPUTED
    assert sample_kind(["pass", "major"], double_review=True, calibration=False,
                       settled="minor") == "minor"
    assert sample_kind(["major"], double_review=True, calibration=False, settled=None) == ""
    assert sample_kind(["minor", "pass"], double_review=True, calibration=False,
                       settled=None) == "minor+pass"


def test_the_migration_counts_the_grades_already_stored(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        samples = audited(session, MIXED, count=SAMPLES)
        for sample, reviewers in zip(samples, [(NURSE,), (NURSE, DOCTOR), (), (DOCTOR,),
                                               (DOCTOR, NURSE)], strict=True):
            for reviewer in reviewers:
                record_grade(session, MIXED, sample_id=sample.id or 0, reviewer=reviewer,
                             grade="pass" if reviewer == NURSE else "minor", category=(
                                 None if reviewer == NURSE else "Unsafe advice"),
                             explanation=None if reviewer == NURSE else WHY, now=NOW)
        session.commit()
        expected = _tallied(session)
        assert expected == _counted(session, MIXED)
    downgrade(engine, "0009")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM grade")).scalar_one() == 6
    upgrade(engine)
    with Session(engine) as session:
        assert _tallied(session) == expected
        session.exec(delete(TrainerWeekTally))  # type: ignore[call-overload]
        assert _tallied(session) != expected  # the check above can fail
