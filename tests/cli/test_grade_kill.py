"""A click answered is a click kept: `auditbot serve` SIGKILLed the moment it has answered a
Pass click still has the grade in its store (Slack never resends a click it got a 200 for)."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.common.clock import FixedClock
from bot.sandbox import SlackSandbox
from bot.store.models import Grade
from tests.cli.helpers import to_toml, write_env
from tests.postgres.replicas import start_replica, wait_healthy
from tests.support.factories import (
    CHANNELS,
    CLINICAL_CHANNEL,
    NURSE,
    TRAINER1,
    USERS,
    week_of_records,
    workspace_data,
)
from tests.support.harness import start_bot

pytestmark = pytest.mark.timeout(180)

SECRET = "kill-signing-secret"
BOT_TOKEN = "xoxb-sandbox"
CLICKS = 3


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    slack = SlackSandbox(bot_token=BOT_TOKEN, users=dict(USERS), channels=dict(CHANNELS))
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


def _grades(engine: Engine) -> list[tuple[int, str]]:
    with Session(engine) as session:
        return sorted((g.sample_id, g.reviewer) for g in session.exec(select(Grade)).all())


def test_a_replica_killed_right_after_answering_a_click_has_kept_the_grade(
        engine: Engine, sandbox: SlackSandbox, workspace, clock: FixedClock,
        tmp_path: Path):
    # This week's audit, posted in-process into the sandbox, then the process goes.
    local = start_bot(engine=engine, workspace=workspace, clock=clock, sandbox=sandbox)
    local.ingest(week_of_records(clock.now(), count=CLICKS))
    local.run_audit()
    local.stop(keep_sandbox=True)
    parent = next(p for p in sandbox.messages(CLINICAL_CHANNEL)
                  if not p.thread_ts and f"<@{TRAINER1}>" in p.text)
    samples = [m for m in sandbox.messages(CLINICAL_CHANNEL)
               if m.thread_ts == parent.ts and m.ts != parent.ts]
    assert len(samples) == CLICKS

    (tmp_path / "auditbot.toml").write_text(to_toml(workspace_data()), encoding="utf-8")
    write_env(tmp_path, DATABASE_URL=engine.url.render_as_string(hide_password=False),
              SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET,
              SLACK_API_URL=sandbox.url)
    for n, sample in enumerate(samples):
        replica = start_replica(tmp_path, f"serve-{n}", sandbox=sandbox, signing_secret=SECRET,
                                scheduler=False)
        try:
            wait_healthy(replica)
            response = replica.driver.click(NURSE, sample, "Pass", channel=CLINICAL_CHANNEL)
            replica.process.send_signal(signal.SIGKILL)  # at once: the 200 is all Slack has
            replica.process.wait(timeout=5)
            assert response.status == 200, replica.log()
        finally:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait(timeout=5)
        assert len(_grades(engine)) == n + 1, replica.log()
