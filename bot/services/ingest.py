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
and store each record once: rows go in with ``ON CONFLICT (id) DO NOTHING``, and an id some
other ingest stored meanwhile is "already there, compare the hashes". Records are looked up
and inserted in batches.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from bot.clock import as_utc
from bot.models import TrainerOutput
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

__all__ = [
    "BATCH_SIZE",
    "IngestReport",
    "RawRecord",
    "Rejection",
    "Roster",
    "UnsupportedFormat",
    "ValidRecord",
    "batches",
    "ingest",
    "insert_new_outputs",
    "label_scales_of",
    "read_records",
    "records_from_json_array",
    "roster_from_workspace",
    "validate_record",
]

BATCH_SIZE = 500
# What one transaction of a file's ingest holds at most: a few tenths of a second of writing
# (records are checked before it begins; SQLite's other writers get their turn between).
# 20,000 held the lock past a grade's 2-second budget on a loaded machine.
TRANSACTION_RECORDS = 5000
TRANSACTION_BYTES = 8 * 1024 * 1024


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


def ingest(
    session: Session,
    records: Iterable[RawRecord],
    *,
    known_trainers: Mapping[str, AbstractSet[str]],
    known_task_types: AbstractSet[str],
    now: datetime,
    batch_size: int = BATCH_SIZE,
    label_scales: Mapping[str, Any] | None = None,
) -> IngestReport:
    """Validate and store ``records``; flushes, never commits. ``now`` becomes ``ingested_at``.
    ``label_scales`` (``label_scales_of(workspace)``) checks each ``label`` against its task
    type's declared scale.

    Every record is checked before the first statement, so the transaction (on SQLite, the
    store's one write lock) is held for the lookups and inserts alone, ``batch_size`` rows at
    a time."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    report = IngestReport()
    ingested_at = as_utc(now)
    checked: list[tuple[int, ValidRecord, str]] = []
    rejected: list[Rejection] = []
    for record in records:
        report.read += 1
        outcome = _check(record, known_trainers=known_trainers, known_task_types=known_task_types,
                         label_scales=label_scales)
        if isinstance(outcome, Rejection):
            rejected.append(outcome)
        else:
            checked.append((record.number, outcome, outcome.content_hash))
    for start in range(0, len(checked), batch_size):
        rejected += _store_batch(session, checked[start:start + batch_size], report=report,
                                 ingested_at=ingested_at)
    report.rejected += sorted(rejected, key=lambda rejection: rejection.number)
    return report


def insert_new_outputs(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Insert ``TrainerOutput`` rows (column values); return ``{id: content_hash}`` of the ones
    that were already stored, e.g. by a concurrent ingest, and so were not inserted.

    One ``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` per batch: a row whose id is
    there already is skipped, not an error, so nothing needs a savepoint; the ids not
    returned are looked up. Any other constraint still raises. On PostgreSQL the batch is
    first ``COPY``'d into a temporary table of this transaction (psycopg's ``cursor.copy``),
    then inserted from it in one statement.
    """
    if not rows:
        return {}
    # In id order: two ingests of overlapping batches then wait for each other on the first
    # shared id instead of each holding one the other needs (a deadlock on PostgreSQL).
    rows = sorted(rows, key=lambda row: str(row["id"]))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        inserted = _copy_in(connection, rows)
    else:
        table = TrainerOutput.__table__  # type: ignore[attr-defined]
        inserted = set(connection.execute(
            sqlite.insert(table).on_conflict_do_nothing(index_elements=["id"])
            .returning(table.c.id), [dict(row) for row in rows]).scalars())
    lost = {row["id"] for row in rows if row["id"] not in inserted}
    return _stored_hashes(session, lost) if lost else {}


_COLUMNS = ("id", "trainer", "task_type", "prompt", "output", "created_at", "metadata_json",
            "gold_grade", "gold_note", "item", "label", "reasoning", "content_hash", "ingested_at")
_STAGE = "ingest_stage"


def _copy_in(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """PostgreSQL: the rows COPY'd into a temporary table, then inserted from it in id
    order (skipping ids already stored); the ids inserted."""
    columns = ", ".join(_COLUMNS)
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
                       "(LIKE trainer_output) ON COMMIT DROP")
        with cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row.get(name) for name in _COLUMNS))
        cursor.execute(f"INSERT INTO trainer_output ({columns}) SELECT {columns} FROM {_STAGE} "
                       "ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id")
        inserted = {str(found[0]) for found in cursor.fetchall()}
        cursor.execute(f"TRUNCATE {_STAGE}")
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
    """Insert the batch's new ids, count the rest; returns the content clashes."""
    before = _stored_hashes(session, {record.id for _, record, _ in checked})
    first: dict[str, tuple[int, ValidRecord, str]] = {}
    again: list[tuple[int, str, str]] = []  # (number, id, hash): compared once all is stored
    for number, record, digest in checked:
        if record.id in before or record.id in first:
            again.append((number, record.id, digest))
        else:
            first[record.id] = (number, record, digest)
    rows = [_row(record, digest, ingested_at) for _, record, digest in first.values()]
    lost = insert_new_outputs(session, rows)
    report.stored += len(first) - len(lost)
    again += [(first[id_][0], id_, first[id_][2]) for id_ in lost]
    current = before | {id_: digest for id_, (_, _, digest) in first.items()} | lost
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


def _row(record: ValidRecord, digest: str, ingested_at: datetime) -> dict[str, Any]:
    return {
        "id": record.id,
        "trainer": record.trainer,
        "task_type": record.task_type,
        "prompt": record.prompt,
        "output": record.output,
        "created_at": record.created_at,
        "metadata_json": record.metadata_json,
        "gold_grade": record.gold_grade,
        "gold_note": record.gold_note,
        "item": record.item,
        "label": record.label,
        "reasoning": record.reasoning,
        "content_hash": digest,
        "ingested_at": ingested_at,
    }


def batches(records: Iterable[RawRecord], size: int = TRANSACTION_RECORDS,
            max_bytes: int = TRANSACTION_BYTES) -> Iterator[list[RawRecord]]:
    """``records`` read ``size`` (or about ``max_bytes`` of text) at a time: a caller that
    commits each batch in its own transaction reads the file outside them, and holds the
    store for one batch's worth of writing."""
    batch: list[RawRecord] = []
    held = 0
    for record in records:
        batch.append(record)
        held += sum(len(v) for v in (record.data or {}).values() if isinstance(v, str))
        if len(batch) >= size or held >= max_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


