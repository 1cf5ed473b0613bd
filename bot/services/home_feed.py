"""Whose App Home is out of date: viewers, coalesced "dirty" marks, and the change feed.

Usage (the caller commits)::

    record_viewer(session, user="U0NURSE01", now=now)          # on app_home_opened
    mark_homes_dirty(session, users={"U0LEAD0001"}, now=now)    # after a change to them
    affected = take_feed(session, workspace)   # users touched by outbox items since last time
    for home in dirty_viewers(session): ... publish ...; mark_published(..., seen=home)

Only people who opened the Home are tracked (everyone else gets a fresh one when they open
it), and a mark is one column per person, set once however many changes pile up: the
refresher publishes each dirty Home once per pass, never once per change.

The feed is the outbox: every change another part of the bot reports to Slack (a post, a
grade's update, an escalation notice) is an outbox row written in the same transaction, so
reading the rows not read yet tells whose Home changed, without those parts knowing about
the Home. Each row is flagged as read in the transaction that reads it, so of several
replicas only one turns a row into marks.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.services.outbox import OutboxKind
from bot.store.models import (
    AuditThread,
    Escalation,
    EscalationNotice,
    OutboxItem,
    Sample,
    TrainerState,
)
from bot.store.models.people import HomeViewer
from bot.workspace import Workspace

FEED_BATCH = 5000
PAGES_KEY_LIMIT = 20

THREAD_KINDS = {OutboxKind.AUDIT_PARENT}
SAMPLE_KINDS = {OutboxKind.SAMPLE_POST, OutboxKind.SAMPLE_UPDATE}
NOTICE_KINDS = {OutboxKind.ESCALATION_NOTICE, OutboxKind.ESCALATION_UPDATE,
                OutboxKind.ESCALATION_CLOSED}
# One-off DMs (reminders, digests, a trainer's feedback) change no Home.
QUIET_KINDS = {OutboxKind.MESSAGE, OutboxKind.TRAINER_FEEDBACK}


def record_viewer(session: Session, *, user: str, now: datetime) -> dict[str, int]:
    """Remember that ``user`` looks at their Home (about to be built fresh, so no longer
    out of date); returns the pages they browsed to."""
    for _ in range(2):
        row = session.exec(select(HomeViewer).where(HomeViewer.user == user)).first()
        if row is not None:
            row.opened_at, row.dirty_since = now, None
            session.add(row)
            return _pages(row.pages_json)
        try:
            with session.begin_nested():
                session.add(HomeViewer(user=user, opened_at=now))
            return {}
        except IntegrityError:
            continue
    return {}  # pragma: no cover


def viewer_pages(session: Session, *, user: str) -> dict[str, int]:
    row = session.exec(select(HomeViewer.pages_json).where(HomeViewer.user == user)).first()
    return _pages(row)


def set_viewer_pages(session: Session, *, user: str, pages: dict[str, int]) -> None:
    kept = {k: int(v) for k, v in list(pages.items())[:PAGES_KEY_LIMIT] if int(v) > 0}
    session.execute(update(HomeViewer).where(col(HomeViewer.user) == user)
                    .values(pages_json=json.dumps(kept))
                    .execution_options(synchronize_session=False))


def mark_homes_dirty(session: Session, *, users: Iterable[str], now: datetime) -> None:
    """Flag these people's Homes for the next refresh (viewers only; the first mark's time
    stays, for the order of refreshes, and every mark is counted)."""
    wanted = sorted(set(users))
    if not wanted:
        return
    session.execute(update(HomeViewer)
                    .where(col(HomeViewer.user).in_(wanted))
                    .values(dirty_since=func.coalesce(col(HomeViewer.dirty_since), now),
                            dirty_marks=col(HomeViewer.dirty_marks) + 1)
                    .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class DirtyHome:
    user: str
    since: datetime  # the first mark not yet published
    marks: int  # how many marks so far: `mark_published` clears only if none came since


def dirty_viewers(session: Session) -> list[DirtyHome]:
    rows = session.exec(select(HomeViewer.user, HomeViewer.dirty_since, HomeViewer.dirty_marks)
                        .where(col(HomeViewer.dirty_since).is_not(None))
                        .order_by(col(HomeViewer.dirty_since), col(HomeViewer.id))).all()
    return [DirtyHome(user, since, marks) for user, since, marks in rows if since is not None]


def mark_published(session: Session, *, user: str, seen: DirtyHome | None,
                   now: datetime) -> None:
    """Clear the mark that was ``seen`` before publishing, unless a change marked the Home
    again meanwhile (what was published may lack it): that mark stays for next time."""
    mine = col(HomeViewer.user) == user
    session.execute(update(HomeViewer).where(mine).values(published_at=now)
                    .execution_options(synchronize_session=False))
    if seen is not None:
        session.execute(update(HomeViewer)
                        .where(mine, col(HomeViewer.dirty_marks) == seen.marks)
                        .values(dirty_since=None).execution_options(synchronize_session=False))


def take_feed(session: Session, workspace: Workspace, *, limit: int = FEED_BATCH) -> set[str]:
    """The people whose Home the outbox rows not read yet touch; each row is read once.

    Rows are flagged as read in the caller's transaction. A flag, not a read position: on
    PostgreSQL ids are handed out before commit, so a row can commit after a newer one was
    read, and a position past it would skip it for good. Rows another replica is reading
    are locked and skipped.
    """
    unread = (select(OutboxItem.id).where(col(OutboxItem.home_feed_read).is_(False))
              .order_by(col(OutboxItem.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        unread = unread.with_for_update(skip_locked=True)
    items = session.execute(
        update(OutboxItem).where(col(OutboxItem.id).in_(unread.scalar_subquery()))
        .values(home_feed_read=True)
        .returning(col(OutboxItem.kind), col(OutboxItem.ref_id))
        .execution_options(synchronize_session=False)
    ).all()
    return _affected(session, workspace, [(kind, ref) for kind, ref in items])


def _affected(session: Session, workspace: Workspace,
              items: list[tuple[str, int]]) -> set[str]:
    threads = {ref for kind, ref in items if kind in THREAD_KINDS}
    samples = {ref for kind, ref in items if kind in SAMPLE_KINDS}
    notices = {ref for kind, ref in items if kind in NOTICE_KINDS}
    states = {ref for kind, ref in items if kind == OutboxKind.WATCH_FYI}
    users: set[str] = set()
    if any(kind not in THREAD_KINDS | SAMPLE_KINDS | NOTICE_KINDS | QUIET_KINDS
           | {OutboxKind.WATCH_FYI} for kind, _ in items):
        users |= set(workspace.managers)  # something new (disputes, alerts): managers see all
    pairs: set[tuple[str, str]] = set()
    if samples:
        threads |= set(session.exec(select(Sample.thread_id)
                                    .where(col(Sample.id).in_(samples))).all())
    if threads:
        pairs |= set(session.exec(select(AuditThread.trainer, AuditThread.task_type)
                                  .where(col(AuditThread.id).in_(threads))).all())
    if notices:
        rows = session.exec(select(Escalation.trainer, Escalation.task_type,
                                   EscalationNotice.target)
                            .join(Escalation, col(Escalation.id) == EscalationNotice.escalation_id)
                            .where(col(EscalationNotice.id).in_(notices))).all()
        pairs |= {(trainer, task_type) for trainer, task_type, _ in rows}
        users |= {target for _, _, target in rows if target[:1] in ("U", "W")}
    if states:
        pairs |= set(session.exec(select(TrainerState.trainer, TrainerState.task_type)
                                  .where(col(TrainerState.id).in_(states))).all())
    for trainer, task_type in pairs:
        users |= _people_of(workspace, trainer=trainer, task_type=task_type)
    return users


def _people_of(workspace: Workspace, *, trainer: str, task_type: str) -> set[str]:
    """Whose Home shows this trainer's work in this task type."""
    found = workspace.trainer(trainer)
    lead = {found.lead} if found and found.lead else set()
    try:
        reviewers = set(workspace.task_type(task_type).reviewers)
    except KeyError:
        reviewers = set()
    return {trainer, *lead, *reviewers, *workspace.managers}


def _pages(raw: str | None) -> dict[str, int]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int)} \
        if isinstance(data, dict) else {}
