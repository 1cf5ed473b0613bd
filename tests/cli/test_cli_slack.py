"""`auditbot jobs run weekly-audit` / `escalation-check` and `auditbot serve` as subprocesses,
against a `SlackSandbox` started by the test (SLACK_API_URL points the child at it)."""

import json
import signal
import subprocess
import time
import urllib.error
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.sandbox import Message, SlackDriver, SlackSandbox
from bot.services.grading import record_grade
from bot.store.db import make_engine, session_scope
from bot.store.models import Sample
from bot.workspace import load_workspace
from tests.cli.conftest import BOT_TOKEN
from tests.cli.helpers import (
    auditbot,
    child_env,
    command,
    free_port,
    http_get,
    write_env,
    write_jsonl,
)
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    LEAD,
    LEGAL_CHANNEL,
    MANAGER,
    TRAINER1,
    TRAINER2,
    output_record,
    week_of_records,
)

SIGNING_SECRET = "test-signing-secret"
WORKSPACE_TZ = ZoneInfo("America/New_York")  # tests.support.factories.workspace_data()


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.astimezone(WORKSPACE_TZ).isocalendar()
    return f"{year}-W{week:02d}"


def slack_env(cwd: Path, sandbox: SlackSandbox, **more: str) -> None:
    write_env(cwd, DATABASE_URL="sqlite:///auditbot.db", SLACK_BOT_TOKEN=BOT_TOKEN,
              SLACK_API_URL=sandbox.url, **more)


def parents(sandbox: SlackSandbox, channel: str) -> list[Message]:
    return [m for m in sandbox.messages(channel) if not m.thread_ts]


def shown(message: Message) -> str:
    return message.text + json.dumps(message.blocks)


# jobs run weekly-audit ----------------------------------------------------------------------


def test_jobs_run_weekly_audit_posts_one_thread_per_trainer_and_only_once(
    upgraded: Path, sandbox: SlackSandbox
) -> None:
    slack_env(upgraded, sandbox)
    now = datetime.now(UTC)
    clinical = week_of_records(now, trainer=TRAINER1, count=3)
    legal = week_of_records(now, trainer=TRAINER2, task_type="legal", count=2)
    too_old = output_record(99, trainer=TRAINER1, created_at=now - timedelta(days=8))
    write_jsonl(upgraded / "outputs.jsonl", [*clinical, *legal, too_old])
    ingested = auditbot(upgraded, "ingest", "outputs.jsonl")
    assert ingested.returncode == 0, ingested.log

    run = auditbot(upgraded, "jobs", "run", "weekly-audit")
    weeks = {iso_week(now), iso_week(datetime.now(UTC))}  # (a run straddling a week's end)

    assert run.returncode == 0, run.log
    assert any(f"Weekly audit {week}:" in run.stdout for week in weeks), run.log
    assert f"{TRAINER1} · clinical: posted 3 of 3 outputs" in run.stdout, run.log
    assert f"{TRAINER2} · legal: posted 2 of 2 outputs" in run.stdout, run.log
    assert "2 threads, 5 samples owed to Slack" in run.stdout, run.log
    assert "delivered; 0 still pending, 0 failed" in run.stdout, run.log

    for channel, trainer, records in ((CLINICAL_CHANNEL, TRAINER1, clinical),
                                      (LEGAL_CHANNEL, TRAINER2, legal)):
        (parent,) = parents(sandbox, channel)
        assert f"<@{trainer}>" in parent.text, parent
        assert any(week in parent.text for week in weeks), parent
        assert f"{len(records)} samples" in parent.text, parent
        replies = sandbox.thread(channel, parent.ts)[1:]
        assert [r.thread_ts for r in replies] == [parent.ts] * len(records), replies
        for record in records:
            assert sum(record["id"] in shown(r) for r in replies) == 1, (record["id"], replies)
    everything = sandbox.messages(CLINICAL_CHANNEL) + sandbox.messages(LEGAL_CHANNEL)
    assert not any(too_old["id"] in shown(m) for m in everything)  # older than 7 days
    posts = len(sandbox.calls("chat.postMessage"))
    assert posts == 2 + 5

    again = auditbot(upgraded, "jobs", "run", "weekly-audit")
    assert again.returncode == 0, again.log
    assert "0 threads, 0 samples owed to Slack" in again.stdout, again.log
    assert "already posted" in again.stdout, again.log
    assert len(sandbox.calls("chat.postMessage")) == posts, again.log
    assert len(sandbox.messages(CLINICAL_CHANNEL) + sandbox.messages(LEGAL_CHANNEL)) == 7


def test_jobs_run_refuses_an_out_of_date_schema_and_posts_nothing(
    workdir: Path, sandbox: SlackSandbox
) -> None:
    slack_env(workdir, sandbox)
    run = auditbot(workdir, "jobs", "run", "weekly-audit")
    assert run.returncode == 2, run.log
    assert "auditbot db upgrade" in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log
    assert sandbox.calls() == []


# jobs run escalation-check ---------------------------------------------------------------------


def test_jobs_run_escalation_check_notifies_the_lead_once(
    upgraded: Path, sandbox: SlackSandbox
) -> None:
    slack_env(upgraded, sandbox)
    write_jsonl(upgraded / "outputs.jsonl", week_of_records(datetime.now(UTC), count=4))
    for args in (("ingest", "outputs.jsonl"), ("jobs", "run", "weekly-audit")):
        assert (run := auditbot(upgraded, *args)).returncode == 0, run.log
    # Reviewers grade the week in Slack; here their four Major errors go straight to the store.
    engine = make_engine(f"sqlite:///{upgraded / 'auditbot.db'}")
    workspace = load_workspace(upgraded / "auditbot.toml")
    with session_scope(engine) as session:
        for sample in session.exec(select(Sample)).all():
            record_grade(session, workspace, sample_id=sample.id or 0, reviewer=DOCTOR,
                         grade="major", category="Unsafe advice",
                         explanation="Recommends ibuprofen despite CKD stage 3.",
                         now=datetime.now(UTC))
    engine.dispose()

    run = auditbot(upgraded, "jobs", "run", "escalation-check")
    assert run.returncode == 0, run.log
    assert f"opened: {TRAINER1} · clinical" in run.stdout, run.log
    assert "delivered; 0 still pending, 0 failed" in run.stdout, run.log
    [notice] = [m for m in sandbox.dms(LEAD) if "Quality escalation" in m.text]
    assert f"<@{TRAINER1}>" in shown(notice)

    again = auditbot(upgraded, "jobs", "run", "escalation-check")
    assert again.returncode == 0 and "opened:" not in again.stdout, again.log
    assert len([m for m in sandbox.dms(LEAD) if "Quality escalation" in m.text]) == 1


# serve --------------------------------------------------------------------------------------


def test_serve_answers_health_and_signed_commands_and_exits_0_on_sigterm(
    upgraded: Path, sandbox: SlackSandbox
) -> None:
    port = free_port()
    slack_env(upgraded, sandbox, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = upgraded / "serve.out", upgraded / "serve.err"

    def logs() -> str:
        return (f"--- serve stdout ---\n{stdout_path.read_text(errors='replace')}"
                f"--- serve stderr ---\n{stderr_path.read_text(errors='replace')}")

    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        server = subprocess.Popen(command("serve", "--no-scheduler"), cwd=upgraded,
                                  env=child_env(), stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + 20
            while True:
                assert server.poll() is None, f"serve exited {server.returncode}\n{logs()}"
                assert time.monotonic() < deadline, f"/healthz never answered 200\n{logs()}"
                try:
                    status, body = http_get(f"{base}/healthz", timeout=1)
                    if status == 200:
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.05)
            assert json.loads(body) == {"ok": True}, body
            assert sandbox.calls("auth.test"), logs()  # it checked its token at start

            driver = SlackDriver(app_url=f"{base}/slack/events", signing_secret=SIGNING_SECRET,
                                 sandbox=sandbox)
            answer = driver.slash_command(MANAGER, "help")
            assert answer.status == 200, f"{answer}\n{logs()}"
            assert "auditbot" in answer.body, answer
            assert not answer.timed_out, answer
            assert any("auditbot" in e.text for e in sandbox.ephemerals(MANAGER)), answer

            for forged in ({"signature": "missing"}, {"signature": "wrong"},
                           {"timestamp_offset": -600}):
                refused = driver.slash_command(MANAGER, "help", **forged)  # type: ignore[arg-type]
                assert refused.status == 401, (forged, refused)

            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"serve ignored SIGTERM for 10 s\n{logs()}") from None
            assert code == 0, logs()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(timeout=5)


def test_serve_without_a_signing_secret_exits_2_naming_the_variable(
    upgraded: Path, sandbox: SlackSandbox
) -> None:
    slack_env(upgraded, sandbox, PORT=str(free_port()))
    run = auditbot(upgraded, "serve", "--no-scheduler", timeout=15)
    assert run.returncode == 2, run.log
    assert "SLACK_SIGNING_SECRET" in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log


def test_serve_refuses_an_out_of_date_schema_with_the_upgrade_hint(
    workdir: Path, sandbox: SlackSandbox
) -> None:
    slack_env(workdir, sandbox, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(free_port()))
    run = auditbot(workdir, "serve", "--no-scheduler", timeout=15)
    assert run.returncode == 2, run.log
    assert "auditbot db upgrade" in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log
