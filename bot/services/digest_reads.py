"""The weekly digest's per-trainer reads, computed by the store from the trainer-week tallies.

Usage::

    below = trainers_below(session, task_types=chosen, weeks=spans, kinds=kinds)
    below["clinical"]            # trainers whose window score is under the threshold
    candidates = mover_candidates(session, task_types=chosen, pair=("2026-W47", "2026-W48"),
                                  kinds=kinds, min_graded=2, shown=3, keep=configured)

Both return only the rows the digest names: who is below (it lists them) and, for the
movers, the ``shown`` largest rises and falls with their ties, never every trainer's
tallies: the store scores each trainer-week (``standings.trainer_week_scores``, the same
CASE over ``scoring.sample_score`` as the team's score) and filters, so a digest reads
O(rows named) whatever the team's size and history.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session

from bot.services.standings import trainer_week_scores
from bot.workspace import TaskType


def trainers_below(session: Session, *, task_types: Sequence[TaskType],
                   weeks: Mapping[str, Sequence[str]],
                   kinds: Iterable[str]) -> dict[str, set[str]]:
    """task type → trainers with graded samples over its ``weeks`` whose mean score is
    below the task type's pass threshold: one grouped query."""
    per_week = trainer_week_scores(task_types=task_types, weeks=weeks, kinds=kinds)
    if per_week is None:
        return {}
    threshold = case(*((per_week.c.task_type == t.key, t.policy.pass_threshold)
                       for t in task_types), else_=0.0)
    score = cast(func.sum(per_week.c.total), Float) / func.sum(per_week.c.n)
    rows = session.execute(
        select_columns(per_week.c.task_type, per_week.c.trainer)
        .group_by(per_week.c.task_type, per_week.c.trainer)
        .having(and_(func.sum(per_week.c.n) > 0, score < func.max(threshold)))).all()
    found: dict[str, set[str]] = {}
    for key, trainer in rows:
        found.setdefault(key, set()).add(trainer)
    return found


@dataclass(frozen=True)
class Change:
    task_type: str
    trainer: str
    before: float
    after: float


def mover_candidates(session: Session, *, task_types: Sequence[TaskType],
                     pair: tuple[str, str], kinds: Iterable[str], min_graded: int, shown: int,
                     keep: Callable[[str, str], bool]) -> list[Change]:
    """Every trainer with at least ``min_graded`` graded samples in both weeks of ``pair``
    whose score changed among the ``shown`` largest rises or falls (with all ties at the
    cut, so the caller's order decides among them), of those ``keep(task type, trainer)``
    accepts. The store ranks; a refused row (a trainer no longer configured) widens the
    cut and reads again."""
    before_week, after_week = pair
    per_week = trainer_week_scores(task_types=task_types,
                                   weeks={t.key: pair for t in task_types}, kinds=kinds)
    if per_week is None:
        return []

    def of(week: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.sum(case((per_week.c.iso_week == week, column), else_=0))

    b_total, b_n = of(before_week, per_week.c.total), of(before_week, per_week.c.n)
    a_total, a_n = of(after_week, per_week.c.total), of(after_week, per_week.c.n)
    both = (select_columns(per_week.c.task_type.label("task_type"),
                           per_week.c.trainer.label("trainer"),
                           (cast(b_total, Float) / b_n).label("before"),
                           (cast(a_total, Float) / a_n).label("after"))
            .group_by(per_week.c.task_type, per_week.c.trainer)
            .having(and_(b_n >= min_graded, a_n >= min_graded)).cte("both_weeks"))
    change = both.c.after - both.c.before
    cut = shown
    while True:
        rise_cut = (select_columns(change).where(change > 0).order_by(change.desc())
                    .limit(1).offset(cut - 1).scalar_subquery())
        fall_cut = (select_columns(change).where(change < 0).order_by(change)
                    .limit(1).offset(cut - 1).scalar_subquery())
        rows = session.execute(
            select_columns(both.c.task_type, both.c.trainer, both.c.before, both.c.after)
            .where(or_(and_(change > 0, change >= func.coalesce(rise_cut, 0.0)),
                       and_(change < 0, change <= func.coalesce(fall_cut, 0.0))))).all()
        found = [Change(k, u, float(b), float(a)) for k, u, b, a in rows]
        kept = [c for c in found if keep(c.task_type, c.trainer)]
        if len(kept) == len(found):
            return kept
        rises = sum(1 for c in kept if c.after > c.before)
        falls = len(kept) - rises
        all_rises = sum(1 for c in found if c.after > c.before) < cut
        all_falls = sum(1 for c in found if c.after < c.before) < cut
        if (rises >= shown or all_rises) and (falls >= shown or all_falls):
            return kept
        cut += len(found) - len(kept)
