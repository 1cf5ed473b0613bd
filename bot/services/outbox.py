"""The outbox's store side: owe a Slack write in the same transaction as the state it reports.

Usage (inside a service, before the caller commits)::

    enqueue(session, kind=OutboxKind.SAMPLE_POST, ref_id=sample.id, channel=channel,
            dedupe_key=f"sample_post:{sample.id}", now=now)

Delivery (claiming, marking sent, retry times) is also here, as plain database steps;
``bot.slack.delivery`` does the talking to Slack.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.models import OutboxItem


class OutboxKind(StrEnum):
    AUDIT_PARENT = "audit_parent"  # ref: audit_thread.id
    SAMPLE_POST = "sample_post"  # ref: sample.id
    SAMPLE_UPDATE = "sample_update"  # ref: sample.id
    ESCALATION_NOTICE = "escalation_notice"  # ref: escalation_notice.id
    ESCALATION_UPDATE = "escalation_update"  # ref: escalation_notice.id
    ESCALATION_CLOSED = "escalation_closed"  # ref: escalation_notice.id
    WATCH_FYI = "watch_fyi"  # ref: trainer_state.id
    MESSAGE = "message"  # a one-off message to a person (DM) or channel; ref: 0


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
    item = OutboxItem(
        dedupe_key=dedupe_key,
        kind=kind,
        ref_id=ref_id,
        channel=channel,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return False
    return True


def enqueue_message(session: Session, *, to: str, text: str, blocks: list[dict] | None = None,
                    dedupe_key: str, now: datetime) -> bool:
    """Owe a one-off message (a DM when ``to`` is a user id, else a channel post).

    For messages that are never updated (reminders, digests, alerts): the content is fixed
    now. ``dedupe_key`` says what makes it the same message (e.g. ``nudge:U1:2026-11-26``),
    so a retried job sends it once.
    """
    item = OutboxItem(dedupe_key=dedupe_key, kind=OutboxKind.MESSAGE, ref_id=0, channel=to,
                      next_attempt_at=now, created_at=now,
                      payload_json=json.dumps({"text": text, "blocks": blocks or []}))
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return False
    return True


def enqueue_update(session: Session, *, kind: OutboxKind, ref_id: int, channel: str,
                   now: datetime) -> bool:
    """Owe a message update unless one is already waiting: it renders the latest state anyway."""
    waiting = session.exec(
        select(OutboxItem.id).where(
            OutboxItem.kind == kind, OutboxItem.ref_id == ref_id, OutboxItem.status == PENDING
        )
    ).first()
    if waiting is not None:
        return False
    count = session.exec(
        select(func.count()).where(OutboxItem.kind == kind, OutboxItem.ref_id == ref_id)
    ).one()
    return enqueue(session, kind=kind, ref_id=ref_id, channel=channel,
                   dedupe_key=f"{kind}:{ref_id}:{count + 1}", now=now)


def channel_heads(session: Session, *, now: datetime) -> list[OutboxItem]:
    """The oldest pending item of each channel that is due and not leased by someone else.

    Items of one channel go out in order, so a channel whose head must wait (a 429, a lease
    held by another worker) waits as a whole.
    """
    oldest = (
        select(OutboxItem.channel, func.min(OutboxItem.id).label("head_id"))
        .where(OutboxItem.status == PENDING)
        .group_by(OutboxItem.channel)
        .subquery()
    )
    rows = session.exec(
        select(OutboxItem)
        .join(oldest, col(OutboxItem.id) == oldest.c.head_id)
        # A new item is due at once (it was owed at business time, which tests and the demo
        # may fix in the past or future); a retried one at its next attempt, in real time.
        .where(or_(OutboxItem.attempts == 0, OutboxItem.next_attempt_at <= now))
        .where(or_(col(OutboxItem.lease_until).is_(None), col(OutboxItem.lease_until) < now))
        .order_by(col(OutboxItem.id))
    ).all()
    return list(rows)


def next_in_channel(session: Session, *, channel: str, after_id: int) -> OutboxItem | None:
    return session.exec(
        select(OutboxItem)
        .where(OutboxItem.channel == channel, OutboxItem.status == PENDING)
        .where(OutboxItem.id > after_id)
        .order_by(col(OutboxItem.id))
        .limit(1)
    ).first()


def claim(session: Session, *, item: OutboxItem, owner: str, now: datetime,
          lease: timedelta) -> bool:
    """Take ``item`` for delivery; of several workers only one wins.

    The item is marked in doubt in the same step, before anything is sent: if this worker
    dies mid-send, the next one sees the doubt (and ``item.in_doubt`` as it was read tells
    this worker whether an earlier attempt may already have reached Slack).
    """
    result = session.execute(
        update(OutboxItem)
        .where(
            and_(
                col(OutboxItem.id) == item.id,
                OutboxItem.status == PENDING,
                OutboxItem.in_doubt == item.in_doubt,
                or_(col(OutboxItem.lease_until).is_(None), col(OutboxItem.lease_until) < now),
            )
        )
        .values(
            lease_owner=owner,
            lease_until=now + lease,
            attempts=OutboxItem.attempts + 1,
            in_doubt=True,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_sent(session: Session, *, item_id: int, ts: str | None, now: datetime) -> None:
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(status=SENT, result_ts=ts, sent_at=now, in_doubt=False, lease_until=None,
                last_error=None)
        .execution_options(synchronize_session=False)
    )


def retry_later(session: Session, *, item_id: int, at: datetime, error: str,
                in_doubt: bool) -> None:
    """Hand the item back for another attempt at ``at``; ``in_doubt`` if Slack may have it."""
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(next_attempt_at=at, last_error=error, in_doubt=in_doubt, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, *, item_id: int, error: str) -> None:
    """A permanent failure: kept (never dropped) with the reason, for someone to fix."""
    session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .values(status=FAILED, last_error=error, in_doubt=False, lease_until=None)
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
