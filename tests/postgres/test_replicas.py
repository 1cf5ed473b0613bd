"""Three `auditbot serve` replicas on one PostgreSQL behave as one bot.

Every replica runs its scheduler: all three catch up the week's audit at start (one claims
it), all run the escalation check every second. Clicks and modal submissions go to
different replicas. One replica is SIGKILLed while it holds an outbox item mid-send. In the
end every post and DM happened exactly once.
"""

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.sandbox import Message, SlackDriver, SlackSandbox
from bot.store.db import make_engine
from bot.store.models import Escalation, Grade, JobRun, OutboxItem
from tests.cli.helpers import auditbot, to_toml, write_env, write_jsonl
from tests.conftest import POSTGRES_URL
from tests.postgres.replicas import (
    QUALITY,
    Replica,
    replica_workspace,
    same_iso_week_as_a_minute_ago,
    start_replica,
    wait_healthy,
)
from tests.postgres.schemas import POSTGRES_ENV, postgres_schema
from tests.support.factories import (
    CHANNELS,
    CLINICAL_CHANNEL,
    DOCTOR,
    LAWYER,
    LEAD,
    LEGAL_CHANNEL,
    MANAGER,
    NURSE,
    TRAINER1,
    TRAINER2,
    USERS,
    week_of_records,
)

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not POSTGRES_URL, reason=f"needs {POSTGRES_ENV}"),
              pytest.mark.timeout(240)]

BOT_TOKEN = "xoxb-replicas"
SECRET = "replicas-signing-secret"
WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."
# Outputs this week per (trainer, task type); five samples each at most.
OUTPUTS = {(TRAINER1, "clinical"): 8, (TRAINER2, "legal"): 4, (NURSE, "clinical"): 3}
SAMPLES = {key: min(count, 5) for key, count in OUTPUTS.items()}


@pytest.fixture
def database() -> Iterator[str]:
    assert POSTGRES_URL
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    slack = SlackSandbox(bot_token=BOT_TOKEN, users=dict(USERS), channels=dict(CHANNELS))
    # Slow posts from the start: a replica is caught mid-send when it is killed.
    slack.set_latency("chat.postMessage", 0.25)
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


@pytest.fixture
def store(database: str) -> Iterator[Engine]:
    engine = make_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture
def project(tmp_path: Path, database: str, sandbox: SlackSandbox) -> Path:
    """A directory as an operator has it: .env, auditbot.toml, the schema upgraded and this
    week's outputs ingested, all through the CLI."""
    now = same_iso_week_as_a_minute_ago()
    (tmp_path / "auditbot.toml").write_text(to_toml(replica_workspace(now)), encoding="utf-8")
    write_env(tmp_path, DATABASE_URL=database, SLACK_BOT_TOKEN=BOT_TOKEN,
              SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=sandbox.url,
              OUTBOX_LEASE="6s", LOG_FORMAT="json")
    records = [record for (trainer, task_type), count in OUTPUTS.items()
               for record in week_of_records(now, trainer=trainer, task_type=task_type,
                                             count=count)]
    write_jsonl(tmp_path / "outputs.jsonl", records)
    for args in (("db", "upgrade"), ("ingest", "outputs.jsonl")):
        run = auditbot(tmp_path, *args)
        assert run.returncode == 0, run.log
    return tmp_path


@pytest.fixture
def replicas(project: Path, sandbox: SlackSandbox) -> Iterator[list[Replica]]:
    started = [start_replica(project, f"replica-{i}", sandbox=sandbox, signing_secret=SECRET)
               for i in range(3)]
    try:
        for replica in started:
            wait_healthy(replica)
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait(timeout=5)


def test_three_replicas_post_grade_and_escalate_exactly_once_through_a_crash(
        replicas: list[Replica], sandbox: SlackSandbox, store: Engine):
    # 1. The audit: one replica claimed the week; all three deliver. Kill the replica that
    #    is sending an item at that moment (its lease hands the item, in doubt, to another).
    victim = kill_a_replica_mid_send(replicas, store)
    alive = [r for r in replicas if r is not victim]
    posts_expected = len(SAMPLES) + sum(SAMPLES.values())
    wait(lambda: len(audit_posts(sandbox)) >= posts_expected and not pending(store),
         timeout=60, what="the audit delivered", replicas=replicas)
    sandbox.set_latency("chat.postMessage", 0)

    # 2. Grading: clicks and modal submissions alternate between the surviving replicas.
    drivers = [r.driver for r in alive]
    grade_everything(sandbox, drivers)
    wait(lambda: graded(store) == sum(SAMPLES.values()), timeout=30, what="every grade",
         replicas=replicas)

    # 3. The escalation opens on TRAINER1's Major week and climbs, both replicas checking.
    wait(lambda: sandbox.messages(QUALITY), timeout=40, what="the last level notified",
         replicas=replicas)
    wait(lambda: not pending(store), timeout=30, what="the outbox drained", replicas=replicas)

    assert victim.process.returncode == -signal.SIGKILL
    # The item the victim held was in doubt: a survivor looked for it before posting.
    looked = sandbox.calls("conversations.history") + sandbox.calls("conversations.replies")
    assert looked, "nobody reconciled the victim's item"
    for replica in alive:
        assert replica.stop() == 0, replica.log()

    assert_every_post_once(sandbox, store)
    assert_json_logs_with_ids(replicas)
    assert_audit_threads(sandbox)
    with Session(store) as session:
        runs = session.exec(select(JobRun)).all()
        escalations = session.exec(select(Escalation)).all()
    assert [run.job for run in runs].count("weekly-audit") == 1
    assert [(e.trainer, e.level, e.status) for e in escalations] == [(TRAINER1, 2, "open")]
    assert len(notices(sandbox.dms(LEAD))) == 1
    assert len(notices(sandbox.dms(MANAGER))) == 1
    assert len(notices(sandbox.messages(QUALITY))) == 1


# --- steps ----------------------------------------------------------------------------------


def kill_a_replica_mid_send(replicas: list[Replica], store: Engine) -> Replica:
    by_pid = {replica.pid: replica for replica in replicas}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Session(store) as session:
            owners = session.exec(
                select(OutboxItem.lease_owner).where(
                    OutboxItem.status == "pending",
                    col(OutboxItem.lease_until) > datetime.now(UTC))
            ).all()
        for owner in owners:
            pid = int(str(owner).split(":")[1])
            if pid in by_pid:
                victim = by_pid[pid]
                victim.process.send_signal(signal.SIGKILL)
                victim.process.wait(timeout=5)
                return victim
        time.sleep(0.01)
    raise AssertionError("no replica was ever caught sending\n"
                         + "\n".join(r.log() for r in replicas))


def grade_everything(sandbox: SlackSandbox, drivers: list[SlackDriver]) -> None:
    turn = 0

    def driver() -> SlackDriver:
        nonlocal turn
        turn += 1
        return drivers[turn % len(drivers)]

    for reply in thread_of(sandbox, CLINICAL_CHANNEL, TRAINER1):
        # The click opens the modal on one replica; its submission reaches the other.
        driver().click(NURSE, reply, "Major error", channel=CLINICAL_CHANNEL)
        modal = SlackDriver.wait_for(lambda: sandbox.open_modals(NURSE))[-1]
        response = driver().submit_view(NURSE, modal, {"category": "Unsafe advice",
                                                       "explanation": WHY})
        assert response.status == 200, response
        SlackDriver.wait_for(lambda: not sandbox.open_modals(NURSE))
    for reply in thread_of(sandbox, CLINICAL_CHANNEL, NURSE):
        assert driver().click(DOCTOR, reply, "Pass", channel=CLINICAL_CHANNEL).status == 200
    for reply in thread_of(sandbox, LEGAL_CHANNEL, TRAINER2):
        # A double click landing on two replicas records one grade.
        for _ in range(2):
            assert driver().click(LAWYER, reply, "Pass", channel=LEGAL_CHANNEL).status == 200


# --- what Slack and the store show ------------------------------------------------------------


def audit_posts(sandbox: SlackSandbox) -> list[Message]:
    return sandbox.messages(CLINICAL_CHANNEL) + sandbox.messages(LEGAL_CHANNEL)


def thread_of(sandbox: SlackSandbox, channel: str, trainer: str) -> list[Message]:
    [parent] = [m for m in sandbox.messages(channel)
                if not m.thread_ts and f"<@{trainer}>" in m.text]
    return sandbox.thread(channel, parent.ts)[1:]


def notices(messages: list[Message]) -> list[Message]:
    return [m for m in messages if "scalation" in m.text and "FYI" not in m.text]


def pending(store: Engine) -> int:
    with Session(store) as session:
        return len(session.exec(select(OutboxItem.id).where(
            OutboxItem.status != "sent")).all())


def graded(store: Engine) -> int:
    with Session(store) as session:
        return len(session.exec(select(Grade.id)).all())


def assert_every_post_once(sandbox: SlackSandbox, store: Engine) -> None:
    """Each owed post landed once (by its outbox key), nothing else was posted twice."""
    landed: list[str] = []
    for channel in [*CHANNELS, *(sandbox.dm_id(user) for user in USERS)]:
        for message in sandbox.messages(channel):
            key = ((message.metadata or {}).get("event_payload") or {}).get("key")
            assert key, message  # every bot post comes from the outbox
            landed.append(key)
    with Session(store) as session:
        items = session.exec(select(OutboxItem)).all()
    posts = {i.dedupe_key for i in items if not i.kind.endswith("update")}
    assert {i.status for i in items} == {"sent"}
    assert [key for key, n in Counter(landed).items() if n > 1] == []
    assert set(landed) == posts


def assert_audit_threads(sandbox: SlackSandbox) -> None:
    channel_of = {"clinical": CLINICAL_CHANNEL, "legal": LEGAL_CHANNEL}
    for (trainer, task_type), count in SAMPLES.items():
        replies = thread_of(sandbox, channel_of[task_type], trainer)
        assert len(replies) == count, (trainer, [r.text for r in replies])
        numbers = [r.blocks[0]["text"]["text"].split("*")[1] for r in replies]
        assert numbers == [f"Sample {i} of {count}" for i in range(1, count + 1)]


def assert_json_logs_with_ids(replicas: list[Replica]) -> None:
    """LOG_FORMAT=json: every line is a JSON object; requests and jobs are named."""
    entries = [json.loads(line) for r in replicas
               for line in r.log_path.read_text().splitlines() if line.strip()]
    assert any("request_id" in e for e in entries)
    assert {e.get("job") for e in entries} >= {"startup", "escalation-check"}


def wait(predicate: Any, *, timeout: float, what: str, replicas: list[Replica]) -> None:
    try:
        SlackDriver.wait_for(predicate, timeout=timeout, interval=0.05)
    except TimeoutError:
        logs = "\n".join(r.log() for r in replicas)
        raise AssertionError(f"{what}: not within {timeout}s\n{logs}") from None
