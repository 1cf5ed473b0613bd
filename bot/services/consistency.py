"""Consistency over the window: do reviewers agree (and the alerts managers get when not).

Usage (plain data out, for `/audit status`, App Home and the managers' alerts)::

    for t in agreement_by_task_type(session, workspace, now=now):
        t.alpha, t.percent, t.double_reviewed, t.alert, t.reviewers
    consistency_alerts(session, workspace, now=now)   # what managers should be told

Each task type is measured over its own window (``window_weeks`` ending with the week of
``now``). Calibration statistics are in ``bot.services.calibration``.

Agreement
---------
Over the window's double-reviewed samples with both reviews in, each review counted with
the grade it had while the pair was still blind (``agreement.blind_pair``): Krippendorff's
alpha (ordinal, pass > minor > major), the plain percent of samples where both gave the same
grade, and per reviewer the percent of their shared samples where the other agreed; read
from the reviewer-week tallies that the grading transaction keeps (``bot.services.
reviewer_tallies``: the pair is counted once, by the grade that fixes it). The
alert: with at least ``agreement_min_samples`` double-reviewed samples, alpha confidently
below ``agreement_alert_alpha``: the one-sided bootstrap upper bound (units resampled, at
``escalation_confidence``) is below it. On the point estimate alone, 20 pairs from reviewers
whose true alpha is 0.8 alerted in about a quarter of windows.

Outliers across trainers are ``bot.services.outliers``.
"""

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlmodel import Session, col, select

from bot.services.agreement import (
    alpha_upper_bound,
    ordinal_alpha,
    percent_agreement,
)
from bot.services.audit import audit_week
from bot.services.calibration import ReviewerCalibration, calibration_by_reviewer
from bot.services.reviewer_tallies import (
    PAIR,
    ByReviewer,
    blind_pairs,
    kinds_total,
    reviewer_tallies,
)
from bot.services.standings import window_weeks
from bot.store.models import Sample, TrainerOutput
from bot.workspace import TaskType, Workspace


@dataclass(frozen=True)
class ReviewerAgreement:
    reviewer: str
    shared: int  # double-reviewed samples with both reviews in
    agreed: int  # of those, the other reviewer gave the same grade

    @property
    def percent(self) -> float | None:
        return self.agreed / self.shared if self.shared else None


@dataclass(frozen=True)
class TaskAgreement:
    task_type: str
    task_name: str
    weeks: tuple[str, ...]
    double_reviewed: int
    alpha: float | None  # None: undefined (no pair, or every grade the same)
    percent: float | None
    reviewers: tuple[ReviewerAgreement, ...]
    alert_below: float  # agreement_alert_alpha
    min_samples: int  # agreement_min_samples
    confidence: float = 0.9  # of the one-sided bound the alert tests (escalation_confidence)
    # The blind grade pairs alpha was computed on, for the bound (not shown, not compared).
    pairs: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def upper(self) -> float | None:
        """The bootstrap upper bound on alpha at ``confidence`` (``agreement.
        alpha_upper_bound``), seeded by the task type and window so every read agrees."""
        return alpha_upper_bound(self.pairs, confidence=self.confidence,
                                 seed=f"{self.task_type}:{','.join(self.weeks)}")

    @property
    def alert(self) -> bool:
        """Enough double reviews, and alpha confidently below the bar (its upper bound is
        below it, not merely the estimate): the scores cannot be trusted. The bootstrap
        runs only when the estimate itself is below the bar."""
        if (self.double_reviewed < self.min_samples or self.alpha is None
                or self.alpha >= self.alert_below):
            return False
        upper = self.upper
        return upper is not None and upper < self.alert_below


@dataclass(frozen=True)
class ConsistencyAlert:
    """Something managers should hear about, once per ISO week (``key`` says what)."""

    key: str
    week: str
    agreement: TaskAgreement | None = None
    calibration: ReviewerCalibration | None = None


def agreement_by_task_type(session: Session, workspace: Workspace, *,
                           now: datetime) -> list[TaskAgreement]:
    found = task_agreements(session, workspace, task_types=workspace.task_types, now=now)
    return [found[t.key] for t in workspace.task_types]


def task_agreement(session: Session, workspace: Workspace, *, task_type: TaskType,
                   now: datetime) -> TaskAgreement:
    return task_agreements(session, workspace, task_types=[task_type], now=now)[task_type.key]


def task_agreements(session: Session, workspace: Workspace, *, task_types: Sequence[TaskType],
                    now: datetime) -> dict[str, TaskAgreement]:
    """Each task type's agreement over its window, from the reviewer-week tallies kept with
    the grades (``bot.services.reviewer_tallies``): one query for all of ``task_types``."""
    weeks = {t.key: window_weeks(workspace, now, t.policy.window_weeks) for t in task_types}
    tallies = reviewer_tallies(session, weeks=weeks)
    return {t.key: agreement_of(t, weeks=weeks[t.key], by_reviewer=tallies.get(t.key, {}))
            for t in task_types}


def agreement_of(task_type: TaskType, *, weeks: Sequence[str],
                 by_reviewer: ByReviewer) -> TaskAgreement:
    """Alpha, percent and per reviewer agreement from the window's blind pairs as tallied."""
    pairs = blind_pairs(by_reviewer)
    shared: dict[str, int] = defaultdict(int)
    agreed: dict[str, int] = defaultdict(int)
    for reviewer, mine, other, n in kinds_total(by_reviewer, PAIR):
        shared[reviewer] += n
        agreed[reviewer] += n if mine == other else 0
    policy = task_type.policy
    return TaskAgreement(
        task_type=task_type.key, task_name=task_type.name, weeks=tuple(weeks),
        double_reviewed=len(pairs),
        alpha=_alpha(tuple(Counter(pairs).items())),
        percent=percent_agreement(pairs),
        reviewers=tuple(ReviewerAgreement(r, shared[r], agreed[r]) for r in sorted(shared)),
        alert_below=policy.agreement_alert_alpha, min_samples=policy.agreement_min_samples,
        confidence=policy.escalation_confidence, pairs=tuple(pairs))


@functools.lru_cache(maxsize=4096)
def _alpha(pairs: tuple[tuple[tuple[str, str], int], ...]) -> float | None:
    """``ordinal_alpha`` of the pairs, each given with how many times it occurs: a pure
    function of the tallies, kept, so the reads of a task type whose pairs did not change
    since (most reads: a week's grades arrive slowly) skip the computation."""
    return ordinal_alpha([pair for pair, n in pairs for _ in range(n)])


def consistency_alerts(session: Session, workspace: Workspace, *, now: datetime,
                       task_type: str | None = None) -> list[ConsistencyAlert]:
    """What managers should be told this week: task types whose reviewers do not share a
    standard, and reviewers who catch too few planted errors (of ``task_type`` or all)."""
    kinds = [workspace.task_type(task_type)] if task_type else list(workspace.task_types)
    return [alert for kind in kinds
            for alert in _alerts(session, workspace, kind=kind, now=now)]


def alerts_after_grade(session: Session, workspace: Workspace, *, now: datetime,
                       task_type: str, sample_id: int) -> list[ConsistencyAlert]:
    """``consistency_alerts`` of ``task_type`` that a grade of ``sample_id`` can have
    changed: agreement counts double-reviewed samples only and calibration calibration items
    only, so a grade of any other sample changes neither and costs one lookup. (The window
    moving on changes them without a grade: the scheduled check, ``owe_consistency_messages``,
    owes the new week's alerts for every task type.)"""
    row = session.exec(
        select(Sample.needs_double_review, TrainerOutput.gold_grade)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(Sample.id == sample_id)).first()
    if row is None:
        return []
    double, gold = row
    if not double and gold is None:
        return []
    return _alerts(session, workspace, kind=workspace.task_type(task_type), now=now,
                   agreement=bool(double), calibration=gold is not None)


def _alerts(session: Session, workspace: Workspace, *, kind: TaskType, now: datetime,
            agreement: bool = True, calibration: bool = True) -> list[ConsistencyAlert]:
    week = audit_week(workspace, now)
    alerts = []
    if agreement:
        measured = task_agreement(session, workspace, task_type=kind, now=now)
        if measured.alert:
            alerts.append(ConsistencyAlert(key=f"agreement:{kind.key}:{week}", week=week,
                                           agreement=measured))
    if calibration:
        for reviewer in calibration_by_reviewer(session, workspace, task_type=kind, now=now):
            if reviewer.flagged:
                alerts.append(ConsistencyAlert(
                    key=f"calibration:{kind.key}:{reviewer.reviewer}:{week}", week=week,
                    calibration=reviewer))
    return alerts
