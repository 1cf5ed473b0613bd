"""Who gets nudged, and with what: reviewer reminders and the managers' weekly digest.

Usage (the job in ``schedules.nudges`` sends them through the outbox)::

    for reminder in reminders_due(session, workspace, now=now): ...
    digest = weekly_digest(session, workspace, now=now)
    for manager in digest_recipients(session, workspace, now=now):
        digest_for(digest, workspace, viewer=manager)    # only the names they may see

Each message has a dedupe key (``reviewer-reminder:U0NURSE01:2026-11-25``,
``weekly-digest:U0MANAGER1:2026-W48``): the outbox sends a key once, so nobody is nudged
twice the same day or sent two digests for one week, however often the job runs.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.services.audit import audit_week
from bot.services.digest_reads import mover_candidates, trainers_below
from bot.services.escalation_view import EscalationLine, escalation_overview
from bot.services.pending import PendingList, pending_for
from bot.services.people import away_users, local_date
from bot.services.scorecard import Scorecard, scorecards, week_start
from bot.services.standings import week_sums, window_weeks
from bot.services.status import Backlog, backlog_by_task_type
from bot.services.tallies import task_type_tallies
from bot.services.visibility import may_see_trainer
from bot.store.models import OutboxItem
from bot.workspace import Workspace

REMIND_AFTER = timedelta(days=1)
REMINDER_SHOWN = 10
MOVERS_SHOWN = 3
MOVER_MIN_GRADED = 2  # graded samples in each of the two weeks for a change to count
ESCALATIONS_SHOWN = 15  # in the digest message (``nudge_blocks``)
BELOW_SHOWN = 4  # trainers below the threshold named per task type (the rest counted)


@dataclass(frozen=True)
class Reminder:
    reviewer: str
    waiting: PendingList
    dedupe_key: str


def reminder_key(workspace: Workspace, *, reviewer: str, now: datetime) -> str:
    return f"reviewer-reminder:{reviewer}:{local_date(workspace, now).isoformat()}"


def reminders_due(session: Session, workspace: Workspace, *, now: datetime,
                  older_than: timedelta = REMIND_AFTER) -> list[Reminder]:
    """Reviewers (not away, not reminded today) with samples waiting longer than a day."""
    away = away_users(session, workspace, now=now)
    reviewers = sorted({r for t in workspace.task_types for r in t.reviewers} - away)
    due = []
    for reviewer in reviewers:
        key = reminder_key(workspace, reviewer=reviewer, now=now)
        if already_owed(session, key):
            continue
        waiting = pending_for(session, workspace, user=reviewer, limit=REMINDER_SHOWN,
                              audited_before=now - older_than, now=now)
        if waiting.total:
            due.append(Reminder(reviewer=reviewer, waiting=waiting, dedupe_key=key))
    return due


def already_owed(session: Session, dedupe_key: str) -> bool:
    """Whether a message with this key is owed or sent already."""
    found = session.exec(select(OutboxItem.id).where(OutboxItem.dedupe_key == dedupe_key))
    return found.first() is not None


# --- the weekly digest ----------------------------------------------------------------------

@dataclass(frozen=True)
class DigestTaskType:
    key: str
    name: str
    threshold: float
    score: float | None  # last week
    graded: int  # last week
    previous: float | None  # the week before
    below: tuple[str, ...]  # trainers whose window score is below the threshold
    backlog: Backlog


@dataclass(frozen=True)
class Mover:
    trainer: str
    task_type: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Digest:
    week: str  # the week the digest is about (the one before the digest's)
    sent_in: str  # the ISO week it is sent in (its dedupe period)
    task_types: tuple[DigestTaskType, ...]
    risers: tuple[Mover, ...]
    fallers: tuple[Mover, ...]
    open_escalations: tuple[EscalationLine, ...]
    # The scorecard of each (trainer, task type) the digest names (below, movers, open
    # escalations), over the window that ended with ``week``, in the order first named.
    scorecards: tuple[Scorecard, ...] = ()


def digest_key(*, manager: str, week: str) -> str:
    return f"weekly-digest:{manager}:{week}"


def digest_recipients(session: Session, workspace: Workspace, *, now: datetime) -> list[str]:
    """Managers not away and not yet sent this week's digest."""
    away = away_users(session, workspace, now=now)
    week = audit_week(workspace, now)
    return [m for m in workspace.managers
            if m not in away and not already_owed(session, digest_key(manager=m, week=week))]


def weekly_digest(session: Session, workspace: Workspace, *, now: datetime) -> Digest:
    """Last week per task type, its movers and who is below: from the trainer-week
    tallies, the store scoring each trainer and returning only whom the digest names
    (``bot.services.digest_reads``), the task types' own scores from their summed tallies
    (``bot.services.standings.week_sums``); and the
    scorecard of each trainer and task type it names, as of the end of that week
    (``scorecards``: one tally read, three grouped reads per task type named)."""
    last_week = now - timedelta(weeks=1)
    rows: list[DigestTaskType] = []
    backlogs = backlog_by_task_type(session, weeks=sorted({
        w for t in workspace.task_types
        for w in window_weeks(workspace, now, t.policy.window_weeks)}))
    windows = {t.key: window_weeks(workspace, last_week, max(2, t.policy.window_weeks))
               for t in workspace.task_types}
    # The task types' tallies summed per week and kind (a few rows per task type): last
    # week's and the one before's scores, and the kinds the store's scores need.
    summed = task_type_tallies(session, weeks=windows)
    kinds = {kind for tally in summed.values() for _, kind in tally}
    chosen = list(workspace.task_types)
    below_of = trainers_below(session, task_types=chosen, kinds=kinds, weeks={
        t.key: windows[t.key][-t.policy.window_weeks:] for t in chosen})
    # Config order among the named (trainers of a task type, task types), as the digest
    # always listed them; a trainer no longer configured is not named.
    place = {t.key: {u.user: i for i, u in enumerate(workspace.trainers_of(t.key))}
             for t in chosen}
    order = {t.key: i for i, t in enumerate(chosen)}
    # Last week and the one before: the same two weeks for every task type.
    weeks_of = window_weeks(workspace, last_week, 2)
    changes = mover_candidates(session, task_types=chosen, pair=(weeks_of[0], weeks_of[1]),
                               kinds=kinds, min_graded=MOVER_MIN_GRADED, shown=MOVERS_SHOWN,
                               keep=lambda key, user: user in place.get(key, {}))
    movers: list[Mover] = [
        Mover(c.trainer, c.task_type, c.before, c.after)
        for c in sorted(changes, key=lambda c: (order[c.task_type],
                                                place[c.task_type][c.trainer]))]
    for task_type in workspace.task_types:
        policy = task_type.policy
        pair = windows[task_type.key][-2:]
        seats = place[task_type.key]
        below = sorted((u for u in below_of.get(task_type.key, ()) if u in seats),
                       key=seats.__getitem__)
        everyone = week_sums(summed.get(task_type.key, {}), policy, pair)
        previous, latest = (everyone[w] for w in pair)
        rows.append(DigestTaskType(
            key=task_type.key, name=task_type.name, threshold=policy.pass_threshold,
            score=latest.score, graded=latest.graded, previous=previous.score,
            below=tuple(below), backlog=backlogs.get(task_type.key, Backlog())))
    ranked = sorted((m for m in movers if m.change), key=lambda m: m.change)
    risers = tuple(m for m in reversed(ranked) if m.change > 0)[:MOVERS_SHOWN]
    fallers = tuple(m for m in ranked if m.change < 0)[:MOVERS_SHOWN]
    escalations = escalation_overview(session, workspace, viewer=None).open
    known = {t.key for t in workspace.task_types}
    # Scorecards only for whom the message names: a few rows, whatever the team's size.
    named = [(u, t.key) for t in rows for u in t.below[:BELOW_SHOWN]]
    named += [(m.trainer, m.task_type) for m in (*risers, *fallers)]
    named += [(e.trainer, e.task_type) for e in escalations[:ESCALATIONS_SHOWN]]
    pairs = [p for p in dict.fromkeys(named) if p[1] in known]
    week_end = week_start(workspace, audit_week(workspace, now)) - timedelta(microseconds=1)
    cards = scorecards(session, workspace, pairs=pairs, now=week_end)
    return Digest(
        week=audit_week(workspace, last_week), sent_in=audit_week(workspace, now),
        task_types=tuple(rows), risers=risers, fallers=fallers, open_escalations=escalations,
        scorecards=tuple(cards[p] for p in pairs),
    )


def digest_for(digest: Digest, workspace: Workspace, *, viewer: str) -> Digest:
    """``digest`` with only the trainers ``viewer`` may see named (``bot.services.visibility``:
    every one for a manager, the digest's recipients)."""
    def seen(trainer: str) -> bool:
        return may_see_trainer(workspace, viewer=viewer, trainer=trainer)

    return replace(
        digest,
        task_types=tuple(replace(t, below=tuple(u for u in t.below if seen(u)))
                         for t in digest.task_types),
        risers=tuple(m for m in digest.risers if seen(m.trainer)),
        fallers=tuple(m for m in digest.fallers if seen(m.trainer)),
        open_escalations=tuple(e for e in digest.open_escalations if seen(e.trainer)),
        scorecards=tuple(c for c in digest.scorecards if seen(c.trainer)),
    )
