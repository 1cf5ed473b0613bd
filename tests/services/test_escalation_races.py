"""Escalation checks and climbs racing grades and acknowledgements.

The interleavings are made with real sessions, committed in the order the race needs; the
PostgreSQL ones run a second transaction in a thread and wait for it to block on a row lock
(SQLite takes its write lock at BEGIN, so writers never interleave there).
"""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.services.escalation import acknowledge, check_trainer, climb_overdue
from bot.store.db import session_scope
from bot.store.models import Escalation, EscalationNotice, TrainerState
from tests.conftest import NOW
from tests.support.consistency_setup import audited, grade
from tests.support.factories import DOCTOR, LEAD, MANAGER, NURSE, TRAINER1, make_workspace

# Long enough for a thread to run its reads and block on a row lock; when it blocks
# sooner (the fixed code), the test only waits.
SETTLE = 0.5
WORKSPACE = make_workspace()  # one review per sample; levels: the lead (4h), then MANAGER
OVERDUE = NOW + timedelta(hours=5)


def in_thread(work: Callable[[], None]) -> Callable[[], None]:
    """Start ``work`` in a thread; return a join that re-raises what it raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the test thread, which re-raises it
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        thread.join(timeout=30)
        assert not thread.is_alive(), "the concurrent transaction never finished"
        if errors:
            raise errors[0]
    return join


def postgres_only(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the two transactions "
                    "cannot interleave there")


@pytest.mark.parametrize("checked_before", [True, False],
                         ids=["state-row-exists", "first-check"])
def test_a_check_waiting_for_another_computes_from_grades_committed_meanwhile(
        engine: Engine, session: Session, checked_before: bool):
    """T1 checks after grade G1 and holds its transaction open; T2 (the check after G2)
    starts; G2 commits; T1 commits. T2 must store the standing with both grades: it may
    only compute once T1 is done. When it computed before taking the state row's lock it
    saw G1 alone, and stored that over T1's (or, on the first check, lost its write)."""
    postgres_only(engine)
    first, second = audited(session, WORKSPACE, count=5)[:2]
    grade(session, WORKSPACE, first, NURSE, "pass")  # G1
    if checked_before:
        check_trainer(session, WORKSPACE, trainer=TRAINER1, task_type="clinical", now=NOW)
        session.commit()

    with Session(engine, expire_on_commit=False) as t1:
        check_trainer(t1, WORKSPACE, trainer=TRAINER1, task_type="clinical", now=NOW)

        def t2() -> None:
            with session_scope(engine) as s:
                check_trainer(s, WORKSPACE, trainer=TRAINER1, task_type="clinical", now=NOW)

        join = in_thread(t2)
        time.sleep(SETTLE)  # T2 reads the grades now if it does not wait for T1
        with Session(engine) as g2:  # recording a grade takes no trainer_state lock
            grade(g2, WORKSPACE, second, DOCTOR, "pass")  # G2, committed
        t1.commit()
        join()

    state = session.exec(select(TrainerState).where(TrainerState.trainer == TRAINER1)
                         .execution_options(populate_existing=True)).one()
    assert state.graded == 2


def _open_escalation(session: Session) -> Escalation:
    """TRAINER1 escalated at NOW (a severe week: five Majors), their lead notified."""
    for sample in audited(session, WORKSPACE, count=5):
        grade(session, WORKSPACE, sample, NURSE, "major")
    outcome = check_trainer(session, WORKSPACE, trainer=TRAINER1, task_type="clinical", now=NOW)
    escalation = session.get(Escalation, outcome.opened)
    session.commit()  # ends the transaction: on SQLite it holds the write lock
    assert escalation is not None and escalation.level == 0
    return escalation


def _manager_notified(engine: Engine, escalation_id: int) -> bool:
    with Session(engine) as s:
        return s.exec(select(EscalationNotice).where(
            EscalationNotice.escalation_id == escalation_id,
            EscalationNotice.target == MANAGER)).first() is not None


def test_the_climb_leaves_an_escalation_acknowledged_after_it_was_read(
        engine: Engine, session: Session):
    """The climb read the escalation unacknowledged; the lead's acknowledgement commits
    before the climb claims the next level. The claim must see it and leave it be.

    Deterministic on both stores and through the public call: ``session`` loaded the
    escalation before the acknowledgement and keeps what it read (expire_on_commit=False,
    and a query does not overwrite attributes already loaded in the identity map), so
    ``climb_overdue`` in it works from exactly what it would have read a moment before the
    acknowledgement committed. Only the claim's WHERE, evaluated on the stored row, can
    tell the escalation was acknowledged since."""
    escalation = _open_escalation(session)  # read, unacknowledged
    with session_scope(engine) as other:
        assert acknowledge(other, WORKSPACE, escalation_id=escalation.id or 0, user=LEAD,
                           now=NOW + timedelta(hours=1))
    assert escalation.acknowledged_at is None  # still what the climb read

    moved = climb_overdue(session, WORKSPACE, now=OVERDUE)
    session.commit()

    assert moved == []
    assert not _manager_notified(engine, escalation.id or 0)


def test_a_climb_blocked_on_an_acknowledgement_does_not_notify_the_next_level(
        engine: Engine, session: Session):
    """The same race as it happens on PostgreSQL: the acknowledgement has updated the row
    but not committed; the climb reads the committed (unacknowledged) row and its claim
    waits for the row lock. READ COMMITTED then re-checks the claim's WHERE on the
    acknowledged row, which only helps if the WHERE asks about the acknowledgement."""
    postgres_only(engine)
    escalation_id = _open_escalation(session).id or 0

    with Session(engine, expire_on_commit=False) as ack:
        assert acknowledge(ack, WORKSPACE, escalation_id=escalation_id, user=LEAD,
                           now=NOW + timedelta(hours=1))
        moved: list[int] = []

        def climb() -> None:
            with session_scope(engine) as s:
                moved.extend(climb_overdue(s, WORKSPACE, now=OVERDUE))

        join = in_thread(climb)
        time.sleep(SETTLE)  # the climb reads the row and blocks on its claim
        ack.commit()
        join()

    assert moved == []
    assert not _manager_notified(engine, escalation_id)
