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

from sqlmodel import Session, col, select

from bot.models import Escalation, EscalationNotice
from bot.services.people import NotAllowed, roles_of
from bot.workspace import Workspace

CLOSED_SHOWN = 5


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
    lines = [_line(workspace, e, told.get(e.id or 0, [])) for e in visible]
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
                               EscalationNotice.round == 0)
                        .order_by(col(EscalationNotice.id))).all()
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for notice in rows:
        found[notice.escalation_id].append((notice.level, notice.target))
    return found


def _line(workspace: Workspace, e: Escalation, told: list[tuple[int, str]]) -> EscalationLine:
    try:
        name = workspace.task_type(e.task_type).name
    except KeyError:
        name = e.task_type
    return EscalationLine(
        id=e.id or 0, trainer=e.trainer, task_type=e.task_type, task_name=name,
        status=e.status, level=e.level, levels=len(workspace.escalation.levels),
        opened_at=e.opened_at, notified=tuple(told), acknowledged_by=e.acknowledged_by,
        acknowledged_at=e.acknowledged_at, closed_by=e.closed_by, closed_at=e.closed_at,
        close_note=e.close_note, score=e.score, threshold=e.threshold)
