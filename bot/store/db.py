"""Engine, sessions and schema migrations.

Usage::

    engine = make_engine("sqlite:///auditbot.db")
    upgrade(engine)                      # what `auditbot db upgrade` does
    require_current_schema(engine)       # what serve, ingest and jobs do first
    with session_scope(engine) as session: ...
    with read_scope(engine) as session: ...    # reads only: never waits for SQLite's writer
    with bounded_session(engine, deadline=time.monotonic() + 2) as session: ...
                                         # a request path: StoreBusy instead of waiting
"""

import functools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from bot.store.write_gate import WriteGate

MIGRATIONS = Path(__file__).parent / "migrations"


SQLITE_BUSY_TIMEOUT_MS = 30_000  # what every connection waits for SQLite's write lock
# SQLite's lock is not a queue: a waiting writer polls (every 100 ms at the slowest), and a
# writer that commits and begins again at once keeps winning. A bulk writer pauses this long
# between its transactions so that waiting ones get their turn.
SQLITE_WRITER_PAUSE = 0.15


class SchemaOutOfDate(RuntimeError):
    """The database is not at the schema this code needs."""


class StoreBusy(RuntimeError):
    """The store did not answer in time (a lock held elsewhere, a slow statement); nothing
    of the transaction was kept."""


def is_busy(error: BaseException) -> bool:
    """True for a store that is there but busy: SQLite's write lock held by another
    writer past the busy timeout, or a PostgreSQL statement or lock timeout."""
    if isinstance(error, StoreBusy):
        return True
    if not isinstance(error, OperationalError):
        return False
    orig = error.orig
    if isinstance(orig, sqlite3.OperationalError):
        return "locked" in str(orig) or "busy" in str(orig)
    # PostgreSQL: 57014 query_canceled (statement_timeout), 55P03 lock_not_available.
    return getattr(orig, "sqlstate", None) in {"57014", "55P03"}


def make_engine(url: str) -> Engine:
    """An engine with the settings auditbot relies on for each store."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        gate = WriteGate()
        event.listen(engine, "begin", lambda connection: _sqlite_begin(connection, gate))
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _postgres_settings)
    event.listen(engine, "before_cursor_execute", _before_statement)
    return engine


# A connection with this execution option is for reading only (``read_scope``).
READ_ONLY = "auditbot_read_only"
# ``connection.info`` keys: the deadline of a bounded session's transaction (it answers a
# person: ``bounded_session``), and the write gate a transaction holds until it ends.
_DEADLINE = "auditbot_deadline"
_GATE = "auditbot_gate"
_READ_STATEMENTS = ("SELECT", "WITH", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN",
                    "SHOW", "EXPLAIN")


def _sqlite_begin(connection: Connection, gate: WriteGate) -> None:
    # pysqlite defers BEGIN and then upgrades read locks to write locks, which fails with
    # "database is locked" under concurrent writers; taking the write lock up front makes
    # them queue on busy_timeout instead (SQLAlchemy's documented pysqlite recipe). A
    # transaction that only reads takes no write lock: in WAL mode it reads a snapshot while
    # the one writer commits, and never keeps that writer (a grade being stored) waiting.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    # The process's writers queue at the gate first (``bot.store.write_gate``): the lock is handed
    # on as soon as it is free, a click's transaction first. A writer that cannot get the
    # gate in time goes on to SQLite's own wait (a bounded one gives up: nothing kept).
    deadline = connection.info.get(_DEADLINE)
    wait = SQLITE_BUSY_TIMEOUT_MS / 1000 if deadline is None else deadline - time.monotonic()
    if gate.acquire(urgent=deadline is not None, timeout=max(0.0, wait)):
        connection.info[_GATE] = gate
    elif deadline is not None:
        raise StoreBusy("another writer held the store past the deadline")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _sqlite_end(connection)
        raise


def _sqlite_end(connection: Connection) -> None:
    held = connection.info.pop(_GATE, None)
    if held is not None:
        held.release()


class WriteInReadSession(RuntimeError):
    """A statement that writes, sent through ``read_scope`` (a bug: use ``session_scope``)."""


def _before_statement(connection: Connection, _cursor: object, statement: str,
                      *_args: object) -> None:
    # A bounded session's statement starts before its deadline (``bounded_session``). On
    # the engine, not added to each bounded connection and taken off again: adding and
    # removing a SQLAlchemy listener per transaction cost a click more than this check.
    deadline = connection.info.get(_DEADLINE)
    if deadline is not None and time.monotonic() > deadline:
        raise StoreBusy("the store answered too late to keep the change")
    if connection.get_execution_options().get(READ_ONLY) and \
            not statement.lstrip().upper().startswith(_READ_STATEMENTS):
        # On SQLite it would try to turn the snapshot into the write lock, which fails under
        # concurrent writers instead of waiting its turn.
        raise WriteInReadSession(f"a write in a read-only session: {statement[:80]}")


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; busy_timeout makes concurrent
    # writers (several processes on one machine) wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_settings(dbapi_connection: object, _record: object) -> None:
    # No JIT: auditbot's reads are index lookups over a window whose cost PostgreSQL
    # overestimates (a subquery per sample), and compiling them took longer than running
    # them (status at a million grades: 0.7 s of JIT for a 0.3 s query).
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.commit()  # type: ignore[attr-defined]


def insert_new(session: Session, model: Any, values: dict[str, Any]) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING`` of one row of ``model``'s table: True if it went
    in, False if a unique key held it already (a duplicate is an answer, not an error). One
    statement, where a savepoint around an ORM insert takes three and a flush; a click's
    transaction holds SQLite's write lock for all of them."""
    return insert_new_key(session, model, values) is not None


def insert_new_key(session: Session, model: Any, values: dict[str, Any]) -> Any | None:
    """``insert_new`` that answers with the new row's primary key (``None``: a unique key
    held the row already)."""
    statement = _insert_new_statement(model.__table__, session.get_bind().dialect.name)
    # Core on the connection: the ORM's execution path costs more than the insert.
    row = session.connection().execute(statement, values).first()
    return None if row is None else row[0]


@functools.cache
def _insert_new_statement(table: Any, dialect: str) -> Any:
    # Built once per table: building a statement costs more than running it on SQLite.
    # RETURNING says whether the row went in on both stores (psycopg's rowcount is -1 for
    # an INSERT that returns rows).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


# A bulk writer's SQLite page cache (negative: KiB): the outputs' indexes take new rows all
# over (by trainer, by task type and time), so with the default 2 MB each transaction of a
# big ingest re-read most of their pages.
SQLITE_BULK_CACHE_KIB = 256 * 1024


def for_bulk_writes(engine: Engine) -> Engine:
    """``engine`` (from ``make_engine``) set up for one process writing a lot (ingest): on
    SQLite a page cache that holds the indexes it writes to, and commits that leave the WAL
    to ``let_others_write`` and ``end_bulk_writes``; nothing else changes."""
    if engine.url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _bulk_cache)
    return engine


def _bulk_cache(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    # Each transaction of a big ingest outgrows the WAL's 1,000-page mark, so each commit
    # would copy it into the database and sync it before returning (a tenth of a second,
    # the bulk writer waiting): ``let_others_write`` checkpoints instead, in the pause it
    # makes between transactions anyway, and ``end_bulk_writes`` after the last one.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def let_others_write(engine: Engine, *, since: float | None = None) -> None:
    """Between the transactions of a bulk write (ingest): give waiting writers their turn.
    ``since`` (``time.monotonic()`` at the last commit): the time spent since, out of any
    transaction (reading the next batch), counts towards the pause. On SQLite the pause
    begins with a checkpoint of the WAL (a passive one: other writers may commit meanwhile).
    PostgreSQL has row locks and no such single writer, so nothing to do there."""
    if engine.url.get_backend_name() == "sqlite":
        _checkpoint(engine)
        spent = 0.0 if since is None else time.monotonic() - since
        if spent < SQLITE_WRITER_PAUSE:
            time.sleep(SQLITE_WRITER_PAUSE - spent)


def end_bulk_writes(engine: Engine) -> None:
    """After the last transaction of a bulk write: on SQLite, the WAL checkpointed, so the
    next writer (a grade) does not find it to do."""
    if engine.url.get_backend_name() == "sqlite":
        _checkpoint(engine)


def _checkpoint(engine: Engine) -> None:
    # On the driver's connection, outside any transaction (SQLAlchemy would begin one, and
    # a checkpoint cannot run inside it); PASSIVE takes no lock a writer waits on.
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        raw.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session that only reads, and ends without committing anything. On SQLite it takes
    no write lock (``BEGIN DEFERRED``): its reads see one snapshot of the store and neither
    wait for nor hold up the writer. A statement that writes raises ``WriteInReadSession``."""
    # Closing it ends the transaction (a rollback on the connection) and, unlike
    # ``session.rollback()``, keeps what was read loaded for the caller.
    with Session(engine.execution_options(**{READ_ONLY: True}),
                 expire_on_commit=False) as session:
        yield session


@contextmanager
def bounded_session(engine: Engine, *, deadline: float) -> Iterator[Session]:
    """A session that commits by ``deadline`` (``time.monotonic()``) or keeps nothing and
    raises ``StoreBusy``: for a request that has to answer in time (a grade click is acked
    once its grade is stored, and Slack waits 3 seconds).

    The limits are per transaction, not on the engine, because the same store serves jobs,
    migrations and ingest, whose statements may rightly take longer: on PostgreSQL
    ``statement_timeout`` and ``lock_timeout`` are set LOCAL to this transaction; on SQLite
    the wait for the write lock (taken by BEGIN IMMEDIATE) is the connection's
    ``busy_timeout``, set before BEGIN and put back before the connection returns to the
    pool. A statement or commit still running past the deadline is cut short by the same
    limits; one that ends past it is rolled back rather than committed late.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise StoreBusy("no time left to reach the store")
    millis = max(1, int(remaining * 1000))
    sqlite = engine.url.get_backend_name() == "sqlite"

    def sqlite_past_deadline() -> int:  # SQLite's statement timeout: non-zero interrupts
        return int(time.monotonic() > deadline)

    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            # Each statement starts before the deadline (``_before_statement``); on SQLite
            # it also makes the transaction's writer urgent (``_sqlite_begin``).
            connection.info[_DEADLINE] = deadline
            if sqlite:
                driver.execute(f"PRAGMA busy_timeout={millis}")  # type: ignore[union-attr]
                driver.set_progress_handler(  # type: ignore[union-attr]
                    sqlite_past_deadline, 10_000)
            try:
                with Session(bind=connection, expire_on_commit=False) as session:
                    if not sqlite:
                        session.execute(text(
                            "SELECT set_config('statement_timeout', :ms, true), "
                            "set_config('lock_timeout', :ms, true)"), {"ms": str(millis)})
                    yield session
                    if time.monotonic() > deadline:
                        raise StoreBusy("the store answered too late to keep the change")
                    session.commit()
            finally:
                connection.info.pop(_DEADLINE, None)
                if sqlite:
                    driver.set_progress_handler(None, 0)  # type: ignore[union-attr]
                    driver.execute(  # type: ignore[union-attr]
                        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    except (OperationalError, PoolTimeout) as error:
        raise StoreBusy(str(getattr(error, "orig", error))) from error


def _alembic_config(engine: Engine) -> Config:
    config = _alembic_config_without_engine()
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    command.upgrade(_alembic_config(engine), "heads")


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (for testing a migration on old rows)."""
    command.downgrade(_alembic_config(engine), revision)


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(_alembic_config_without_engine()).get_heads())


def _alembic_config_without_engine() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def require_current_schema(engine: Engine) -> None:
    """Refuse to run on a database that `auditbot db upgrade` has not brought up to date."""
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not Path(database).exists():
        # Checking would create an empty file; say what to do instead.
        raise SchemaOutOfDate(
            f"there is no database at {database}: run `auditbot db upgrade` first")
    current, heads = current_revisions(engine), head_revisions()
    if current != heads:
        found = ", ".join(sorted(current)) or "no schema"
        raise SchemaOutOfDate(
            f"the database schema is out of date ({found}; this version needs "
            f"{', '.join(sorted(heads))}): run `auditbot db upgrade` first"
        )
