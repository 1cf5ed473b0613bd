"""Storing trainer outputs: good records kept, bad ones reported, and idempotent by ``id``.

Usage (what ``auditbot ingest FILE`` does; the HTTP ingest passes
``records_from_json_array(body)`` instead, where numbers are array indexes)::

    roster = roster_from_workspace(workspace)
    with session_scope(engine) as session:  # the caller commits
        report = ingest(session, read_records(path), **roster._asdict(), now=clock.now())
    print(report.summary_line())  # read 120, stored 100, unchanged 18, rejected 2
    for rejection in report.rejected:
        print(rejection.describe("line"))  # line 7 (out-9): missing field `prompt`
    exit_code = 0 if report.ok else 1

Ingesting the same record twice changes nothing (``unchanged``); the same ``id`` with other
content is refused, the stored record stays. Two ingests racing on one database both succeed
and store each record once: rows go in with ``ON CONFLICT (id) DO NOTHING ... RETURNING id``,
and an id not inserted (stored by an earlier run, or by another ingest meanwhile) is "already
there, compare the hashes": no lookup precedes the insert, so a file of new records costs one
statement per batch (PostgreSQL: one ``COPY`` straight into the table; a batch meeting an id
stored already is taken back to its savepoint and goes through a staging table and one
``INSERT ... ON CONFLICT``).

A caller that commits as it goes (``auditbot ingest``) splits the work in two::

    for batch in batches(read_records(path)):
        checked = check_records(batch, **roster._asdict())   # no store touched
        with session_scope(engine) as session:
            report.add(store_checked(session, checked, now=clock.now()))
"""

import operator
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar, cast

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from bot.common.clock import as_utc
from bot.services.ingest_read import (
    RawRecord,
    UnsupportedFormat,
    read_records,
    records_from_json_array,
)
from bot.services.ingest_validate import (
    MAX_ID_LENGTH,
    Roster,
    ValidRecord,
    label_scales_of,
    roster_from_workspace,
    validate_record,
)
from bot.store.models import TrainerOutput

__all__ = [
    "BATCH_SIZE",
    "POSTGRES_BATCH_SIZE",
    "TRANSACTION_SECONDS",
    "CheckedRecords",
    "IngestReport",
    "RawRecord",
    "Rejection",
    "Roster",
    "UnsupportedFormat",
    "ValidRecord",
    "batches",
    "check_records",
    "ingest",
    "insert_new_outputs",
    "label_scales_of",
    "read_ahead",
    "read_records",
    "records_from_json_array",
    "roster_from_workspace",
    "store_checked",
    "validate_record",
]

# Rows one statement of ``store_checked`` carries unless told otherwise. SQLite: a multi-row
# INSERT of as many rows as its parameter limit allows (``_SQLITE_ROWS``), a few hundredths of
# a second of writing, so a transaction still stops close to its time budget. PostgreSQL: a
# whole read batch, since each batch costs a COPY into the staging table, an INSERT from it
# and a TRUNCATE, whatever its size: at 500 rows a batch those round trips took three times
# as long as the rows (12.7 s against 3.9 s for 200,000 records). Its transaction holds no
# lock another writer waits on, except the row locks of its own new ids.
BATCH_SIZE = 2000
POSTGRES_BATCH_SIZE = 20_000
# What one transaction of a file's ingest holds at most: a few tenths of a second of writing
# (records are read and checked before it begins, so SQLite's other writers get their turn
# while the next batch is read). 20,000 held the lock past a grade's 2-second budget on a
# loaded machine when each row went through the ORM; the inserts are plain driver
# statements now, and a smaller batch spent more time pausing than writing.
TRANSACTION_RECORDS = 20_000
TRANSACTION_BYTES = 16 * 1024 * 1024
# And at most about this long, whatever the load: a grade waits for one transaction.
TRANSACTION_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record not stored: its line number (or array index), its ``id`` if it had one, why."""

    number: int
    id: str | None
    reason: str

    def describe(self, label: str = "line") -> str:
        """``line 7 (out-9): missing field `prompt```; the HTTP ingest says ``index``."""
        named = f" ({self.id})" if self.id is not None else ""
        return f"{label} {self.number}{named}: {self.reason}"


@dataclass(slots=True)
class IngestReport:
    """What one ingest did. ``read == stored + unchanged + len(rejected)``."""

    read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No record was rejected (the CLI exits 0, the HTTP ingest answers 200)."""
        return not self.rejected

    def add(self, other: "IngestReport") -> None:
        """Count ``other`` (a later batch of the same file) in."""
        self.read += other.read
        self.stored += other.stored
        self.unchanged += other.unchanged
        self.rejected += other.rejected

    def summary_line(self) -> str:
        return (
            f"read {self.read}, stored {self.stored}, unchanged {self.unchanged}, "
            f"rejected {len(self.rejected)}"
        )


@dataclass(slots=True)
class CheckedRecords:
    """Records read and checked, not yet stored: the good ones (line number, record, content
    hash) and the rejections. What ``check_records`` returns and ``store_checked`` takes."""

    read: int = 0
    good: list[tuple[int, ValidRecord, str]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def ingest(
    session: Session,
    records: Iterable[RawRecord],
    *,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    now: datetime,
    batch_size: int | None = None,
    label_scales: Mapping[str, Any] | None = None,
) -> IngestReport:
    """Validate and store ``records``; flushes, never commits. ``now`` becomes ``ingested_at``.
    ``label_scales`` (``label_scales_of(workspace)``) checks each ``label`` against its task
    type's declared scale.

    Every record is checked before the first statement, so the transaction (on SQLite, the
    store's one write lock) is held for the inserts alone, ``batch_size`` rows at a time
    (by default the store's: ``BATCH_SIZE``, ``POSTGRES_BATCH_SIZE``)."""
    checked = check_records(records, known_trainers=known_trainers,
                            known_task_types=known_task_types, label_scales=label_scales)
    return store_checked(session, checked, now=now, batch_size=batch_size)


def check_records(
    records: Iterable[RawRecord],
    *,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    label_scales: Mapping[str, Any] | None = None,
) -> CheckedRecords:
    """``records`` read and validated, touching no store: a caller that commits in batches
    does this between its transactions, while other writers have their turn."""
    checked = CheckedRecords()
    good, rejected = checked.good, checked.rejected
    for record in records:
        checked.read += 1
        outcome = _check(record, known_trainers=known_trainers, known_task_types=known_task_types,
                         label_scales=label_scales)
        if isinstance(outcome, Rejection):
            rejected.append(outcome)
        else:
            good.append((record.number, outcome, outcome.content_hash))
    return checked


def store_checked(session: Session, checked: CheckedRecords, *, now: datetime,
                  batch_size: int | None = None, until: float | None = None) -> IngestReport:
    """Store ``checked``'s good records, ``batch_size`` at a time (by default the store's);
    flushes, never commits.

    With ``until`` (a ``time.monotonic()`` value), stops after the batch that passes it and
    leaves the rest in ``checked.good`` (its ``read`` and ``rejected`` counted and emptied):
    the caller commits and calls again, so no transaction holds the store for long, however
    slow the machine."""
    if batch_size is None:  # (no good record: no need to ask, nor to begin a transaction)
        postgres = bool(checked.good) and session.connection().dialect.name == "postgresql"
        batch_size = POSTGRES_BATCH_SIZE if postgres else BATCH_SIZE
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    report = IngestReport(read=checked.read)
    ingested_at = as_utc(now)
    good = checked.good
    rejected = list(checked.rejected)
    done = 0
    while done < len(good) and (until is None or done == 0 or time.monotonic() < until):
        rejected += _store_batch(session, good[done:done + batch_size], report=report,
                                 ingested_at=ingested_at)
        done += batch_size
    checked.read, checked.good, checked.rejected = 0, good[done:], []
    report.rejected += sorted(rejected, key=lambda rejection: rejection.number)
    return report


def insert_new_outputs(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Insert ``TrainerOutput`` rows (column values); return ``{id: content_hash}`` of the ones
    that were already stored, e.g. by a concurrent ingest, and so were not inserted."""
    return _insert_new(session, [tuple(row.get(name) for name in _COLUMNS) for row in rows])


_COLUMNS = ("id", "trainer", "task_type", "prompt", "output", "created_at", "metadata_json",
            "gold_grade", "gold_note", "item", "label", "reasoning", "content_hash", "ingested_at")
_DATETIMES = (_COLUMNS.index("created_at"), _COLUMNS.index("ingested_at"))
_STAGE = "ingest_stage"
# SQLite allows 32,766 parameters a statement: 2,000 rows of 14 columns in one INSERT.
_SQLITE_ROWS = 2000
_SQLITE_ROW = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
_FIRST = operator.itemgetter(0)  # a row's id (a string): its sort key, in C


def _insert_new(session: Session, rows: list[tuple[Any, ...]]) -> dict[str, str]:
    """``rows`` (values in ``_COLUMNS`` order) inserted unless their id is stored already;
    the ``{id: content_hash}`` of those that were.

    One ``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` per chunk: a row whose id is
    there already is skipped, not an error, so nothing needs a savepoint, and no lookup
    precedes it (a fresh file is all new rows); only the ids not returned are looked up. Any
    other constraint still raises. On PostgreSQL the rows are first ``COPY``'d into a
    temporary table of this transaction (psycopg's ``cursor.copy``), then inserted from it in
    one statement; on SQLite they go in as multi-row ``VALUES`` through the driver, with no
    per-row work in SQLAlchemy.
    """
    if not rows:
        return {}
    # In id order: two ingests of overlapping batches then wait for each other on the first
    # shared id instead of each holding one the other needs (a deadlock on PostgreSQL).
    rows.sort(key=_FIRST)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        copied = _copy_new(connection, rows)
        inserted = _copy_in(connection, rows) if copied is None else copied
    else:
        inserted = _values_in(connection, rows)
    lost = {row[0] for row in rows if row[0] not in inserted}
    return _stored_hashes(session, lost) if lost else {}


def _values_in(connection: Connection, rows: list[tuple[Any, ...]]) -> set[str]:
    """SQLite: the rows inserted, ``_SQLITE_ROWS`` a statement; the ids inserted. Datetimes
    are written as SQLAlchemy writes them (its type's own processor), so the ORM reads them
    back the same.

    Per row, only what has to be: the values are flattened and their datetime columns
    converted a column at a time (``chain``, ``map`` and slice assignment run in C), one
    conversion per distinct ``ingested_at`` (an ingest has one); the ids inserted are read
    from the driver's cursor, not as SQLAlchemy rows (they need no processing)."""
    table = TrainerOutput.__table__  # type: ignore[attr-defined]
    dialect = connection.dialect
    to_created, to_ingested = [
        table.c[_COLUMNS[i]].type.dialect_impl(dialect).bind_processor(dialect)
        for i in _DATETIMES]
    created, ingested = _DATETIMES
    width = len(_COLUMNS)
    inserted: set[str] = set()
    columns = ", ".join(_COLUMNS)
    for start in range(0, len(rows), _SQLITE_ROWS):
        chunk = rows[start:start + _SQLITE_ROWS]
        values = list(chain.from_iterable(chunk))
        values[created::width] = map(to_created, values[created::width])
        at = values[ingested::width]
        stored_at = {moment: to_ingested(moment) for moment in set(at)}
        values[ingested::width] = map(stored_at.__getitem__, at)
        sql = (f"INSERT INTO trainer_output ({columns}) VALUES "
               f"{', '.join([_SQLITE_ROW] * len(chunk))} "
               "ON CONFLICT (id) DO NOTHING RETURNING id")
        result = connection.exec_driver_sql(sql, tuple(values))
        inserted.update(id_ for (id_,) in result.cursor.fetchall())
        result.close()
    return inserted


_UNIQUE_VIOLATION = "23505"


def _copy_new(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> set[str] | None:
    """PostgreSQL, when every id is new (a file ingested for the first time): the rows
    COPY'd straight into ``trainer_output``, in a savepoint; their ids. ``None`` if one of
    the ids is stored already (the savepoint rolled back, nothing kept): ``_copy_in`` sorts
    them out. Straight in, the server writes each row once instead of into the staging
    table, out of it and through ``ON CONFLICT`` (a fifth of its time on a fresh file).

    In id order, like ``_copy_in``: a concurrent ingest of the same ids waits on the first
    one it shares, then fails here as a duplicate and goes through ``_copy_in``. Any other
    error is raised as SQLAlchemy raises it (a lock timeout is a busy store, as elsewhere)."""
    import psycopg

    columns = ", ".join(_COLUMNS)
    sql = f"COPY trainer_output ({columns}) FROM STDIN"
    driver = connection.connection.driver_connection
    try:
        with (connection.begin_nested(),
              driver.cursor() as cursor,  # type: ignore[union-attr]
              cursor.copy(sql) as copy):
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        if error.sqlstate == _UNIQUE_VIOLATION:
            return None
        raise DBAPIError.instance(sql, None, error, psycopg.Error) from error
    return {row[0] for row in rows}


def _copy_in(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """PostgreSQL: the rows COPY'd into a temporary table, then inserted from it in id
    order (skipping ids already stored); the ids inserted."""
    columns = ", ".join(_COLUMNS)
    # The statements that touch trainer_output go through SQLAlchemy, so a lock timeout
    # arrives wrapped like any other (the HTTP ingest answers a busy store with 503).
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
                               "(LIKE trainer_output) ON COMMIT DROP")
    driver = connection.connection.driver_connection
    with (driver.cursor() as cursor,  # type: ignore[union-attr]
          cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy):
        for row in rows:
            copy.write_row(row)
    inserted = {str(found[0]) for found in connection.exec_driver_sql(
        f"INSERT INTO trainer_output ({columns}) SELECT {columns} FROM {_STAGE} "
        "ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id")}
    connection.exec_driver_sql(f"TRUNCATE {_STAGE}")
    return inserted


def _check(
    record: RawRecord,
    *,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    label_scales: Mapping[str, Any] | None = None,
) -> ValidRecord | Rejection:
    if record.data is None:
        return Rejection(record.number, None, record.error or "unreadable record")
    outcome = validate_record(
        record.data, known_trainers=known_trainers, known_task_types=known_task_types,
        label_scales=label_scales,
    )
    if isinstance(outcome, str):
        return Rejection(record.number, _id_of(record.data), outcome)
    return outcome


def _id_of(data: Mapping[str, Any]) -> str | None:
    """The record's ``id`` for the report, when it has a usable one."""
    value = data.get("id")
    if isinstance(value, str) and value.strip() and len(value) <= MAX_ID_LENGTH:
        return value
    return None


def _store_batch(
    session: Session,
    checked: list[tuple[int, ValidRecord, str]],
    *,
    report: IngestReport,
    ingested_at: datetime,
) -> list[Rejection]:
    """Insert the batch's new ids, count the rest; returns the content clashes.

    A repeated id in the batch is set aside before the insert; an id stored before (by an
    earlier batch, run or a concurrent ingest) comes back from the insert as not inserted.
    Both are then compared by hash: same content is ``unchanged``, other content refused."""
    first: dict[str, tuple[int, ValidRecord, str]] = {}
    again: list[tuple[int, str, str]] = []  # (number, id, hash): compared once all is stored
    for number, record, digest in checked:
        if record.id in first:
            again.append((number, record.id, digest))
        else:
            first[record.id] = (number, record, digest)
    rows = [_row(record, digest, ingested_at) for _, record, digest in first.values()]
    lost = _insert_new(session, rows)
    report.stored += len(first) - len(lost)
    again += [(first[id_][0], id_, first[id_][2]) for id_ in lost]
    current = {id_: digest for id_, (_, _, digest) in first.items()} | lost
    rejected = []
    for number, id_, digest in again:
        if current[id_] == digest:
            report.unchanged += 1
        else:
            reason = f"id {id_} was already ingested with different content"
            rejected.append(Rejection(number, id_, reason))
    return rejected


def _stored_hashes(session: Session, ids: AbstractSet[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = select(TrainerOutput.id, TrainerOutput.content_hash).where(
        col(TrainerOutput.id).in_(ids)
    )
    return dict(session.exec(query).all())


def _row(record: ValidRecord, digest: str, ingested_at: datetime) -> tuple[Any, ...]:
    """The record's values in ``_COLUMNS`` order."""
    return (record.id, record.trainer, record.task_type, record.prompt, record.output,
            record.created_at, record.metadata_json, record.gold_grade, record.gold_note,
            record.item, record.label, record.reasoning, digest, ingested_at)


def batches(records: Iterable[RawRecord], size: int = TRANSACTION_RECORDS,
            max_bytes: int = TRANSACTION_BYTES) -> Iterator[list[RawRecord]]:
    """``records`` read ``size`` (or about ``max_bytes`` of text) at a time: a caller that
    commits each batch in its own transaction reads the file outside them, and holds the
    store for one batch's worth of writing."""
    batch: list[RawRecord] = []
    held = 0
    for record in records:
        batch.append(record)
        held += record.size or sum(
            len(v) for v in (record.data or {}).values() if isinstance(v, str))
        if len(batch) >= size or held >= max_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch




_T = TypeVar("_T")
_END = object()


def read_ahead(items: Iterable[_T]) -> Iterator[_T]:
    """``items`` in order, the next one produced on a thread of its own while the caller
    works on this one: reading and checking a batch (Python) overlaps storing the one before
    (SQLite's C code and PostgreSQL's server, which let the thread run), one batch ahead at
    most. An error producing an item is raised here, in its place."""
    source = iter(items)
    with ThreadPoolExecutor(1, thread_name_prefix="ingest-read") as reader:
        pending = reader.submit(next, source, _END)
        while (item := pending.result()) is not _END:
            pending = reader.submit(next, source, _END)
            yield cast(_T, item)
