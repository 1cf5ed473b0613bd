"""Precedents: how earlier, similar errors were judged, so that grading stays consistent.

Usage::

    found = find_precedents(session, workspace, viewer="U0NURSE01", words=("ibuprofen", "ckd"))
    for p in found.precedents:          # newest ruling first, at most ``limit``
        p.task_type, p.trainer, p.week, p.channel, p.message_ts, p.reviews, p.settlement
    found.more                          # more matched than were returned: narrow the words

What matches: a Minor issue or Major error whose explanation or error category contains
every word, or a manager's settlement note that does (each word case-insensitive, anywhere
in either field). A precedent is one sample: all its reviewers' current grades (a Pass
beside the matching Minor shows too) and its settlement, if a manager settled it, which
is the ruling that counts. Newest first by the matching grade or settlement.

Left out: task types the viewer neither reviews nor manages
(``disputes.visible_task_types``), calibration items (planted, not a trainer's real error,
and their grades are what calibration measures), and double reviews still blind
(``bot.services.blind``).

Words are matched with SQL ``LIKE`` (SQLAlchemy's ``icontains`` with ``autoescape``), so
``%`` and ``_`` in a word are literal characters. SQLite folds the case of ASCII letters
only; PostgreSQL (``ILIKE``) folds every letter.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, func, select

from bot.clock import as_utc
from bot.models import AuditThread, Grade, Sample, TrainerOutput
from bot.models_consistency import DisputeSettlement
from bot.services.blind import revealed
from bot.services.disputes import Settlement, is_disagreement, settlements, visible_task_types
from bot.services.people import NotAllowed
from bot.services.reviews import Review, samples_with_reviews
from bot.workspace import Workspace

SHOWN = 10
MOST = 25  # the cap on ``limit``: one message holds this many with room to spare
NON_PASS = ("minor", "major")


@dataclass(frozen=True)
class Precedent:
    """A sample whose grades or settlement match, with where it lives in Slack."""

    sample_id: int
    task_type: str
    trainer: str
    week: str  # ISO week of its audit
    position: int  # 0-based
    count: int
    channel: str
    message_ts: str | None  # None when the post never reached Slack
    ruled_at: datetime  # the newest matching grade or settlement (UTC)
    reviews: tuple[Review, ...]  # every current grade, first grader first
    settlement: Settlement | None  # a manager's ruling: it overrides the reviews

    @property
    def disputed(self) -> bool:
        """Reviewers a whole step apart and nobody has settled it yet."""
        return self.settlement is None and is_disagreement(r.grade for r in self.reviews)


@dataclass(frozen=True)
class Precedents:
    words: tuple[str, ...]
    task_types: tuple[str, ...]  # where it looked
    precedents: tuple[Precedent, ...]  # newest first
    more: bool  # more matched than ``limit``


def find_precedents(session: Session, workspace: Workspace, *, viewer: str,
                    words: Sequence[str], limit: int = SHOWN) -> Precedents:
    """Earlier rulings whose text has every one of ``words``, in the task types ``viewer``
    reviews or manages (refused to anyone else)."""
    keys = visible_task_types(workspace, viewer)
    if not keys:
        raise NotAllowed("Precedents are for the task types' reviewers and managers: they "
                         "show how earlier errors were graded.")
    wanted = normalized(words)
    if not wanted:
        raise ValueError("find_precedents needs at least one word")
    limit = max(1, min(limit, MOST))
    when = _newest(session, keys, wanted, limit=limit + 1)
    ids = sorted(when, key=lambda sid: (when[sid], sid), reverse=True)
    found = _load(session, ids[:limit], when)
    return Precedents(words=wanted, task_types=keys, precedents=found, more=len(ids) > limit)


def normalized(words: Iterable[str]) -> tuple[str, ...]:
    """The words without blanks and repeats (case-insensitive), in the order given."""
    seen: dict[str, str] = {}
    for word in words:
        word = word.strip()
        if word:
            seen.setdefault(word.casefold(), word)
    return tuple(seen.values())


def matches(words: Sequence[str], *fields: object) -> ColumnElement[bool]:
    """SQL: every word is in one of ``fields`` (case-insensitive, ``%``/``_`` literal)."""
    return and_(*(or_(*(col(f).icontains(w, autoescape=True) for f in fields))
                  for w in words))


def _newest(session: Session, keys: Sequence[str], words: Sequence[str], *,
            limit: int) -> dict[int, datetime]:
    """The ``limit`` samples with the newest matching ruling: sample id → when."""
    scope = (col(AuditThread.task_type).in_(keys), col(TrainerOutput.gold_grade).is_(None),
             revealed())
    graded_at = func.max(Grade.updated_at)
    graded = session.exec(
        select(Sample.id, graded_at)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .join(Grade, col(Grade.sample_id) == Sample.id)
        .where(*scope, col(Grade.grade).in_(NON_PASS),
               matches(words, Grade.explanation, Grade.category))
        .group_by(col(Sample.id))
        .order_by(graded_at.desc(), col(Sample.id).desc()).limit(limit)
    ).all()
    settled = session.exec(
        select(Sample.id, DisputeSettlement.settled_at)
        .join(DisputeSettlement, col(DisputeSettlement.sample_id) == Sample.id)
        .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(*scope, matches(words, DisputeSettlement.note))
        .order_by(col(DisputeSettlement.settled_at).desc(), col(Sample.id).desc())
        .limit(limit)
    ).all()
    # Merging the newest ``limit`` of each gives the newest ``limit`` of both.
    when: dict[int, datetime] = {}
    for sample_id, at in [*graded, *settled]:
        if sample_id is not None and at is not None:
            when[sample_id] = max(when.get(sample_id, as_utc(at)), as_utc(at))
    return when


def _load(session: Session, ids: Sequence[int],
          when: dict[int, datetime]) -> tuple[Precedent, ...]:
    if not ids:
        return ()
    reviewed = samples_with_reviews(session, col(Sample.id).in_(ids))
    settled = settlements(session, ids)
    found = []
    for sid in ids:
        if sid not in reviewed:  # settled samples always have their grades; be safe anyway
            continue
        s = reviewed[sid]
        found.append(Precedent(
            sample_id=sid, task_type=s.thread.task_type, trainer=s.thread.trainer,
            week=s.thread.iso_week, position=s.sample.position, count=s.thread.sample_count,
            channel=s.thread.channel, message_ts=s.sample.message_ts, ruled_at=when[sid],
            reviews=s.reviews, settlement=settled.get(sid)))
    return tuple(found)
