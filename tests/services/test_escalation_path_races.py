"""Snooze, working hours and repeat under replicas: each move happens once.

As in test_escalation_races: ``stale`` loaded the escalation before another transaction
moved it and keeps what it read (expire_on_commit=False; a query does not overwrite loaded
attributes), so ``climb_overdue`` in it works from exactly what a second replica would have
read a moment before the first committed. Only the claims' WHERE, evaluated on the stored
row, can tell. The PostgreSQL variant runs the second replica in a thread, blocked on the
row lock of the first.
"""

import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.services.escalation import check_trainer, climb_overdue, snooze
from bot.store.db import session_scope
from bot.store.models import Escalation, EscalationEvent, EscalationNotice
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.services.test_escalation_races import SETTLE, in_thread, postgres_only
from tests.support.consistency_setup import audited, grade
from tests.support.factories import LEAD, MANAGER, NURSE, TRAINER1, workspace_data

REASON = "Tara is on leave this week; coaching on her return."


def _workspace(**escalation: object) -> Workspace:
    data = workspace_data()
    data["escalation"] = escalation
    return parse_workspace(data)


LEVELS = [{"notify": ["lead"], "ack_within": "4h"}, {"notify": [MANAGER], "ack_within": "4h"}]
PLAIN = _workspace(levels=LEVELS)
REPEATING = _workspace(levels=LEVELS, repeat=1)
# The clock's NOW is Monday 09:00 in New York; the manager's hours open at 13:00.
LATE_MANAGER = _workspace(levels=[LEVELS[0], {**LEVELS[1],
                                              "working_hours": "mon-fri 13:30-18:00"}])


def _open(session: Session, workspace: Workspace) -> Escalation:
    for sample in audited(session, workspace, count=5):
        grade(session, workspace, sample, NURSE, "major")
    outcome = check_trainer(session, workspace, trainer=TRAINER1, task_type="clinical",
                            now=NOW)
    escalation = session.get(Escalation, outcome.opened)
    session.commit()
    assert escalation is not None
    return escalation


def _events(engine: Engine, kind: str) -> int:
    with Session(engine) as s:
        return len(s.exec(select(EscalationEvent).where(EscalationEvent.kind == kind)).all())


def _notices(engine: Engine, target: str) -> list[EscalationNotice]:
    with Session(engine) as s:
        return list(s.exec(select(EscalationNotice).where(EscalationNotice.target == target)
                           .order_by(col(EscalationNotice.id))).all())


def test_a_climb_that_read_before_a_snooze_leaves_it_snoozed(engine: Engine,
                                                             session: Session):
    escalation = _open(session, PLAIN)  # read unsnoozed
    with session_scope(engine) as other:
        assert snooze(other, PLAIN, escalation_id=escalation.id or 0, user=LEAD,
                      until=NOW + timedelta(days=1), reason=REASON, now=NOW)
    assert climb_overdue(session, PLAIN, now=NOW + timedelta(hours=5)) == []
    session.commit()
    assert _notices(engine, MANAGER) == [] and _events(engine, "climbed") == 0


def test_two_replicas_end_a_snooze_once(engine: Engine, session: Session):
    escalation = _open(session, PLAIN)
    with session_scope(engine) as s:
        snooze(s, PLAIN, escalation_id=escalation.id or 0, user=LEAD,
               until=NOW + timedelta(hours=2), reason=REASON, now=NOW)
    session.refresh(escalation)  # this replica reads it snoozed
    session.commit()  # (keeps what it read; frees SQLite's write lock)
    with session_scope(engine) as other:
        assert climb_overdue(other, PLAIN, now=NOW + timedelta(hours=3)) == [escalation.id]
    assert climb_overdue(session, PLAIN, now=NOW + timedelta(hours=3)) == []
    session.commit()
    assert _events(engine, "unsnoozed") == 1


def test_two_replicas_page_a_level_waiting_for_its_hours_once(engine: Engine,
                                                              session: Session):
    escalation = _open(session, LATE_MANAGER)
    with session_scope(engine) as s:  # 13:01: the lead's 4h passed; the manager's hours not
        assert climb_overdue(s, LATE_MANAGER, now=NOW + timedelta(hours=4, minutes=1))
    session.refresh(escalation)
    session.commit()
    assert escalation.notify_at == NOW + timedelta(hours=4, minutes=30)
    at = NOW + timedelta(hours=4, minutes=35)
    with session_scope(engine) as other:
        assert climb_overdue(other, LATE_MANAGER, now=at) == [escalation.id]
    assert climb_overdue(session, LATE_MANAGER, now=at) == []
    session.commit()
    assert len(_notices(engine, MANAGER)) == 1 and _events(engine, "notified") == 2


def test_two_replicas_repeat_the_path_once(engine: Engine, session: Session):
    escalation = _open(session, REPEATING)
    with session_scope(engine) as s:
        climb_overdue(s, REPEATING, now=NOW + timedelta(hours=4, minutes=1))
    session.refresh(escalation)  # at level 2: read by this replica
    session.commit()
    at = NOW + timedelta(hours=8, minutes=2)
    with session_scope(engine) as other:
        assert climb_overdue(other, REPEATING, now=at) == [escalation.id]
    assert climb_overdue(session, REPEATING, now=at) == []
    session.commit()
    assert _events(engine, "repeated") == 1
    assert [n.cycle for n in _notices(engine, LEAD)] == [0, 1]


def test_a_repeat_blocked_on_a_snooze_does_not_page(engine: Engine, session: Session):
    """PostgreSQL: the snooze has updated the row but not committed; the climb reads the
    committed row and its claim waits on the row lock, then re-checks the WHERE."""
    postgres_only(engine)
    escalation_id = _open(session, REPEATING).id or 0
    with session_scope(engine) as s:
        climb_overdue(s, REPEATING, now=NOW + timedelta(hours=4, minutes=1))
    at = NOW + timedelta(hours=8, minutes=2)
    with Session(engine, expire_on_commit=False) as snoozing:
        assert snooze(snoozing, REPEATING, escalation_id=escalation_id, user=MANAGER,
                      until=at + timedelta(days=1), reason=REASON, now=at)
        moved: list[int] = []

        def climb() -> None:
            with session_scope(engine) as s:
                moved.extend(climb_overdue(s, REPEATING, now=at))

        join = in_thread(climb)
        time.sleep(SETTLE)
        snoozing.commit()
        join()
    assert moved == [] and _events(engine, "repeated") == 0
    assert len(_notices(engine, LEAD)) == 1
