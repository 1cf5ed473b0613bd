"""How each task type is doing: `/audit status`, the managers' Home and the weekly digest.

Usage::

    team = team_status(session, workspace, now=now, viewer="U0NURSE01")
    for t in team.task_types:
        t.name, t.score, t.lower, t.upper, t.graded_week, t.backlog, t.watch, t.escalated
        t.watch_others, t.escalated_others   # on the lists, not named to this viewer

Scores come from the trainer-week tallies (``bot.services.standings.task_type_summary``: the
same samples as the escalation check, kept with the grades), who is on watch from the
states the escalation check stored, and every query is bounded by the window (this week's
samples, the window's backlog), never by history; the counts of work (audited, graded,
backlog) include calibration items, which reviewers grade like any other sample. One row
per trainer is ``bot.services.trainer_rows``. Who is named on the watch and escalated lists
follows ``bot.services.visibility`` for the ``viewer``: a trainer sees the aggregates and
themself, never a peer's name (the others are a count).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.services.audit import audit_week
from bot.services.consistency import task_agreements
from bot.services.outliers import below_rest
from bot.services.people import audit_exemptions
from bot.services.standings import WindowSummary, task_type_summaries, window_weeks
from bot.services.visibility import split_visible
from bot.store.models import AuditThread, Escalation, TrainerState
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
    scored_trainers: int  # trainers in the score, each weighing the same
    watch: tuple[str, ...]  # trainers below the threshold, not (yet) escalated
    escalated: tuple[str, ...]  # trainers with an open escalation
    backlog: Backlog
    watch_others: int = 0  # on watch, but not the viewer's to see named
    escalated_others: int = 0
    # Significantly below the rest of the task type at the last scheduled check
    # (``bot.services.outliers``: weighted score, Benjamini–Hochberg), lowest first.
    below_rest: tuple[str, ...] = ()
    below_rest_others: int = 0
    # Krippendorff's alpha on the window's double-reviewed samples; None ("–") while
    # undefined (no pairs yet, or every grade the same).
    reviewer_agreement: float | None = None


@dataclass(frozen=True)
class TeamStatus:
    iso_week: str
    task_types: tuple[TaskTypeStatus, ...]


def team_status(session: Session, workspace: Workspace, *, now: datetime, viewer: str | None,
                task_types: Sequence[TaskType] | None = None) -> TeamStatus:
    """Each task type as ``viewer`` may see it (None: no person, everyone named).

    Set-based and bounded by the window: the scores come from the trainer-week tallies (a
    query per task type), who is on watch from the states the escalation check stored,
    the counts of this week's work and the backlog from this week's and the window's
    samples only."""
    week = audit_week(workspace, now)
    chosen = tuple(task_types if task_types is not None else workspace.task_types)
    exempt = audit_exemptions(session, workspace, now=now)
    keys = [t.key for t in chosen]
    counts = _week_counts(session, week=week, task_types=keys)
    all_weeks = sorted({w for t in chosen
                        for w in window_weeks(workspace, now, t.policy.window_weeks)})
    backlogs = backlog_by_task_type(session, weeks=all_weeks, task_types=keys)
    escalated = _open_escalations(session)
    below = _stored_below(session, [t.key for t in chosen])
    outliers = below_rest(session, task_types=keys)
    agreements = task_agreements(session, workspace, task_types=chosen, now=now)
    spans = {t.key: window_weeks(workspace, now, t.policy.window_weeks) for t in chosen}
    summaries = task_type_summaries(session, task_types=chosen, weeks=spans)
    result = []
    for task_type in chosen:
        weeks = spans[task_type.key]
        summary = summaries[task_type.key]
        status = _task_status(workspace, task_type, weeks=weeks, summary=summary,
                              below=below.get(task_type.key, set()), exempt=exempt,
                              counts=counts.get(task_type.key, {}),
                              backlog=backlogs.get(task_type.key, Backlog()),
                              escalated=escalated.get(task_type.key, ()))
        agreement = agreements[task_type.key]
        watch, watch_others = split_visible(workspace, viewer=viewer, trainers=status.watch)
        escalated_named, escalated_others = split_visible(workspace, viewer=viewer,
                                                          trainers=status.escalated)
        low, low_others = split_visible(workspace, viewer=viewer,
                                        trainers=outliers.get(task_type.key, ()))
        result.append(replace(status, reviewer_agreement=agreement.alpha, watch=watch,
                              watch_others=watch_others, escalated=escalated_named,
                              escalated_others=escalated_others, below_rest=low,
                              below_rest_others=low_others))
    return TeamStatus(iso_week=week, task_types=tuple(result))


def _task_status(workspace: Workspace, task_type: TaskType, *, weeks: list[str],
                 summary: WindowSummary, below: set[str], exempt: dict[str, str],
                 counts: dict[str, tuple[int, int]], backlog: Backlog,
                 escalated: tuple[str, ...]) -> TaskTypeStatus:
    policy = task_type.policy
    trainers = [t.user for t in workspace.trainers_of(task_type.key)]
    audited = [t for t in trainers if t in counts]
    away = tuple(t for t in trainers if exempt.get(t) == "away" and t not in counts)
    paused = tuple(t for t in trainers if exempt.get(t) == "paused" and t not in counts)
    absent = {*away, *paused}
    opened = set(escalated)
    watch = tuple(t for t in trainers if t not in opened and t in below)
    return TaskTypeStatus(
        key=task_type.key, name=task_type.name, threshold=policy.pass_threshold,
        confidence=policy.escalation_confidence, window=tuple(weeks),
        trainers=len(trainers), audited=len(audited), away=away, paused=paused,
        missing=tuple(t for t in trainers if t not in counts and t not in absent),
        samples_week=sum(counts[t][0] for t in audited),
        graded_week=sum(counts[t][1] for t in audited),
        samples_window=summary.audited, graded_window=summary.graded,
        score=summary.score, lower=summary.lower, upper=summary.upper,
        weekly=summary.weekly, scored_trainers=summary.trainers, watch=watch,
        escalated=escalated, backlog=backlog,
    )


def _stored_below(session: Session, keys: list[str]) -> dict[str, set[str]]:
    """task type → trainers the last escalation check found below the threshold."""
    rows = session.exec(select(TrainerState.task_type, TrainerState.trainer)
                        .where(col(TrainerState.task_type).in_(keys),
                               col(TrainerState.state).in_(("watch", "escalate")))).all()
    found: dict[str, set[str]] = defaultdict(set)
    for key, trainer in rows:
        found[key].add(trainer)
    return found


def _week_counts(session: Session, *, week: str,
                 task_types: Sequence[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """task type → trainer → (samples, graded samples) of the week's audit threads; a
    double review is graded once both its grades are in (as ``revealed`` says). One row per
    thread of the week: each keeps its graded count (``bot.services.work_counts``)."""
    rows = session.exec(
        select(AuditThread.task_type, AuditThread.trainer, AuditThread.sample_count,
               AuditThread.graded_samples)
        .where(AuditThread.iso_week == week, col(AuditThread.task_type).in_(task_types))).all()
    counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for task_type, trainer, samples, done in rows:
        counts[task_type][trainer] = (int(samples), int(done))
    return counts


def backlog_by_task_type(session: Session, *, weeks: Sequence[str],
                         task_types: Sequence[str] | None = None) -> dict[str, Backlog]:
    """Per task type (of ``task_types``, or all), the samples of ``weeks`` (the window)
    still needing a grade and when the oldest was audited: one grouped query over the
    window's threads (each keeps its graded count, ``bot.services.work_counts``)."""
    waiting = col(AuditThread.sample_count) - col(AuditThread.graded_samples)
    rows = session.exec(
        select(AuditThread.task_type, func.sum(waiting), func.min(AuditThread.created_at))
        .where(col(AuditThread.iso_week).in_(weeks), waiting > 0,
               *([col(AuditThread.task_type).in_(task_types)] if task_types is not None
                 else []))
        .group_by(col(AuditThread.task_type))).all()
    return {task_type: Backlog(waiting=int(n), oldest=oldest) for task_type, n, oldest in rows}


def _open_escalations(session: Session) -> dict[str, tuple[str, ...]]:
    rows = session.exec(select(Escalation.task_type, Escalation.trainer)
                        .where(Escalation.status == "open")
                        .order_by(col(Escalation.opened_at))).all()
    found: dict[str, list[str]] = defaultdict(list)
    for task_type, trainer in rows:
        found[task_type].append(trainer)
    return {k: tuple(v) for k, v in found.items()}
