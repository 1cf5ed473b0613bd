"""A user's working directory: `.env` + `auditbot.toml` (+ an upgraded SQLite database)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import SlackSandbox
from tests.cli.helpers import auditbot, to_toml, write_env
from tests.support.factories import CHANNELS, USERS, workspace_data

BOT_TOKEN = "xoxb-test"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The test workspace's config and a `.env` with a relative SQLite URL; no database yet."""
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "auditbot.toml").write_text(to_toml(workspace_data()), encoding="utf-8")
    write_env(cwd, DATABASE_URL="sqlite:///auditbot.db")
    return cwd


@pytest.fixture(scope="session")
def upgraded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file `auditbot db upgrade` made, once; tests copy it rather than re-run it."""
    cwd = tmp_path_factory.mktemp("template")
    write_env(cwd, DATABASE_URL="sqlite:///auditbot.db")
    run = auditbot(cwd, "db", "upgrade")
    assert run.returncode == 0, run.log
    return cwd / "auditbot.db"


@pytest.fixture
def upgraded(workdir: Path, upgraded_db: Path) -> Path:
    """`workdir` after `auditbot db upgrade`."""
    shutil.copyfile(upgraded_db, workdir / "auditbot.db")
    return workdir


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    slack = SlackSandbox(bot_token=BOT_TOKEN, users=dict(USERS), channels=dict(CHANNELS))
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()
