"""One decision path: ``policy simulate``'s replay decides what the live bot decides.

A simulated trainer's history (which samples each week's audit draws, each grade and when
it arrives, late ones included) is played into the store through the real services: the
weekly audit (``plan_weekly_audit``, whose sample size comes from the live standing), the
grading service, and ``check_trainer`` at Monday 00:00 of every week and after every
grade. Each live check's state, and whether an escalation is open after it, must equal the
replay's; so must every week's audit size.
"""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.common.clock import iso_week
from bot.services.audit import plan_weekly_audit
from bot.services.escalation import check_trainer, open_escalation
from bot.services.grading import record_grade
from bot.services.ingest import ingest, records_from_json_array, roster_from_workspace
from bot.services.policy_sim import FIRST_MONDAY, replay
from bot.store.models import AuditThread, Sample
from bot.workspace import Workspace, parse_workspace
from tests.support.factories import LAWYER, TRAINER2, week_of_records, workspace_data

WHY = "The indemnity clause caps liability below the contract value."
WEEKS = 7


def _workspace() -> Workspace:
    data = workspace_data()
    data["trainers"] = [t for t in data["trainers"] if t["user"] == TRAINER2]  # legal
    return parse_workspace(data)


def _monday(workspace: Workspace, week: int) -> datetime:
    """Monday 00:00 of simulated week ``week``, in the workspace's time zone."""
    day = (FIRST_MONDAY + timedelta(weeks=week - 1)).date()
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(str(workspace.tz)))


@pytest.mark.parametrize(("seed", "score", "late"), [(1, 0.78, 0.3), (2, 0.86, 0.0),
                                                     (3, 0.70, 0.2), (4, 0.90, 0.3)])
def test_the_replay_decides_what_the_live_check_decides(session: Session, seed: int,
                                                        score: float, late: float):
    workspace = _workspace()
    policy = workspace.task_type("legal").policy
    run = replay(policy, lambda week: score, weeks=WEEKS, rng=random.Random(seed),
                 double_review=False, late_share=late)
    sims = {}
    for sid, week, _ in run.samples:
        sims.setdefault(week, []).append(sid)
    db_sample: dict[int, int] = {}  # the replay's sample id -> the store's
    checks = iter(run.checks)
    arrivals = iter(run.arrivals)
    trainers, task_types = roster_from_workspace(workspace)

    def live_check(now: datetime) -> None:
        expected = next(checks)
        outcome = check_trainer(session, workspace, trainer=TRAINER2, task_type="legal",
                                now=now)
        session.commit()
        is_open = open_escalation(session, trainer=TRAINER2, task_type="legal") is not None
        assert (outcome.state, is_open) == (expected.state, expected.escalation_open), (
            f"week {expected.week} at {now}")

    for week in range(1, WEEKS + 1):
        monday = _monday(workspace, week)
        assert iso_week(monday) == run.weeks[week - 1]
        live_check(monday + timedelta(seconds=30))
        plan_at = monday + timedelta(hours=9)
        records = week_of_records(plan_at, trainer=TRAINER2, task_type="legal", count=30)
        for record in records:
            record["id"] = f"{record['id']}-{iso_week(plan_at)}"
        report = ingest(session, records_from_json_array(records), known_trainers=trainers,
                        known_task_types=task_types, now=plan_at)
        assert report.ok, report.rejected
        plan_weekly_audit(session, workspace, now=plan_at)
        session.commit()
        thread = session.exec(select(AuditThread).where(
            AuditThread.trainer == TRAINER2, AuditThread.iso_week == run.weeks[week - 1])).one()
        assert thread.sample_count == run.sizes[week - 1]  # the same audit size
        samples = session.exec(select(Sample).where(Sample.thread_id == thread.id)
                               .order_by(col(Sample.position))).all()
        for sim_id, sample in zip(sims.get(week, []), samples, strict=True):
            db_sample[sim_id] = sample.id or 0
        # This week's grades (and last week's late ones), in the replay's order.
        moment = plan_at + timedelta(hours=1)
        while True:
            arrival = next(arrivals, None)
            if arrival is None:
                break
            if arrival[0] != week:
                arrivals = iter([arrival, *arrivals])
                break
            _, sim_id, grade = arrival
            moment += timedelta(minutes=10)
            record_grade(session, workspace, sample_id=db_sample[sim_id], reviewer=LAWYER,
                         grade=grade, category=None if grade == "pass" else "Other",
                         explanation=None if grade == "pass" else WHY, now=moment)
            session.commit()
            live_check(moment + timedelta(seconds=1))
    assert next(checks, None) is None
