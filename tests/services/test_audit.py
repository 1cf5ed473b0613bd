"""The weekly audit's choices, on a real database (no Slack)."""

import json
from datetime import timedelta

from sqlalchemy import Engine, event
from sqlmodel import Session, select

from bot.services.audit import plan_weekly_audit
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.services.sampling import draw_sample
from bot.store.models import AuditThread, OutboxItem, Sample
from bot.store.models.tally import TrainerWeekTally
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.support.factories import (
    TRAINER1,
    TRAINER2,
    make_workspace,
    output_record,
    week_of_records,
    workspace_data,
)


def _ingest(session: Session, records: list[dict], workspace: Workspace | None = None) -> None:
    trainers, task_types = roster_from_workspace(workspace or make_workspace())
    report = ingest(session, records_from_json_array(records), known_trainers=trainers,
                    known_task_types=task_types, now=NOW)
    assert report.ok, report.rejected
    session.commit()


def test_audit_samples_each_trainer_once_per_week_and_owes_the_posts(session: Session):
    _ingest(session, week_of_records(NOW, count=8))
    workspace = make_workspace()
    summary = plan_weekly_audit(session, workspace, now=NOW)
    session.commit()
    assert summary.iso_week == "2026-W48"
    by_trainer = {(r.trainer, r.task_type): r for r in summary.results}
    assert by_trainer[(TRAINER1, "clinical")].outcome == "posted"
    assert by_trainer[(TRAINER1, "clinical")].samples == 5
    assert by_trainer[(TRAINER2, "legal")].outcome == "no outputs"
    assert "no outputs" in summary.describe()
    owed = session.exec(select(OutboxItem)).all()
    assert [o.kind for o in owed] == ["audit_parent"] + ["sample_post"] * 5

    again = plan_weekly_audit(session, workspace, now=NOW + timedelta(hours=1))
    session.commit()
    assert {r.outcome for r in again.results if r.trainer == TRAINER1} == {"already posted"}
    assert len(session.exec(select(OutboxItem)).all()) == 6


def test_stored_seed_and_population_re_derive_the_sample(session: Session):
    _ingest(session, week_of_records(NOW, count=12))
    plan_weekly_audit(session, make_workspace(), now=NOW)
    session.commit()
    thread = session.exec(select(AuditThread)).one()
    samples = session.exec(select(Sample).order_by(Sample.position)).all()
    population = json.loads(thread.population_json)
    assert len(population) == 12
    assert draw_sample(population, k=5, seed=thread.seed) == [s.output_id for s in samples]


def test_outputs_older_than_seven_days_or_in_the_future_are_not_eligible(session: Session):
    records = [
        output_record(1, created_at=NOW - timedelta(days=8)),
        output_record(2, created_at=NOW - timedelta(days=6, hours=23)),
        output_record(3, created_at=NOW + timedelta(hours=1)),
    ]
    _ingest(session, records)
    plan_weekly_audit(session, make_workspace(), now=NOW)
    session.commit()
    assert [s.output_id for s in session.exec(select(Sample)).all()] == [records[1]["id"]]


def test_an_output_is_never_audited_twice(session: Session):
    _ingest(session, week_of_records(NOW, count=3))
    plan_weekly_audit(session, make_workspace(), now=NOW)
    session.commit()
    # A week later the same outputs are older than 7 days anyway; a run a day later in the
    # next ISO week (Sunday→Monday) must not pick them again either.
    later = NOW + timedelta(days=7)
    _ingest(session, [output_record(50, created_at=later - timedelta(hours=2))])
    summary = plan_weekly_audit(session, make_workspace(), now=later)
    session.commit()
    ids = [s.output_id for s in session.exec(select(Sample)).all()]
    assert len(ids) == len(set(ids)) == 4
    assert summary.iso_week == "2026-W49"


def test_calibration_items_take_part_like_any_other(session: Session):
    records = [output_record(i, created_at=NOW - timedelta(hours=i + 1),
                             gold={"grade": "major", "note": "planted error"}) for i in range(3)]
    _ingest(session, records)
    plan_weekly_audit(session, make_workspace(), now=NOW)
    session.commit()
    assert len(session.exec(select(Sample)).all()) == 3


def test_samples_per_trainer_comes_from_the_policy(session: Session):
    _ingest(session, week_of_records(NOW, count=8))
    plan_weekly_audit(session, make_workspace(samples_per_trainer=2), now=NOW)
    session.commit()
    assert len(session.exec(select(Sample)).all()) == 2


def _team(size: int) -> Workspace:
    """The test workspace with ``size`` more trainers, spread over its two task types."""
    data = workspace_data(double_review_fraction=0.2)
    data["trainers"] += [{"user": f"U0TEAM{n:04d}", "task_types": [("clinical", "legal")[n % 2]]}
                         for n in range(size)]
    return parse_workspace(data)


def _statements_of_plan(engine: Engine, session: Session, workspace: Workspace, now) -> int:
    statements: list[str] = []

    def keep(*args) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", keep)
    try:
        summary = plan_weekly_audit(session, workspace, now=now)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    session.commit()
    assert {r.outcome for r in summary.results} == {"posted"}
    return len(statements)


def test_the_plan_costs_the_same_statements_for_a_team_of_4_or_of_40(engine: Engine,
                                                                      session: Session):
    counts = []
    for week, size in enumerate((4, 40)):
        now = NOW + timedelta(weeks=week)
        workspace = _team(size)
        _ingest(session, [output_record(100 * week + i, trainer=t.user,
                                        task_type=t.task_types[0],
                                        created_at=now - timedelta(hours=6 + 24 * i))
                          for t in workspace.trainers for i in range(6)], workspace)
        counts.append(_statements_of_plan(engine, session, workspace, now))
    assert counts[0] == counts[1]
    # What it stored is what the thread-by-thread plan stored: a thread per trainer, its
    # samples, their posts owed parent first, and the week's ungraded tally.
    threads = session.exec(select(AuditThread).where(AuditThread.iso_week == "2026-W49")).all()
    assert len(threads) == 3 + 40
    owed = session.exec(select(OutboxItem).order_by(OutboxItem.id)).all()
    for thread in threads:
        samples = session.exec(select(Sample).where(Sample.thread_id == thread.id)
                               .order_by(Sample.position)).all()
        assert [s.position for s in samples] == list(range(thread.sample_count))
        mine = [o for o in owed if (o.kind, o.ref_id) in
                {("audit_parent", thread.id)} | {("sample_post", s.id) for s in samples}]
        assert [o.kind for o in mine] == ["audit_parent"] + ["sample_post"] * len(samples)
        assert {o.channel for o in mine} == {thread.channel}
        assert draw_sample(json.loads(thread.population_json), k=len(samples),
                           seed=thread.seed) == [s.output_id for s in samples]
        tally = session.exec(select(TrainerWeekTally).where(
            TrainerWeekTally.trainer == thread.trainer,
            TrainerWeekTally.iso_week == thread.iso_week)).one()
        assert (tally.kind, tally.samples) == ("", len(samples))
