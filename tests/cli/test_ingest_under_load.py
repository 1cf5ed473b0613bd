"""`auditbot ingest` beside a running bot: it commits in batches, so a grade click or a job
never waits for a whole file (SQLite has one writer at a time); and every ingest path has the
same per-record limit, named by line (issue 10)."""

import json
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.store.models import Grade, TrainerOutput
from schedules.escalation_check import run_escalation_check
from schedules.retry import when_busy
from tests.cli.helpers import auditbot, child_env, command, to_toml, write_env, write_jsonl
from tests.conftest import NOW
from tests.support.factories import (
    CLINICAL_CHANNEL,
    DOCTOR,
    NURSE,
    TRAINER1,
    output_record,
    week_of_records,
    workspace_data,
)
from tests.support.harness import RunningBot

pytestmark = pytest.mark.timeout(300)
BIG = 40_000  # records: several seconds of writing, far past the grade's 2-second budget


def _project(tmp_path: Path, engine: Engine, **env: str) -> Path:
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "auditbot.toml").write_text(to_toml(workspace_data()), encoding="utf-8")
    write_env(cwd, DATABASE_URL=engine.url.render_as_string(hide_password=False), **env)
    return cwd


def _grades(engine: Engine) -> set[tuple[int, str]]:
    with Session(engine) as session:
        return {(g.sample_id, g.reviewer) for g in session.exec(select(Grade)).all()}


def test_grades_and_jobs_go_through_while_a_big_file_is_ingested(bot: RunningBot,
                                                                   tmp_path: Path):
    now = bot.ctx.clock.now()
    bot.ingest(week_of_records(now, count=5))
    bot.run_audit()
    parent = next(p for p in bot.parents(CLINICAL_CHANNEL) if f"<@{TRAINER1}>" in p.text)
    samples = [r for r in bot.thread_replies(CLINICAL_CHANNEL) if r.thread_ts == parent.ts]
    cwd = _project(tmp_path, bot.ctx.engine)
    old = now - timedelta(days=60)  # outside any audit window: only load
    with (cwd / "big.jsonl").open("w", encoding="utf-8") as file:
        for n in range(BIG):
            record = output_record(n, created_at=old) | {"id": f"bulk-{n:06d}"}
            file.write(json.dumps(record) + "\n")

    ingest = subprocess.Popen(command("ingest", "big.jsonl"), cwd=cwd, env=child_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures: list[BaseException] = []

    def check_meanwhile() -> None:  # the scheduled job, as a replica's scheduler runs it
        try:
            while ingest.poll() is None:
                when_busy(lambda: run_escalation_check(bot.ctx, now=now))
                time.sleep(0.5)
        except BaseException as error:
            failures.append(error)

    checks = threading.Thread(target=check_meanwhile, name="escalation-check")
    checks.start()
    clicks = 0
    try:
        while ingest.poll() is None or clicks < 2 * len(samples):
            reviewer = (NURSE, DOCTOR)[(clicks // len(samples)) % 2]
            sample = samples[clicks % len(samples)]
            response = bot.driver.click(reviewer, sample, "Pass", channel=CLINICAL_CHANNEL)
            assert response.status == 200 and not response.timed_out
            # Stored when answered: the click waited for one batch at most, not the file.
            assert len(_grades(bot.ctx.engine)) == min(clicks + 1, 2 * len(samples))
            clicks += 1
    finally:
        out, err = ingest.communicate(timeout=240)
        checks.join(timeout=120)
    assert ingest.returncode == 0, err
    assert f"read {BIG}, stored {BIG}" in out
    assert not [e for e in bot.sandbox.ephemerals() if "not recorded" in e.text]
    assert "database is locked" not in err
    assert len(_grades(bot.ctx.engine)) == 2 * len(samples)
    assert failures == []


def test_a_record_past_the_limit_is_refused_by_its_line_on_the_command_line(
        engine: Engine, tmp_path: Path):
    cwd = _project(tmp_path, engine, INGEST_MAX_RECORD_BYTES="4096")
    records = [output_record(n, created_at=NOW) for n in range(3)]
    records[1]["output"] = "x" * 10_000
    write_jsonl(cwd / "outputs.jsonl", records)
    run = auditbot(cwd, "ingest", "outputs.jsonl")
    assert run.returncode == 1, run.log
    assert "read 3, stored 2, unchanged 0, rejected 1" in run.stdout, run.log
    [refused] = [line for line in run.stderr.splitlines() if line.startswith("outputs.jsonl:")]
    assert refused.startswith("outputs.jsonl:2: the record is 10.0 kB") and "4.0 kB" in refused
    with Session(engine) as session:
        stored = set(session.exec(select(TrainerOutput.id)).all())
    assert stored == {records[0]["id"], records[2]["id"]}
