"""A double-review disagreement keeps its week not fully graded until a manager settles it,
or until ``[policy] disagreement_deadline`` passes: then the mean of both grades counts."""

from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from bot.services.disputes import lapse_overdue, list_disputes, settle
from bot.services.standings import tally_standings, trainer_standing
from bot.services.tallies import DISPUTED, recount, sample_kind
from bot.store.models.consistency import DisagreementLapse
from bot.store.models.tally import TrainerWeekTally
from tests.conftest import NOW
from tests.support.consistency_setup import audited, double_review_workspace, grade
from tests.support.factories import DOCTOR, MANAGER, NURSE, TRAINER1

WORKSPACE = double_review_workspace(disagreement_deadline="3d")
NOTE = "The dose is wrong for a patient with stated CKD stage 3: a major error."


def _standing(session: Session, now=NOW):  # type: ignore[no-untyped-def]
    current, _ = trainer_standing(session, WORKSPACE, trainer=TRAINER1, task_type="clinical",
                                  now=now)
    tallied = tally_standings(session, WORKSPACE, pairs=[(TRAINER1, "clinical")],
                              now=now)[(TRAINER1, "clinical")]
    assert (tallied.graded, tallied.score, tallied.settled) == (
        current.graded, current.score, current.settled)  # both reads, one answer
    return current


def _disagreeing_week(session: Session) -> int:
    samples = audited(session, WORKSPACE, count=2)
    grade(session, WORKSPACE, samples[0], NURSE, "pass")
    grade(session, WORKSPACE, samples[0], DOCTOR, "major")
    grade(session, WORKSPACE, samples[1], NURSE, "pass")
    grade(session, WORKSPACE, samples[1], DOCTOR, "pass")
    return samples[0].id or 0


def test_an_open_disagreement_keeps_the_week_pending_until_its_deadline(engine: Engine,
                                                                        session: Session):
    disputed = _disagreeing_week(session)
    current = _standing(session)
    assert (current.graded, current.score, current.settled) == (1, 1.0, False)

    assert lapse_overdue(session, WORKSPACE, now=NOW + timedelta(days=2)) == []
    later = NOW + timedelta(days=3)
    assert lapse_overdue(session, WORKSPACE, now=later) == [disputed]
    assert lapse_overdue(session, WORKSPACE, now=later) == []  # once
    session.commit()
    current = _standing(session, later)
    assert (current.graded, current.score, current.settled) == (2, 0.75, True)
    assert list_disputes(session, WORKSPACE, user=MANAGER, now=later) == []

    session.exec(delete(TrainerWeekTally))  # type: ignore[call-overload]
    session.commit()
    with engine.begin() as connection:
        recount(connection)
    assert _standing(session, later).score == 0.75  # the backfill counts it alike

    # A manager may still settle it: the settled grade wins.
    settle(session, WORKSPACE, sample_id=disputed, manager=MANAGER, grade="major", note=NOTE,
           now=later)
    session.commit()
    assert _standing(session, later).score == 0.5
    assert len(session.exec(select(DisagreementLapse)).all()) == 1


def test_a_settled_disagreement_never_lapses(session: Session):
    disputed = _disagreeing_week(session)
    settle(session, WORKSPACE, sample_id=disputed, manager=MANAGER, grade="pass", note=NOTE,
           now=NOW)
    session.commit()
    assert lapse_overdue(session, WORKSPACE, now=NOW + timedelta(days=30)) == []
    assert _standing(session).settled


def test_what_a_lapsed_disagreement_counts_as():
    assert sample_kind(["major", "pass"], double_review=True, calibration=False,
                       settled=None) == DISPUTED
    assert sample_kind(["pass", "major"], double_review=True, calibration=False,
                       settled=None, lapsed=True) == "major+pass"
    assert sample_kind(["pass", "major"], double_review=True, calibration=False,
                       settled="minor", lapsed=True) == "minor"
