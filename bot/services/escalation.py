"""The escalation path: open, climb level by level, acknowledge, resolve, recover.

Usage (the caller commits; the outbox delivers the messages)::

    check_trainer(session, workspace, trainer="U0T1", task_type="clinical", now=now)
    climb_overdue(session, workspace, now=now)           # the scheduled escalation check
    acknowledge(session, workspace, escalation_id=3, user="U0LEAD1", now=now)
    resolve(session, workspace, escalation_id=3, user="U0LEAD1", note="...", now=now)
    snooze(session, workspace, escalation_id=3, user="U0LEAD1", until=later, reason="...",
           now=now)

Exactly once: one open escalation per trainer and task type (``open_key`` is unique), one
notice per escalation, target, round and cycle (unique), and every change of level or
status is a conditional update, so concurrent checks on several replicas cannot both climb.
Every change also appends an ``EscalationEvent`` (the timeline) in its own transaction, only
when its conditional update changed the row: one event per change.

A level with ``working_hours`` is paged at its next opening (``notify_at``); its
``ack_within`` counts from then. A snooze pauses the climb, the reminders and a waiting
page; when it ends, ``ack_within`` counts again from its end. With ``repeat``, a path whose
last level passed its ``ack_within`` unacknowledged starts again from the first level, at
most ``repeat`` times; then it stops (``stopped_at``), and the message says so.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.common.errors import AuditbotError, NotFound
from bot.common.text import visible_length
from bot.services.outbox import OutboxKind, enqueue, enqueue_update
from bot.services.people import away_users
from bot.services.scoring import Standing, watch_notice_key
from bot.services.standings import GradedRecord, trainer_standing
from bot.store.models import (
    AuditThread,
    Escalation,
    EscalationEvent,
    EscalationNotice,
    Grade,
    Sample,
    TrainerState,
)
from bot.workspace import Workspace

MIN_RESOLVE_NOTE = 10
MIN_SNOOZE_REASON = 10
# The Snooze form's choices: a duration, or "date" (until the start of a chosen day).
SNOOZE_FOR = {"4h": timedelta(hours=4), "1d": timedelta(days=1), "3d": timedelta(days=3)}
SNOOZE_UNTIL_DATE = "date"
MAX_SNOOZE = timedelta(days=30)


class NotAllowedToAct(AuditbotError):
    pass


@dataclass(frozen=True)
class CheckOutcome:
    trainer: str
    task_type: str
    state: str
    opened: int | None = None  # escalation id opened by this check
    closed: int | None = None  # escalation id closed (recovered) by this check
    watch_started: bool = False


def open_key(trainer: str, task_type: str) -> str:
    return f"{trainer}|{task_type}"


def open_escalation(session: Session, *, trainer: str, task_type: str) -> Escalation | None:
    return session.exec(
        select(Escalation).where(Escalation.open_key == open_key(trainer, task_type))
    ).first()


def open_escalation_pairs(session: Session) -> set[tuple[str, str]]:
    """(trainer, task type) of every open escalation: one query on the unique ``open_key``
    (set only while open), for jobs that look at every trainer at once."""
    rows = session.exec(select(Escalation.trainer, Escalation.task_type)
                        .where(col(Escalation.open_key).is_not(None))).all()
    return {(trainer, task_type) for trainer, task_type in rows}


def check_trainer(session: Session, workspace: Workspace, *, trainer: str, task_type: str,
                  now: datetime) -> CheckOutcome:
    """Apply the threshold rule to one trainer: open, update or close their escalation."""
    # Lock first, then read the grades: concurrent checks of this trainer (replicas, each
    # grade's check, the schedule) take turns, and each computes from what is committed
    # when its turn comes. Computed before the lock, a check could store a standing older
    # than the one the check before it stored, FYI the lead again, or reopen what it closed.
    state, previous = _lock_state(session, trainer=trainer, task_type=task_type, now=now)
    current, records = trainer_standing(session, workspace, trainer=trainer,
                                        task_type=task_type, now=now, previous=previous)
    # Notices show the standing and its worst samples: unchanged, they are not rewritten
    # (every check on every replica comes here; Slack rate-limits chat.update).
    shown = _digest(current, records)
    changed = state.shown != shown
    state.shown = shown
    _remember(session, state, current=current, now=now)
    existing = open_escalation(session, trainer=trainer, task_type=task_type)
    outcome = CheckOutcome(trainer, task_type, current.state)
    if current.state == "escalate":
        if existing is None and _resolved_on_these_grades(session, trainer=trainer,
                                                          task_type=task_type):
            return outcome
        if existing is None:
            opened = _open(session, workspace, trainer=trainer, task_type=task_type,
                           current=current, now=now)
            return CheckOutcome(trainer, task_type, current.state, opened=opened)
        _refresh(session, existing, current)
        if changed:
            _update_notices(session, existing, now=now)
        return outcome
    if existing is not None and current.recovered:
        _close(session, existing, status="recovered", by=None, now=now,
               note=f"Quality recovered: {current.reason}")
        return CheckOutcome(trainer, task_type, current.state, closed=existing.id)
    if existing is not None:
        _refresh(session, existing, current)
        if changed:
            _update_notices(session, existing, now=now)
    if current.state == "watch" and previous not in ("watch", "escalate") and existing is None:
        lead = _lead(workspace, trainer)
        if lead and state.id is not None:
            enqueue(session, kind=OutboxKind.WATCH_FYI, ref_id=state.id, channel=lead,
                    dedupe_key=watch_notice_key(state.id, current), now=now)
        return CheckOutcome(trainer, task_type, current.state, watch_started=True)
    return outcome


def check_all(session: Session, workspace: Workspace, *, now: datetime) -> list[CheckOutcome]:
    return [
        check_trainer(session, workspace, trainer=t.user, task_type=key, now=now)
        for t in workspace.trainers for key in t.task_types
    ]


def climb_overdue(session: Session, workspace: Workspace, *, now: datetime) -> list[int]:
    """Move every open escalation whose time came: end snoozes that are over, page levels
    whose working hours opened, notify the next level (or repeat the path, or stop it) when
    nobody acknowledged in time, remind acknowledged ones every ``reack_after``. Returns the
    ids that moved."""
    moved = []
    away = away_users(session, workspace, now=now)
    for escalation in session.exec(select(Escalation).where(Escalation.status == "open")).all():
        if escalation.snoozed_until is not None:
            if now < escalation.snoozed_until or not _unsnooze(session, escalation, now=now):
                continue  # snoozed: nothing moves (or another check just ended the snooze)
            moved.append(escalation.id or 0)
        if _step(session, workspace, escalation, now=now, away=away):
            moved.append(escalation.id or 0)
    return sorted(set(moved), key=moved.index)


def _step(session: Session, workspace: Workspace, escalation: Escalation, *, now: datetime,
          away: frozenset[str]) -> bool:
    """One escalation's move at ``now``, if any is due; True when it moved."""
    levels = workspace.escalation.levels
    if escalation.acknowledged_at is not None:
        last = max(t for t in (escalation.acknowledged_at, escalation.reminded_at,
                               escalation.resumed_at) if t is not None)
        if now < last + workspace.escalation.reack_after:
            return False
        paged = _paged_level(session, escalation)  # not one acknowledged while it waited
        if not _open_now(workspace, paged, now):
            return False
        if not _claim(session, escalation, reminders=escalation.reminders + 1,
                      reminded_at=now):
            return False
        _notify_level(session, workspace, escalation, level=paged,
                      round_=escalation.reminders, now=now, away=away, kind="reminded")
        _update_notices(session, escalation, now=now)  # their timelines show the reminder
        return True
    if escalation.notify_at is not None:  # this level waits for its working hours
        if now < escalation.notify_at or not _open_now(workspace, escalation.level, now):
            return False
        if not _claim(session, escalation, unacknowledged=True, waiting=True,
                      notify_at=None, level_notified_at=now):
            return False
        _notify_level(session, workspace, escalation, level=escalation.level, round_=0,
                      now=now, away=away)
        _update_notices(session, escalation, now=now)
        return True
    ack_within = levels[escalation.level].ack_within
    if ack_within is None or escalation.stopped_at is not None:
        return False  # the last level stays, or the path ran out
    if now - escalation.level_notified_at < ack_within:
        return False
    is_last = escalation.level + 1 >= len(levels)
    level = None if is_last else _next_level_with_targets(
        workspace, escalation, escalation.level + 1, away=away)
    if not is_last and level is None:
        return False  # nobody on the path to tell at all
    repeats = escalation.repeats
    kind = "climbed"
    if level is None:
        if repeats >= workspace.escalation.repeat:
            if not _claim(session, escalation, unacknowledged=True, stopped_at=now):
                return False
            _event(session, escalation, "stopped", at=now, level=escalation.level,
                   detail=str(repeats))
            _update_notices(session, escalation, now=now)
            return True
        level = _next_level_with_targets(workspace, escalation, 0, away=away)
        if level is None:
            return False
        repeats, kind = repeats + 1, "repeated"
    opening = _opening(workspace, level, now)
    if not _claim(session, escalation, unacknowledged=True, level=level, repeats=repeats,
                  level_notified_at=opening, notify_at=opening if opening > now else None):
        return False
    _event(session, escalation, kind, at=now, level=level,
           detail=f"{repeats} of {workspace.escalation.repeat}" if kind == "repeated"
           else None)
    _page(session, workspace, escalation, level=level, opening=opening, now=now, away=away)
    _update_notices(session, escalation, now=now)
    return True


def may_act(workspace: Workspace, session: Session, escalation: Escalation, user: str, *,
            channel: str | None = None) -> bool:
    """People notified, the trainer's lead and managers may acknowledge or resolve; so may
    anyone acting on the notice in a channel it was posted to (``channel``: where the click
    came from, as Slack signed it; being able to see the notice there is being notified)."""
    if workspace.is_manager(user) or _lead(workspace, escalation.trainer) == user:
        return True
    targets = [user] if channel is None else [user, channel]
    notified = session.exec(
        select(EscalationNotice.id).where(EscalationNotice.escalation_id == escalation.id,
                                          col(EscalationNotice.target).in_(targets))
    ).first()
    return notified is not None


@dataclass(frozen=True)
class TestedWeek:
    week: str
    graded: int
    audited: int
    score: float | None


def tested_weeks(escalation: Escalation) -> tuple[TestedWeek, ...]:
    """The weeks of the confidence test that opened ``escalation`` (oldest first)."""
    try:
        rows = json.loads(escalation.tested_weeks or "[]")
        return tuple(TestedWeek(str(w), int(g), int(a), None if s is None else float(s))
                     for w, g, a, s in rows)
    except (ValueError, TypeError):
        return ()  # a damaged row shows no weeks rather than breaking the message


def load_escalation(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound("That escalation no longer exists.")
    return escalation


def check_may_act(workspace: Workspace, session: Session, escalation: Escalation,
                  user: str, *, channel: str | None = None) -> None:
    if not may_act(workspace, session, escalation, user, channel=channel):
        raise NotAllowedToAct(
            "Only the people this escalation was sent to, the trainer's lead and managers "
            "can acknowledge or resolve it.")


def acknowledge(session: Session, workspace: Workspace, *, escalation_id: int, user: str,
                now: datetime, channel: str | None = None) -> bool:
    """Stop the climb. False when it was already acknowledged or is closed (no change)."""
    escalation = load_escalation(session, escalation_id)
    check_may_act(workspace, session, escalation, user, channel=channel)
    changed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation_id, col(Escalation.status) == "open",
               col(Escalation.acknowledged_at).is_(None))
        # A level still waiting for its working hours is not paged: someone has it.
        .values(acknowledged_by=user, acknowledged_at=now, notify_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed:
        session.refresh(escalation)
        _event(session, escalation, "acknowledged", at=now, actor=user, level=escalation.level)
        _update_notices(session, escalation, now=now)
    return bool(changed)


def resolve_note_problem(note: str | None) -> str | None:
    seen = visible_length(note)
    if seen < MIN_RESOLVE_NOTE:
        return (f"Say what was done in at least {MIN_RESOLVE_NOTE} characters "
                f"(you wrote {seen}).")
    return None


def resolve(session: Session, workspace: Workspace, *, escalation_id: int, user: str,
            note: str, now: datetime, channel: str | None = None) -> bool:
    escalation = load_escalation(session, escalation_id)
    check_may_act(workspace, session, escalation, user, channel=channel)
    problem = resolve_note_problem(note)
    if problem:
        raise AuditbotError(problem)
    if escalation.status != "open":
        return False
    return _close(session, escalation, status="resolved", by=user, note=note.strip(), now=now)


def may_snooze(workspace: Workspace, escalation: Escalation, user: str) -> bool:
    """Managers and the trainer's lead may snooze (pausing the climb is theirs to decide)."""
    return workspace.is_manager(user) or _lead(workspace, escalation.trainer) == user


def check_may_snooze(workspace: Workspace, escalation: Escalation, user: str) -> None:
    if not may_snooze(workspace, escalation, user):
        raise NotAllowedToAct("Only managers and the trainer's lead can snooze an escalation.")
    if escalation.status != "open":
        raise AuditbotError("This escalation is closed already: there is nothing to snooze.")


def snooze_reason_problem(reason: str | None) -> str | None:
    seen = visible_length(reason)
    if seen < MIN_SNOOZE_REASON:
        return (f"Say why it can wait in at least {MIN_SNOOZE_REASON} characters "
                f"(you wrote {seen}).")
    return None


class SnoozeEndProblem(AuditbotError):
    pass


def snooze_end(choice: str | None, day: date | None, *, now: datetime,
               workspace: Workspace) -> datetime:
    """When a snooze chosen on the form ends: ``now`` plus 4h, 1d or 3d, or the start of
    ``day`` (00:00 in the workspace timezone) for ``"date"``; within ``MAX_SNOOZE``.
    Raises ``SnoozeEndProblem`` with a message for the form."""
    if choice in SNOOZE_FOR:
        return now + SNOOZE_FOR[choice]
    if choice != SNOOZE_UNTIL_DATE:
        raise SnoozeEndProblem("Choose how long to snooze.")
    if day is None:
        raise SnoozeEndProblem("Pick the day the escalation should wake up.")
    end = datetime.combine(day, time(0), tzinfo=workspace.tz).astimezone(UTC)
    if end <= now:
        raise SnoozeEndProblem("Pick a day after today.")
    if end - now > MAX_SNOOZE:
        raise SnoozeEndProblem(f"Snooze at most {MAX_SNOOZE.days} days ahead.")
    return end


def snooze(session: Session, workspace: Workspace, *, escalation_id: int, user: str,
           until: datetime, reason: str, now: datetime) -> bool:
    """Pause the climb and the reminders until ``until``. False when it is closed. A new
    snooze replaces the one running."""
    escalation = load_escalation(session, escalation_id)
    check_may_snooze(workspace, escalation, user)
    problem = snooze_reason_problem(reason)
    if problem:
        raise AuditbotError(problem)
    if until <= now:
        raise SnoozeEndProblem("The snooze must end in the future.")
    changed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation_id, col(Escalation.status) == "open")
        .values(snoozed_until=until, snoozed_by=user, snooze_reason=reason.strip())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        return False
    session.refresh(escalation)
    _event(session, escalation, "snoozed", at=now, actor=user, level=escalation.level,
           until=until, detail=reason.strip())
    _update_notices(session, escalation, now=now)
    return True


def notices(session: Session, escalation_id: int) -> list[EscalationNotice]:
    return list(session.exec(
        select(EscalationNotice).where(EscalationNotice.escalation_id == escalation_id)
        .order_by(col(EscalationNotice.id))
    ).all())


# --- internals --------------------------------------------------------------------------------

def _open(session: Session, workspace: Workspace, *, trainer: str, task_type: str,
          current: Standing, now: datetime) -> int | None:
    escalation = Escalation(
        trainer=trainer, task_type=task_type, open_key=open_key(trainer, task_type),
        level=0, level_notified_at=now, opened_at=now, reason=current.reason,
        score=current.score, lower=current.lower, upper=current.upper,
        threshold=workspace.task_type(task_type).policy.pass_threshold,
        tested_through=current.tested_through, tested_lower=current.tested_lower,
        tested_upper=current.tested_upper,
        tested_weeks=json.dumps([[w.week, w.graded, w.audited, w.score]
                                 for w in current.tested_weeks])
        if current.tested_weeks else None,
    )
    try:
        with session.begin_nested():
            session.add(escalation)
            session.flush()
    except IntegrityError:
        return None  # another check opened it a moment ago
    away = away_users(session, workspace, now=now)
    level = _next_level_with_targets(workspace, escalation, 0, away=away)
    _event(session, escalation, "opened", at=now, level=level, detail=current.reason)
    if level is None:
        return escalation.id
    opening = _opening(workspace, level, now)
    escalation.level = level
    escalation.level_notified_at = opening
    escalation.notify_at = opening if opening > now else None
    session.add(escalation)
    _page(session, workspace, escalation, level=level, opening=opening, now=now, away=away)
    return escalation.id


def _paged_level(session: Session, escalation: Escalation) -> int:
    """The highest level that was actually paged (a level acknowledged while it waited for
    its working hours never was); the escalation's level if none was."""
    level = session.exec(select(func.max(EscalationNotice.level))
                         .where(EscalationNotice.escalation_id == escalation.id)).one()
    return escalation.level if level is None else int(level)


def _opening(workspace: Workspace, level: int, now: datetime) -> datetime:
    """When ``level`` may be paged: ``now``, or the next opening of its working hours."""
    hours = workspace.escalation.levels[level].working_hours
    return now if hours is None else hours.next_opening(now, workspace.tz)


def _open_now(workspace: Workspace, level: int, now: datetime) -> bool:
    hours = workspace.escalation.levels[level].working_hours
    return hours is None or hours.is_open(now, workspace.tz)


def _page(session: Session, workspace: Workspace, escalation: Escalation, *, level: int,
          opening: datetime, now: datetime, away: frozenset[str]) -> None:
    """Notify ``level`` now, or note that it waits for its working hours."""
    if opening > now:
        _event(session, escalation, "waiting", at=now, level=level, until=opening)
        return
    _notify_level(session, workspace, escalation, level=level, round_=0, now=now, away=away)


def _event(session: Session, escalation: Escalation, kind: str, *, at: datetime,
           actor: str | None = None, level: int | None = None, until: datetime | None = None,
           detail: str | None = None) -> None:
    """Append one change to the timeline (in the caller's transaction)."""
    session.add(EscalationEvent(escalation_id=escalation.id or 0, at=at, kind=kind,
                                actor=actor, level=level, until=until, detail=detail))


def _unsnooze(session: Session, escalation: Escalation, *, now: datetime) -> bool:
    """End a snooze that is over: ``ack_within`` (and the reminders) count from its end.
    Conditional on the snooze read, so one check on one replica ends it."""
    end = escalation.snoozed_until
    assert end is not None
    changed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation.id, col(Escalation.status) == "open",
               col(Escalation.snoozed_until) == end)
        .values(snoozed_until=None, resumed_at=end,
                level_notified_at=max(escalation.level_notified_at, end))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        return False
    session.refresh(escalation)
    _event(session, escalation, "unsnoozed", at=end, level=escalation.level)
    _update_notices(session, escalation, now=now)
    return True


def _notify_level(session: Session, workspace: Workspace, escalation: Escalation, *,
                  level: int, round_: int, now: datetime,
                  away: frozenset[str] = frozenset(), kind: str = "notified") -> None:
    told = []
    for target in _targets(workspace, escalation, level, away=away) \
            or _targets(workspace, escalation, level):  # all away and nobody after: tell them
        notice = EscalationNotice(escalation_id=escalation.id or 0, level=level, target=target,
                                  round=round_, cycle=escalation.repeats, notified_at=now)
        try:
            with session.begin_nested():
                session.add(notice)
                session.flush()
        except IntegrityError:
            continue  # this target was told already (an earlier level or a concurrent check)
        told.append(target)
        enqueue(session, kind=OutboxKind.ESCALATION_NOTICE, ref_id=notice.id or 0,
                channel=target, dedupe_key=f"{OutboxKind.ESCALATION_NOTICE}:{notice.id}",
                now=now)
    if told:
        _event(session, escalation, kind, at=now, level=level, detail=",".join(told))


def _update_notices(session: Session, escalation: Escalation, *, now: datetime) -> None:
    for notice in notices(session, escalation.id or 0):
        enqueue_update(session, kind=OutboxKind.ESCALATION_UPDATE, ref_id=notice.id or 0,
                       channel=notice.target, now=now)


def _close(session: Session, escalation: Escalation, *, status: str, by: str | None,
           note: str, now: datetime) -> bool:
    changed = session.execute(
        update(Escalation)
        .where(col(Escalation.id) == escalation.id, col(Escalation.status) == "open")
        .values(status=status, open_key=None, closed_by=by, closed_at=now, close_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        return False
    session.refresh(escalation)
    _event(session, escalation, status, at=now, actor=by, level=escalation.level, detail=note)
    _update_notices(session, escalation, now=now)
    told: set[str] = set()
    for notice in notices(session, escalation.id or 0):
        if notice.target in told:
            continue
        told.add(notice.target)
        enqueue(session, kind=OutboxKind.ESCALATION_CLOSED, ref_id=notice.id or 0,
                channel=notice.target,
                dedupe_key=f"{OutboxKind.ESCALATION_CLOSED}:{escalation.id}:{notice.target}",
                now=now)
    return True


def _claim(session: Session, escalation: Escalation, *, unacknowledged: bool = False,
           waiting: bool = False, **values: object) -> bool:
    """Move the escalation only if nobody else moved it since we read it, and nobody
    snoozed it since (a snooze committed meanwhile pauses what we were about to do).

    ``unacknowledged``: and only if still nobody acknowledged it (the climb read it so, but
    an acknowledgement may have committed since; the next level must not hear of it then).
    ``waiting``: and only if its level still waits for working hours (one check pages it).
    """
    query = (
        update(Escalation)
        .where(col(Escalation.id) == escalation.id, col(Escalation.level) == escalation.level,
               col(Escalation.reminders) == escalation.reminders,
               col(Escalation.repeats) == escalation.repeats,
               col(Escalation.status) == "open", col(Escalation.snoozed_until).is_(None))
    )
    if unacknowledged:  # (a stopped path moves again only through an acknowledgement)
        query = query.where(col(Escalation.acknowledged_at).is_(None),
                            col(Escalation.stopped_at).is_(None))
    if waiting:
        query = query.where(col(Escalation.notify_at).is_not(None))
    changed = session.execute(
        query.values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed:
        session.refresh(escalation)
    return bool(changed)


def _refresh(session: Session, escalation: Escalation, current: Standing) -> None:
    escalation.score, escalation.lower, escalation.upper = (
        current.score, current.lower, current.upper)
    session.add(escalation)


def _targets(workspace: Workspace, escalation: Escalation, level: int, *,
             away: frozenset[str] = frozenset()) -> list[str]:
    """Who this level tells: people who are away are left out (channels never are)."""
    targets = []
    for entry in workspace.escalation.levels[level].notify:
        target = _lead(workspace, escalation.trainer) if entry == "lead" else entry
        if target and target not in targets and target not in away:
            targets.append(target)
    return targets


def _next_level_with_targets(workspace: Workspace, escalation: Escalation, level: int, *,
                             away: frozenset[str] = frozenset()) -> int | None:
    """``level`` or the first level after it that has someone to tell (no lead, or all
    away → skip); when everyone after ``level`` is away, the first with anyone at all."""
    levels = range(level, len(workspace.escalation.levels))
    for skip in (away, frozenset[str]()):
        for candidate in levels:
            if _targets(workspace, escalation, candidate, away=skip):
                return candidate
    return None


def _lead(workspace: Workspace, trainer: str) -> str | None:
    found = workspace.trainer(trainer)
    return found.lead if found else None


def _resolved_on_these_grades(session: Session, *, trainer: str, task_type: str) -> bool:
    """True when the latest escalation was resolved by hand and no grade came in since:
    someone looked at exactly this data and closed it, so it must not reopen by itself."""
    last = session.exec(
        select(Escalation).where(Escalation.trainer == trainer, Escalation.task_type == task_type)
        .order_by(col(Escalation.id).desc())
    ).first()
    if last is None or last.status != "resolved" or last.closed_at is None:
        return False
    newest = session.exec(
        select(func.max(Grade.updated_at))
        .join(Sample, col(Sample.id) == Grade.sample_id)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .where(AuditThread.trainer == trainer, AuditThread.task_type == task_type)
    ).one()
    return newest is None or newest <= last.closed_at


def _state_row(session: Session, *, trainer: str, task_type: str,
               lock: bool = False) -> TrainerState | None:
    query = select(TrainerState).where(TrainerState.trainer == trainer,
                                       TrainerState.task_type == task_type)
    if lock:  # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers
        query = query.with_for_update()
    return session.exec(query).first()


def _lock_state(session: Session, *, trainer: str, task_type: str,
                now: datetime) -> tuple[TrainerState, str | None]:
    """Lock the trainer's state row, inserting it on their first check; return it and the
    previous state (None on the first check).

    Two checks at once (replicas, a grade and the schedule) then take turns, and the second
    sees the first's state, so "became watch" happens once. A first check has no row to
    lock: it inserts one, and a concurrent first check's insert waits on the unique key
    until this one commits, then fails and locks the committed row instead.
    """
    row = _state_row(session, trainer=trainer, task_type=task_type, lock=True)
    if row is not None:
        return row, row.state
    row = TrainerState(trainer=trainer, task_type=task_type,
                       state="insufficient",  # a placeholder: _remember sets it before commit
                       since=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return row, None
    except IntegrityError:
        pass  # another check inserted it and has committed: lock theirs
    stored = _state_row(session, trainer=trainer, task_type=task_type, lock=True)
    assert stored is not None  # rows are never deleted
    return stored, stored.state


def _digest(current: Standing, records: Sequence[GradedRecord]) -> str:
    """What an escalation message shows of the standing (frozen dataclasses: their repr is
    their content)."""
    return hashlib.sha256(repr((current, tuple(records))).encode("utf-8")).hexdigest()


def _remember(session: Session, row: TrainerState, *, current: Standing,
              now: datetime) -> None:
    """Store the new standing in the (locked) state row."""
    if row.state != current.state:
        row.since = now
    row.state, row.sampling = current.state, current.sampling
    row.score, row.lower, row.upper, row.graded = (
        current.score, current.lower, current.upper, current.graded)
    row.updated_at = now
    session.add(row)
