"""Per trainer-week tallies, moved in the transaction that changes what a sample counts as.

Usage (the caller commits; the same transaction as the change)::

    before = contribution(session, sample_id)     # lock the sample first (``lock_sample``)
    ... record the grade, or the settlement ...
    move(session, before, contribution(session, sample_id))
    added(session, trainer="U0T1", task_type="clinical", iso_week="2026-W48", samples=5)

    by_pair = window_tallies(session, pairs=[("U0T1", "clinical")], weeks=weeks)
    kinds = as_kinds(by_pair[("U0T1", "clinical")])   # what ``standings`` takes

What a sample counts as is one rule, ``sample_kind``, the same as ``window_samples``: not
at all when a calibration item; as not yet graded while nobody graded it, while a double
review is still blind (``bot.services.blind``) or while its reviewers disagree by a whole
step (tallied as ``DISPUTED``, read as ungraded, so the disputes list finds the weeks that
have one and the week is not fully graded); with the settled grade once a manager settled
its dispute, or with both grades (their mean) once the disagreement lapsed
(``[policy] disagreement_deadline``); else with its reviewers' current grades. A trainer's
dispute of the grade (``bot.services.trainer_disputes``) comes on top: while it is open the
sample counts as ungraded (in no score, and its week is not fully graded: the score waits
for the outcome), once overturned with the corrected grade, once upheld as before.

An adjudicated disagreement between trainers (``bot.services.disagreements``) counts too,
outside any sample: each involved trainer gets one graded sample in the ISO week of the
ruling, Pass when their label matched the ruling, else Minor issue (``ruled_verdicts``;
tallied by ``adjudicated`` in the ruling's transaction, read by ``window_samples`` and
``recount`` alike).
"""

import functools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, inspect, text, tuple_
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from bot.services.scoring import GradedSample, Kinds
from bot.services.work_counts import recount_graded
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.store.models.consistency import DisagreementLapse, DisputeSettlement
from bot.store.models.feedback import TrainerDispute
from bot.store.models.tally import TrainerWeekTally
from bot.store.models.trainer import Disagreement

UNGRADED = ""
SEP = "+"
DISPUTED = "!"  # an open disagreement: ungraded in every score, tallied so lists find it


@dataclass(frozen=True)
class Contribution:
    """Where a sample counts: its trainer-week and kind (``None``: counts nowhere)."""

    trainer: str
    task_type: str
    iso_week: str
    kind: str | None


def trainer_override(status: str | None, grade: str | None) -> str | None:
    """What a trainer dispute in ``status`` makes its sample count as, whatever its
    grades: ungraded while open (the score and the week wait for the outcome), the
    corrected grade once overturned; ``None``: no change (no dispute, or upheld)."""
    if status == "open":
        return UNGRADED
    if status == "overturned":
        return grade
    return None


def sample_kind(grades: Sequence[str], *, double_review: bool, calibration: bool,
                settled: str | None, overridden: str | None = None,
                lapsed: bool = False) -> str | None:
    """The kind a sample counts as (see the module docstring); ``None``: not at all (a
    calibration item); ``DISPUTED``: an open disagreement, not graded yet. ``overridden``:
    what a trainer's dispute makes it (``trainer_override``); ``lapsed``: the disagreement
    outlived its deadline, both grades count."""
    from bot.services.disputes import is_disagreement  # disputes imports this module

    if calibration:
        return None
    if overridden is not None:
        return overridden
    shown = list(grades) if not double_review or len(grades) >= 2 else []
    if len(shown) >= 2 and settled is not None:
        return settled
    if is_disagreement(shown):
        return SEP.join(sorted(shown)) if lapsed else DISPUTED
    return SEP.join(sorted(shown))


def lock_sample(session: Session, sample_id: int) -> None:
    """Serialise changes to one sample (FOR UPDATE on PostgreSQL; SQLite serialises
    writers): each transaction then reads the sample's contribution as the previous one
    left it."""
    if session.get_bind().dialect.name == "sqlite":
        return  # SQLite has no row locks: its one writer at a time is the serialisation
    session.connection().execute(_LOCK_SAMPLE, {"sample_id": sample_id}).first()


_SAMPLE = Sample.__table__.c  # type: ignore[attr-defined]
_LOCK_SAMPLE = select_columns(_SAMPLE.id).where(_SAMPLE.id == bindparam("sample_id")) \
    .with_for_update()


@dataclass(frozen=True)
class StoredGrade:
    """One reviewer's current grade of a sample, as stored."""

    id: int
    reviewer: str
    grade: str
    category: str | None
    explanation: str | None


@dataclass(frozen=True)
class SampleState:
    """What a change to a sample's grades reads of it, in one query (``sample_state``): where
    it counts, what decides its kind, who may judge it, and its current grades (first grader
    first)."""

    sample_id: int
    thread_id: int
    trainer: str
    task_type: str
    iso_week: str
    channel: str
    double_review: bool
    output_trainer: str
    gold: str | None
    settled: str | None
    dispute_status: str | None
    dispute_grade: str | None
    lapsed: bool
    grades: tuple[StoredGrade, ...]

    @property
    def graders(self) -> tuple[str, ...]:
        return tuple(g.reviewer for g in self.grades)

    def grade_of(self, reviewer: str) -> StoredGrade | None:
        return next((g for g in self.grades if g.reviewer == reviewer), None)

    def contribution(self) -> Contribution:
        kind = sample_kind(
            [g.grade for g in self.grades], double_review=self.double_review,
            calibration=self.gold is not None, settled=self.settled,
            overridden=(trainer_override(self.dispute_status, self.dispute_grade)
                        if self.dispute_status else None),
            lapsed=self.lapsed)
        return Contribution(self.trainer, self.task_type, self.iso_week, kind)

    def graded(self, reviewer: str, grade: StoredGrade) -> "SampleState":
        """This state once ``reviewer``'s current grade is ``grade`` (a new grader last)."""
        if self.grade_of(reviewer) is None:
            grades = (*self.grades, grade)
        else:
            grades = tuple(grade if g.reviewer == reviewer else g for g in self.grades)
        return replace(self, grades=grades)


# Built once: run in every grade's transaction, where building it cost more than running
# it (the store's write lock is held meanwhile). A row per grade, in the order they were
# first given (one row with no grade when nobody graded the sample).
_STATE = (
    select_columns(col(AuditThread.id), col(AuditThread.trainer), col(AuditThread.task_type),
                   col(AuditThread.iso_week), col(AuditThread.channel),
                   col(Sample.needs_double_review), col(TrainerOutput.trainer),
                   col(TrainerOutput.gold_grade), col(DisputeSettlement.grade),
                   col(TrainerDispute.status), col(TrainerDispute.grade),
                   col(DisagreementLapse.id), col(Grade.id), col(Grade.reviewer),
                   col(Grade.grade), col(Grade.category), col(Grade.explanation))
    .select_from(Sample)
    .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
    .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
    .outerjoin(DisputeSettlement, col(DisputeSettlement.sample_id) == Sample.id)
    .outerjoin(TrainerDispute, col(TrainerDispute.sample_id) == Sample.id)
    .outerjoin(DisagreementLapse, col(DisagreementLapse.sample_id) == Sample.id)
    .outerjoin(Grade, col(Grade.sample_id) == Sample.id)
    .where(col(Sample.id) == bindparam("sample_id"))
    .order_by(col(Grade.created_at), col(Grade.id)))


def sample_state(session: Session, sample_id: int) -> SampleState | None:
    """The sample's state now (``None`` when it does not exist): one query. Lock the sample
    first (``lock_sample``) when the transaction changes it."""
    # Core on the connection: the ORM's execution path costs more than the query here.
    rows: list[Any] = list(session.connection().execute(_STATE, {"sample_id": sample_id}))
    if not rows:
        return None
    (thread, trainer, task_type, week, channel, double, output_trainer, gold, settled,
     status, pushed, lapse) = rows[0][:12]
    grades = tuple(StoredGrade(*row[12:]) for row in rows if row[12] is not None)
    return SampleState(sample_id, thread, trainer, task_type, week, channel, bool(double),
                       output_trainer, gold, settled, status, pushed, lapse is not None,
                       grades)


def contribution(session: Session, sample_id: int) -> Contribution | None:
    """What the sample counts as now, from its grades (``None`` when it does not exist)."""
    state = sample_state(session, sample_id)
    return None if state is None else state.contribution()


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


def added_many(session: Session, counts: Sequence[tuple[str, str, str, int]]) -> None:
    """``added`` for many trainer-weeks at once, (trainer, task type, ISO week, samples)
    each: one batched upsert, for the weekly audit's plan of every trainer."""
    rows = [{"trainer": t, "task_type": k, "iso_week": w, "kind": UNGRADED, "samples": n}
            for t, k, w, n in counts if n]
    if not rows:
        return
    table = TrainerWeekTally.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    # A fixed order over the rows (as ``move`` keeps), so concurrent plans cannot deadlock.
    rows.sort(key=lambda r: (r["trainer"], r["task_type"], r["iso_week"]))
    session.execute(statement.on_conflict_do_update(
        index_elements=["trainer", "task_type", "iso_week", "kind"],
        set_={"samples": table.c.samples + statement.excluded.samples}), rows)


def adjudicated(session: Session, *, trainer: str, task_type: str, iso_week: str,
                grade: str) -> None:
    """One trainer's verdict on an adjudicated disagreement: one more graded sample."""
    _bump(session, trainer=trainer, task_type=task_type, iso_week=iso_week, kind=grade,
          delta=1)


@dataclass(frozen=True)
class Verdict:
    """How an adjudicated disagreement counts for one of its trainers."""

    disagreement_id: int
    trainer: str
    task_type: str
    iso_week: str  # of the ruling
    grade: str  # pass: their label was ruled right; minor: it was not


def verdicts_of(row: Disagreement) -> list[Verdict]:
    """The verdicts the ruling stored on the row (none before it is adjudicated)."""
    if row.ruled_week is None:
        return []
    return [Verdict(row.id or 0, entry["trainer"], row.task_type, row.ruled_week,
                    entry["verdict"])
            for entry in json.loads(row.labels_json) if entry.get("verdict")]


def ruled_verdicts(session: Session, *, task_type: str, weeks: Sequence[str],
                   trainer: str | None = None) -> list[Verdict]:
    """The verdicts of ``task_type``'s disagreements ruled in ``weeks`` (of ``trainer``):
    at most a few items a week per task type, so the rows are few."""
    rows = session.exec(select(Disagreement).where(
        Disagreement.task_type == task_type, col(Disagreement.ruled_week).in_(weeks))
        .order_by(col(Disagreement.id))).all()
    return [v for row in rows for v in verdicts_of(row)
            if trainer is None or v.trainer == trainer]


def _bump(session: Session, *, trainer: str, task_type: str, iso_week: str, kind: str,
          delta: int) -> None:
    session.connection().execute(_bump_statement(session.get_bind().dialect.name),
                    {"trainer": trainer, "task_type": task_type, "iso_week": iso_week,
                     "kind": kind, "samples": delta, "delta": delta})


@functools.cache
def _bump_statement(dialect: str) -> Any:
    """The tally upsert, built once per store (it runs in every grade's transaction)."""
    table = TrainerWeekTally.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_update(
        index_elements=["trainer", "task_type", "iso_week", "kind"],
        set_={"samples": table.c.samples + bindparam("delta")})


# --- reads ------------------------------------------------------------------------------------

Tally = dict[tuple[str, str], int]  # (iso week, kind) → samples
Pair = tuple[str, str]  # (trainer, task type)


def window_tallies(session: Session, *, weeks: Sequence[str], pairs: Iterable[Pair] = (),
                   task_type: str | None = None,
                   task_types: Sequence[str] | None = None) -> dict[Pair, Tally]:
    """The tallies of ``weeks`` for ``pairs`` (or every trainer of ``task_type``, or of
    each of ``task_types``): one query over the rows of the trainer-weeks asked, never the
    grades."""
    wanted = sorted(set(pairs))
    where: list[ColumnElement[bool]] = [col(TrainerWeekTally.iso_week).in_(weeks),
                                        col(TrainerWeekTally.samples) > 0]
    if task_types is not None:
        where.append(col(TrainerWeekTally.task_type).in_(task_types))
    elif task_type is not None:
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
    everyone = task_type is not None or task_types is not None  # no pair to check
    found: dict[Pair, Tally] = defaultdict(dict)
    for trainer, key, week, kind, n in rows:
        if everyone or (trainer, key) in asked:
            found[(trainer, key)][(week, kind)] = n
    return dict(found)


def task_type_tally(session: Session, *, task_type: str, weeks: Sequence[str]) -> Tally:
    """Every trainer's tallies of ``task_type`` summed: (week, kind) → samples."""
    return task_type_tallies(session, weeks={task_type: weeks}).get(task_type, {})


def task_type_tallies(session: Session, *,
                      weeks: Mapping[str, Sequence[str]]) -> dict[str, Tally]:
    """``task_type_tally`` of each task type of ``weeks`` over its weeks, in one grouped
    query (by ``ix_tally_task_week``: the index covers it)."""
    if not weeks:
        return {}
    every = sorted({w for ws in weeks.values() for w in ws})
    rows = session.exec(
        select(TrainerWeekTally.task_type, TrainerWeekTally.iso_week, TrainerWeekTally.kind,
               func.sum(TrainerWeekTally.samples))
        .where(col(TrainerWeekTally.task_type).in_(sorted(weeks)),
               col(TrainerWeekTally.iso_week).in_(every))
        .group_by(col(TrainerWeekTally.task_type), col(TrainerWeekTally.iso_week),
                  col(TrainerWeekTally.kind))).all()
    found: dict[str, Tally] = {}
    wanted = {key: set(ws) for key, ws in weeks.items()}
    for key, week, kind, n in rows:
        if n and week in wanted[key]:
            found.setdefault(key, {})[(week, kind)] = int(n)
    return found


def holds_dispute(*, task_types: Sequence[str], weeks: Sequence[str]) -> ColumnElement[bool]:
    """A condition on ``AuditThread`` of ``task_types`` and ``weeks``: its trainer-week
    holds an open dispute (a tally of kind ``DISPUTED``). The store reads those tallies by
    ``ix_tally_task_week`` and finds their threads by their unique key, so the lists of
    disputes look at the samples of those weeks only."""
    tally = TrainerWeekTally
    weeks_with_one = (
        select_columns(col(tally.trainer), col(tally.task_type), col(tally.iso_week))
        .where(col(tally.task_type).in_(task_types), col(tally.iso_week).in_(weeks),
               col(tally.kind) == DISPUTED, col(tally.samples) > 0))
    return tuple_(col(AuditThread.trainer), col(AuditThread.task_type),
                  col(AuditThread.iso_week)).in_(weeks_with_one)


@functools.lru_cache(maxsize=4096)  # a store holds a few dozen kinds, read by the thousand
def kind_grades(kind: str) -> tuple[str, ...]:
    """The grades a sample of ``kind`` counts with; none (not graded yet) when ungraded or
    an open disagreement."""
    return tuple(kind.split(SEP)) if kind and kind != DISPUTED else ()


def as_kinds(tally: Tally) -> Kinds:
    """One trainer's tally as ``scoring.standings`` counts samples: (week, grades) →
    samples, an open disagreement as not graded yet (its grades ``()``)."""
    kinds: dict[tuple[str, tuple[str, ...]], int] = {}
    for (week, kind), n in tally.items():
        grades = kind_grades(kind)
        kinds[(week, grades)] = kinds.get((week, grades), 0) + n
    return kinds


def as_samples(tally: Tally) -> list[GradedSample]:
    """Samples that count the same as the tallied ones (ids made up), for ``standing``:
    an open disagreement as not graded yet."""
    samples: list[GradedSample] = []
    for (week, kind), n in sorted(tally.items()):
        grades = kind_grades(kind)
        samples += [GradedSample(sample_id=len(samples) + i, week=week, grades=grades)
                    for i in range(n)]
    return samples


_EVERY_SAMPLE = """
SELECT sample.id, audit_thread.trainer, audit_thread.task_type, audit_thread.iso_week,
       sample.needs_double_review, trainer_output.gold_grade, dispute_settlement.grade,
       trainer_dispute.status, trainer_dispute.grade, disagreement_lapse.id
FROM sample
JOIN audit_thread ON audit_thread.id = sample.thread_id
JOIN trainer_output ON trainer_output.id = sample.output_id
LEFT JOIN dispute_settlement ON dispute_settlement.sample_id = sample.id
LEFT JOIN trainer_dispute ON trainer_dispute.sample_id = sample.id
LEFT JOIN disagreement_lapse ON disagreement_lapse.sample_id = sample.id
"""


def recount(connection: Connection) -> int:
    """Count every stored sample into an empty ``trainer_week_tally`` from scratch, by
    ``sample_kind`` (and set each audit thread's ``graded_samples``, ``work_counts``): what
    migration 0011 does to a store graded before the tallies, and what a store filled
    without the bot (the benchmark's, a test's) needs. Returns the rows written."""
    grades: dict[int, list[str]] = defaultdict(list)
    for sample_id, grade in connection.execute(text("SELECT sample_id, grade FROM grade")):
        grades[sample_id].append(grade)
    tally: Counter[tuple[str, str, str, str]] = Counter()
    every = _EVERY_SAMPLE
    if "trainer_dispute" not in inspect(connection).get_table_names():  # migration 0011
        every = every.replace("trainer_dispute.status, trainer_dispute.grade, "
                              "disagreement_lapse.id", "NULL, NULL, NULL")
        every = "\n".join(line for line in every.split("\n")
                          if "trainer_dispute ON" not in line
                          and "disagreement_lapse ON" not in line)
    for (sample_id, trainer, task_type, week, double, gold, settled, status,
         corrected, lapsed) in connection.execute(text(every)):
        kind = sample_kind(grades.get(sample_id, []), double_review=bool(double),
                           calibration=gold is not None, settled=settled,
                           overridden=trainer_override(status, corrected),
                           lapsed=lapsed is not None)
        if kind is not None:
            tally[(trainer, task_type, week, kind)] += 1
    if _has_column(connection, "disagreement", "ruled_week"):  # migration 0019 on
        for labels_json, key, week in connection.execute(text(
                "SELECT labels_json, task_type, ruled_week FROM disagreement "
                "WHERE ruled_week IS NOT NULL")):
            for entry in json.loads(labels_json):
                if entry.get("verdict"):
                    tally[(entry["trainer"], key, week, entry["verdict"])] += 1
    if _has_column(connection, "audit_thread", "graded_samples"):  # migration 0022 on
        recount_graded(connection)  # the threads' counts of work, from the same grades
    rows = [{"trainer": t, "task_type": k, "iso_week": w, "kind": kind, "samples": n}
            for (t, k, w, kind), n in tally.items()]
    if rows:
        connection.execute(text(
            "INSERT INTO trainer_week_tally (trainer, task_type, iso_week, kind, samples) "
            "VALUES (:trainer, :task_type, :iso_week, :kind, :samples)"), rows)
    return len(rows)


def _has_column(connection: Connection, table: str, column: str) -> bool:
    found = inspect(connection)
    return table in found.get_table_names() and column in {
        c["name"] for c in found.get_columns(table)}
