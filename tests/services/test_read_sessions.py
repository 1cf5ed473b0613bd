"""Sessions that only read (``bot.store.db.read_scope``): on SQLite they take no write lock, so
a reader neither waits for the writer nor keeps a grade waiting; a write through one is a
bug and is refused with nothing kept."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import func, select

from bot.services.outbox import enqueue_message, owed_already
from bot.store.db import WriteInReadSession, read_scope, session_scope
from bot.store.models import OutboxItem
from tests.support.busy_store import impatient, store_locked

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _owe(engine: Engine, key: str) -> None:
    with session_scope(engine) as session:
        enqueue_message(session, to="U0MANAGER1", text="hello", dedupe_key=key, now=NOW)


def test_a_reader_reads_while_another_writer_holds_the_store(engine: Engine):
    _owe(engine, "first")
    quick = impatient(engine)  # a reader that waited for the lock would fail in 100 ms
    try:
        with store_locked(engine, table="grade"), read_scope(quick) as session:
            count = session.exec(select(func.count()).select_from(OutboxItem)).one()
            assert owed_already(session, ["first", "second"]) == {"first"}
    finally:
        quick.dispose()
    assert count == 1


def test_a_write_through_a_read_session_is_refused_and_keeps_nothing(engine: Engine):
    with pytest.raises(WriteInReadSession), read_scope(engine) as session:
        enqueue_message(session, to="U0MANAGER1", text="hello", dedupe_key="k", now=NOW)
        session.flush()
    with read_scope(engine) as session:
        assert owed_already(session, ["k"]) == set()
    _owe(engine, "k")  # the same write through a writing session is kept
    with read_scope(engine) as session:
        assert owed_already(session, ["k", "other"]) == {"k"}
