"""Fixture chain: workspace → engine → sandbox → running bot (HTTP) → driver.

Every test gets its own database (a SQLite file in tmp_path; PostgreSQL when
AUDITBOT_TEST_POSTGRES_URL is set, see tests/postgres) and its own sandbox.
"""

import logging
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.common.clock import FixedClock
from bot.common.grades import DEFAULT_SCALE, use_scale
from bot.common.logs import HANDLER_NAME
from bot.store.db import make_engine, upgrade
from bot.workspace import Workspace
from tests.postgres.schemas import POSTGRES_ENV, postgres_schema
from tests.support.factories import make_workspace
from tests.support.harness import RunningBot, start_bot

POSTGRES_URL = os.environ.get(POSTGRES_ENV)

REJECTED_PAYLOAD_ERRORS = {"invalid_blocks", "invalid_arguments", "msg_too_long",
                           "invalid_attachments", "no_text"}

# Monday 2026-11-23 14:00 UTC, 09:00 in New York: ISO week 2026-W48.
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


# Tests that start processes of their own (`auditbot` subprocesses, replicas, a big ingest
# beside live clicks) load the machine enough to push a neighbour's click past its 2-second
# store deadline: `make test` runs them after the rest, one at a time (`-m processes`).
PROCESSES = ("tests/cli/", "tests/postgres/", "tests/web/test_serve_shutdown.py",
             "tests/web/test_serve_socket_mode.py", "tests/schedules/test_concurrent_runs.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(PROCESSES):
            item.add_marker(pytest.mark.processes)


@pytest.fixture(autouse=True)
def _no_cli_log_handler_left() -> Iterator[None]:
    """`main([...])` run in-process points the root logger at this test's captured stderr,
    which pytest closes afterwards: later tests' threads would log into a closed file and
    print a traceback per line. On Python 3.11 those tracebacks parse source with `ast`,
    and `ast` in two threads at once (Flask compiling its routes in the next test) fails
    with "SystemError: AST constructor recursion depth mismatch"; CI hit it once."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)


@pytest.fixture(autouse=True)
def _default_scale_in_force() -> Iterator[None]:
    """A bot started on a workspace with its own grade scale puts that scale in force in
    the process (``bot.common.grades.use_scale``); the next test starts from the default."""
    yield
    use_scale(DEFAULT_SCALE)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def workspace() -> Workspace:
    return make_workspace()


@pytest.fixture(scope="session")
def upgraded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite store that `upgrade` made, once per test process: each test gets a
    copy of the file (the very schema the migrations build, in a few milliseconds instead
    of a quarter of a second of Alembic per test)."""
    path = tmp_path_factory.mktemp("store") / "upgraded.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL: the file alone is the whole store
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An upgraded, empty store: every store-backed test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "auditbot.db"
        shutil.copyfile(request.getfixturevalue("upgraded_sqlite"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(f"PostgreSQL store: set {POSTGRES_ENV}=postgresql+psycopg://… to run")
    with postgres_schema(POSTGRES_URL) as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def transport() -> str:
    """How Slack reaches the bot: "http" (signed requests); a module may override this
    fixture with params ["http", "socket_mode"] to run its tests both ways."""
    return "http"


@pytest.fixture
def bot(engine: Engine, workspace: Workspace, clock: FixedClock,
        transport: str) -> Iterator[RunningBot]:
    running = start_bot(engine=engine, workspace=workspace, clock=clock,
                        socket_mode=transport == "socket_mode")
    try:
        yield running
        rejected = [c for c in running.sandbox.calls()
                    if c.response.get("error") in REJECTED_PAYLOAD_ERRORS]
        # Anything Slack would refuse as malformed is a bug even if the test did not look.
        assert not rejected, [(c.method, c.response) for c in rejected]
    finally:
        running.stop()
