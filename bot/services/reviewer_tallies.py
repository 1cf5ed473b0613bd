"""Per reviewer-week tallies of agreement and calibration, counted in the grading transaction.

Usage (the caller holds the sample's lock and commits)::

    reviewed(session, sample_id=7, reviewer="U0NURSE01", task_type="clinical",
             iso_week="2026-W48", double_review=True, gold=None)   # after its GradeEvent
    by_task = reviewer_tallies(session, weeks={"clinical": ["2026-W45", ..., "2026-W48"]})
    by_task["clinical"]["U0NURSE01"]   # Counter: kind → samples over the window

Agreement and calibration read a reviewer's grades as they first stood, and that never
changes once counted: a double review's blind pair (``agreement.blind_pair``) is fixed by the
second reviewer's first grade; a calibration item counts with each reviewer's first grade of
it. So each is counted once, by the grade that fixes it, into
``bot.store.models.tally.ReviewerWeekTally`` (kinds ``pair:mine:other``, ``gold:gold:first``), and
a read of the window touches a few rows per reviewer and week, never the grade events.
``recount`` counts a store filled before the tallies (migration 0022) from its events.
"""

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.services.agreement import Graded, blind_pair
from bot.store.models import GradeEvent
from bot.store.models.tally import ReviewerWeekTally

PAIR = "pair"
GOLD = "gold"


def pair_kind(mine: str, other: str) -> str:
    return f"{PAIR}:{mine}:{other}"


def gold_kind(gold: str, first: str) -> str:
    return f"{GOLD}:{gold}:{first}"


def split_kind(kind: str) -> tuple[str, str, str]:
    """``("pair", mine, other)`` or ``("gold", gold, first)``."""
    what, a, b = kind.split(":", 2)
    return what, a, b


def counted(events: Sequence[Graded], *, double_review: bool,
            gold: str | None) -> list[tuple[str, str]]:
    """What the last of ``events`` (every grade event of one sample, in order) adds to the
    tallies, as (reviewer, kind): the blind pair when it is the grade that fixes it, the
    calibration record when it is its reviewer's first grade of a calibration item."""
    if not events:
        return []
    reviewer, grade = events[-1]
    found: list[tuple[str, str]] = []
    if gold is not None and all(who != reviewer for who, _ in events[:-1]):
        found.append((reviewer, gold_kind(gold, grade)))
    if double_review and blind_pair(events[:-1]) is None:
        pair = blind_pair(events)
        if pair is not None:
            (first, a), (second, b) = pair
            found += [(first, pair_kind(a, b)), (second, pair_kind(b, a))]
    return found


def reviewed(session: Session, *, sample_id: int, reviewer: str, task_type: str,
             iso_week: str, double_review: bool, gold: str | None) -> None:
    """Count what the reviewer's grade event just added to ``sample_id`` (of ``task_type``
    and ``iso_week``; ``gold``: its calibration grade) fixes: one short read of its events,
    at most three rows bumped; nothing to read for a single review that is no calibration
    item."""
    if not double_review and gold is None:
        return  # counts in neither
    connection = session.connection()
    graded = [(who, grade) for who, grade in connection.execute(
        _SAMPLE_EVENTS, {"sample_id": sample_id}).all()]
    if not graded or graded[-1][0] != reviewer:
        return
    bump = _bump_statement(session.get_bind().dialect.name)
    # In a fixed order: two grades of other samples fixing pairs of the same two reviewers
    # (each the first of one) bump the same rows, and must not wait for each other in turn.
    for who, kind in sorted(counted(graded, double_review=double_review, gold=gold)):
        connection.execute(bump, {"task_type": task_type, "iso_week": iso_week,
                                  "reviewer": who, "kind": kind})


_EVENT = GradeEvent.__table__.c  # type: ignore[attr-defined]
# Built once: they run in a grade's transaction.
_SAMPLE_EVENTS = select_columns(_EVENT.reviewer, _EVENT.grade).where(
    _EVENT.sample_id == bindparam("sample_id")).order_by(_EVENT.id)


@functools.cache
def _bump_statement(dialect: str) -> Any:
    table = ReviewerWeekTally.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(
        task_type=bindparam("task_type"), iso_week=bindparam("iso_week"),
        reviewer=bindparam("reviewer"), kind=bindparam("kind"), samples=1,
    ).on_conflict_do_update(index_elements=["task_type", "iso_week", "reviewer", "kind"],
                            set_={"samples": table.c.samples + 1})


ByReviewer = dict[str, Counter[str]]  # reviewer → kind → samples


def reviewer_tallies(session: Session, *,
                     weeks: Mapping[str, Sequence[str]]) -> dict[str, ByReviewer]:
    """task type → reviewer → kind → samples over that task type's ``weeks``: one query for
    every task type asked (by the unique index's task type and week prefix)."""
    if not weeks:
        return {}
    every = sorted({w for ws in weeks.values() for w in ws})
    rows = session.connection().execute(
        select_columns(col(ReviewerWeekTally.task_type), col(ReviewerWeekTally.iso_week),
                       col(ReviewerWeekTally.reviewer), col(ReviewerWeekTally.kind),
                       col(ReviewerWeekTally.samples))
        .where(col(ReviewerWeekTally.task_type).in_(sorted(weeks)),
               col(ReviewerWeekTally.iso_week).in_(every))).all()
    wanted = {key: set(ws) for key, ws in weeks.items()}
    found: dict[str, ByReviewer] = {key: defaultdict(Counter) for key in weeks}
    for key, week, reviewer, kind, n in rows:
        if week in wanted[key] and n:
            found[key][reviewer][kind] += n
    return {key: dict(by) for key, by in found.items()}


def blind_pairs(by_reviewer: ByReviewer) -> list[tuple[str, str]]:
    """The window's blind grade pairs (each once, its grades in a fixed order) from the
    tallies: each pair is tallied once per side, ``pair:a:b`` and ``pair:b:a``."""
    sides: Counter[tuple[str, str]] = Counter()
    for kinds in by_reviewer.values():
        for kind, n in kinds.items():
            what, mine, other = split_kind(kind)
            if what == PAIR:
                sides[tuple(sorted((mine, other)))] += n  # type: ignore[index]
    return [pair for pair, n in sorted(sides.items()) for _ in range(n // 2)]


_EVENTS = """
SELECT grade_event.sample_id, grade_event.reviewer, grade_event.grade,
       audit_thread.task_type, audit_thread.iso_week, sample.needs_double_review,
       trainer_output.gold_grade
FROM grade_event
JOIN sample ON sample.id = grade_event.sample_id
JOIN audit_thread ON audit_thread.id = sample.thread_id
JOIN trainer_output ON trainer_output.id = sample.output_id
WHERE sample.needs_double_review OR trainer_output.gold_grade IS NOT NULL
ORDER BY grade_event.sample_id, grade_event.id
"""


def recount(connection: Connection) -> int:
    """Count every stored grade event into an empty ``reviewer_week_tally`` by ``counted``,
    as if each had been counted when it was recorded (migration 0022; a store filled
    without the bot). Returns the rows written."""
    tally: Counter[tuple[str, str, str, str]] = Counter()
    events: list[Graded] = []
    current: int | None = None
    for sample_id, reviewer, grade, key, week, double, gold in connection.execute(
            text(_EVENTS)):
        if sample_id != current:
            current, events = sample_id, []
        events.append((reviewer, grade))
        for who, kind in counted(events, double_review=bool(double), gold=gold):
            tally[(key, week, who, kind)] += 1
    rows = [{"task_type": k, "iso_week": w, "reviewer": r, "kind": kind, "samples": n}
            for (k, w, r, kind), n in tally.items()]
    if rows:
        connection.execute(text(
            "INSERT INTO reviewer_week_tally (task_type, iso_week, reviewer, kind, samples) "
            "VALUES (:task_type, :iso_week, :reviewer, :kind, :samples)"), rows)
    return len(rows)


def kinds_total(by_reviewer: ByReviewer, what: str) -> Iterable[tuple[str, str, str, int]]:
    """(reviewer, first value, second value, samples) of the tallies of one kind."""
    for reviewer, kinds in sorted(by_reviewer.items()):
        for kind, n in sorted(kinds.items()):
            tag, a, b = split_kind(kind)
            if tag == what:
                yield reviewer, a, b, n
