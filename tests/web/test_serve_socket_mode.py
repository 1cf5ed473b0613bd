"""`auditbot serve --socket-mode` as a team without a public URL runs it, against the sandbox.

The process opens its own connection (``apps.connections.open`` with SLACK_APP_TOKEN), the
scheduler posts the week's audit, and reviewers' commands, clicks and modal submissions
arrive as envelopes over the WebSocket. PORT still answers /healthz and /metrics. When Slack
asks it to reconnect it does, and SIGTERM closes the socket and exits 0.
"""

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.sandbox import Message, SlackDriver, SlackSandbox
from bot.store.db import make_engine
from bot.store.models import Grade, JobRun
from tests.cli.helpers import auditbot, http_get, to_toml, write_env, write_jsonl
from tests.conftest import POSTGRES_URL
from tests.postgres.replicas import (
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
    NURSE,
    USERS,
    week_of_records,
)

pytestmark = pytest.mark.timeout(120)

BOT_TOKEN = "xoxb-socket"
APP_TOKEN = "xapp-socket"
WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."


@pytest.fixture
def sandbox() -> SlackSandbox:
    with SlackSandbox(bot_token=BOT_TOKEN, app_token=APP_TOKEN, users=dict(USERS),
                      channels=dict(CHANNELS)) as slack:
        yield slack


def _prepare(tmp_path: Path, sandbox: SlackSandbox, *, app_token: str = APP_TOKEN,
             steps: tuple[tuple[str, ...], ...] = (("db", "upgrade"),
                                                  ("ingest", "outputs.jsonl")),
             database: str = "sqlite:///auditbot.db") -> None:
    now = same_iso_week_as_a_minute_ago()
    (tmp_path / "auditbot.toml").write_text(to_toml(replica_workspace(now)), encoding="utf-8")
    write_jsonl(tmp_path / "outputs.jsonl", week_of_records(now, count=3))
    # No SLACK_SIGNING_SECRET: Socket Mode does not need one.
    write_env(tmp_path, DATABASE_URL=database, SLACK_BOT_TOKEN=BOT_TOKEN,
              SLACK_APP_TOKEN=app_token, SLACK_API_URL=sandbox.url)
    for args in steps:
        run = auditbot(tmp_path, *args)
        assert run.returncode == 0, run.stderr


def _grades(tmp_path: Path, database: str | None = None) -> list[Grade]:
    engine = make_engine(database or f"sqlite:///{tmp_path / 'auditbot.db'}")
    try:
        with Session(engine) as session:
            return list(session.exec(select(Grade)).all())
    finally:
        engine.dispose()


def _samples(sandbox: SlackSandbox) -> list[Message]:
    return [m for m in sandbox.messages(CLINICAL_CHANNEL) if m.thread_ts]


def test_serve_in_socket_mode_audits_and_takes_grades_over_the_socket(tmp_path, sandbox):
    _prepare(tmp_path, sandbox)
    replica = start_replica(tmp_path, "socket", sandbox=sandbox, socket_mode=True)
    try:
        wait_healthy(replica)
        sandbox.socket_mode.wait_for_connections(1)
        assert http_get(f"{replica.url}/slack/events")[0] == 404  # no public Slack route
        assert "auditbot_slack_ack_seconds" in http_get(f"{replica.url}/metrics")[1]
        samples = SlackDriver.wait_for(lambda: len(_samples(sandbox)) == 3 and _samples(sandbox))
        driver = replica.driver

        status = driver.slash_command(NURSE, "status")
        assert status.status == 200 and not status.timed_out, replica.log()
        answer = driver.wait_for(lambda: sandbox.ephemerals(NURSE))[-1]
        assert answer.text.startswith("Audit status")

        assert driver.click(NURSE, samples[0], "Pass", channel=CLINICAL_CHANNEL).status == 200
        driver.click(NURSE, samples[1], "Minor issue", channel=CLINICAL_CHANNEL)
        modal = driver.wait_for(lambda: driver.open_modal(NURSE))
        # (Slack's client would refuse this itself; the app must too, in its ack.)
        short = driver.submit_view(NURSE, modal, {"category": "Factual error",
                                                  "explanation": "too short"},
                                   client_checks=False)
        assert short.json()["response_action"] == "errors"
        done = driver.submit_view(NURSE, modal, {"category": "Factual error",
                                                 "explanation": WHY})
        assert done.status == 200 and driver.open_modal(NURSE) is None

        # Slack rotates the link: the bot opens a new one and the next click still lands.
        assert sandbox.socket_mode.disconnect("refresh_requested") == 1
        driver.wait_for(lambda: _connection_opens(sandbox) == 2)
        sandbox.socket_mode.wait_for_connections(1)
        assert driver.click(DOCTOR, samples[2], "Pass", channel=CLINICAL_CHANNEL).status == 200

        recorded = driver.wait_for(lambda: len(_grades(tmp_path)) == 3 and _grades(tmp_path))
        assert sorted((g.reviewer, g.grade) for g in recorded) == [
            (DOCTOR, "pass"), (NURSE, "minor"), (NURSE, "pass")]
        assert all(e.acked and e.ack_seconds is not None and e.ack_seconds < 3
                   for e in sandbox.socket_mode.envelopes())

        # The app token is revoked while the bot runs: the link drops and cannot come back,
        # and /healthz says so until the token works again.
        sandbox.fail_next("apps.connections.open", times=1000, status=200, error="invalid_auth")
        sandbox.socket_mode.drop_connections()
        health = f"{replica.url}/healthz"
        down = driver.wait_for(lambda: (r := http_get(health))[0] == 503 and r, timeout=30)
        assert "no Socket Mode connection" in down[1]
        sandbox.clear_faults()
        driver.wait_for(lambda: http_get(health)[0] == 200, timeout=40)
        sandbox.socket_mode.wait_for_connections(1)

        replica.process.send_signal(signal.SIGTERM)
        assert replica.process.wait(timeout=20) == 0, replica.log()
        assert sandbox.socket_mode.connection_count() == 0
    finally:
        _kill(replica)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason=f"needs {POSTGRES_ENV}")
def test_two_socket_mode_replicas_share_the_envelopes_and_grade_once(tmp_path, sandbox):
    assert POSTGRES_URL
    with postgres_schema(POSTGRES_URL) as database:
        _prepare(tmp_path, sandbox, database=database)
        replicas = [start_replica(tmp_path, f"socket-{i}", sandbox=sandbox, socket_mode=True)
                    for i in range(2)]
        try:
            for replica in replicas:
                wait_healthy(replica)
            sandbox.socket_mode.wait_for_connections(2)
            samples = SlackDriver.wait_for(
                lambda: len(_samples(sandbox)) == 3 and _samples(sandbox))
            driver = replicas[0].driver  # envelopes take turns over both connections
            for sample in samples:
                for _ in range(2):  # a double click
                    assert driver.click(NURSE, sample, "Pass",
                                        channel=CLINICAL_CHANNEL).status == 200
            recorded = driver.wait_for(
                lambda: len(_grades(tmp_path, database)) >= 3 and _grades(tmp_path, database))
            for replica in replicas:
                assert replica.stop() == 0, replica.log()
        finally:
            for replica in replicas:
                _kill(replica)
        assert Counter(g.sample_id for g in _grades(tmp_path, database)) == {
            g.sample_id: 1 for g in recorded}
        assert len(recorded) == 3
        # One week's audit posted once, though both replicas' schedulers were due.
        assert len(sandbox.messages(CLINICAL_CHANNEL)) == 1 + 3
        clicks = [e for e in sandbox.socket_mode.envelopes() if e.type == "interactive"]
        assert {e.connection for e in clicks} == {1, 2} and all(e.acked for e in clicks)


def test_serve_without_its_scheduler_runs_no_job_but_takes_commands(tmp_path, sandbox):
    # The week's audit is due (a minute ago): a scheduler would catch it up at start.
    _prepare(tmp_path, sandbox)
    replica = start_replica(tmp_path, "front-only", sandbox=sandbox, socket_mode=True,
                            scheduler=False)
    try:
        wait_healthy(replica)
        answer = replica.driver.slash_command(NURSE, "help")
        assert answer.status == 200 and "/audit status" in answer.body
        time.sleep(2)  # what a scheduler would have done by now, had there been one
        assert sandbox.calls("chat.postMessage") == []
        engine = make_engine(f"sqlite:///{tmp_path / 'auditbot.db'}")
        with Session(engine) as session:
            assert session.exec(select(JobRun)).all() == []
        engine.dispose()
        assert replica.stop() == 0, replica.log()
    finally:
        _kill(replica)


def _connection_opens(sandbox: SlackSandbox) -> int:
    return sum(1 for c in sandbox.calls()
               if c.method == "apps.connections.open" and c.response.get("ok"))


@pytest.mark.parametrize(("token", "error"), [("xapp-wrong", "invalid_auth"),
                                              (BOT_TOKEN, "not_allowed_token_type")])
def test_a_refused_app_token_stops_serve_with_the_reason(tmp_path, sandbox, token, error):
    _prepare(tmp_path, sandbox, app_token=token, steps=(("db", "upgrade"),))
    replica = start_replica(tmp_path, "refused", sandbox=sandbox, socket_mode=True)
    try:
        assert replica.process.wait(timeout=30) == 2
    finally:
        _kill(replica)
    assert "SLACK_APP_TOKEN" in replica.log() and error in replica.log()
    assert sandbox.socket_mode.connection_count() == 0


def test_socket_mode_without_an_app_token_names_the_variable(tmp_path, sandbox):
    _prepare(tmp_path, sandbox, app_token="", steps=())
    run = auditbot(tmp_path, "serve", "--socket-mode")
    assert run.returncode != 0 and "SLACK_APP_TOKEN" in run.stderr


def test_serve_that_cannot_reach_slack_names_the_url_and_exits_2(tmp_path, sandbox):
    _prepare(tmp_path, sandbox, steps=(("db", "upgrade"),))
    down = "http://127.0.0.1:1/api/"  # nothing listens there
    run = auditbot(tmp_path, "serve", "--socket-mode", "--no-scheduler",
                   env={"SLACK_API_URL": down})
    assert run.returncode == 2, run.log
    assert "SLACK_API_URL" in run.stderr and down in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log


def _kill(replica: Replica) -> None:
    if replica.process.poll() is None:
        replica.process.kill()
        replica.process.wait(timeout=5)
