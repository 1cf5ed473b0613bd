"""The outbox's store side: owe a Slack write in the same transaction as the state it reports.

Usage (inside a service, before the caller commits)::

    enqueue(session, kind=OutboxKind.SAMPLE_POST, ref_id=sample.id, channel=channel,
            dedupe_key=f"sample_post:{sample.id}", now=now)

Delivery (claiming, marking sent, retry times) is also here, as plain database steps;
``bot.slack.delivery`` does the talking to Slack.
"""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from bot.store.db import insert_new
from bot.store.models import OutboxItem


class OutboxKind(StrEnum):
    AUDIT_PARENT = "audit_parent"  # ref: audit_thread.id
    SAMPLE_POST = "sample_post"  # ref: sample.id
    SAMPLE_UPDATE = "sample_update"  # ref: sample.id
    ESCALATION_NOTICE = "escalation_notice"  # ref: escalation_notice.id
    ESCALATION_UPDATE = "escalation_update"  # ref: escalation_notice.id
    ESCALATION_CLOSED = "escalation_closed"  # ref: escalation_notice.id
    WATCH_FYI = "watch_fyi"  # ref: trainer_state.id
    MESSAGE = "message"  # a one-off message to a person (DM) or channel; ref: 0
    DISAGREEMENT_POST = "disagreement_post"  # ref: disagreement.id
    DISAGREEMENT_UPDATE = "disagreement_update"  # ref: disagreement.id
    TRAINER_FEEDBACK = "trainer_feedback"  # a DM to a trainer; ref: trainer_feedback.id


PENDING, SENT, FAILED = "pending", "sent", "failed"


def enqueue(
    session: Session,
    *,
    kind: OutboxKind,
    ref_id: int,
    channel: str,
    dedupe_key: str,
    now: datetime,
) -> bool:
    """Owe one write. Returns False when the same ``dedupe_key`` is already owed or sent."""
    # A plain row, not a model: validating an OutboxItem cost more than inserting it, in
    # the transaction of every grade.
    return insert_new(session, OutboxItem, {
        "dedupe_key": dedupe_key, "kind": str(kind), "ref_id": ref_id, "channel": channel,
        "next_attempt_at": now, "created_at": now})


@dataclass(frozen=True)
class Owed:
    """One write for ``enqueue_many``: what ``enqueue`` takes, but ``now``."""

    kind: OutboxKind
    ref_id: int
    channel: str
    dedupe_key: str


def enqueue_many(session: Session, writes: Sequence[Owed], *, now: datetime) -> None:
    """``enqueue`` for many writes in one batched INSERT; one whose ``dedupe_key`` is owed or
    sent already is skipped. Ids follow the order of ``writes``: a channel's writes go out in
    that order (a thread's parent before its replies)."""
    if not writes:
        return
    table = OutboxItem.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"dedupe_key": w.dedupe_key, "kind": str(w.kind), "ref_id": w.ref_id,
             "channel": w.channel, "status": PENDING, "attempts": 0, "in_doubt": False,
             "next_attempt_at": now, "created_at": now, "home_feed_read": False}
            for w in writes]
    session.execute(insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)


def _owe(session: Session, item: OutboxItem) -> bool:
    """Insert unless its key is there: a duplicate key means it is owed already."""
    return insert_new(session, OutboxItem, item.model_dump(exclude={"id"}))


def owed_already(session: Session, dedupe_keys: Sequence[str]) -> set[str]:
    """Which of ``dedupe_keys`` are owed or sent already (one query; reads only)."""
    if not dedupe_keys:
        return set()
    found = session.exec(select(OutboxItem.dedupe_key)
                         .where(col(OutboxItem.dedupe_key).in_(sorted(set(dedupe_keys)))))
    return set(found.all())


def enqueue_message(session: Session, *, to: str, text: str, blocks: list[dict] | None = None,
                    dedupe_key: str, now: datetime) -> bool:
    """Owe a one-off message (a DM when ``to`` is a user id, else a channel post).

    For messages that are never updated (reminders, digests, alerts): the content is fixed
    now. ``dedupe_key`` says what makes it the same message (e.g. ``nudge:U1:2026-11-26``),
    so a retried job sends it once.
    """
    return _owe(session, OutboxItem(
        dedupe_key=dedupe_key, kind=OutboxKind.MESSAGE, ref_id=0, channel=to,
        next_attempt_at=now, created_at=now,
        payload_json=json.dumps({"text": text, "blocks": blocks or []})))


def enqueue_update(session: Session, *, kind: OutboxKind, ref_id: int, channel: str,
                   now: datetime) -> bool:
    """Owe a message update unless one is already waiting: it renders the latest state anyway.

    Only an update nobody has picked up yet counts as waiting, and it is held (row-locked)
    until this transaction ends: a worker rendering it before this change commits would
    show the old state, and this change would have no update of its own. Once a worker has
    claimed it, the change gets a new update.
    """
    connection = session.connection()
    for _ in range(UPDATE_ATTEMPTS):
        # One read: the update waiting (if any) and how many this message has had.
        waiting, count = connection.execute(
            _WAITING_UPDATE, {"kind": str(kind), "ref_id": ref_id}).one()
        if waiting is not None and _hold_unclaimed(session, waiting):
            return False
        if enqueue(session, kind=kind, ref_id=ref_id, channel=channel,
                   dedupe_key=f"{kind}:{ref_id}:{count + 1}", now=now):
            return True
        # A concurrent change took the same key first: fold into its update, or follow it.
    raise RuntimeError(f"could not owe an update of {kind} {ref_id}: the key kept colliding")


UPDATE_ATTEMPTS = 5
_ITEM = OutboxItem.__table__.c  # type: ignore[attr-defined]
# Built once: they run in every grade's transaction, where building them cost more than
# running them. The item waiting is one nobody has picked up yet.
_WAITING_UPDATE = select_columns(
    func.max(case((and_(_ITEM.status == PENDING, _ITEM.lease_until.is_(None)), _ITEM.id))),
    func.count(),
).where(_ITEM.kind == bindparam("kind"), _ITEM.ref_id == bindparam("ref_id"))
_HOLD_UNCLAIMED = update(OutboxItem.__table__).where(  # type: ignore[attr-defined]
    _ITEM.id == bindparam("item_id"), _ITEM.status == PENDING, _ITEM.lease_until.is_(None),
).values(home_feed_read=False)


def _hold_unclaimed(session: Session, item_id: int) -> bool:
    """Lock a waiting item for the rest of this transaction if no worker has claimed it.

    The UPDATE takes the row lock, so on PostgreSQL a claim skips the row (or, already under
    way, makes this wait and then find it claimed). SQLite's writers hold the database lock
    for the whole transaction, which gives the same order. It also hands the row back to the
    App Home feed (``bot.services.home_feed``), which may have read it before this change:
    the Homes this change concerns are then marked again.
    """
    held = session.connection().execute(_HOLD_UNCLAIMED, {"item_id": item_id})
    return held.rowcount == 1


def channel_heads(session: Session, *, now: datetime) -> list[OutboxItem]:
    """The oldest pending item of each channel that is due and not leased by someone else.

    Items of one channel go out in order, so a channel whose head must wait (a 429, a lease
    held by another worker) waits as a whole.
    """
    return due_heads(pending_heads(session), now=now)


def pending_heads(session: Session) -> list[OutboxItem]:
    """The oldest pending item of each channel, due or not (one grouped query)."""
    oldest = (
        select(OutboxItem.channel, func.min(OutboxItem.id).label("head_id"))
        .where(OutboxItem.status == PENDING)
        .group_by(OutboxItem.channel)
        .subquery()
    )
    rows = session.exec(
        select(OutboxItem)
        .join(oldest, col(OutboxItem.id) == oldest.c.head_id)
        .order_by(col(OutboxItem.id))
    ).all()
    return list(rows)


def due_heads(heads: Sequence[OutboxItem], *, now: datetime) -> list[OutboxItem]:
    """Of ``pending_heads``, those due now and not leased by someone else."""
    # A new item is due at once (it was owed at business time, which tests and the demo may
    # fix in the past or future); a retried one at its next attempt, in real time.
    return [h for h in heads
            if (h.attempts == 0 or h.next_attempt_at <= now)
            and (h.lease_until is None or h.lease_until < now)]


def held_until(heads: Sequence[OutboxItem], *, now: datetime) -> datetime | None:
    """Of ``pending_heads``, when the first one waiting for a retry time (a 429's
    Retry-After, a backoff) is due: the dispatcher wakes then instead of polling."""
    return min((h.next_attempt_at for h in heads
                if h.attempts > 0 and h.next_attempt_at > now), default=None)


def claim(session: Session, *, item: OutboxItem, owner: str, now: datetime,
          lease: timedelta) -> bool:
    """Take ``item`` for delivery; of several workers (threads, replicas) only one wins.

    The item is marked in doubt in the same step, before anything is sent: if this worker
    dies mid-send, the next one sees the doubt (and ``item.in_doubt`` as it was read tells
    this worker whether an earlier attempt may already have reached Slack).

    The conditional UPDATE alone is atomic. On PostgreSQL the row is picked with
    ``FOR UPDATE SKIP LOCKED`` as well: a replica that loses the race moves on at once
    instead of waiting for the winner's transaction to end and then finding nothing.
    """
    result = session.connection().execute(
        _claim_statement(session.get_bind().dialect.name),
        {"item_id": item.id, "was_in_doubt": item.in_doubt, "now": now, "owner": owner,
         "lease_until": now + lease})
    return result.rowcount == 1


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """Built once per store: every delivery runs it (and ``mark_sent``) in a transaction of
    its own, where building the statement cost more than running it."""
    claimable = and_(
        _ITEM.id == bindparam("item_id"),
        _ITEM.status == PENDING,
        _ITEM.in_doubt == bindparam("was_in_doubt"),
        or_(_ITEM.lease_until.is_(None), _ITEM.lease_until < bindparam("now")),
    )
    if dialect == "postgresql":
        unlocked = (select_columns(_ITEM.id).where(claimable)
                    .with_for_update(skip_locked=True).scalar_subquery())
        claimable = _ITEM.id == unlocked
    return update(OutboxItem.__table__).where(claimable).values(  # type: ignore[attr-defined]
        lease_owner=bindparam("owner"), lease_until=bindparam("lease_until"),
        attempts=_ITEM.attempts + 1, in_doubt=True)


def mark_sent(session: Session, *, item_id: int, ts: str | None, now: datetime) -> None:
    session.connection().execute(_MARK_SENT, {"item_id": item_id, "ts": ts, "now": now})


_MARK_SENT = update(OutboxItem.__table__).where(  # type: ignore[attr-defined]
    _ITEM.id == bindparam("item_id")).values(
    status=SENT, result_ts=bindparam("ts"), sent_at=bindparam("now"), in_doubt=False,
    lease_until=None, last_error=None)


def retry_later(session: Session, *, item_id: int, at: datetime, error: str,
                in_doubt: bool) -> None:
    """Hand the item back for another attempt at ``at``; ``in_doubt`` if Slack may have it."""
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(next_attempt_at=at, last_error=error, in_doubt=in_doubt, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, *, item_id: int, error: str, in_doubt: bool) -> None:
    """A permanent failure: kept (never dropped) with the reason, for someone to fix.

    ``in_doubt`` stays as it was: an earlier attempt may have reached Slack, and a retry
    once the cause is fixed must look for that message before posting again.
    """
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(status=FAILED, last_error=error, in_doubt=in_doubt, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def failure_of(session: Session, *, kind: OutboxKind, ref_id: int) -> str | None:
    """The error of a failed write of ``kind`` for ``ref_id``, if it failed for good."""
    return session.exec(
        select(OutboxItem.last_error).where(
            OutboxItem.kind == kind, OutboxItem.ref_id == ref_id, OutboxItem.status == FAILED
        )
    ).first()


@dataclass(frozen=True)
class DueSummary:
    pending: int
    next_due: datetime | None
    failed: int


def due_summary(session: Session) -> DueSummary:
    pending = session.exec(
        select(func.count(), func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == PENDING
        )
    ).one()
    failed = session.exec(select(func.count()).where(OutboxItem.status == FAILED)).one()
    return DueSummary(pending=pending[0], next_due=pending[1], failed=failed)


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_created_at: datetime | None  # of the pending items


def backlog(session: Session) -> Backlog:
    """How much is owed to Slack and since when (for /metrics and operators)."""
    pending, oldest = session.exec(
        select(func.count(), func.min(OutboxItem.created_at)).where(OutboxItem.status == PENDING)
    ).one()
    failed = session.exec(select(func.count()).where(OutboxItem.status == FAILED)).one()
    return Backlog(pending=pending, failed=failed, oldest_created_at=oldest)


# --- failures kept for someone to fix ---------------------------------------------------------

@dataclass(frozen=True)
class FailedDelivery:
    """Writes to one channel that failed for good with one error (as Slack gave it; what a
    person does about it is ``bot.slack.errors.fix_for``'s to say)."""

    channel: str
    error: str
    count: int


def failed_deliveries(session: Session) -> list[FailedDelivery]:
    """Failed writes grouped by channel and error, most first. Then ``retry_failed``."""
    rows = session.exec(
        select(OutboxItem.channel, OutboxItem.last_error, func.count())
        .where(OutboxItem.status == FAILED)
        .group_by(col(OutboxItem.channel), col(OutboxItem.last_error))
    ).all()
    failures = [FailedDelivery(channel=channel, error=error or "unknown", count=count)
                for channel, error, count in rows]
    return sorted(failures, key=lambda f: (-f.count, f.channel, f.error))


def retry_failed(session: Session, *, channel: str | None = None) -> int:
    """Put failed writes (of one channel, or all) back to pending, once the cause is fixed.

    They keep their place (their ids), so a thread's parent still goes before its replies,
    and are due at once. One in doubt stays so: it is looked for in Slack before it is posted.
    Returns how many were put back; the caller commits.
    """
    query = update(OutboxItem).where(col(OutboxItem.status) == FAILED)
    if channel is not None:
        query = query.where(col(OutboxItem.channel) == channel)
    result = session.execute(
        query.values(status=PENDING, attempts=0, lease_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
