"""The weekly audit: choose each trainer's samples and owe their posts, once per ISO week.

Usage (the caller commits)::

    summary = plan_weekly_audit(session, workspace, now=clock.now())
    print(summary.describe())

Exactly once lives in the store: ``audit_thread`` is unique per trainer, task type and
week, and ``sample.output_id`` is unique, so a second run, a concurrent run or a replica
finds the thread already there and owes nothing more.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import iso_week
from bot.models import AuditThread, Sample, TrainerOutput
from bot.services.escalation import open_escalation
from bot.services.outbox import OutboxKind, enqueue
from bot.services.people import audit_exemptions
from bot.services.sampling import double_review_positions, draw_sample, sample_seed
from bot.services.scoring import Standing, samples_for_next_audit
from bot.services.standings import all_standings, trainer_standing
from bot.services.tallies import added
from bot.workspace import TaskType, Workspace

LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class TrainerResult:
    trainer: str
    task_type: str
    outcome: str  # "posted" | "already posted" | "no outputs" | "paused" | "away"
    samples: int = 0
    population: int = 0


@dataclass
class AuditSummary:
    iso_week: str
    results: list[TrainerResult] = field(default_factory=list)

    @property
    def posted(self) -> list[TrainerResult]:
        return [r for r in self.results if r.outcome == "posted"]

    def describe(self) -> str:
        lines = [f"Weekly audit {self.iso_week}:"]
        for r in self.results:
            detail = f"{r.samples} of {r.population} outputs" if r.samples else ""
            lines.append(f"  {r.trainer} · {r.task_type}: {r.outcome} {detail}".rstrip())
        posted = self.posted
        lines.append(
            f"  {len(posted)} threads, {sum(r.samples for r in posted)} samples owed to Slack"
        )
        return "\n".join(lines)


def audit_week(workspace: Workspace, now: datetime) -> str:
    """The ISO week a run at ``now`` belongs to, in the workspace's time zone."""
    return iso_week(now.astimezone(workspace.tz))


def plan_weekly_audit(session: Session, workspace: Workspace, *, now: datetime) -> AuditSummary:
    week = audit_week(workspace, now)
    summary = AuditSummary(iso_week=week)
    exempt = audit_exemptions(session, workspace, now=now)  # paused or away: no audit
    # Every trainer's standing over the window that ended last week, from the tallies: one
    # query per task type, not one window of grades per trainer.
    standings = all_standings(session, workspace, now=now - LOOKBACK)
    for trainer in workspace.trainers:
        for key in trainer.task_types:
            if trainer.user in exempt:
                summary.results.append(TrainerResult(trainer.user, key, exempt[trainer.user]))
                continue
            result = _plan_trainer(
                session, workspace, task_type=workspace.task_type(key), trainer=trainer.user,
                week=week, now=now, last_week=standings.get((trainer.user, key)),
            )
            summary.results.append(result)
    return summary


def eligible_outputs(session: Session, *, trainer: str, task_type: str,
                     now: datetime) -> list[str]:
    """Ids of the trainer's outputs from the 7 days before ``now`` that were never audited
    (a lookup per output on the unique index of ``sample.output_id``, not every sample)."""
    audited = exists().where(col(Sample.output_id) == TrainerOutput.id)
    rows = session.exec(
        select(TrainerOutput.id).where(
            TrainerOutput.trainer == trainer,
            TrainerOutput.task_type == task_type,
            TrainerOutput.created_at >= now - LOOKBACK,
            TrainerOutput.created_at < now,
            ~audited,
        )
    ).all()
    return list(rows)


def sample_size(session: Session, workspace: Workspace, *, trainer: str, task_type: str,
                now: datetime, last_week: Standing | None = None) -> int:
    """How many samples this week: tightened on watch or escalation, reduced after a long
    clean record (``last_week``: the standing over the window ending with the week just
    finished; read here when not given)."""
    policy = workspace.task_type(task_type).policy
    if last_week is None:
        last_week, _ = trainer_standing(session, workspace, trainer=trainer,
                                        task_type=task_type, now=now - LOOKBACK)
    escalated = open_escalation(session, trainer=trainer, task_type=task_type) is not None
    return samples_for_next_audit(last_week, policy, escalation_open=escalated)


def _plan_trainer(session: Session, workspace: Workspace, *, task_type: TaskType, trainer: str,
                  week: str, now: datetime, last_week: Standing | None = None) -> TrainerResult:
    existing = session.exec(
        select(AuditThread).where(
            AuditThread.trainer == trainer,
            AuditThread.task_type == task_type.key,
            AuditThread.iso_week == week,
        )
    ).first()
    if existing is not None:
        return TrainerResult(trainer, task_type.key, "already posted", existing.sample_count)
    population = eligible_outputs(session, trainer=trainer, task_type=task_type.key, now=now)
    if not population:
        return TrainerResult(trainer, task_type.key, "no outputs")
    seed = sample_seed(trainer=trainer, task_type=task_type.key, iso_week=week)
    chosen = draw_sample(population, k=sample_size(session, workspace, trainer=trainer,
                                                   task_type=task_type.key, now=now,
                                                   last_week=last_week), seed=seed)
    doubles = double_review_positions(
        len(chosen), fraction=task_type.policy.double_review_fraction, seed=seed
    )
    try:
        with session.begin_nested():
            _store_thread(session, task_type=task_type, trainer=trainer, week=week, now=now,
                          seed=seed, population=sorted(population), chosen=chosen,
                          doubles=doubles)
    except IntegrityError:
        # Another run or replica stored this week's thread between our check and our insert.
        return TrainerResult(trainer, task_type.key, "already posted")
    return TrainerResult(trainer, task_type.key, "posted", len(chosen), len(population))


def _store_thread(session: Session, *, task_type: TaskType, trainer: str, week: str,
                  now: datetime, seed: str, population: list[str], chosen: list[str],
                  doubles: frozenset[int]) -> None:
    thread = AuditThread(
        trainer=trainer, task_type=task_type.key, iso_week=week, channel=task_type.channel,
        seed=seed, population_json=json.dumps(population), sample_count=len(chosen),
        created_at=now,
    )
    session.add(thread)
    session.flush()
    assert thread.id is not None
    enqueue(session, kind=OutboxKind.AUDIT_PARENT, ref_id=thread.id, channel=thread.channel,
            dedupe_key=f"{OutboxKind.AUDIT_PARENT}:{thread.id}", now=now)
    gold = set(session.exec(select(TrainerOutput.id).where(
        col(TrainerOutput.id).in_(chosen), col(TrainerOutput.gold_grade).is_not(None))).all())
    added(session, trainer=trainer, task_type=task_type.key, iso_week=week,
          samples=sum(1 for output_id in chosen if output_id not in gold))
    for position, output_id in enumerate(chosen):
        sample = Sample(thread_id=thread.id, output_id=output_id, position=position,
                        needs_double_review=position in doubles)
        session.add(sample)
        session.flush()
        assert sample.id is not None
        enqueue(session, kind=OutboxKind.SAMPLE_POST, ref_id=sample.id, channel=thread.channel,
                dedupe_key=f"{OutboxKind.SAMPLE_POST}:{sample.id}", now=now)
