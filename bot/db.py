"""Engine, sessions and schema migrations.

Usage::

    engine = make_engine("sqlite:///auditbot.db")
    upgrade(engine)                      # what `auditbot db upgrade` does
    require_current_schema(engine)       # what serve, ingest and jobs do first
    with session_scope(engine) as session: ...
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the schema this code needs."""


def make_engine(url: str) -> Engine:
    """An engine with the settings auditbot relies on for each store."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite defers BEGIN and then upgrades read locks to write locks, which fails with
        # "database is locked" under concurrent writers; taking the write lock up front makes
        # them queue on busy_timeout instead (SQLAlchemy's documented pysqlite recipe).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; busy_timeout makes concurrent
    # writers (several processes on one machine) wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
