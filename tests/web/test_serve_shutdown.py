"""SIGTERM on `auditbot serve` mid-delivery: the post being sent finishes and is recorded,
the rest wait untouched for the next process (nothing in doubt, nothing lost)."""

import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from bot.sandbox import SlackSandbox
from bot.store.db import make_engine
from bot.store.models import OutboxItem
from tests.cli.helpers import auditbot, to_toml, write_env, write_jsonl
from tests.postgres.replicas import (
    replica_workspace,
    same_iso_week_as_a_minute_ago,
    start_replica,
    wait_healthy,
)
from tests.support.factories import CHANNELS, CLINICAL_CHANNEL, USERS, week_of_records

SECRET = "shutdown-signing-secret"


def test_sigterm_lets_the_item_in_flight_finish_and_leaves_the_rest_pending(tmp_path: Path):
    now = same_iso_week_as_a_minute_ago()
    (tmp_path / "auditbot.toml").write_text(to_toml(replica_workspace(now)), encoding="utf-8")
    write_jsonl(tmp_path / "outputs.jsonl", week_of_records(now, count=4))
    with SlackSandbox(bot_token="xoxb-shutdown", users=dict(USERS),
                      channels=dict(CHANNELS)) as sandbox:
        sandbox.set_latency("chat.postMessage", 1.0)  # every post is slow to answer
        write_env(tmp_path, DATABASE_URL="sqlite:///auditbot.db", SLACK_BOT_TOKEN="xoxb-shutdown",
                  SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=sandbox.url)
        for args in (("db", "upgrade"), ("ingest", "outputs.jsonl")):
            assert auditbot(tmp_path, *args).returncode == 0
        engine = make_engine(f"sqlite:///{tmp_path / 'auditbot.db'}")
        # The scheduler catches up this week's audit at start and the outbox begins posting.
        replica = start_replica(tmp_path, "serve", sandbox=sandbox, signing_secret=SECRET)
        try:
            wait_healthy(replica)
            in_flight = wait_for_an_item_in_flight(engine)
            replica.process.send_signal(signal.SIGTERM)
            assert replica.process.wait(timeout=20) == 0, replica.log()
        finally:
            if replica.process.poll() is None:
                replica.process.kill()

        with Session(engine) as session:
            items = {i.id: i for i in session.exec(select(OutboxItem)).all()}
        engine.dispose()
        finished = items[in_flight]
        assert (finished.status, finished.in_doubt) == ("sent", False), replica.log()
        waiting = [i for i in items.values() if i.status == "pending"]
        assert waiting, "everything went out before the stop: nothing was left to hand back"
        assert all(not i.in_doubt and i.attempts == 0 for i in waiting)
        posted = sandbox.messages(CLINICAL_CHANNEL)
        assert len(posted) == sum(1 for i in items.values() if i.status == "sent")
        assert finished.result_ts in {m.ts for m in posted}


def wait_for_an_item_in_flight(engine, timeout: float = 20) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            leased = session.exec(select(OutboxItem.id).where(
                OutboxItem.status == "pending",
                col(OutboxItem.lease_until) > datetime.now(UTC))).first()
        if leased is not None:
            return leased
        time.sleep(0.02)
    raise AssertionError("no outbox item was ever in flight")
