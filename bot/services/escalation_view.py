"""Escalations as people ask about them: `/audit escalations`, the Home, the digest.

Usage::

    overview = escalation_overview(session, workspace, viewer="U0MANAGER1")
    overview.open     # level, age, who was notified, who acknowledged
    overview.closed   # the last few, with how they closed

Managers see every escalation; a lead sees their trainers'; anyone notified sees the ones
they were told about.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.services.people import NotAllowed, roles_of
from bot.store.models import Escalation, EscalationEvent, EscalationNotice
from bot.workspace import Workspace

CLOSED_SHOWN = 5
TIMELINE_SHOWN = 8  # the newest changes of each open escalation in `/audit escalations`


@dataclass(frozen=True)
class TimelineEntry:
    """One change of an escalation: see ``EscalationEvent`` for the kinds."""

    at: datetime
    kind: str
    actor: str | None
    level: int | None  # 0-based
    until: datetime | None
    detail: str | None


@dataclass(frozen=True)
class Timeline:
    entries: tuple[TimelineEntry, ...]  # oldest first: the newest ``last`` changes
    earlier: int  # how many older changes are left out


NO_TIMELINE = Timeline((), 0)


def timelines(session: Session, ids: list[int], *, last: int) -> dict[int, Timeline]:
    """The newest ``last`` changes of each escalation in ``ids`` (one bounded query)."""
    if not ids:
        return {}
    newest_first = func.row_number().over(
        partition_by=col(EscalationEvent.escalation_id),
        order_by=col(EscalationEvent.id).desc()).label("newest")
    total = func.count().over(partition_by=col(EscalationEvent.escalation_id)).label("total")
    ranked = (select(EscalationEvent.id, newest_first, total)
              .where(col(EscalationEvent.escalation_id).in_(ids)).subquery())
    rows = session.exec(
        select(EscalationEvent, ranked.c.total)
        .join(ranked, ranked.c.id == EscalationEvent.id)
        .where(ranked.c.newest <= last)
        .order_by(col(EscalationEvent.escalation_id), col(EscalationEvent.id))).all()
    found: dict[int, list[TimelineEntry]] = defaultdict(list)
    totals: dict[int, int] = {}
    for event, count in rows:
        found[event.escalation_id].append(TimelineEntry(
            at=event.at, kind=event.kind, actor=event.actor, level=event.level,
            until=event.until, detail=event.detail))
        totals[event.escalation_id] = count
    return {key: Timeline(tuple(entries), totals[key] - len(entries))
            for key, entries in found.items()}


@dataclass(frozen=True)
class EscalationLine:
    id: int
    trainer: str
    task_type: str
    task_name: str
    status: str  # open | resolved | recovered
    level: int  # 0-based, the highest level notified
    levels: int
    opened_at: datetime
    notified: tuple[tuple[int, str], ...]  # (level, target) of the first notices
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None
    score: float | None
    threshold: float
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    snooze_reason: str | None = None
    waits_until: datetime | None = None  # the level's page waits for its working hours
    repeats: int = 0
    repeat: int = 0
    stopped_at: datetime | None = None
    timeline: Timeline = NO_TIMELINE


@dataclass(frozen=True)
class EscalationOverview:
    open: tuple[EscalationLine, ...]  # oldest first
    closed: tuple[EscalationLine, ...]  # most recently closed first


def escalation_overview(session: Session, workspace: Workspace, *, viewer: str | None,
                        closed_limit: int = CLOSED_SHOWN) -> EscalationOverview:
    """What ``viewer`` may see (``None``: everything, for jobs)."""
    rows = session.exec(select(Escalation).order_by(col(Escalation.opened_at))).all()
    told = _notified(session, [e.id for e in rows if e.id is not None])
    visible = [e for e in rows if viewer is None or _may_see(workspace, viewer, e, told)]
    if viewer is not None and not visible and not _may_see_any(workspace, viewer):
        raise NotAllowed("Escalations are for the trainers' leads, the people they were sent "
                         "to and managers.")
    shown = {e.id or 0 for e in visible if e.status == "open"}
    history = timelines(session, sorted(shown), last=TIMELINE_SHOWN)
    lines = [_line(workspace, e, told.get(e.id or 0, []), history.get(e.id or 0))
             for e in visible]
    closed = sorted((e for e in lines if e.status != "open"),
                    key=lambda e: e.closed_at or e.opened_at, reverse=True)
    return EscalationOverview(open=tuple(e for e in lines if e.status == "open"),
                              closed=tuple(closed[:closed_limit]))


def _may_see_any(workspace: Workspace, viewer: str) -> bool:
    roles = roles_of(workspace, viewer)
    return roles.manager or bool(roles.leads)


def _may_see(workspace: Workspace, viewer: str, escalation: Escalation,
             told: dict[int, list[tuple[int, str]]]) -> bool:
    if workspace.is_manager(viewer):
        return True
    trainer = workspace.trainer(escalation.trainer)
    if trainer is not None and trainer.lead == viewer:
        return True
    return any(target == viewer for _, target in told.get(escalation.id or 0, []))


def _notified(session: Session, ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    if not ids:
        return {}
    rows = session.exec(select(EscalationNotice)
                        .where(col(EscalationNotice.escalation_id).in_(ids),
                               EscalationNotice.round == 0, EscalationNotice.cycle == 0)
                        .order_by(col(EscalationNotice.id))).all()
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for notice in rows:
        found[notice.escalation_id].append((notice.level, notice.target))
    return found


def _line(workspace: Workspace, e: Escalation, told: list[tuple[int, str]],
          timeline: Timeline | None) -> EscalationLine:
    try:
        name = workspace.task_type(e.task_type).name
    except KeyError:
        name = e.task_type
    return EscalationLine(
        id=e.id or 0, trainer=e.trainer, task_type=e.task_type, task_name=name,
        status=e.status, level=e.level, levels=len(workspace.escalation.levels),
        opened_at=e.opened_at, notified=tuple(told), acknowledged_by=e.acknowledged_by,
        acknowledged_at=e.acknowledged_at, closed_by=e.closed_by, closed_at=e.closed_at,
        close_note=e.close_note, score=e.score, threshold=e.threshold,
        snoozed_until=e.snoozed_until, snoozed_by=e.snoozed_by, snooze_reason=e.snooze_reason,
        waits_until=e.notify_at, repeats=e.repeats, repeat=workspace.escalation.repeat,
        stopped_at=e.stopped_at, timeline=timeline or NO_TIMELINE)
