"""`/metrics` in Prometheus' text format: acks timed, the outbox's backlog read from the store."""

import re
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.common.clock import FixedClock
from bot.workspace import Workspace
from tests.support.factories import MANAGER, week_of_records
from tests.support.harness import RunningBot, start_bot


@pytest.fixture
def quiet_bot(engine: Engine, workspace: Workspace, clock: FixedClock) -> Iterator[RunningBot]:
    bot = start_bot(engine=engine, workspace=workspace, clock=clock, worker=False)
    try:
        yield bot
    finally:
        bot.stop()


def scrape(bot: RunningBot) -> dict[str, float]:
    with urllib.request.urlopen(f"{bot.url}/metrics", timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)", line)
        if match:
            values[match[1]] = float(match[2])
    return values


def test_the_outbox_backlog_and_deliveries_are_reported(quiet_bot: RunningBot):
    quiet_bot.ingest(week_of_records(quiet_bot.ctx.clock.now(), count=3))
    quiet_bot.run_audit(deliver=False)
    before = scrape(quiet_bot)
    assert before["auditbot_outbox_pending"] == 4  # a parent and three samples owed
    assert before["auditbot_outbox_failed"] == 0

    quiet_bot.deliver()
    after = scrape(quiet_bot)
    assert after["auditbot_outbox_pending"] == 0
    assert after["auditbot_outbox_oldest_age_seconds"] == 0
    sent = 'auditbot_outbox_deliveries_total{outcome="sent"}'
    assert after[sent] - before.get(sent, 0) == 4


def test_every_slack_request_is_timed_as_an_ack(quiet_bot: RunningBot):
    count = "auditbot_slack_ack_seconds_count"
    before = scrape(quiet_bot).get(count, 0)
    assert quiet_bot.driver.slash_command(MANAGER, "help").status == 200
    assert scrape(quiet_bot)[count] == before + 1
