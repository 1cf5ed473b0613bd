"""A grade's transaction kept small: what it says its follow-up needs, duplicates answered by
the store in one statement, and on SQLite the process's writers queued at the write gate
(a click's transaction first, or refused in time with nothing kept)."""

import threading
import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.services.audit import plan_weekly_audit
from bot.services.grading import record_grade
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.services.outbox import enqueue_message
from bot.store.db import StoreBusy, bounded_session, insert_new, read_scope, session_scope
from bot.store.models import Grade, OutboxItem, Sample
from tests.conftest import NOW
from tests.support.factories import MANAGER, NURSE, make_workspace, week_of_records

WORKSPACE = make_workspace()


@pytest.fixture
def samples(session: Session) -> list[Sample]:
    trainers, task_types = roster_from_workspace(WORKSPACE)
    ingest(session, records_from_json_array(week_of_records(NOW, count=5)),
           known_trainers=trainers, known_task_types=task_types, now=NOW)
    plan_weekly_audit(session, WORKSPACE, now=NOW)
    session.commit()
    return list(session.exec(select(Sample).order_by(Sample.id)).all())


def _pass(session: Session, sample: Sample, reviewer: str):
    return record_grade(session, WORKSPACE, sample_id=sample.id or 0, reviewer=reviewer,
                        grade="pass", category=None, explanation=None, now=NOW)


def test_a_plain_sample_graded_by_one_reviewer_owes_no_notes_a_double_review_does(
        session, samples):
    plain = next(s for s in samples if not s.needs_double_review)
    outcome = _pass(session, plain, NURSE)
    assert outcome.changed and not outcome.may_owe_notes
    assert outcome.thread_id == plain.thread_id
    second = _pass(session, plain, MANAGER)  # two graders: a dispute becomes possible
    assert second.may_owe_notes
    double = [s for s in samples if s.needs_double_review]
    if double:
        assert _pass(session, double[0], NURSE).may_owe_notes


def test_a_duplicate_is_answered_by_the_store_and_the_transaction_goes_on(session):
    assert enqueue_message(session, to="U0MANAGER1", text="a", dedupe_key="k", now=NOW)
    assert not enqueue_message(session, to="U0MANAGER1", text="b", dedupe_key="k", now=NOW)
    assert enqueue_message(session, to="U0MANAGER1", text="c", dedupe_key="k2", now=NOW)
    session.commit()
    texts = session.exec(select(OutboxItem.payload_json).order_by(OutboxItem.id)).all()
    assert len(texts) == 2 and '"a"' in (texts[0] or "")


def test_insert_new_says_whether_the_row_went_in(session, samples):
    row = dict(sample_id=samples[0].id, reviewer=NURSE, grade="pass", category=None,
               explanation=None, created_at=NOW, updated_at=NOW, slot=None)
    assert insert_new(session, Grade, row)
    assert not insert_new(session, Grade, {**row, "grade": "minor"})
    session.commit()
    assert session.exec(select(Grade.grade)).all() == ["pass"]


def _sqlite_only(engine: Engine) -> None:
    if engine.url.get_backend_name() != "sqlite":
        pytest.skip("the write gate queues SQLite's writers; PostgreSQL has row locks")


def _owe(engine: Engine, key: str, *, hold: threading.Event | None = None,
         holding: threading.Event | None = None) -> None:
    with session_scope(engine) as session:
        enqueue_message(session, to="U0MANAGER1", text=key, dedupe_key=key, now=NOW)
        if holding is not None and hold is not None:
            holding.set()
            hold.wait(10)


def test_a_clicks_transaction_goes_before_background_writers_that_waited_longer(engine):
    _sqlite_only(engine)
    release, holding = threading.Event(), threading.Event()
    holder = threading.Thread(target=_owe, args=(engine, "holder"),
                              kwargs={"hold": release, "holding": holding})
    holder.start()
    assert holding.wait(10)
    background = threading.Thread(target=_owe, args=(engine, "background"))
    background.start()
    time.sleep(0.2)  # the background writer is waiting at the gate

    def click() -> None:
        with bounded_session(engine, deadline=time.monotonic() + 5) as session:
            enqueue_message(session, to="U0MANAGER1", text="click", dedupe_key="click",
                            now=NOW)

    clicker = threading.Thread(target=click)
    clicker.start()
    time.sleep(0.2)
    release.set()
    for thread in (holder, background, clicker):
        thread.join(10)
    with read_scope(engine) as session:
        order = session.exec(select(OutboxItem.dedupe_key).order_by(OutboxItem.id)).all()
    assert order == ["holder", "click", "background"]


def test_a_click_that_cannot_get_the_store_in_time_keeps_nothing(engine):
    _sqlite_only(engine)
    release, holding = threading.Event(), threading.Event()
    holder = threading.Thread(target=_owe, args=(engine, "holder"),
                              kwargs={"hold": release, "holding": holding})
    holder.start()
    assert holding.wait(10)
    started = time.monotonic()
    with pytest.raises(StoreBusy), \
            bounded_session(engine, deadline=time.monotonic() + 0.3) as session:
        enqueue_message(session, to="U0MANAGER1", text="click", dedupe_key="click", now=NOW)
    assert time.monotonic() - started < 2  # refused near its deadline, not at the lock's 30 s
    release.set()
    holder.join(10)
    with read_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxItem)).one() == 1


def test_a_statement_past_the_deadline_keeps_nothing_and_the_limit_ends_with_the_session(
        engine):
    with pytest.raises(StoreBusy), \
            bounded_session(engine, deadline=time.monotonic() + 0.2) as session:
        enqueue_message(session, to="U0MANAGER1", text="early", dedupe_key="early", now=NOW)
        session.flush()
        time.sleep(0.3)
        session.exec(select(func.count()).select_from(OutboxItem)).one()
    # The deadline belonged to that session only: the pooled connection it used serves the
    # next sessions, bounded or not, with no limit left over.
    with session_scope(engine) as session:
        enqueue_message(session, to="U0MANAGER1", text="later", dedupe_key="later", now=NOW)
    with bounded_session(engine, deadline=time.monotonic() + 5) as session:
        enqueue_message(session, to="U0MANAGER1", text="click", dedupe_key="click", now=NOW)
    with read_scope(engine) as session:
        kept = session.exec(select(OutboxItem.dedupe_key).order_by(OutboxItem.id)).all()
    assert kept == ["later", "click"]
