"""The scorecard on a real store: precision from the standings' tallies, consistency and
alpha from labels on shared items, clarity from reviewers' ratings."""

from datetime import timedelta
from typing import Any

import krippendorff
import numpy as np
import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from bot.services.audit import plan_weekly_audit
from bot.services.clarity import record_clarity
from bot.services.grading import record_grade
from bot.services.ingest import (
    ingest,
    label_scales_of,
    records_from_json_array,
    roster_from_workspace,
)
from bot.services.scorecard import scorecards
from bot.services.scoring import bounds
from bot.services.standings import tally_standings
from bot.store.models import AuditThread, Sample
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.support.factories import DOCTOR, NURSE, TRAINER1, TRAINER3, output_record, workspace_data

# item → {trainer: label}: clinical is ordinal A < B < C.
LABELS = {"i0": {TRAINER1: "A", NURSE: "A", TRAINER3: "B"},
          "i1": {TRAINER1: "B", NURSE: "C"},
          "i2": {TRAINER1: "C", NURSE: "C"},
          "i3": {TRAINER1: "A", TRAINER3: "A"}}
WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."


def _workspace(**policy: Any) -> Workspace:
    data = workspace_data(**policy)
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    data["trainers"].append({"user": TRAINER3, "task_types": ["clinical"]})
    return parse_workspace(data)


def _setup(session: Session, workspace: Workspace) -> list[Sample]:
    records = []
    for n, (item, labels) in enumerate(LABELS.items()):
        for trainer, label in labels.items():
            record = output_record(n, trainer=trainer, created_at=NOW - timedelta(hours=2 + n))
            record.update(item=item, label=label, reasoning=f"{label} because of the dose.")
            records.append(record)
    trainers, task_types = roster_from_workspace(workspace)
    report = ingest(session, records_from_json_array(records), known_trainers=trainers,
                    known_task_types=task_types, now=NOW,
                    label_scales=label_scales_of(workspace))
    assert report.ok, report.rejected
    plan_weekly_audit(session, workspace, now=NOW)
    session.commit()
    return list(session.exec(
        select(Sample).join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .where(AuditThread.trainer == TRAINER1).order_by(col(Sample.id))).all())


def test_consistency_is_the_share_of_matching_comparisons_with_its_interval(session):
    workspace = _workspace()
    _setup(session, workspace)
    pairs = [(TRAINER1, "clinical"), (NURSE, "clinical"), (TRAINER3, "clinical")]
    cards = scorecards(session, workspace, pairs=pairs, now=NOW)
    # T1: i0 vs NURSE yes, vs T3 no; i1 vs NURSE no; i2 yes; i3 vs T3 yes: 3 of 5.
    # NURSE: i0 vs T1 yes, vs T3 no; i1 no; i2 yes: 2 of 4. T3: i0 no, no; i3 yes: 1 of 3.
    expected = {TRAINER1: (3, 5), NURSE: (2, 4), TRAINER3: (1, 3)}
    for (trainer, _), card in cards.items():
        hits, n = expected[trainer]
        c = card.consistency
        assert (c.value, c.n) == (hits / n, n)
        assert (c.lower, c.upper) == bounds(hits, n, 0.9)
        assert c.weekly[-1] == hits / n and c.weekly[:-1] == (None,) * 3
    # One trainer alone reads only the items they labelled, and gets the same.
    alone = scorecards(session, workspace, pairs=[(TRAINER3, "clinical")], now=NOW)
    assert alone[(TRAINER3, "clinical")].consistency == cards[(TRAINER3, "clinical")].consistency


def test_team_alpha_is_krippendorffs_at_the_declared_level(session):
    workspace = _workspace()
    _setup(session, workspace)
    card = scorecards(session, workspace, pairs=[(TRAINER1, "clinical")], now=NOW)[
        (TRAINER1, "clinical")]
    # The same figure from the package's other input: trainers × items, ranks A=0 B=1 C=2.
    coders = [TRAINER1, NURSE, TRAINER3]
    rank = {"A": 0, "B": 1, "C": 2}
    data = np.array([[rank[LABELS[i][c]] if c in LABELS[i] else np.nan for i in LABELS]
                     for c in coders], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal",
                                  value_domain=[0, 1, 2])
    assert card.team_alpha == pytest.approx(expected)
    assert card.team_items == 4 and card.label_level == "ordinal"


def test_clarity_counts_each_reviewers_latest_rating_and_precision_is_the_standing(session):
    workspace = _workspace(clarity_threshold=0.9, min_graded=3)
    samples = _setup(session, workspace)
    for sample, reviewer, rating in [(samples[0], NURSE, "unclear"), (samples[0], NURSE, "clear"),
                                     (samples[0], DOCTOR, "unclear"), (samples[1], NURSE, "clear")]:
        record_clarity(session, workspace, sample_id=sample.id or 0, reviewer=reviewer,
                       rating=rating, reason="Which dose, and why not B?"
                       if rating == "unclear" else None, now=NOW)
        session.commit()
    for sample, grade in zip(samples, ["pass", "pass", "minor", "major"], strict=False):
        record_grade(session, workspace, sample_id=sample.id or 0, reviewer=DOCTOR, grade=grade,
                     category=None if grade == "pass" else "Other",
                     explanation=None if grade == "pass" else WHY, now=NOW)
        session.commit()
    card = scorecards(session, workspace, pairs=[(TRAINER1, "clinical")], now=NOW)[
        (TRAINER1, "clinical")]
    assert (card.clarity.value, card.clarity.n) == (2 / 3, 3)
    assert (card.clarity.lower, card.clarity.upper) == bounds(2, 3, 0.9)
    assert card.clarity.watch  # 0.67 < 0.9 on 3 ratings, min_graded 3
    assert "clarity" in card.watch and "consistency" not in card.watch
    standing = tally_standings(session, workspace, pairs=[(TRAINER1, "clinical")],
                               now=NOW)[(TRAINER1, "clinical")]
    assert card.precision.value == standing.score == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert (card.precision.lower, card.precision.upper, card.precision.n) == (
        standing.lower, standing.upper, 4)


def test_the_reads_do_not_grow_with_the_number_of_trainers(session):
    data = workspace_data()
    data["task_types"][0].update(label_scale="ordinal", labels=["A", "B", "C"])
    many = [f"U0T{i:05d}" for i in range(12)]
    data["trainers"] += [{"user": user, "task_types": ["clinical"]} for user in many]
    workspace = parse_workspace(data)
    records = []
    for n, user in enumerate(many):
        record = output_record(n, trainer=user, created_at=NOW - timedelta(hours=1 + n))
        record.update(item=f"i{n % 3}", label="ABC"[n % 2])
        records.append(record)
    trainers, task_types = roster_from_workspace(workspace)
    assert ingest(session, records_from_json_array(records), known_trainers=trainers,
                  known_task_types=task_types, now=NOW).ok
    session.commit()
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:  # (connection, cursor, statement, ...)
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        scorecards(session, workspace, pairs=[(many[0], "clinical")], now=NOW)
        one = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
        statements.clear()
        cards = scorecards(session, workspace, pairs=[(u, "clinical") for u in many], now=NOW)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == one == 4
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum(c.consistency.n for c in cards.values()) > 0
