"""Who someone is to auditbot, who is away, and which trainers are paused.

Usage (the caller commits)::

    roles = roles_of(workspace, "U0LEAD0001")     # manager? reviews? leads whom? a trainer?
    set_away(session, workspace, user="U0NURSE01", until=date(2026, 12, 24),
             by="U0NURSE01", now=now)
    away_on(session, workspace, day=date(2026, 12, 1))    # {"U0NURSE01": date(2026, 12, 24)}
    set_paused(session, workspace, trainer="U0TRAINER1", paused=True, by=manager, now=now)
    audit_exemptions(session, workspace, now=now)  # {"U0TRAINER1": "paused"}

Away comes from two places: ``[[away]]`` in the config and ``/audit away`` (the store,
one period per person, the latest wins). An away reviewer gets no reminders, an away
trainer no audit that week (and is not counted missing), and an escalation level whose
people are all away passes to the next.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.errors import AuditbotError, NotAManager, NotFound
from bot.services.home_feed import mark_homes_dirty
from bot.store.models.people import AwayPeriod, TrainerPause
from bot.workspace import Trainer, Workspace


class NotAllowed(AuditbotError):
    pass


@dataclass(frozen=True)
class Roles:
    """What ``user`` is in the config; a person may be several of these at once."""

    user: str
    manager: bool
    reviews: tuple[str, ...]  # task type keys they review
    leads: tuple[str, ...]  # trainers whose lead they are
    trainer: Trainer | None

    @property
    def known(self) -> bool:
        return bool(self.manager or self.reviews or self.leads or self.trainer)


def roles_of(workspace: Workspace, user: str) -> Roles:
    return Roles(
        user=user,
        manager=workspace.is_manager(user),
        reviews=tuple(t.key for t in workspace.reviewer_task_types(user)),
        leads=tuple(t.user for t in workspace.trainers if t.lead == user),
        trainer=workspace.trainer(user),
    )


def check_known(workspace: Workspace, user: str) -> Roles:
    """The roles of someone the config names; a refusal for anyone else."""
    roles = roles_of(workspace, user)
    if not roles.known:
        ask = ", ".join(f"<@{m}>" for m in workspace.managers) or "whoever runs auditbot"
        raise NotAllowed("auditbot's results are for the reviewers, trainers, leads and "
                         f"managers in its config. To take part, ask {ask}.")
    return roles


def check_manager(workspace: Workspace, user: str, *, to: str) -> None:
    """Refuse (``NotAManager``) anyone but a manager; ``to`` says what they asked for:
    "run the audit by hand" reads "Only managers can run the audit by hand."."""
    if not workspace.is_manager(user):
        raise NotAManager(f"Only managers can {to}.")


def local_date(workspace: Workspace, now: datetime) -> date:
    return now.astimezone(workspace.tz).date()


def concerned(workspace: Workspace, user: str) -> set[str]:
    """The person, their lead (for a trainer) and the managers: who sees a change to them."""
    trainer = workspace.trainer(user)
    lead = {trainer.lead} if trainer and trainer.lead else set()
    return {user, *lead, *workspace.managers}


# --- away ---------------------------------------------------------------------------------

def away_on(session: Session, workspace: Workspace, *, day: date,
            users: Iterable[str] | None = None) -> dict[str, date]:
    """Who is away on ``day`` (config and store), with the last day of their absence."""
    wanted = set(users) if users is not None else None
    found: dict[str, date] = {}
    spans = [(a.user, a.start, a.until) for a in workspace.away]
    query = select(AwayPeriod).where(AwayPeriod.until >= day, AwayPeriod.starts <= day)
    if wanted is not None:
        query = query.where(col(AwayPeriod.user).in_(wanted))
    spans += [(a.user, a.starts, a.until) for a in session.exec(query).all()]
    for user, start, until in spans:
        if (wanted is None or user in wanted) and (start is None or start <= day) \
                and until >= day:
            found[user] = max(until, found.get(user, until))
    return found


def away_users(session: Session, workspace: Workspace, *, now: datetime) -> frozenset[str]:
    return frozenset(away_on(session, workspace, day=local_date(workspace, now)))


def check_may_set_away(workspace: Workspace, *, user: str, by: str) -> None:
    if not roles_of(workspace, user).known:
        raise NotFound(f"<@{user}> is not in auditbot's config: it neither audits nor "
                       "reminds them, so there is nothing to hold while they are away.")
    trainer = workspace.trainer(user)
    if by == user or workspace.is_manager(by) or (trainer is not None and trainer.lead == by):
        return
    raise NotAllowed("Only the person themself, their lead or a manager can mark someone "
                     "away.")


def set_away(session: Session, workspace: Workspace, *, user: str, until: date, by: str,
             now: datetime) -> date:
    """Record ``user`` away from today through ``until``; returns ``until``."""
    check_may_set_away(workspace, user=user, by=by)
    today = local_date(workspace, now)
    if until < today:
        raise AuditbotError(f"{until.isoformat()} has passed: give the last day away, "
                            f"today ({today.isoformat()}) or later.")
    for _ in range(2):
        row = session.exec(select(AwayPeriod).where(AwayPeriod.user == user)).first()
        if row is not None:
            row.starts, row.until, row.set_by, row.set_at = today, until, by, now
            session.add(row)
            break
        try:
            with session.begin_nested():
                session.add(AwayPeriod(user=user, starts=today, until=until, set_by=by,
                                       set_at=now))
            break
        except IntegrityError:
            continue  # someone recorded it a moment ago: update theirs
    mark_homes_dirty(session, users=concerned(workspace, user), now=now)
    session.flush()
    return until


def clear_away(session: Session, workspace: Workspace, *, user: str, by: str,
               now: datetime) -> bool:
    """``user`` is back: end their recorded absence (config spans stay). False if none."""
    check_may_set_away(workspace, user=user, by=by)
    row = session.exec(select(AwayPeriod).where(AwayPeriod.user == user)).first()
    if row is None or row.until < local_date(workspace, now):
        return False
    session.delete(row)
    mark_homes_dirty(session, users=concerned(workspace, user), now=now)
    session.flush()
    return True


# --- pause ----------------------------------------------------------------------------------

def paused_trainers(session: Session) -> frozenset[str]:
    rows = session.exec(select(TrainerPause.trainer).where(TrainerPause.paused == True))  # noqa: E712
    return frozenset(rows.all())


def set_paused(session: Session, workspace: Workspace, *, trainer: str, paused: bool, by: str,
               now: datetime) -> bool:
    """Pause or resume a trainer's audits (managers). True if that changed anything."""
    if not workspace.is_manager(by):
        raise NotAManager("Only managers can pause or resume a trainer's audits.")
    if workspace.trainer(trainer) is None:
        raise NotFound(f"<@{trainer}> is not a trainer in auditbot's config.")
    for _ in range(2):
        row = session.exec(select(TrainerPause).where(TrainerPause.trainer == trainer)).first()
        if row is not None:
            if row.paused == paused:
                return False
            row.paused, row.changed_by, row.changed_at = paused, by, now
            session.add(row)
            break
        if not paused:
            return False  # never paused
        try:
            with session.begin_nested():
                session.add(TrainerPause(trainer=trainer, paused=True, changed_by=by,
                                         changed_at=now))
            break
        except IntegrityError:
            continue
    mark_homes_dirty(session, users=concerned(workspace, trainer), now=now)
    session.flush()
    return True


def audit_exemptions(session: Session, workspace: Workspace, *,
                     now: datetime) -> dict[str, str]:
    """Trainers the weekly audit at ``now`` skips, with why: ``paused`` or ``away``."""
    exempt = {t: "paused" for t in paused_trainers(session)}
    trainers = {t.user for t in workspace.trainers}
    # Who is away today is a few rows: read them all and keep the trainers, rather than
    # sending every trainer's id (thousands) as query parameters.
    for user in away_on(session, workspace, day=local_date(workspace, now)):
        if user in trainers:
            exempt.setdefault(user, "away")
    return exempt
