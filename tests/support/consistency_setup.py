"""Set-up for consistency tests: audited weeks whose samples are double-reviewed, and grades.

    workspace = double_review_workspace(agreement_min_samples=4)
    samples = audited(session, workspace, count=5, gold=["major", None, "pass", ...])
    grade(session, workspace, samples[0], NURSE, "pass")
"""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.common.clock import iso_week
from bot.services.audit import plan_weekly_audit
from bot.services.grading import GradeOutcome, record_grade
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.store.models import AuditThread, Sample
from bot.workspace import Workspace, parse_workspace
from tests.conftest import NOW
from tests.support.factories import TRAINER1, week_of_records, workspace_data

WHY = "Recommends ibuprofen although the patient has stated CKD stage 3."
GOLD_NOTE = "Ibuprofen is contraindicated with the stated CKD stage 3."


def double_review_workspace(*, trainers: list[dict] | None = None,
                            **policy: Any) -> Workspace:
    """The test workspace with every sample double-reviewed (unless ``policy`` says else)."""
    data = workspace_data(**{"double_review_fraction": 1.0, **policy})
    if trainers is not None:
        data["trainers"] = trainers
    return parse_workspace(data)


def audited(session: Session, workspace: Workspace, *, now: datetime = NOW,
            trainer: str = TRAINER1, task_type: str = "clinical", count: int = 5,
            gold: list[str | None] | None = None) -> list[Sample]:
    """One audit week of ``count`` samples for ``trainer`` (all of their outputs that week);
    ``gold[i]`` makes output i a calibration item with that grade. Committed."""
    records = week_of_records(now, trainer=trainer, task_type=task_type, count=count)
    for i, record in enumerate(records):
        record["id"] = f"{record['id']}-{iso_week(now)}"
        if gold and gold[i]:
            record["gold"] = {"grade": gold[i], "note": GOLD_NOTE}
    trainers, task_types = roster_from_workspace(workspace)
    report = ingest(session, records_from_json_array(records), known_trainers=trainers,
                    known_task_types=task_types, now=now)
    assert report.ok, report.rejected
    plan_weekly_audit(session, workspace, now=now)
    session.commit()
    thread = session.exec(select(AuditThread).where(
        AuditThread.trainer == trainer, AuditThread.task_type == task_type,
        AuditThread.iso_week == iso_week(now))).one()
    samples = session.exec(select(Sample).where(Sample.thread_id == thread.id)
                           .order_by(col(Sample.position))).all()
    by_output = {s.output_id: s for s in samples}
    return [by_output[r["id"]] for r in records if r["id"] in by_output]


def weeks_back(n: int) -> datetime:
    return NOW - timedelta(weeks=n)


def grade(session: Session, workspace: Workspace, sample: Sample, reviewer: str, value: str,
          *, now: datetime = NOW, category: str = "Unsafe advice") -> GradeOutcome:
    """Record a grade as a click or modal would (committed)."""
    outcome = record_grade(session, workspace, sample_id=sample.id or 0, reviewer=reviewer,
                           grade=value, category=None if value == "pass" else category,
                           explanation=None if value == "pass" else WHY, now=now)
    session.commit()
    return outcome
