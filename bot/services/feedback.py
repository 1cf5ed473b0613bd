"""Feedback to trainers: what they are told about their graded samples, once.

Usage (the caller commits; the DMs go out through the outbox)::

    owed = owe_thread_feedback(session, workspace, thread_id=3, now=now)   # after a change
    owed = owe_due_feedback(session, workspace, now=now)                   # the scheduled catch-up
    week = week_feedback(session, workspace, feedback_id=5, now=now)       # what a DM shows

``[policy] trainer_feedback`` (per task type) says how:

- ``"weekly"`` (default): one DM per audited week (one audit thread: a trainer, a task type,
  an ISO week) as soon as the week is **fully graded**: every sample's grade final (graded,
  a double review with both reviews in, no open disagreement between reviewers, no open
  trainer dispute). Whatever makes a sample final (a grade, a settlement, a decided
  dispute) owes it in its follow-up, and the escalation check catches up every few
  minutes on the current and the previous week (a follow-up lost to a crash).
- ``"each"``: one DM per non-pass grade as soon as it is final, and the weekly DM for the
  rest (the passes, the score, any non-pass not sent on its own).
- ``"off"``: nothing.

Exactly once: each DM is a ``trainer_feedback`` row with a unique key (``week:<thread>``,
``item:<sample>``), inserted with its outbox item in one transaction; a second insert (a
retry, another replica) finds the key taken and owes nothing. The DM is rendered at
delivery (``OutboxKind.TRAINER_FEEDBACK``) from the store, with links to the samples.

Besides the grades, a DM shows the trainer's scorecard for the task type as
``bot.services.scorecard`` computes it (precision, consistency, clarity, each with its
interval and weekly trend) and the clarity notes: every ``Unclear`` rating of the reasoning
on the samples it covers, with the reviewer's why (their name only when
``show_reviewer_to_trainer``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services.outbox import OutboxKind, enqueue
from bot.services.scorecard import Scorecard, scorecards
from bot.services.standings import window_weeks
from bot.services.tallies import DISPUTED, UNGRADED
from bot.services.trainer_disputes import CountedSample, counted_samples
from bot.store.models import AuditThread
from bot.store.models.feedback import TrainerFeedback
from bot.store.models.tally import TrainerWeekTally
from bot.store.models.trainer import ClarityRating
from bot.workspace import Workspace

WEEKLY, EACH, OFF = "weekly", "each", "off"
CATCH_UP_WEEKS = 2  # the current ISO week and the one before


def _mode(workspace: Workspace, task_type: str) -> str:
    try:
        return workspace.task_type(task_type).policy.trainer_feedback
    except KeyError:
        return OFF  # a task type gone from the config: nothing to say


def fully_graded(session: Session, *, trainer: str, task_type: str, iso_week: str) -> bool:
    """Every sample of the trainer-week counts (none ungraded, blind, in an open
    disagreement or under the trainer's open dispute), and there is at least one: read from
    the tallies kept with the grades."""
    rows = session.exec(
        select(TrainerWeekTally.kind, TrainerWeekTally.samples)
        .where(TrainerWeekTally.trainer == trainer, TrainerWeekTally.task_type == task_type,
               TrainerWeekTally.iso_week == iso_week, col(TrainerWeekTally.samples) > 0)).all()
    return _all_final({kind for kind, _ in rows})


def _give(session: Session, *, key: str, thread: AuditThread, sample_id: int | None,
          now: datetime) -> bool:
    """Record the feedback and owe its DM, together; False when it was given already."""
    row = TrainerFeedback(key=key, thread_id=thread.id or 0, sample_id=sample_id,
                          trainer=thread.trainer, given_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            enqueue(session, kind=OutboxKind.TRAINER_FEEDBACK, ref_id=row.id or 0,
                    channel=thread.trainer, dedupe_key=f"trainer_feedback:{key}", now=now)
    except IntegrityError:
        return False
    return True


def owe_thread_feedback(session: Session, workspace: Workspace, *, thread_id: int,
                        now: datetime) -> int:
    """Owe what the audit thread's trainer is due now (nothing twice); how many DMs."""
    thread = session.get(AuditThread, thread_id)
    if thread is None:
        return 0
    mode = _mode(workspace, thread.task_type)
    if mode == OFF:
        return 0
    owed = 0
    if mode == EACH:
        for item in counted_samples(session, thread_id=thread_id):
            if item.non_pass and item.dispute is None:
                owed += _give(session, key=f"item:{item.sample_id}", thread=thread,
                              sample_id=item.sample_id, now=now)
    if fully_graded(session, trainer=thread.trainer, task_type=thread.task_type,
                    iso_week=thread.iso_week):
        owed += _give(session, key=f"week:{thread_id}", thread=thread, sample_id=None,
                      now=now)
    return owed


def owe_sample_feedback(session: Session, workspace: Workspace, *, sample_id: int,
                        now: datetime) -> int:
    """``owe_thread_feedback`` for the thread of a sample whose grade just changed."""
    from bot.store.models import Sample

    sample = session.get(Sample, sample_id)
    return 0 if sample is None else owe_thread_feedback(
        session, workspace, thread_id=sample.thread_id, now=now)


def owe_due_feedback(session: Session, workspace: Workspace, *, now: datetime) -> int:
    """The catch-up: the weekly DMs of the current and previous week not given yet, for the
    weeks now fully graded. Two queries (the threads still owed, their tallies) whatever
    the number of trainers; only a week found due is read further."""
    weeks = window_weeks(workspace, now, CATCH_UP_WEEKS)
    owed_threads = session.exec(
        select(AuditThread)
        .outerjoin(TrainerFeedback, and_(
            col(TrainerFeedback.thread_id) == AuditThread.id,
            col(TrainerFeedback.sample_id).is_(None)))
        .where(col(AuditThread.iso_week).in_(weeks), col(TrainerFeedback.id).is_(None))
        .order_by(col(AuditThread.id))).all()
    if not owed_threads:
        return 0
    kinds: dict[tuple[str, str, str], set[str]] = {}
    for trainer, key, week, kind in session.exec(
            select(TrainerWeekTally.trainer, TrainerWeekTally.task_type,
                   TrainerWeekTally.iso_week, TrainerWeekTally.kind)
            .where(col(TrainerWeekTally.iso_week).in_(weeks),
                   col(TrainerWeekTally.samples) > 0)).all():
        kinds.setdefault((trainer, key, week), set()).add(kind)
    due = [t for t in owed_threads
           if _mode(workspace, t.task_type) != OFF
           and _all_final(kinds.get((t.trainer, t.task_type, t.iso_week), set()))]
    return sum(owe_thread_feedback(session, workspace, thread_id=t.id or 0, now=now)
               for t in due)


def _all_final(kinds: set[str]) -> bool:
    return bool(kinds) and not kinds & {UNGRADED, DISPUTED}


@dataclass(frozen=True)
class ClarityNote:
    """A reviewer found the trainer's reasoning on a sample unclear, and said why."""

    sample: CountedSample
    reviewer: str
    reason: str


@dataclass(frozen=True)
class Feedback:
    """What one feedback DM shows."""

    key: str
    trainer: str
    task_type: str
    task_name: str
    week: str
    items: tuple[CountedSample, ...]  # the non-pass samples to show, in position order
    passes: int  # samples counted as Pass
    pending: int  # samples not final yet (a dispute open since, a late second review)
    sent_alone: int  # non-pass samples sent on their own earlier ("each"), not repeated
    scorecard: Scorecard | None  # the trainer's, for the task type, as of delivery
    clarity_notes: tuple[ClarityNote, ...]  # Unclear ratings on the samples shown
    show_reviewer: bool
    dispute_within: str
    single: bool  # one sample's DM ("each"), not the week's


def feedback_of(session: Session, workspace: Workspace, *, feedback_id: int,
                now: datetime) -> Feedback | None:
    """The DM the feedback row owes, from the store as it is now."""
    from bot.workspace.timing import format_duration

    row = session.get(TrainerFeedback, feedback_id)
    thread = session.get(AuditThread, row.thread_id) if row else None
    if row is None or thread is None:
        return None
    try:
        task_type = workspace.task_type(thread.task_type)
    except KeyError:
        return None
    samples = counted_samples(session, thread_id=thread.id)
    sent_alone: set[int] = set()
    if row.sample_id is not None:
        shown = [s for s in samples if s.sample_id == row.sample_id]
    else:
        sent_alone = {sid for sid in session.exec(
            select(TrainerFeedback.sample_id)
            .where(TrainerFeedback.thread_id == thread.id,
                   col(TrainerFeedback.sample_id).is_not(None))).all() if sid is not None}
        shown = [s for s in samples if (s.non_pass or _was_non_pass(s))
                 and s.sample_id not in sent_alone]
    card = scorecards(session, workspace, pairs=[(thread.trainer, task_type.key)],
                      now=now).get((thread.trainer, task_type.key))
    covered = samples if row.sample_id is None else shown
    return Feedback(
        key=row.key, trainer=thread.trainer, task_type=task_type.key,
        task_name=task_type.name, week=thread.iso_week, items=tuple(shown),
        passes=sum(1 for s in samples if s.counted is not None and not s.non_pass
                   and not _was_non_pass(s)),
        pending=sum(1 for s in samples if s.counted is None and s.dispute is None),
        sent_alone=len(sent_alone), scorecard=card,
        clarity_notes=unclear_notes(session, covered),
        show_reviewer=task_type.policy.show_reviewer_to_trainer,
        dispute_within=format_duration(task_type.policy.dispute_within),
        single=row.sample_id is not None)


def unclear_notes(session: Session, samples: Sequence[CountedSample]) -> tuple[ClarityNote, ...]:
    """The Unclear ratings on ``samples`` (one query), in sample order, oldest first."""
    by_id = {s.sample_id: s for s in samples}
    if not by_id:
        return ()
    rows = session.exec(select(ClarityRating).where(
        col(ClarityRating.sample_id).in_(sorted(by_id)), ClarityRating.rating == "unclear")
        .order_by(col(ClarityRating.created_at), col(ClarityRating.id))).all()
    notes = [ClarityNote(by_id[r.sample_id], r.reviewer, r.reason or "") for r in rows]
    return tuple(sorted(notes, key=lambda n: n.sample.position))


def _was_non_pass(sample: CountedSample) -> bool:
    """A sample under (or after) the trainer's dispute of a non-pass grade: shown with its
    dispute, whatever it counts as now."""
    return sample.dispute is not None
