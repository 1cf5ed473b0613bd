"""Per trainer-week tallies, moved in the transaction that changes what a sample counts as.

Usage (the caller commits; the same transaction as the change)::

    before = contribution(session, sample_id)     # lock the sample first (``lock_sample``)
    ... record the grade, or the settlement ...
    move(session, before, contribution(session, sample_id))
    added(session, trainer="U0T1", task_type="clinical", iso_week="2026-W48", samples=5)

    by_pair = window_tallies(session, pairs=[("U0T1", "clinical")], weeks=weeks)
    samples = as_samples(by_pair[("U0T1", "clinical")])   # what ``standing`` takes

What a sample counts as is one rule, ``sample_kind``, the same as ``window_samples``: not
at all when a calibration item or an open dispute (tallied as ``DISPUTED``, which no score
reads, so the disputes list finds the weeks that have one); ungraded (``""``) while nobody graded
it or while a double review is still blind (``bot.services.blind``); with the settled grade
once a manager settled its dispute; else with its reviewers' current grades.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, text
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from bot.models import AuditThread, Grade, Sample, TrainerOutput
from bot.models_consistency import DisputeSettlement
from bot.models_tally import TrainerWeekTally
from bot.services.scoring import GradedSample

UNGRADED = ""
SEP = "+"
DISPUTED = "!"  # an open dispute: counts in no score, tallied so lists can find its week


@dataclass(frozen=True)
class Contribution:
    """Where a sample counts: its trainer-week and kind (``None``: counts nowhere)."""

    trainer: str
    task_type: str
    iso_week: str
    kind: str | None


def sample_kind(grades: Sequence[str], *, double_review: bool, calibration: bool,
                settled: str | None) -> str | None:
    """The kind a sample counts as (see the module docstring); ``None``: not at all (a
    calibration item); ``DISPUTED``: not at all, an open dispute."""
    from bot.services.disputes import is_disagreement  # disputes imports this module

    if calibration:
        return None
    shown = list(grades) if not double_review or len(grades) >= 2 else []
    if len(shown) >= 2 and settled is not None:
        return settled
    if is_disagreement(shown):
        return DISPUTED
    return SEP.join(sorted(shown))


def lock_sample(session: Session, sample_id: int) -> None:
    """Serialise changes to one sample (FOR UPDATE on PostgreSQL; SQLite serialises
    writers): each transaction then reads the sample's contribution as the previous one
    left it."""
    session.exec(select(Sample.id).where(Sample.id == sample_id).with_for_update()).first()


def contribution(session: Session, sample_id: int) -> Contribution | None:
    """What the sample counts as now, from its grades (``None`` when it does not exist):
    one query, a row per grade (one row with no grade when nobody graded it)."""
    rows = session.execute(
        select_columns(col(AuditThread.trainer), col(AuditThread.task_type),
                       col(AuditThread.iso_week), col(Sample.needs_double_review),
                       col(TrainerOutput.gold_grade), col(DisputeSettlement.grade),
                       col(Grade.grade))
        .select_from(Sample)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .outerjoin(DisputeSettlement, col(DisputeSettlement.sample_id) == Sample.id)
        .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
        .where(col(Sample.id) == sample_id)).all()
    if not rows:
        return None
    trainer, task_type, week, double, gold, settled, _ = rows[0]
    grades = [row[6] for row in rows if row[6] is not None]
    kind = sample_kind(grades, double_review=bool(double), calibration=gold is not None,
                       settled=settled)
    return Contribution(trainer, task_type, week, kind)


def move(session: Session, before: Contribution | None, after: Contribution | None) -> None:
    """Take the sample out of its old kind and into its new one (if they differ)."""
    if before == after:
        return
    bumps = [(c, -1 if c is before else 1) for c in (before, after)
             if c is not None and c.kind is not None]
    # A fixed order over the rows, so two transactions moving samples between the same
    # two kinds in opposite directions cannot deadlock.
    for c, delta in sorted(bumps, key=lambda b: b[0].kind or ""):
        _bump(session, trainer=c.trainer, task_type=c.task_type, iso_week=c.iso_week,
              kind=c.kind or "", delta=delta)


def added(session: Session, *, trainer: str, task_type: str, iso_week: str,
          samples: int) -> None:
    """New audited samples (not calibration items), all ungraded."""
    if samples:
        _bump(session, trainer=trainer, task_type=task_type, iso_week=iso_week,
              kind=UNGRADED, delta=samples)


def _bump(session: Session, *, trainer: str, task_type: str, iso_week: str, kind: str,
          delta: int) -> None:
    table = TrainerWeekTally.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(trainer=trainer, task_type=task_type, iso_week=iso_week,
                                     kind=kind, samples=delta)
    session.execute(statement.on_conflict_do_update(
        index_elements=["trainer", "task_type", "iso_week", "kind"],
        set_={"samples": table.c.samples + delta}))


# --- reads ------------------------------------------------------------------------------------

Tally = dict[tuple[str, str], int]  # (iso week, kind) → samples
Pair = tuple[str, str]  # (trainer, task type)


def window_tallies(session: Session, *, weeks: Sequence[str], pairs: Iterable[Pair] = (),
                   task_type: str | None = None) -> dict[Pair, Tally]:
    """The tallies of ``weeks`` for ``pairs`` (or every trainer of ``task_type``): one
    query over the rows of the trainer-weeks asked, never the grades."""
    wanted = sorted(set(pairs))
    where: list[ColumnElement[bool]] = [col(TrainerWeekTally.iso_week).in_(weeks),
                                        col(TrainerWeekTally.samples) > 0,
                                        col(TrainerWeekTally.kind) != DISPUTED]
    if task_type is not None:
        where.append(col(TrainerWeekTally.task_type) == task_type)
    elif wanted:  # by the unique index's (trainer, task type) prefix; pairs checked below
        where += [col(TrainerWeekTally.trainer).in_(sorted({t for t, _ in wanted})),
                  col(TrainerWeekTally.task_type).in_(sorted({k for _, k in wanted}))]
    else:
        return {}
    # Core, not the ORM: plain tuples, thousands of them for a task type's every trainer.
    rows = session.connection().execute(  # SQLModel's select() is typed for four columns
        select_columns(col(TrainerWeekTally.trainer), col(TrainerWeekTally.task_type),
                       col(TrainerWeekTally.iso_week), col(TrainerWeekTally.kind),
                       col(TrainerWeekTally.samples)).where(*where)).all()
    asked = set(wanted)
    found: dict[Pair, Tally] = defaultdict(dict)
    for trainer, key, week, kind, n in rows:
        if task_type is not None or (trainer, key) in asked:
            found[(trainer, key)][(week, kind)] = n
    return dict(found)


def task_type_tally(session: Session, *, task_type: str, weeks: Sequence[str]) -> Tally:
    """Every trainer's tallies of ``task_type`` summed: (week, kind) → samples."""
    rows = session.exec(
        select(TrainerWeekTally.iso_week, TrainerWeekTally.kind,
               func.sum(TrainerWeekTally.samples))
        .where(TrainerWeekTally.task_type == task_type,
               col(TrainerWeekTally.iso_week).in_(weeks))
        .group_by(col(TrainerWeekTally.iso_week), col(TrainerWeekTally.kind))).all()
    return {(week, kind): int(n) for week, kind, n in rows if n and kind != DISPUTED}


def disputed_weeks(session: Session, *, task_types: Sequence[str],
                   weeks: Sequence[str]) -> list[tuple[str, str, str]]:
    """(trainer, task type, ISO week) of ``weeks`` that hold an open dispute."""
    rows = session.exec(
        select(TrainerWeekTally.trainer, TrainerWeekTally.task_type, TrainerWeekTally.iso_week)
        .where(TrainerWeekTally.kind == DISPUTED, col(TrainerWeekTally.samples) > 0,
               col(TrainerWeekTally.task_type).in_(task_types),
               col(TrainerWeekTally.iso_week).in_(weeks))).all()
    return [(trainer, key, week) for trainer, key, week in rows]


def as_samples(tally: Tally) -> list[GradedSample]:
    """Samples that count the same as the tallied ones (ids made up), for ``standing``."""
    samples: list[GradedSample] = []
    for (week, kind), n in sorted(tally.items()):
        if kind == DISPUTED:
            continue
        grades = tuple(kind.split(SEP)) if kind else ()
        samples += [GradedSample(sample_id=len(samples) + i, week=week, grades=grades)
                    for i in range(n)]
    return samples


_EVERY_SAMPLE = """
SELECT sample.id, audit_thread.trainer, audit_thread.task_type, audit_thread.iso_week,
       sample.needs_double_review, trainer_output.gold_grade, dispute_settlement.grade
FROM sample
JOIN audit_thread ON audit_thread.id = sample.thread_id
JOIN trainer_output ON trainer_output.id = sample.output_id
LEFT JOIN dispute_settlement ON dispute_settlement.sample_id = sample.id
"""


def recount(connection: Connection) -> int:
    """Count every stored sample into an empty ``trainer_week_tally`` from scratch, by
    ``sample_kind``: what migration 0011 does to a store graded before the tallies, and
    what a store filled without the bot (the benchmark's) needs. Returns the rows written."""
    grades: dict[int, list[str]] = defaultdict(list)
    for sample_id, grade in connection.execute(text("SELECT sample_id, grade FROM grade")):
        grades[sample_id].append(grade)
    tally: Counter[tuple[str, str, str, str]] = Counter()
    for sample_id, trainer, task_type, week, double, gold, settled in connection.execute(
            text(_EVERY_SAMPLE)):
        kind = sample_kind(grades.get(sample_id, []), double_review=bool(double),
                           calibration=gold is not None, settled=settled)
        if kind is not None:
            tally[(trainer, task_type, week, kind)] += 1
    rows = [{"trainer": t, "task_type": k, "iso_week": w, "kind": kind, "samples": n}
            for (t, k, w, kind), n in tally.items()]
    if rows:
        connection.execute(text(
            "INSERT INTO trainer_week_tally (trainer, task_type, iso_week, kind, samples) "
            "VALUES (:trainer, :task_type, :iso_week, :kind, :samples)"), rows)
    return len(rows)

