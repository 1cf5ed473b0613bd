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

from sqlalchemy import case, exists, not_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func

from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
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
    samples: tuple[PendingSample, ...]  # oldest first, from ``offset``, at most ``limit``


def pending_for(session: Session, workspace: Workspace, *, user: str, limit: int | None = None,
                offset: int = 0, audited_before: datetime | None = None,
                now: datetime | None = None) -> PendingList:
    """What waits for ``user``'s grade (only samples audited before ``audited_before``):
    ``total`` in all, ``samples`` from the ``offset``-th, at most ``limit``. With ``now``,
    only the samples of each task type's window ending with the week of ``now``, so the
    query reads the window's samples and their grades, never the whole history."""
    reviewed = workspace.reviewer_task_types(user)
    task_types = tuple(t.key for t in reviewed)
    if not task_types:
        return PendingList(user=user, task_types=(), total=0, samples=())
    # Per sample, lookups by the grade index (never a join over all grades).
    graded, own = aliased(Grade), aliased(Grade)
    reviewers = (select(func.count(func.distinct(graded.reviewer)))
                 .where(col(graded.sample_id) == Sample.id).correlate(Sample).scalar_subquery())
    mine = exists().where(col(own.sample_id) == Sample.id, col(own.reviewer) == user)
    needed = case((col(Sample.needs_double_review), 2), else_=1)
    # SQLAlchemy's select(): SQLModel's is typed for at most four columns.
    query = (
        select(col(Sample.id), col(AuditThread.task_type), col(AuditThread.trainer),
               col(AuditThread.iso_week), col(Sample.position), col(AuditThread.sample_count),
               col(AuditThread.channel), col(Sample.message_ts), col(AuditThread.created_at),
               reviewers)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(col(AuditThread.task_type).in_(task_types), col(TrainerOutput.trainer) != user,
               # Only threads with a sample still short of grades (each thread keeps its
               # graded count, ``bot.services.work_counts``): fully graded weeks drop out
               # before any sample of theirs is looked at.
               col(AuditThread.graded_samples) < col(AuditThread.sample_count),
               not_(mine), reviewers < needed)
        .order_by(col(AuditThread.created_at), col(AuditThread.id), col(Sample.position))
    )
    if audited_before is not None:
        query = query.where(col(AuditThread.created_at) < audited_before)
    if now is not None:
        from bot.services.standings import window_weeks  # standings → disputes → grading

        query = query.where(col(AuditThread.iso_week).in_(sorted({
            w for t in reviewed for w in window_weeks(workspace, now, t.policy.window_weeks)})))
    led = [t.user for t in workspace.trainers if t.lead == user]
    if led:  # a lead never grades the trainers they lead (grading refuses it)
        query = query.where(col(AuditThread.trainer).not_in(led))
    total = session.execute(select(func.count()).select_from(
        query.order_by(None).subquery())).scalar_one()
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query.offset(offset)).all()
    samples = tuple(
        PendingSample(sample_id=sid, task_type=task_type, trainer=trainer, week=week,
                      position=position, count=count, channel=channel, message_ts=ts,
                      waiting_since=created, second_review=done > 0)
        for sid, task_type, trainer, week, position, count, channel, ts, created, done in rows
    )
    return PendingList(user=user, task_types=task_types, total=int(total), samples=samples)
