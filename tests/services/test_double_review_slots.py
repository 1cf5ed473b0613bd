"""A double review has two slots, held in the store: two people grading the second review
at the same moment (two replicas, two sessions) give one second review and one refusal."""

import contextlib
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services.grading import ConflictOfInterest, record_grade
from bot.store.models import Grade, Sample
from tests.conftest import NOW
from tests.support.consistency_setup import WHY, audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, MANAGER, NURSE

DOUBLE = double_review_workspace()
REFUSAL = "already has its two reviews"
# How long a session that has graded waits for its rival to have graded too before it
# commits anyway: the rival is then blocked in the store, waiting for this commit.
RIVAL_WAIT = 2.0


def _slots(engine: Engine, sample: Sample) -> list[tuple[str, int | None]]:
    with Session(engine) as session:
        rows = session.exec(select(Grade.reviewer, Grade.slot)
                            .where(Grade.sample_id == sample.id).order_by(col(Grade.id)))
        return [(reviewer, slot) for reviewer, slot in rows.all()]


def _race(engine: Engine, graders: dict[str, Callable[[Session], object]]) -> dict[str, str]:
    """Run each grader in its own thread and session; each commits only once the others
    have graded too (or are blocked in the store). Returns "graded" or the refusal."""
    barrier = threading.Barrier(len(graders))
    outcomes: dict[str, str] = {}

    def run(name: str, act: Callable[[Session], object]) -> None:
        with Session(engine) as session:
            try:
                act(session)
            except ConflictOfInterest as refusal:
                outcomes[name] = refusal.user_message
                return
            # Both passed the "two reviews in" check; or the rival waits on this session's
            # row in the store (the barrier breaks): commit and let it go on.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=RIVAL_WAIT)
            session.commit()
            outcomes[name] = "graded"

    threads = [threading.Thread(target=run, args=item) for item in graders.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _second_review(sample: Sample, reviewer: str) -> Callable[[Session], object]:
    return lambda session: record_grade(
        session, DOUBLE, sample_id=sample.id or 0, reviewer=reviewer, grade="major",
        category="Unsafe advice", explanation=WHY, now=NOW)


def test_two_reviewers_racing_for_the_second_review_give_one_review_and_one_refusal(
        engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        [sample] = audited(session, DOUBLE, count=1)
        grade(session, DOUBLE, sample, NURSE, "pass")
    outcomes = _race(engine, {DOCTOR: _second_review(sample, DOCTOR),
                              MANAGER: _second_review(sample, MANAGER)})
    assert set(outcomes) == {DOCTOR, MANAGER}
    [winner] = [who for who, outcome in outcomes.items() if outcome == "graded"]
    [loser] = [who for who, outcome in outcomes.items() if outcome != "graded"]
    assert REFUSAL in outcomes[loser]
    assert _slots(engine, sample) == [(NURSE, 1), (winner, 2)]


def test_two_reviewers_racing_for_the_first_review_both_get_a_slot(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        [sample] = audited(session, DOUBLE, count=1)
    outcomes = _race(engine, {NURSE: _second_review(sample, NURSE),
                              DOCTOR: _second_review(sample, DOCTOR)})
    assert outcomes == {NURSE: "graded", DOCTOR: "graded"}
    assert sorted(slot for _, slot in _slots(engine, sample)) == [1, 2]


def test_the_first_reviewer_changes_their_grade_in_their_own_slot(session: Session):
    [sample] = audited(session, DOUBLE, count=1)
    grade(session, DOUBLE, sample, NURSE, "pass")
    grade(session, DOUBLE, sample, DOCTOR, "minor", category="Factual error")
    assert grade(session, DOUBLE, sample, NURSE, "major").changed
    assert grade(session, DOUBLE, sample, DOCTOR, "pass").changed
    rows = session.exec(select(Grade.reviewer, Grade.grade, Grade.slot)
                        .order_by(col(Grade.id))).all()
    assert [tuple(r) for r in rows] == [(NURSE, "major", 1), (DOCTOR, "pass", 2)]
    with pytest.raises(ConflictOfInterest, match=REFUSAL):
        grade(session, DOUBLE, sample, MANAGER, "pass")


def test_a_sample_without_double_review_takes_no_slot(session: Session):
    single = double_review_workspace(double_review_fraction=0.0)
    [sample] = audited(session, single, count=1)
    grade(session, single, sample, NURSE, "pass")
    assert session.exec(select(Grade.slot)).all() == [None]


def test_the_store_refuses_a_second_grade_in_a_taken_slot(session: Session):
    [sample] = audited(session, DOUBLE, count=1)
    grade(session, DOUBLE, sample, NURSE, "pass")
    taken = session.exec(select(Grade)).one()
    for slot in (taken.slot, 3):  # a held slot, or a third one
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(Grade(sample_id=sample.id or 0, reviewer=DOCTOR, grade="pass",
                              created_at=NOW, updated_at=NOW, slot=slot))
