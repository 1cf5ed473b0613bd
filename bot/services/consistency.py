"""Consistency over the window: do reviewers agree, and which trainers stand out below the rest.

Usage (plain data out, for `/audit status`, App Home and the managers' alerts)::

    for t in agreement_by_task_type(session, workspace, now=now):
        t.alpha, t.percent, t.double_reviewed, t.alert, t.reviewers
    for spread in outliers(session, workspace, now=now):
        spread.score_min, spread.score_max, spread.score_stdev, spread.outliers
    consistency_alerts(session, workspace, now=now)   # what managers should be told

Each task type is measured over its own window (``window_weeks`` ending with the week of
``now``). Calibration statistics are in ``bot.services.calibration``.

Agreement
---------
Over the window's double-reviewed samples with both reviews in, each review counted with
the grade it had while the pair was still blind (``agreement.blind_pair``): Krippendorff's
alpha (ordinal, pass > minor > major), the plain percent of samples where both gave the same
grade, and per reviewer the percent of their shared samples where the other agreed. The
alert: alpha below ``agreement_alert_alpha`` with at least ``agreement_min_samples``
double-reviewed samples.

Outliers
--------
A trainer is an outlier when their pass rate over the window is significantly below that of
the other trainers of the task type pooled: a one-sided Fisher exact test at
``OUTLIER_ALPHA`` = 0.05 (what ``scipy.stats.fisher_exact(..., alternative="less")`` returns,
computed exactly here in whole numbers: ``hypergeometric_cdf``). A sample
*passed* when every grade that counts is Pass (the settled grade for a settled dispute);
samples that count are the score's (no calibration items, no open disputes). So a trainer
exactly as good as the rest is flagged at most 5% of the time (Fisher's test is
conservative: less in practice); with k such trainers expect at most 0.05·k false flags
per look. It needs no minimum count: on few samples the test simply cannot reject.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.models import AuditThread, GradeEvent, Sample, TrainerOutput
from bot.services.agreement import blind_pair, ordinal_alpha, percent_agreement
from bot.services.audit import audit_week
from bot.services.calibration import ReviewerCalibration, calibration_by_reviewer
from bot.services.standings import window_samples, window_weeks
from bot.workspace import TaskType, Workspace

OUTLIER_ALPHA = 0.05


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

    @property
    def alert(self) -> bool:
        """Enough double reviews, and alpha below the bar: the scores cannot be trusted."""
        return (self.double_reviewed >= self.min_samples and self.alpha is not None
                and self.alpha < self.alert_below)


@dataclass(frozen=True)
class TrainerQuality:
    trainer: str
    graded: int
    passed: int
    score: float | None
    p_value: float | None  # of "pass rate below the rest"; None when nothing to compare
    outlier: bool

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class TaskSpread:
    task_type: str
    task_name: str
    weeks: tuple[str, ...]
    trainers: tuple[TrainerQuality, ...]
    test_alpha: float

    @property
    def scores(self) -> list[float]:
        return [t.score for t in self.trainers if t.score is not None]

    @property
    def score_min(self) -> float | None:
        return min(self.scores, default=None)

    @property
    def score_max(self) -> float | None:
        return max(self.scores, default=None)

    @property
    def score_mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def score_stdev(self) -> float | None:
        """The sample standard deviation of trainer scores (None below two trainers)."""
        return statistics.stdev(self.scores) if len(self.scores) >= 2 else None

    @property
    def outliers(self) -> tuple[TrainerQuality, ...]:
        return tuple(t for t in self.trainers if t.outlier)


@dataclass(frozen=True)
class ConsistencyAlert:
    """Something managers should hear about, once per ISO week (``key`` says what)."""

    key: str
    week: str
    agreement: TaskAgreement | None = None
    calibration: ReviewerCalibration | None = None


def agreement_by_task_type(session: Session, workspace: Workspace, *,
                           now: datetime) -> list[TaskAgreement]:
    return [task_agreement(session, workspace, task_type=t, now=now)
            for t in workspace.task_types]


def task_agreement(session: Session, workspace: Workspace, *, task_type: TaskType,
                   now: datetime) -> TaskAgreement:
    weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
    events = session.exec(
        select(GradeEvent.sample_id, GradeEvent.reviewer, GradeEvent.grade)
        .join(Sample, col(Sample.id) == GradeEvent.sample_id)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .where(AuditThread.task_type == task_type.key, col(AuditThread.iso_week).in_(weeks),
               col(Sample.needs_double_review).is_(True))
        .order_by(col(GradeEvent.sample_id), col(GradeEvent.id))
    ).all()
    by_sample: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for sample_id, reviewer, grade in events:
        by_sample[sample_id].append((reviewer, grade))
    pairs = [p for p in (blind_pair(e) for e in by_sample.values()) if p is not None]
    shared: dict[str, int] = defaultdict(int)
    agreed: dict[str, int] = defaultdict(int)
    for (first, a), (second, b) in pairs:
        for reviewer in (first, second):
            shared[reviewer] += 1
            agreed[reviewer] += a == b
    policy = task_type.policy
    return TaskAgreement(
        task_type=task_type.key, task_name=task_type.name, weeks=tuple(weeks),
        double_reviewed=len(pairs),
        alpha=ordinal_alpha((a, b) for (_, a), (_, b) in pairs),
        percent=percent_agreement((a, b) for (_, a), (_, b) in pairs),
        reviewers=tuple(ReviewerAgreement(r, shared[r], agreed[r]) for r in sorted(shared)),
        alert_below=policy.agreement_alert_alpha, min_samples=policy.agreement_min_samples)


def outliers(session: Session, workspace: Workspace, *, now: datetime,
             alpha: float = OUTLIER_ALPHA) -> list[TaskSpread]:
    """Per task type: every trainer's score and pass rate, and who is significantly below."""
    return [_spread(session, workspace, task_type=t, now=now, alpha=alpha)
            for t in workspace.task_types]


def pass_rate_below_rest(passed: int, graded: int, *, rest_passed: int,
                         rest_graded: int) -> float:
    """One-sided Fisher exact p-value that a pass rate of ``passed / graded`` is below the
    rest's ``rest_passed / rest_graded`` (small: significantly below)."""
    # Given every sample's outcome, the trainer's graded samples are a draw of ``graded``
    # from all of them: the p-value is the chance of ``passed`` passes or fewer.
    return hypergeometric_cdf(passed, total=graded + rest_graded,
                              successes=passed + rest_passed, draws=graded)


def hypergeometric_cdf(k: int, *, total: int, successes: int, draws: int) -> float:
    """P(X <= k) for X the successes among ``draws`` taken without replacement from
    ``total`` items of which ``successes`` are successes (``scipy.stats.hypergeom.cdf(k,
    total, successes, draws)``).

    Exact: the tail's count of draws over all draws, in whole numbers, rounded once when
    divided. The terms C(successes, x) * C(total - successes, draws - x) follow each other
    by a whole-number ratio, so there are ``k`` multiplications, however large ``total``.
    """
    if not 0 <= successes <= total or not 0 <= draws <= total:
        raise ValueError(f"no such draw: {draws} of {total} with {successes} successes")
    failures = total - successes
    low = max(0, draws - failures)  # fewer successes than this cannot be drawn
    high = min(k, successes, draws)
    if high < low:
        return 0.0
    term = math.comb(successes, low) * math.comb(failures, draws - low)
    tail = term
    for x in range(low, high):
        term = term * (successes - x) * (draws - x) // ((x + 1) * (failures - draws + x + 1))
        tail += term
    return tail / math.comb(total, draws)


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


def _spread(session: Session, workspace: Workspace, *, task_type: TaskType, now: datetime,
            alpha: float) -> TaskSpread:
    weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
    policy = task_type.policy
    counts: dict[str, tuple[int, int, float]] = {}
    for trainer in workspace.trainers_of(task_type.key):
        samples, _ = window_samples(session, workspace, trainer=trainer.user,
                                    task_type=task_type.key, weeks=weeks)
        given = [s.grades for s in samples if s.grades]
        counts[trainer.user] = (
            len(given), sum(all(g == "pass" for g in grades) for grades in given),
            sum(sum(policy.weight(g) for g in grades) / len(grades) for grades in given))
    total_graded = sum(c[0] for c in counts.values())
    total_passed = sum(c[1] for c in counts.values())
    trainers = []
    for user, (graded, passed, total) in counts.items():
        rest_graded, rest_passed = total_graded - graded, total_passed - passed
        p_value = (pass_rate_below_rest(passed, graded, rest_passed=rest_passed,
                                        rest_graded=rest_graded)
                   if graded and rest_graded else None)
        trainers.append(TrainerQuality(
            trainer=user, graded=graded, passed=passed,
            score=total / graded if graded else None, p_value=p_value,
            outlier=p_value is not None and p_value < alpha))
    return TaskSpread(task_type=task_type.key, task_name=task_type.name, weeks=tuple(weeks),
                      trainers=tuple(trainers), test_alpha=alpha)
