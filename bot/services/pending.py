"""Samples waiting for someone's grade: `/audit pending`, reviewers' Home and reminders.

Usage::

    waiting = pending_for(session, workspace, user="U0NURSE01", limit=20)
    waiting.total, [s.trainer for s in waiting.samples]     # oldest first

A sample waits for ``user`` when it is in a task type they review, is neither their own
output nor a trainer's they lead, they have not graded it, and it still needs a grade:
nobody graded it yet, or it is marked for double review and only someone else did.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlmodel import Session, col, func

from bot.models import AuditThread, Grade, Sample, TrainerOutput
from bot.workspace import Workspace


@dataclass(frozen=True)
class PendingSample:
    sample_id: int
    task_type: str
    trainer: str
    week: str
    position: int  # 0-based
    count: int
    channel: str
    message_ts: str | None  # None until the post reached Slack
    waiting_since: datetime  # when the audit posted it
    second_review: bool  # double review, graded by someone else already


@dataclass(frozen=True)
class PendingList:
    user: str
    task_types: tuple[str, ...]  # the task types ``user`` reviews
    total: int
    samples: tuple[PendingSample, ...]  # oldest first, at most ``limit``


def pending_for(session: Session, workspace: Workspace, *, user: str, limit: int | None = None,
                audited_before: datetime | None = None) -> PendingList:
    """What waits for ``user``'s grade (only samples audited before ``audited_before``)."""
    task_types = tuple(t.key for t in workspace.reviewer_task_types(user))
    if not task_types:
        return PendingList(user=user, task_types=(), total=0, samples=())
    reviewers = func.count(func.distinct(Grade.reviewer))
    mine = func.sum(case((col(Grade.reviewer) == user, 1), else_=0))
    needed = case((col(Sample.needs_double_review), 2), else_=1)
    # SQLAlchemy's select(): SQLModel's is typed for at most four columns.
    query = (
        select(col(Sample.id), col(AuditThread.task_type), col(AuditThread.trainer),
               col(AuditThread.iso_week), col(Sample.position), col(AuditThread.sample_count),
               col(AuditThread.channel), col(Sample.message_ts), col(AuditThread.created_at),
               reviewers)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
        .where(col(AuditThread.task_type).in_(task_types), col(TrainerOutput.trainer) != user)
        .group_by(col(Sample.id), col(AuditThread.task_type), col(AuditThread.trainer),
                  col(AuditThread.iso_week), col(Sample.position), col(AuditThread.sample_count),
                  col(AuditThread.channel), col(Sample.message_ts), col(AuditThread.created_at),
                  col(AuditThread.id), col(Sample.needs_double_review))
        .having(func.coalesce(mine, 0) == 0, reviewers < needed)
        .order_by(col(AuditThread.created_at), col(AuditThread.id), col(Sample.position))
    )
    if audited_before is not None:
        query = query.where(col(AuditThread.created_at) < audited_before)
    led = [t.user for t in workspace.trainers if t.lead == user]
    if led:  # a lead never grades the trainers they lead (grading refuses it)
        query = query.where(col(AuditThread.trainer).not_in(led))
    rows = session.execute(query).all()
    samples = tuple(
        PendingSample(sample_id=sid, task_type=task_type, trainer=trainer, week=week,
                      position=position, count=count, channel=channel, message_ts=ts,
                      waiting_since=created, second_review=done > 0)
        for sid, task_type, trainer, week, position, count, channel, ts, created, done in rows
    )
    shown = samples if limit is None else samples[:limit]
    return PendingList(user=user, task_types=task_types, total=len(samples), samples=shown)
