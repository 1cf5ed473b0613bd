"""The weekly audit's choices, on a real database (no Slack)."""

import json
from datetime import timedelta

from sqlmodel import Session, select

from bot.models import AuditThread, OutboxItem, Sample
from bot.services.audit import plan_weekly_audit
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.services.sampling import draw_sample
from tests.conftest import NOW
from tests.factories import TRAINER1, TRAINER2, make_workspace, output_record, week_of_records


def _ingest(session: Session, records: list[dict]) -> None:
    trainers, task_types = roster_from_workspace(make_workspace())
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
