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
Reads are bounded by the window and grouped: one query for labels, one for alpha and one for
ratings, whatever the number of trainers and task types, plus one tally read for all.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func

from bot.common.clock import iso_week
from bot.services.agreement import label_alpha, labels_match
from bot.services.scoring import Standing, bounds
from bot.services.standings import tally_standings, window_weeks
from bot.store.models import AuditThread, Sample, TrainerOutput
from bot.store.models.trainer import ClarityRating
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
    """The scorecard of each (trainer, task type) of ``pairs``: one tally read, one read
    each of labels, alpha and ratings for every task type of ``pairs`` (see the module
    docstring)."""
    if not pairs:
        return {}
    standings = tally_standings(session, workspace, pairs=list(pairs), now=now)
    by_task: dict[str, list[str]] = defaultdict(list)
    for trainer, key in pairs:
        by_task[key].append(trainer)
    windows = {key: _Window(workspace, workspace.task_type(key), now)
               for key in by_task}
    everyone = {key for key, trainers in by_task.items()
                if len(trainers) >= len(workspace.trainers_of(key))}
    labelled = _labelled(session, workspace, windows, until=now, by_task=by_task,
                         everyone=everyone)
    alphas = _team_alphas(session, workspace, windows, until=now)
    clarity_of = _clarity_shares(session, windows, by_task=by_task)
    cards: dict[Pair, Scorecard] = {}
    for key, trainers in by_task.items():
        task_type, weeks = windows[key].task_type, windows[key].weeks
        policy = task_type.policy
        scale = task_type.label_scale
        consistency = label_shares(labelled.get(key, []), trainers=trainers, weeks=weeks,
                                   level=scale.level)
        alpha, items = alphas.get(key, (None, 0))
        clarity = clarity_of.get(key, {})
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


class _Window:
    """A task type's window: its ISO weeks and when its first one starts."""

    def __init__(self, workspace: Workspace, task_type: TaskType, now: datetime) -> None:
        self.task_type = task_type
        self.weeks = window_weeks(workspace, now, task_type.policy.window_weeks)
        self.since = week_start(workspace, self.weeks[0])


def week_start(workspace: Workspace, week: str) -> datetime:
    """Monday 00:00 of ``week`` (``2026-W48``) in the workspace's time zone."""
    year, number = week.split("-W")
    monday = datetime.fromisocalendar(int(year), int(number), 1).date()
    return datetime.combine(monday, time(0), tzinfo=workspace.tz)


def _labelled_where(windows: Mapping[str, _Window], *,
                    until: datetime) -> list[ColumnElement[bool]]:
    """The labelled outputs of each task type's window (the partial index
    ``ix_output_labelled``): one condition per distinct window start."""
    starts: dict[datetime, list[str]] = defaultdict(list)
    for key, window in windows.items():
        starts[window.since].append(key)
    return [or_(*(and_(col(TrainerOutput.task_type).in_(sorted(keys)),
                       col(TrainerOutput.created_at) >= since)
                  for since, keys in starts.items())),
            col(TrainerOutput.item).is_not(None), col(TrainerOutput.label).is_not(None),
            col(TrainerOutput.created_at) <= until]


def _labelled(session: Session, workspace: Workspace, windows: Mapping[str, _Window], *,
              until: datetime, by_task: Mapping[str, Sequence[str]],
              everyone: set[str]) -> dict[str, list[Labelled]]:
    """Per task type, the window's labelled outputs: all of them (``everyone``), or those
    on the items the task type's trainers of ``by_task`` labelled. One query."""
    where = _labelled_where(windows, until=until)
    some = {key: trainers for key, trainers in by_task.items() if key not in everyone}
    if some:
        theirs = (select_columns(col(TrainerOutput.item))
                  .where(*where, or_(*(and_(col(TrainerOutput.task_type) == key,
                                            col(TrainerOutput.trainer).in_(sorted(set(ts))))
                                       for key, ts in some.items()))))
        where.append(or_(col(TrainerOutput.item).in_(theirs),
                         col(TrainerOutput.task_type).in_(sorted(everyone))))
    rows = session.execute(select_columns(
        col(TrainerOutput.task_type), col(TrainerOutput.trainer), col(TrainerOutput.item),
        col(TrainerOutput.label), col(TrainerOutput.created_at)).where(*where)).all()
    found: dict[str, list[Labelled]] = defaultdict(list)
    for key, trainer, item, label, created in rows:
        found[key].append((trainer, item, label, iso_week(created.astimezone(workspace.tz))))
    return found


def _team_alphas(session: Session, workspace: Workspace, windows: Mapping[str, _Window], *,
                 until: datetime) -> dict[str, tuple[float | None, int]]:
    """Per task type, alpha over the window's items labelled by two or more trainers, and
    how many there are: from each item's labels counted by the store (one row per item and
    label), one query for every task type."""
    trainers = func.count(func.distinct(col(TrainerOutput.trainer)))
    rows = session.execute(
        select_columns(col(TrainerOutput.task_type), col(TrainerOutput.item),
                       col(TrainerOutput.label), trainers)
        .where(*_labelled_where(windows, until=until))
        .group_by(col(TrainerOutput.task_type), col(TrainerOutput.item),
                  col(TrainerOutput.label))).all()
    units: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key, item, label, n in rows:
        units[key][item] += [label] * int(n)
    found = {}
    for key, window in windows.items():
        shared = [unit for unit in units.get(key, {}).values() if len(unit) >= 2]
        scale = window.task_type.label_scale
        found[key] = (label_alpha(shared, level=scale.level, order=scale.labels), len(shared))
    return found


def _clarity_shares(session: Session, windows: Mapping[str, _Window], *,
                    by_task: Mapping[str, Sequence[str]]) -> dict[str, dict[str, Share]]:
    """Per task type and trainer: ratings of their reasoning on the window's samples, and
    how many Clear. One query for every task type."""
    every = sorted({w for window in windows.values() for w in window.weeks})
    rows = session.execute(
        select_columns(col(AuditThread.task_type), col(AuditThread.trainer),
                       col(AuditThread.iso_week), col(ClarityRating.rating), func.count())
        .join(Sample, col(Sample.id) == ClarityRating.sample_id)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .where(col(AuditThread.task_type).in_(sorted(by_task)),
               col(AuditThread.iso_week).in_(every),
               col(AuditThread.trainer).in_(sorted({t for ts in by_task.values() for t in ts})))
        .group_by(col(AuditThread.task_type), col(AuditThread.trainer),
                  col(AuditThread.iso_week), col(ClarityRating.rating))).all()
    found: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(dict)
    for key, trainer, week, rating, n in rows:
        weeks = windows[key].weeks
        if week not in weeks or trainer not in by_task[key]:
            continue
        per = found[key].setdefault(trainer, {w: [0, 0] for w in weeks})
        per[week][1] += int(n)
        if rating == "clear":
            per[week][0] += int(n)
    return {key: {t: Share(hits=sum(h for h, _ in per.values()),
                           n=sum(n for _, n in per.values()),
                           weekly=tuple((per[w][0], per[w][1]) for w in windows[key].weeks))
                  for t, per in trainers.items()}
            for key, trainers in found.items()}


def week_span(weeks: Sequence[str]) -> str:
    """``2026-W45–W48`` for a window (one week: itself)."""
    return f"{weeks[0]}–{weeks[-1][-3:]}" if len(weeks) > 1 else weeks[0]


__all__ = ["DIMENSIONS", "Dimension", "Scorecard", "Share", "label_shares",
           "precision_dimension", "scorecards", "share_dimension", "week_span", "week_start"]
