"""Reviewers rating a trainer's written reasoning: ``Clear`` or ``Unclear`` (with why).

Usage (the caller commits)::

    check_may_rate(workspace, load_sample(session, 7), user="U0NURSE01")  # before a modal
    outcome = record_clarity(session, workspace, sample_id=7, reviewer="U0NURSE01",
                             rating="unclear", reason="Says 'B' but never says why not A.",
                             now=now)

Who may rate is who may judge the sample (``grading.check_may_judge``: the task type's
reviewers and managers, never the trainer nor their lead), and only a sample whose output
came with ``reasoning``. One rating per reviewer and sample (a unique constraint): a later
click replaces it (the latest counts), the same rating again changes nothing. ``Unclear``
needs a reason a trainer can act on: at least ``MIN_UNCLEAR_REASON`` characters a reader
sees (``bot.common.text.visible_length``). A change owes the sample message an update (outbox).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.errors import AuditbotError, InvalidGrade
from bot.common.text import visible_length
from bot.services.grading import SampleRecord, check_may_judge, load_sample
from bot.services.outbox import OutboxKind, enqueue_update
from bot.store.models.trainer import ClarityRating
from bot.workspace import Workspace

RATINGS = ("clear", "unclear")
RATING_LABELS = {"clear": "Clear", "unclear": "Unclear"}
MIN_UNCLEAR_REASON = 10
MAX_UNCLEAR_REASON = 1000


class NoReasoning(AuditbotError):
    """The sample's output came without the trainer's reasoning: nothing to rate."""


@dataclass(frozen=True)
class ClarityOutcome:
    sample_id: int
    changed: bool


def check_may_rate(workspace: Workspace, record: SampleRecord, *, user: str) -> None:
    """Raise the refusal ``user`` would read, or return when they may rate its reasoning."""
    check_may_judge(workspace, record, user=user)
    if not (record.output.reasoning or "").strip():
        raise NoReasoning("This sample has no reasoning from the trainer to rate.")


def reason_problem(rating: str, reason: str | None) -> str | None:
    """Why an ``unclear`` rating's reason cannot be recorded (``None``: it can)."""
    if rating != "unclear":
        return None
    seen = visible_length(reason)
    if seen < MIN_UNCLEAR_REASON:
        return (f"Say in at least {MIN_UNCLEAR_REASON} characters what is unclear "
                f"(you wrote {seen}): the trainer reads it.")
    if len(reason or "") > MAX_UNCLEAR_REASON:
        return f"Keep it under {MAX_UNCLEAR_REASON} characters."
    return None


def record_clarity(session: Session, workspace: Workspace, *, sample_id: int, reviewer: str,
                   rating: str, reason: str | None, now: datetime) -> ClarityOutcome:
    """Make ``reviewer``'s rating of the sample's reasoning this one; flushes, never commits."""
    if rating not in RATINGS:
        raise InvalidGrade(f"Unknown rating {rating!r}.")
    record = load_sample(session, sample_id)
    check_may_rate(workspace, record, user=reviewer)
    reason = (reason or "").strip() or None if rating == "unclear" else None
    problem = reason_problem(rating, reason)
    if problem is not None:
        raise InvalidGrade(problem)
    changed = _upsert(session, sample_id=sample_id, reviewer=reviewer, rating=rating,
                      reason=reason, now=now)
    if changed:
        enqueue_update(session, kind=OutboxKind.SAMPLE_UPDATE, ref_id=sample_id,
                       channel=record.thread.channel, now=now)
    session.flush()
    return ClarityOutcome(sample_id=sample_id, changed=changed)


def _upsert(session: Session, *, sample_id: int, reviewer: str, rating: str,
            reason: str | None, now: datetime) -> bool:
    for _ in range(3):
        current = session.exec(
            select(ClarityRating).where(ClarityRating.sample_id == sample_id,
                                        ClarityRating.reviewer == reviewer).with_for_update()
        ).first()
        if current is not None:
            if (current.rating, current.reason) == (rating, reason):
                return False
            current.rating, current.reason, current.updated_at = rating, reason, now
            session.add(current)
            return True
        try:
            with session.begin_nested():
                session.add(ClarityRating(sample_id=sample_id, reviewer=reviewer,
                                          rating=rating, reason=reason, created_at=now,
                                          updated_at=now))
            return True
        except IntegrityError:
            continue  # the same click delivered twice: the other one's row is there now
    raise RuntimeError("clarity upsert did not settle")  # pragma: no cover


def sample_clarity(session: Session, sample_id: int) -> list[ClarityRating]:
    """The sample's ratings, first rated first."""
    return list(session.exec(
        select(ClarityRating).where(ClarityRating.sample_id == sample_id)
        .order_by(col(ClarityRating.created_at), col(ClarityRating.id))).all())
