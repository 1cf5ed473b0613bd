"""Per reviewer-week tallies of agreement and calibration, counted in the grading transaction.

Usage (the caller holds the sample's lock and commits)::

    reviewed(session, sample_id=7, reviewer="U0NURSE01")   # after adding the GradeEvent
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

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, text
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.services.agreement import Graded, blind_pair
from bot.store.models import AuditThread, GradeEvent, Sample, TrainerOutput
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


def reviewed(session: Session, *, sample_id: int, reviewer: str) -> None:
    """Count what the reviewer's grade event just added (flushed) to ``sample_id`` fixes:
    two short reads of the sample and its events, at most three rows bumped."""
    meta = session.execute(
        select_columns(col(AuditThread.task_type), col(AuditThread.iso_week),
                       col(Sample.needs_double_review), col(TrainerOutput.gold_grade))
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(col(Sample.id) == sample_id)).first()
    if meta is None:
        return
    task_type, week, double, gold = meta
    if not double and gold is None:
        return  # counts in neither
    events = session.execute(
        select_columns(col(GradeEvent.reviewer), col(GradeEvent.grade))
        .where(col(GradeEvent.sample_id) == sample_id).order_by(col(GradeEvent.id))).all()
    graded = [(who, grade) for who, grade in events]
    if not graded or graded[-1][0] != reviewer:
        return
    # In a fixed order: two grades of other samples fixing pairs of the same two reviewers
    # (each the first of one) bump the same rows, and must not wait for each other in turn.
    for who, kind in sorted(counted(graded, double_review=bool(double), gold=gold)):
        _bump(session, task_type=task_type, iso_week=week, reviewer=who, kind=kind)


def _bump(session: Session, *, task_type: str, iso_week: str, reviewer: str,
          kind: str) -> None:
    table = ReviewerWeekTally.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(task_type=task_type, iso_week=iso_week,
                                     reviewer=reviewer, kind=kind, samples=1)
    session.execute(statement.on_conflict_do_update(
        index_elements=["task_type", "iso_week", "reviewer", "kind"],
        set_={"samples": table.c.samples + 1}))


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
