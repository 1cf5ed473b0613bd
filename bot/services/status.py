"""How each task type is doing: `/audit status`, the managers' Home and the weekly digest.

Usage::

    team = team_status(session, workspace, now=now, viewer="U0NURSE01")
    for t in team.task_types:
        t.name, t.score, t.lower, t.upper, t.graded_week, t.backlog, t.watch, t.escalated
        t.watch_others, t.escalated_others   # on the lists, not named to this viewer

Scores come from ``bot.services.standings`` (the same samples and rule as the escalation
check); the counts of work (audited, graded, backlog) include calibration items, which
reviewers grade like any other sample. Who is named on the watch and escalated lists
follows ``bot.services.visibility`` for the ``viewer``: a trainer sees the aggregates and
themself, never a peer's name (the others are a count).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, case
from sqlmodel import Session, col, func, select

from bot.models import AuditThread, Escalation, Grade, Sample
from bot.services.audit import audit_week
from bot.services.blind import revealed
from bot.services.consistency import task_agreement
from bot.services.people import audit_exemptions
from bot.services.scoring import GradedSample, Standing, standing
from bot.services.standings import window_samples, window_weeks
from bot.services.visibility import may_see_trainer, split_visible
from bot.workspace import TaskType, Workspace


@dataclass(frozen=True)
class Backlog:
    """Samples still needing a grade: ungraded, or double-review ones with one review."""

    waiting: int = 0
    oldest: datetime | None = None  # when the oldest of them was audited


@dataclass(frozen=True)
class TaskTypeStatus:
    key: str
    name: str
    threshold: float
    confidence: float  # of each one-sided bound: [lower, upper] is a (2c - 1) interval
    window: tuple[str, ...]  # ISO weeks, oldest first
    trainers: int  # in the config
    audited: int  # trainers with a thread this week
    away: tuple[str, ...]  # not audited this week because away (not missing)
    paused: tuple[str, ...]
    missing: tuple[str, ...]  # neither audited this week nor away or paused
    samples_week: int
    graded_week: int
    samples_window: int
    graded_window: int
    score: float | None  # all trainers' graded samples over the window
    lower: float | None
    upper: float | None
    weekly: tuple[float | None, ...]  # the task type's score per window week
    watch: tuple[str, ...]  # trainers below the threshold, not (yet) escalated
    escalated: tuple[str, ...]  # trainers with an open escalation
    backlog: Backlog
    watch_others: int = 0  # on watch, but not the viewer's to see named
    escalated_others: int = 0
    # Krippendorff's alpha on the window's double-reviewed samples; None ("–") while
    # undefined (no pairs yet, or every grade the same).
    reviewer_agreement: float | None = None


@dataclass(frozen=True)
class TeamStatus:
    iso_week: str
    task_types: tuple[TaskTypeStatus, ...]
    standings: dict[tuple[str, str], Standing] = field(default_factory=dict, compare=False)


def team_status(session: Session, workspace: Workspace, *, now: datetime, viewer: str | None,
                task_types: Sequence[TaskType] | None = None) -> TeamStatus:
    """Each task type as ``viewer`` may see it (None: no person, everyone named)."""
    week = audit_week(workspace, now)
    chosen = tuple(task_types if task_types is not None else workspace.task_types)
    exempt = audit_exemptions(session, workspace, now=now)
    counts = _week_counts(session, week=week)
    backlogs = backlog_by_task_type(session)
    escalated = _open_escalations(session)
    standings: dict[tuple[str, str], Standing] = {}
    result = []
    for task_type in chosen:
        weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
        everyone: list[GradedSample] = []
        for trainer in workspace.trainers_of(task_type.key):
            samples, _ = window_samples(session, workspace, trainer=trainer.user,
                                        task_type=task_type.key, weeks=weeks)
            standings[(trainer.user, task_type.key)] = standing(samples, task_type.policy,
                                                               weeks=weeks)
            everyone += samples
        status = _task_status(workspace, task_type, weeks=weeks, everyone=everyone,
                              standings=standings, exempt=exempt,
                              counts=counts.get(task_type.key, {}),
                              backlog=backlogs.get(task_type.key, Backlog()),
                              escalated=escalated.get(task_type.key, ()))
        agreement = task_agreement(session, workspace, task_type=task_type, now=now)
        watch, watch_others = split_visible(workspace, viewer=viewer, trainers=status.watch)
        escalated_named, escalated_others = split_visible(workspace, viewer=viewer,
                                                          trainers=status.escalated)
        result.append(replace(status, reviewer_agreement=agreement.alpha, watch=watch,
                              watch_others=watch_others, escalated=escalated_named,
                              escalated_others=escalated_others))
    shown = {key: s for key, s in standings.items()
             if may_see_trainer(workspace, viewer=viewer, trainer=key[0])}
    return TeamStatus(iso_week=week, task_types=tuple(result), standings=shown)


def _task_status(workspace: Workspace, task_type: TaskType, *, weeks: list[str],
                 everyone: list[GradedSample], standings: dict[tuple[str, str], Standing],
                 exempt: dict[str, str], counts: dict[str, tuple[int, int]],
                 backlog: Backlog, escalated: tuple[str, ...]) -> TaskTypeStatus:
    policy = task_type.policy
    overall = standing(everyone, policy, weeks=weeks)
    trainers = [t.user for t in workspace.trainers_of(task_type.key)]
    audited = [t for t in trainers if t in counts]
    away = tuple(t for t in trainers if exempt.get(t) == "away" and t not in counts)
    paused = tuple(t for t in trainers if exempt.get(t) == "paused" and t not in counts)
    watch = tuple(t for t in trainers if t not in escalated
                  and standings[(t, task_type.key)].state in ("watch", "escalate"))
    return TaskTypeStatus(
        key=task_type.key, name=task_type.name, threshold=policy.pass_threshold,
        confidence=policy.escalation_confidence, window=tuple(weeks),
        trainers=len(trainers), audited=len(audited), away=away, paused=paused,
        missing=tuple(t for t in trainers if t not in counts and t not in away + paused),
        samples_week=sum(counts[t][0] for t in audited),
        graded_week=sum(counts[t][1] for t in audited),
        samples_window=sum(w.audited for w in overall.weekly),
        graded_window=sum(w.graded for w in overall.weekly),
        score=overall.score, lower=overall.lower, upper=overall.upper,
        weekly=tuple(w.score for w in overall.weekly),
        watch=watch, escalated=escalated, backlog=backlog,
    )


def _week_counts(session: Session, *, week: str) -> dict[str, dict[str, tuple[int, int]]]:
    """task type → trainer → (samples, graded samples) of the week's audit threads; a
    double review is graded once both its grades are in (``revealed``)."""
    graded = select(Grade.sample_id).distinct()
    rows = session.exec(
        select(AuditThread.task_type, AuditThread.trainer, func.count(col(Sample.id)),
               func.sum(case((and_(col(Sample.id).in_(graded), revealed()), 1), else_=0)))
        .join(Sample, col(Sample.thread_id) == AuditThread.id)
        .where(AuditThread.iso_week == week)
        .group_by(col(AuditThread.task_type), col(AuditThread.trainer))
    ).all()
    counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for task_type, trainer, samples, done in rows:
        counts[task_type][trainer] = (int(samples), int(done or 0))
    return counts


def backlog_by_task_type(session: Session) -> dict[str, Backlog]:
    """Per task type, the samples still needing a grade and when the oldest was audited."""
    needed = case((col(Sample.needs_double_review), 2), else_=1)
    waiting = (
        select(Sample.id, AuditThread.task_type, AuditThread.created_at)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
        .group_by(col(Sample.id), col(AuditThread.task_type), col(AuditThread.created_at),
                  col(Sample.needs_double_review))
        .having(func.count(func.distinct(Grade.reviewer)) < needed)
        .subquery()
    )
    rows = session.exec(select(waiting.c.task_type, func.count(), func.min(waiting.c.created_at))
                        .group_by(waiting.c.task_type)).all()
    return {task_type: Backlog(waiting=int(n), oldest=oldest) for task_type, n, oldest in rows}


def _open_escalations(session: Session) -> dict[str, tuple[str, ...]]:
    rows = session.exec(select(Escalation.task_type, Escalation.trainer)
                        .where(Escalation.status == "open")
                        .order_by(col(Escalation.opened_at))).all()
    found: dict[str, list[str]] = defaultdict(list)
    for task_type, trainer in rows:
        found[task_type].append(trainer)
    return {k: tuple(v) for k, v in found.items()}
