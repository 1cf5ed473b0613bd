"""The reads of `/audit status`, its rows, the Home, disputes, pending and the digest never
scan the grade table: each query they send is EXPLAINed on the store (SQLite's query plan,
PostgreSQL's after ANALYZE) over 100 weeks of graded history, of which the window is four."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session

from bot.services.disputes import list_disputes
from bot.services.home import home_data
from bot.services.nudges import weekly_digest
from bot.services.pending import pending_for
from bot.services.standings import window_weeks
from bot.services.status import team_status
from bot.services.trainer_rows import trainer_rows
from tests.conftest import NOW
from tests.support.factories import DOCTOR, LEAD, MANAGER, NURSE, TRAINER1, make_workspace

WORKSPACE = make_workspace()
WEEKS = window_weeks(WORKSPACE, NOW, 100)
TRAINERS = [TRAINER1, *(f"U0T{i:05d}" for i in range(39))]
SAMPLES = 3
SQLITE_SCAN = re.compile(r"\bSCAN (grade|grade_\d+)\b")  # SEARCH is a lookup
POSTGRES_SCAN = re.compile(r"(Seq Scan|Index Only Scan|Index Scan)( using \S+)? on grade\b")


def _full_scans(plan: str) -> list[str]:
    """The plan's nodes that read the whole grade table (or its whole index)."""
    lines = plan.splitlines()
    found = [line for line in lines if SQLITE_SCAN.search(line)]
    for i, line in enumerate(lines):
        match = POSTGRES_SCAN.search(line)
        if match is None:
            continue
        details = []
        for after in lines[i + 1:]:
            if after.strip().startswith("->"):
                break
            details.append(after)
        if match.group(1) == "Seq Scan" or not any("Index Cond" in d for d in details):
            found.append(line)
    return found


def _seed(engine: Engine) -> None:
    """40 trainers × 100 weeks × 3 samples of clinical, each graded by NURSE (every third
    a double review with DOCTOR's grade too), straight into the tables."""
    outputs, threads, samples, grades, tallies = [], [], [], [], []
    sample_id = thread_id = 0
    for week in WEEKS:
        for trainer in TRAINERS:
            thread_id += 1
            threads.append({"id": thread_id, "trainer": trainer, "task_type": "clinical",
                            "iso_week": week, "channel": "C0CLINICAL", "seed": "s",
                            "population_json": "[]", "sample_count": SAMPLES, "at": NOW})
            for position in range(SAMPLES):
                sample_id += 1
                output = f"out-{sample_id}"
                outputs.append({"id": output, "trainer": trainer, "at": NOW})
                double = sample_id % 3 == 0
                samples.append({"id": sample_id, "thread": thread_id, "output": output,
                                "position": position, "double": double})
                grades.append({"sample": sample_id, "reviewer": NURSE, "grade": "pass",
                               "slot": 1 if double else None, "at": NOW})
                if double:
                    grades.append({"sample": sample_id, "reviewer": DOCTOR, "grade": "major",
                                   "slot": 2, "at": NOW})
            tallies.append({"trainer": trainer, "week": week, "kind": "pass", "n": 2})
            tallies.append({"trainer": trainer, "week": week, "kind": "!", "n": 1})
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO trainer_output (id, trainer, task_type, prompt, output, created_at, "
            "content_hash, ingested_at) VALUES (:id, :trainer, 'clinical', 'p', 'o', :at, "
            "'h', :at)"), outputs)
        connection.execute(text(
            "INSERT INTO audit_thread (id, trainer, task_type, iso_week, channel, seed, "
            "population_json, sample_count, created_at) VALUES (:id, :trainer, :task_type, "
            ":iso_week, :channel, :seed, :population_json, :sample_count, :at)"), threads)
        connection.execute(text(
            "INSERT INTO sample (id, thread_id, output_id, position, needs_double_review) "
            "VALUES (:id, :thread, :output, :position, :double)"), samples)
        connection.execute(text(
            "INSERT INTO grade (sample_id, reviewer, grade, created_at, updated_at, slot) "
            "VALUES (:sample, :reviewer, :grade, :at, :at, :slot)"), grades)
        connection.execute(text(
            "INSERT INTO trainer_week_tally (trainer, task_type, iso_week, kind, samples) "
            "VALUES (:trainer, 'clinical', :week, :kind, :n)"), tallies)
        if engine.dialect.name == "postgresql":
            for table in ("trainer_output", "audit_thread", "sample", "grade",
                          "trainer_week_tally"):
                connection.execute(text(f"ANALYZE {table}"))
            # Ids were given explicitly: move the sequences past them.
            for table in ("audit_thread", "sample", "grade"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"))


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    explain = ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ")
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def test_the_main_reads_never_scan_the_grade_table(engine: Engine):
    _seed(engine)
    with _captured(engine) as queries, Session(engine) as session:
        team_status(session, WORKSPACE, now=NOW, viewer=MANAGER)
        trainer_rows(session, WORKSPACE, viewer=MANAGER, now=NOW)
        trainer_rows(session, WORKSPACE, viewer=LEAD, now=NOW, page=1)
        assert list_disputes(session, WORKSPACE, user=MANAGER, now=NOW)  # double reviews
        pending_for(session, WORKSPACE, user=DOCTOR, limit=20, now=NOW)
        weekly_digest(session, WORKSPACE, now=NOW)
        home_data(session, WORKSPACE, user=MANAGER, now=NOW)
    assert len(queries) > 20
    scans = []
    for statement, parameters in queries:
        plan = _plan(engine, statement, parameters)
        if _full_scans(plan):
            scans.append(f"{statement}\n{plan}")
    assert not scans, "\n\n".join(scans)


def test_the_check_finds_a_scan_of_the_grade_table(engine: Engine):
    """The assertion above can fail: a query over every grade is caught."""
    _seed(engine)
    plan = _plan(engine, "SELECT grade, COUNT(*) FROM grade GROUP BY grade", {}
                 if engine.dialect.name == "postgresql" else ())
    assert _full_scans(plan), plan
