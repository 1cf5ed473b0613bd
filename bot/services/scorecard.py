"""The trainer's scorecard: precision, consistency with other trainers, and clarity.

Usage::

    cards = scorecards(session, workspace, pairs=[("U0TRAINER1", "clinical")], now=now)
    card = cards[("U0TRAINER1", "clinical")]
    card.precision.value, card.precision.lower, card.precision.upper, card.precision.n
    card.consistency.weekly          # one value (or None) per window week, oldest first
    card.clarity.watch               # below [policy] clarity_threshold with enough data
    card.team_alpha                  # Krippendorff's alpha of the task type's trainers

Each dimension is over the task type's window (``window_weeks`` ISO weeks ending with the
week of ``now``), with an interval of two one-sided bounds at ``escalation_confidence``
(``bot.services.scoring.bounds``, exact Clopper–Pearson), its ``n`` and a weekly trend:

- **precision**: the weighted grade score, as the standings read it from the trainer-week
  tallies (``standings.tally_standings``): the same number, bounds and weeks as
  `/audit status`; only precision drives escalation.
- **consistency**: of every comparison of one of the trainer's labels with another
  trainer's label on the same ``item`` (outputs created in the window), the share that
  match. Nominal and ordinal scales match on the same label; an interval scale on the same
  number (``agreement.labels_match``): how far apart labels are counts in alpha, not here.
  The comparisons on one item are not independent, so the interval is a little narrower
  than the evidence; a week's value is over the trainer's outputs created that week.
  Beside it, ``team_alpha``: Krippendorff's alpha per task type at its declared level over
  the items labelled by two or more trainers (``agreement.label_alpha``).
- **clarity**: of the reviewers' ratings of the trainer's reasoning on samples audited in
  the window, the share rated Clear (each reviewer's latest rating counts once).

A dimension with a threshold (``[policy] consistency_threshold``, ``clarity_threshold``) is
on *watch* when its value is below it on at least ``min_graded`` comparisons or ratings.
Reads are bounded by the window and grouped: per task type one query for labels, one for
alpha and one for ratings, whatever the number of trainers, plus one tally read for all.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import ColumnElement
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func

from bot.clock import iso_week
from bot.models import AuditThread, Sample, TrainerOutput
from bot.models_trainer import ClarityRating
from bot.services.agreement import label_alpha, labels_match
from bot.services.scoring import Standing, bounds
from bot.services.standings import tally_standings, window_weeks
from bot.workspace import TaskType, Workspace

Pair = tuple[str, str]  # (trainer, task type key)
DIMENSIONS = ("precision", "consistency", "clarity")


@dataclass(frozen=True)
class Dimension:
    """One part of the scorecard: a share (or score) with its interval, ``n`` and trend."""

    name: str  # precision | consistency | clarity
    value: float | None
    lower: float | None
    upper: float | None
    n: int  # graded samples | label comparisons | ratings
    weekly: tuple[float | None, ...]  # per window week, oldest first
    threshold: float | None
    watch: bool  # below its threshold on enough data (precision: the standing's watch)


@dataclass(frozen=True)
class Scorecard:
    trainer: str
    task_type: str
    task_name: str
    weeks: tuple[str, ...]  # the window, oldest first
    confidence: float  # of each one-sided bound: [lower, upper] is a (2c - 1) interval
    precision: Dimension
    consistency: Dimension
    clarity: Dimension
    team_alpha: float | None  # the task type's trainers, at its label scale
    team_items: int  # items labelled by two or more trainers in the window
    label_level: str

    @property
    def dimensions(self) -> tuple[Dimension, Dimension, Dimension]:
        return self.precision, self.consistency, self.clarity

    @property
    def watch(self) -> tuple[str, ...]:
        """The dimensions on watch (precision's from the escalation rule's standing)."""
        return tuple(d.name for d in self.dimensions if d.watch)


@dataclass(frozen=True)
class Share:
    """Hits out of n, per week too: what consistency and clarity are made of."""

    hits: int = 0
    n: int = 0
    weekly: tuple[tuple[int, int], ...] = ()  # (hits, n) per window week


def share_dimension(name: str, share: Share, *, confidence: float, threshold: float | None,
                    min_n: int) -> Dimension:
    """A share as a dimension: value, Clopper–Pearson interval, trend and watch (pure)."""
    value = share.hits / share.n if share.n else None
    lower, upper = bounds(share.hits, share.n, confidence) if share.n else (None, None)
    watch = (threshold is not None and value is not None and share.n >= min_n
             and value < threshold)
    return Dimension(name=name, value=value, lower=lower, upper=upper, n=share.n,
                     weekly=tuple(h / n if n else None for h, n in share.weekly),
                     threshold=threshold, watch=watch)


def precision_dimension(current: Standing) -> Dimension:
    return Dimension(name="precision", value=current.score, lower=current.lower,
                     upper=current.upper, n=current.graded,
                     weekly=tuple(w.score for w in current.weekly),
                     threshold=current.threshold,
                     watch=current.state in ("watch", "escalate"))


Labelled = tuple[str, str, str, str]  # (trainer, item, label, ISO week)


def label_shares(rows: Iterable[Labelled], *, trainers: Iterable[str], weeks: Sequence[str],
                 level: str) -> dict[str, Share]:
    """Per trainer: of the comparisons of their labels with other trainers' labels on the
    same item, how many match (``labels_match`` at ``level``), in all and per week of
    their own label (pure)."""
    by_item: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for trainer, item, label, week in rows:
        by_item[item].append((trainer, label, week))
    wanted = set(trainers)
    tallies: dict[str, dict[str, list[int]]] = {t: {w: [0, 0] for w in weeks} for t in wanted}
    for labels in by_item.values():
        for trainer, label, week in labels:
            if trainer not in wanted or week not in tallies[trainer]:
                continue
            for other, other_label, _ in labels:
                if other == trainer:
                    continue
                tallies[trainer][week][1] += 1
                tallies[trainer][week][0] += labels_match(label, other_label, level=level)
    return {t: Share(hits=sum(h for h, _ in per.values()), n=sum(n for _, n in per.values()),
                     weekly=tuple((per[w][0], per[w][1]) for w in weeks))
            for t, per in tallies.items()}


def scorecards(session: Session, workspace: Workspace, *, pairs: Sequence[Pair],
               now: datetime) -> dict[Pair, Scorecard]:
    """The scorecard of each (trainer, task type) of ``pairs``: one tally read for all, and
    per task type one read each for labels, alpha and ratings (see the module docstring)."""
    if not pairs:
        return {}
    standings = tally_standings(session, workspace, pairs=list(pairs), now=now)
    by_task: dict[str, list[str]] = defaultdict(list)
    for trainer, key in pairs:
        by_task[key].append(trainer)
    cards: dict[Pair, Scorecard] = {}
    for key, trainers in by_task.items():
        task_type = workspace.task_type(key)
        policy = task_type.policy
        weeks = window_weeks(workspace, now, policy.window_weeks)
        since = week_start(workspace, weeks[0])
        everyone = len(trainers) >= len(workspace.trainers_of(key))
        scale = task_type.label_scale
        rows = _labelled(session, workspace, task_type, since=since, until=now,
                         trainers=None if everyone else trainers)
        consistency = label_shares(rows, trainers=trainers, weeks=weeks, level=scale.level)
        alpha, items = _team_alpha(session, task_type, since=since, until=now)
        clarity = _clarity_shares(session, key, trainers=trainers, weeks=weeks)
        for trainer in trainers:
            cards[(trainer, key)] = Scorecard(
                trainer=trainer, task_type=key, task_name=task_type.name, weeks=tuple(weeks),
                confidence=policy.escalation_confidence,
                precision=precision_dimension(standings[(trainer, key)]),
                consistency=share_dimension(
                    "consistency", consistency.get(trainer, Share(weekly=((0, 0),) * len(weeks))),
                    confidence=policy.escalation_confidence,
                    threshold=policy.consistency_threshold, min_n=policy.min_graded),
                clarity=share_dimension(
                    "clarity", clarity.get(trainer, Share(weekly=((0, 0),) * len(weeks))),
                    confidence=policy.escalation_confidence,
                    threshold=policy.clarity_threshold, min_n=policy.min_graded),
                team_alpha=alpha, team_items=items, label_level=scale.level)
    return cards


def week_start(workspace: Workspace, week: str) -> datetime:
    """Monday 00:00 of ``week`` (``2026-W48``) in the workspace's time zone."""
    year, number = week.split("-W")
    monday = datetime.fromisocalendar(int(year), int(number), 1).date()
    return datetime.combine(monday, time(0), tzinfo=workspace.tz)


def _labelled_where(task_type: TaskType, *, since: datetime,
                    until: datetime) -> list[ColumnElement[bool]]:
    return [col(TrainerOutput.task_type) == task_type.key,
            col(TrainerOutput.item).is_not(None), col(TrainerOutput.label).is_not(None),
            col(TrainerOutput.created_at) >= since, col(TrainerOutput.created_at) <= until]


def _labelled(session: Session, workspace: Workspace, task_type: TaskType, *,
              since: datetime, until: datetime,
              trainers: Sequence[str] | None) -> list[Labelled]:
    """The window's labelled outputs of the task type: all of them, or (``trainers``) those
    on the items these trainers labelled."""
    where = _labelled_where(task_type, since=since, until=until)
    if trainers is not None:
        theirs = (select_columns(col(TrainerOutput.item))
                  .where(*where, col(TrainerOutput.trainer).in_(sorted(set(trainers)))))
        where.append(col(TrainerOutput.item).in_(theirs))
    rows = session.execute(select_columns(
        col(TrainerOutput.trainer), col(TrainerOutput.item), col(TrainerOutput.label),
        col(TrainerOutput.created_at)).where(*where)).all()
    return [(trainer, item, label, iso_week(created.astimezone(workspace.tz)))
            for trainer, item, label, created in rows]


def _team_alpha(session: Session, task_type: TaskType, *, since: datetime,
                until: datetime) -> tuple[float | None, int]:
    """Alpha over the window's items labelled by two or more trainers, and how many there
    are: from each item's labels counted by the store (one row per item and label)."""
    trainers = func.count(func.distinct(col(TrainerOutput.trainer)))
    rows = session.execute(
        select_columns(col(TrainerOutput.item), col(TrainerOutput.label), trainers)
        .where(*_labelled_where(task_type, since=since, until=until))
        .group_by(col(TrainerOutput.item), col(TrainerOutput.label))).all()
    units: dict[str, list[str]] = defaultdict(list)
    for item, label, n in rows:
        units[item] += [label] * int(n)
    shared = [unit for unit in units.values() if len(unit) >= 2]
    scale = task_type.label_scale
    return label_alpha(shared, level=scale.level, order=scale.labels), len(shared)


def _clarity_shares(session: Session, key: str, *, trainers: Sequence[str],
                    weeks: Sequence[str]) -> dict[str, Share]:
    """Per trainer: ratings of their reasoning on the window's samples, and how many Clear."""
    rows = session.execute(
        select_columns(col(AuditThread.trainer), col(AuditThread.iso_week),
                       col(ClarityRating.rating), func.count())
        .join(Sample, col(Sample.id) == ClarityRating.sample_id)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .where(col(AuditThread.task_type) == key, col(AuditThread.iso_week).in_(weeks),
               col(AuditThread.trainer).in_(sorted(set(trainers))))
        .group_by(col(AuditThread.trainer), col(AuditThread.iso_week),
                  col(ClarityRating.rating))).all()
    found: dict[str, dict[str, list[int]]] = defaultdict(lambda: {w: [0, 0] for w in weeks})
    for trainer, week, rating, n in rows:
        found[trainer][week][1] += int(n)
        if rating == "clear":
            found[trainer][week][0] += int(n)
    return {t: Share(hits=sum(h for h, _ in per.values()), n=sum(n for _, n in per.values()),
                     weekly=tuple((per[w][0], per[w][1]) for w in weeks))
            for t, per in found.items()}


def week_span(weeks: Sequence[str]) -> str:
    """``2026-W45–W48`` for a window (one week: itself)."""
    return f"{weeks[0]}–{weeks[-1][-3:]}" if len(weeks) > 1 else weeks[0]


__all__ = ["DIMENSIONS", "Dimension", "Scorecard", "Share", "label_shares",
           "precision_dimension", "scorecards", "share_dimension", "week_span", "week_start"]
