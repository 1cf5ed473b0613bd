"""`auditbot config check`, `db upgrade`, `ingest` and `demo`, run as a user runs them."""

import csv
import io
import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store.db import head_revisions
from tests.cli.helpers import EXAMPLE_CONFIG, auditbot, to_toml, write_env, write_jsonl
from tests.support.factories import TRAINER1, TRAINER2, output_record, workspace_data

NOW = datetime.now(UTC)


def stored_ids(cwd: Path) -> list[str]:
    with sqlite3.connect(cwd / "auditbot.db") as db:
        return sorted(row[0] for row in db.execute("SELECT id FROM trainer_output"))


# config check -------------------------------------------------------------------------------


def test_config_check_prints_what_it_understood_and_exits_0(tmp_path: Path) -> None:
    shutil.copyfile(EXAMPLE_CONFIG, tmp_path / "auditbot.toml")
    run = auditbot(tmp_path, "config", "check")
    assert run.returncode == 0, run.log
    out = run.stdout
    assert "auditbot.toml: OK" in out, run.log
    for key in ("clinical", "legal", "finance"):  # task types
        assert re.search(rf"^\s+{key}: ", out, re.MULTILINE), run.log
    assert "Trainers (6)" in out, run.log
    for n in range(1, 7):
        assert f"U0TRAINER{n}: " in out, run.log
    assert "Escalation:" in out, run.log
    assert "the trainer's lead" in out and "U0MANAGER1" in out and "C0QUALITY" in out, run.log
    assert run.stderr.strip() == "", run.log


def test_config_check_reads_the_config_named_in_dotenv_relative_to_cwd(workdir: Path) -> None:
    (workdir / "conf").mkdir()
    (workdir / "auditbot.toml").rename(workdir / "conf" / "team.toml")
    write_env(workdir, AUDITBOT_CONFIG="conf/team.toml")
    run = auditbot(workdir, "config", "check")
    assert run.returncode == 0, run.log
    assert f"{workdir / 'conf' / 'team.toml'}: OK" in run.stdout, run.log


def _broken(mutate: Any) -> dict[str, Any]:
    data = workspace_data()
    mutate(data)
    return data


BROKEN = {
    "unknown key": (
        lambda d: d["workspace"].update(managres=["U0MANAGER1"]),
        "workspace.managres",
    ),
    "malformed reviewer id": (
        lambda d: d["task_types"][0]["reviewers"].__setitem__(1, "nurse.two"),
        "task_types[0].reviewers[1]",
    ),
    "trainer on an unknown task type": (
        lambda d: d["trainers"][1].update(task_types=["legal", "cooking"]),
        "trainers[1].task_types[1]",
    ),
    "threshold above 1": (
        lambda d: d["policy"].update(pass_threshold=1.5),
        "policy.pass_threshold",
    ),
}


def test_config_check_names_the_full_key_path_of_every_mistake_and_exits_2(
    workdir: Path,
) -> None:
    def all_of_them(data: dict[str, Any]) -> None:
        for mutate, _ in BROKEN.values():
            mutate(data)

    (workdir / "auditbot.toml").write_text(to_toml(_broken(all_of_them)), encoding="utf-8")
    run = auditbot(workdir, "config", "check")
    assert run.returncode == 2, run.log
    for case, (_, key_path) in BROKEN.items():
        assert re.search(rf"auditbot\.toml: {re.escape(key_path)}: ", run.stderr), \
            f"{case}: {key_path}\n{run.log}"
    assert "OK" not in run.stdout, run.log
    assert "Traceback" not in run.stderr, run.log
    assert "1.5" in run.stderr and "cooking" in run.stderr and "nurse.two" in run.stderr, run.log


def test_config_check_without_a_config_file_says_which_file_is_missing(tmp_path: Path) -> None:
    run = auditbot(tmp_path, "config", "check", module=True)  # `python -m bot.entry.cli` works too
    assert run.returncode == 2, run.log
    assert str(tmp_path / "auditbot.toml") in run.stderr, run.log
    assert "not found" in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log


def test_config_check_reports_invalid_toml_with_its_position(workdir: Path) -> None:
    (workdir / "auditbot.toml").write_text("[workspace]\ntimezone = \n", encoding="utf-8")
    run = auditbot(workdir, "config", "check")
    assert run.returncode == 2, run.log
    assert "line 2" in run.stderr, run.log
    assert "Traceback" not in run.stderr, run.log


# db upgrade ---------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_in_a_sqlite_file_relative_to_cwd(workdir: Path) -> None:
    assert not (workdir / "auditbot.db").exists()
    run = auditbot(workdir, "db", "upgrade")
    assert run.returncode == 0, run.log
    assert "up to date" in run.stdout, run.log
    assert (workdir / "auditbot.db").is_file(), run.log
    with sqlite3.connect(workdir / "auditbot.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"trainer_output", "audit_thread", "sample", "grade", "outbox"} <= tables, tables
    assert {v for (v,) in version} == head_revisions(), version  # one per branch head

    again = auditbot(workdir, "db", "upgrade")
    assert again.returncode == 0, again.log
    assert "up to date" in again.stdout, again.log
    with sqlite3.connect(workdir / "auditbot.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == version


# ingest -------------------------------------------------------------------------------------


def good(n: int, trainer: str = TRAINER1, task_type: str = "clinical") -> dict[str, Any]:
    return output_record(n, trainer=trainer, task_type=task_type,
                         created_at=NOW - timedelta(days=1, hours=n))


def test_ingest_before_db_upgrade_is_refused_with_the_upgrade_hint(workdir: Path) -> None:
    write_jsonl(workdir / "outputs.jsonl", [good(1)])
    run = auditbot(workdir, "ingest", "outputs.jsonl")
    assert run.returncode != 0, run.log
    assert "auditbot db upgrade" in run.stderr, run.log
    assert "stored" not in run.stdout, run.log
    assert "Traceback" not in run.stderr, run.log


def test_ingest_names_each_bad_record_by_line_and_exits_1(upgraded: Path) -> None:
    missing_prompt = good(2)
    del missing_prompt["prompt"]
    stranger = good(3) | {"id": "out-stranger", "trainer": "U0NOBODY1"}
    undated = good(5) | {"id": "out-when", "created_at": "yesterday"}
    wrong_type = good(6, trainer=TRAINER2, task_type="clinical")
    lines = [
        json.dumps(good(1)),                                       # 1 good
        json.dumps(missing_prompt),                                # 2 bad
        '{"id": "out-broken", "trainer": ',                        # 3 unreadable: no id
        json.dumps(stranger),                                      # 4 bad
        "",                                                        # 5 blank: skipped
        json.dumps(good(4, trainer=TRAINER2, task_type="legal")),  # 6 good
        json.dumps(undated),                                       # 7 bad
        json.dumps(wrong_type),                                    # 8 bad
        json.dumps(good(7)),                                       # 9 good
    ]
    (upgraded / "outputs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = auditbot(upgraded, "ingest", "outputs.jsonl")

    assert run.returncode == 1, run.log
    summary = run.stdout.strip().splitlines()[-1]
    assert summary == "read 8, stored 3, unchanged 0, rejected 5", run.log
    reported = [line for line in run.stderr.splitlines() if line.startswith("outputs.jsonl:")]
    expected = [  # (FILE:LINE (id): , a word of the reason)
        (f"outputs.jsonl:2 ({missing_prompt['id']}): ", "prompt"),
        ("outputs.jsonl:3: ", "invalid JSON"),
        ("outputs.jsonl:4 (out-stranger): ", "U0NOBODY1"),
        ("outputs.jsonl:7 (out-when): ", "created_at"),
        (f"outputs.jsonl:8 ({wrong_type['id']}): ", "clinical"),
    ]
    assert len(reported) == len(expected), run.log
    for line, (prefix, reason) in zip(reported, expected, strict=True):
        assert line.startswith(prefix) and reason in line[len(prefix):], f"{line}\n{run.log}"
    assert "Traceback" not in run.stderr, run.log
    assert stored_ids(upgraded) == sorted(
        [good(1)["id"], good(7)["id"], good(4, trainer=TRAINER2, task_type="legal")["id"]]
    )


def test_ingest_all_good_exits_0_and_is_idempotent_by_id(upgraded: Path) -> None:
    records = [good(1), good(2), good(3, trainer=TRAINER2, task_type="legal")]
    write_jsonl(upgraded / "outputs.jsonl", records)

    first = auditbot(upgraded, "ingest", "outputs.jsonl")
    assert first.returncode == 0, first.log
    assert "read 3, stored 3, unchanged 0, rejected 0" in first.stdout, first.log

    second = auditbot(upgraded, "ingest", "outputs.jsonl")
    assert second.returncode == 0, second.log
    assert "read 3, stored 0, unchanged 3, rejected 0" in second.stdout, second.log
    assert len(stored_ids(upgraded)) == 3

    # The same id with other content is refused; the stored record stays.
    write_jsonl(upgraded / "changed.jsonl", [good(1) | {"output": "Something else."}])
    changed = auditbot(upgraded, "ingest", "changed.jsonl")
    assert changed.returncode == 1, changed.log
    assert "read 1, stored 0, unchanged 0, rejected 1" in changed.stdout, changed.log
    assert f"changed.jsonl:1 ({good(1)['id']}): " in changed.stderr, changed.log
    with sqlite3.connect(upgraded / "auditbot.db") as db:
        (output,) = db.execute("SELECT output FROM trainer_output WHERE id = ?",
                               (good(1)["id"],)).fetchone()
    assert output == good(1)["output"]


def csv_text(rows: list[dict[str, str]]) -> str:
    columns = ["id", "trainer", "task_type", "prompt", "output", "created_at", "metadata",
               "gold_grade", "gold_note"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_row(record: dict[str, Any], **extra: str) -> dict[str, str]:
    row = {key: record[key] for key in
           ("id", "trainer", "task_type", "prompt", "output", "created_at")}
    return row | {"metadata": json.dumps(record["metadata"])} | extra


def test_ingest_reads_csv_with_metadata_and_gold_columns(upgraded: Path) -> None:
    rows = [
        csv_row(good(1, trainer=TRAINER2, task_type="legal") | {"output": "Line one,\nline two"}),
        csv_row(good(2), gold_grade="major", gold_note="Recommends ibuprofen despite CKD"),
    ]
    (upgraded / "outputs.csv").write_text(csv_text(rows), encoding="utf-8")
    run = auditbot(upgraded, "ingest", "outputs.csv")
    assert run.returncode == 0, run.log
    assert "read 2, stored 2, unchanged 0, rejected 0" in run.stdout, run.log
    with sqlite3.connect(upgraded / "auditbot.db") as db:
        stored = dict(db.execute("SELECT id, output FROM trainer_output").fetchall())
        gold = db.execute("SELECT gold_grade, gold_note, metadata_json FROM trainer_output "
                          "WHERE id = ?", (good(2)["id"],)).fetchone()
    assert stored[good(1, trainer=TRAINER2, task_type="legal")["id"]] == "Line one,\nline two"
    assert gold[0] == "major" and gold[1] == "Recommends ibuprofen despite CKD"
    assert json.loads(gold[2]) == {"project": "triage-v2"}


def test_ingest_csv_names_a_bad_row_by_the_line_it_starts_on(upgraded: Path) -> None:
    rows = [
        csv_row(good(1) | {"output": "spans\nthree\nlines"}),     # lines 2-4
        csv_row(good(2) | {"id": "csv-bad", "task_type": "cooking"}),  # line 5
        csv_row(good(3)),                                          # line 6
    ]
    (upgraded / "outputs.csv").write_text(csv_text(rows), encoding="utf-8")
    run = auditbot(upgraded, "ingest", "outputs.csv")
    assert run.returncode == 1, run.log
    assert "read 3, stored 2, unchanged 0, rejected 1" in run.stdout, run.log
    assert "outputs.csv:5 (csv-bad): " in run.stderr and "cooking" in run.stderr, run.log


def test_ingest_of_a_file_it_cannot_read_is_a_clear_error_and_exits_2(upgraded: Path) -> None:
    (upgraded / "outputs.txt").write_text("hello\n", encoding="utf-8")
    (upgraded / "folder.jsonl").mkdir()
    for name, says in (("nowhere.jsonl", "no such file"), ("outputs.txt", ".csv"),
                       ("folder.jsonl", "cannot read")):
        run = auditbot(upgraded, "ingest", name)
        assert run.returncode == 2, run.log
        assert f"{name}" in run.stderr and says in run.stderr, run.log
        assert "Traceback" not in run.stderr, run.log
        assert "stored" not in run.stdout, run.log


# settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value", "says"), [
    ("DATABASE_URL", "notaurl", "Could not parse"),
    ("DATABASE_URL", "mysql://user@host/db", "mysql is not supported"),
    ("DATABASE_URL", "postgresql+psycopg2://user@host/db", "postgresql+psycopg2 is not"),
    # Hosting platforms' postgres:// means psycopg 3; nothing listens on port 1.
    ("DATABASE_URL", "postgres://user@127.0.0.1:1/db", "cannot use the database"),
    ("SLACK_API_URL", "slack.com/api", "must start with https://"),
])
def test_a_bad_store_or_slack_url_is_named_without_a_traceback(
        tmp_path: Path, name: str, value: str, says: str) -> None:
    write_env(tmp_path, **{name: value})
    run = auditbot(tmp_path, "db", "upgrade")
    assert run.returncode == 2, run.log
    assert says in run.stderr and "Traceback" not in run.stderr, run.log
    assert name in run.stderr, run.log


# demo ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", [(), ("--socket-mode",)], ids=["http", "socket_mode"])
def test_demo_runs_the_sandbox_week_and_prints_the_summary_and_the_table(
        tmp_path: Path, transport: tuple[str, ...]) -> None:
    # A user's .env pointing at a real Slack and a real database must not matter to the demo.
    write_env(tmp_path, DATABASE_URL="sqlite:///mine.db", SLACK_BOT_TOKEN="xoxb-real",
              SLACK_API_URL="http://127.0.0.1:9/api/")
    run = auditbot(tmp_path, "demo", *transport, timeout=90)
    assert run.returncode == 0, run.log
    out = run.stdout
    assert "checks how earlier errors were judged: `/audit precedents" in out, run.log
    assert "# 🔎 Precedents for “" in out, run.log  # found some: the demo's own grades
    if transport:
        assert "sent as Socket Mode envelopes" in out and "(Socket Mode)" in out, run.log
    else:
        assert "A request with a forged signature  →  HTTP 401" in out, run.log
    for header in ("1. This week's trainer outputs arrive", "2. The weekly audit runs",
                   "4. Reviewers grade in the threads", "7. The week in numbers",
                   "8. The weak trainer's quality fell"):
        assert re.search(rf"^── {re.escape(header)}", out, re.MULTILINE), f"{header}\n{run.log}"
    summary = re.compile(r"^read (\d+), stored \1, unchanged 0, rejected 0$", re.MULTILINE)
    assert summary.search(out), run.log
    assert re.search(r"^Weekly audit \d{4}-W\d{2}:$", out, re.MULTILINE), run.log
    table = out.split("7. The week in numbers", 1)[1]
    assert re.search(r"^trainer\s+task type\s+graded\s+pass\s+minor\s+major\s+score", table,
                     re.MULTILINE), run.log
    assert "below threshold" in table, run.log  # the weak trainer stands out
    assert "Quality escalation" in table and "Acknowledged by" in table, run.log
    assert not (tmp_path / "mine.db").exists()
    # The trainer's side: their weekly DM, a dispute overturned, a disagreement adjudicated,
    # the scorecard in status and in the lead's Home rows.
    side = out.split("── 11. The trainer's side", 1)[1]
    assert re.search(r"Clinical NLP\* · \d{4}-W\d{2}: your audited samples are graded", side)
    assert "[Dispute]" in side and "*Your score:*" in side, run.log
    assert "A trainer disputes a non-pass grade" in side and "[Uphold] [Overturn]" in side
    assert "*overturned* the grade you disputed" in side, run.log
    assert "# Disagreement · Clinical NLP" in side and "labelled *B*" in side, run.log
    assert "⚖️ *Adjudicated* by" in side and "*B* is right" in side, run.log
    assert re.search(r"^  \*?Scorecard\*? · 80% intervals", side, re.MULTILINE), run.log
    assert re.search(r"^  Consistency \*0\.67\* .* · 3 comparisons", side, re.MULTILINE)
    assert re.search(r"^  Clarity \*0\.\d\d\* .* · \d+ ratings", side, re.MULTILINE)
    assert re.search(r"^  │ +P 0\.\d\d👀? · C 0\.67 · Cl 0\.\d\d$", side, re.MULTILINE), run.log
