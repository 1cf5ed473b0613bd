"""Another writer holding the store, for the busy-store tests (issue 10)."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from bot.store.db import make_engine


@contextmanager
def store_locked(engine: Engine, table: str = "grade") -> Iterator[None]:
    """Another writer holds the store: SQLite's write lock, or on PostgreSQL an exclusive
    lock on ``table`` (what an ingest or a long job would hold)."""
    if engine.url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with engine.connect() as other:
        other.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


def impatient(engine: Engine) -> Engine:
    """The same store waiting 100 ms for a lock (SQLite's busy timeout is 30 s in
    production; PostgreSQL has no lock timeout outside the grade path): a busy store
    answers at once."""
    quick = make_engine(engine.url.render_as_string(hide_password=False))
    if quick.url.get_backend_name() == "sqlite":
        event.listen(quick, "connect",
                     lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=100"))
    else:
        event.listen(quick, "connect", _pg_lock_timeout)
    return quick


def _pg_lock_timeout(dbapi: object, _record: object) -> None:
    with dbapi.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SET lock_timeout = 100")
    dbapi.commit()  # type: ignore[attr-defined]
