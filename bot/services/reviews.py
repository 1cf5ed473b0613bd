"""A sample's reviews: every reviewer's current grade, with the audit thread it was posted in.

Usage::

    found = samples_with_reviews(session, col(Sample.id).in_(ids))   # any SQL conditions
    for sample_id, s in found.items():    # audit week, then sample id order
        s.sample.position, s.thread.channel, s.sample.message_ts
        s.reviews                         # first grader first

Only graded samples come back. What may be shown of them (blind double review, calibration
items) is the caller's rule: pass it in ``where`` (``bot.services.blind.revealed``).
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from bot.store.models import AuditThread, Grade, Sample


@dataclass(frozen=True)
class Review:
    reviewer: str
    grade: str
    category: str | None
    explanation: str | None


@dataclass(frozen=True)
class ReviewedSample:
    sample: Sample
    thread: AuditThread
    reviews: tuple[Review, ...]  # every current grade, first grader first


def samples_with_reviews(session: Session,
                         *where: ColumnElement[bool]) -> dict[int, ReviewedSample]:
    """The graded samples matching ``where``, by id, in audit week then sample id order."""
    rows = session.exec(
        select(Sample, AuditThread, Grade)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(Grade, col(Grade.sample_id) == Sample.id)
        .where(*where)
        .order_by(col(AuditThread.iso_week), col(Sample.id), col(Grade.created_at),
                  col(Grade.id))
    ).all()
    posted: dict[int, tuple[Sample, AuditThread]] = {}
    reviews: dict[int, list[Review]] = defaultdict(list)
    for sample, thread, grade in rows:
        posted[sample.id or 0] = (sample, thread)
        reviews[sample.id or 0].append(
            Review(grade.reviewer, grade.grade, grade.category, grade.explanation))
    return {sid: ReviewedSample(sample, thread, tuple(reviews[sid]))
            for sid, (sample, thread) in posted.items()}
