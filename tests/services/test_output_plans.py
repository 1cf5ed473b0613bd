"""The reads of trainer_output by item and label (the scorecard's consistency and team alpha,
the week's disagreement threads) are served by an index on both stores, over a history where
most outputs carry no label: each query they send is EXPLAINed (SQLite's query plan,
PostgreSQL's after ANALYZE) and none reads the whole table."""

import re
from datetime import timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot.services.disagreements import plan_disagreements
from bot.services.scorecard import scorecards
from tests.conftest import NOW
from tests.services.test_read_plans import _captured, _plan
from tests.support.factories import make_workspace

WORKSPACE = make_workspace()
TASK = "clinical"
TRAINERS = [t.user for t in WORKSPACE.trainers_of(TASK)]
SQLITE_SCAN = re.compile(r"\bSCAN trainer_output\b")  # SEARCH is a lookup
POSTGRES_SCAN = re.compile(r"Seq Scan on trainer_output\b")


def _seed(engine: Engine) -> None:
    """20,000 outputs a week apart in sevens of minutes, one in twenty labelled on 300 items."""
    rows = [{"id": f"out-{n}", "trainer": TRAINERS[n % len(TRAINERS)],
             "at": NOW - timedelta(minutes=7 * n),
             "item": f"item-{n % 300}" if n % 20 == 0 else None,
             "label": "yes" if n % 20 == 0 else None} for n in range(20_000)]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO trainer_output (id, trainer, task_type, prompt, output, created_at, "
            "content_hash, ingested_at, item, label) VALUES (:id, :trainer, 'clinical', 'p', "
            "'o', :at, 'h', :at, :item, :label)"), rows)
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE trainer_output"))


def _scans(plan: str) -> bool:
    return bool(SQLITE_SCAN.search(plan) or POSTGRES_SCAN.search(plan))


def test_reads_by_item_and_label_never_scan_the_outputs(engine: Engine):
    _seed(engine)
    with _captured(engine) as queries, Session(engine) as session:
        scorecards(session, WORKSPACE, pairs=[(TRAINERS[0], TASK)], now=NOW)  # some trainers
        scorecards(session, WORKSPACE, pairs=[(t, TASK) for t in TRAINERS], now=NOW)  # all
        plan_disagreements(session, WORKSPACE, now=NOW)
        session.rollback()
    on_outputs = [(s, p) for s, p in queries if "trainer_output" in s]
    assert len(on_outputs) >= 5
    scans = [f"{s}\n{plan}" for s, p in on_outputs if _scans(plan := _plan(engine, s, p))]
    assert not scans, "\n\n".join(scans)


def test_the_check_finds_a_scan_of_the_outputs(engine: Engine):
    """The assertion above can fail: a read of every output is caught."""
    _seed(engine)
    plan = _plan(engine, "SELECT label, COUNT(*) FROM trainer_output GROUP BY label",
                 {} if engine.dialect.name == "postgresql" else ())
    assert _scans(plan), plan
