"""Precedents: how earlier, similar errors were judged, so that grading stays consistent.

Usage::

    found = find_precedents(session, workspace, viewer="U0NURSE01", words=("ibuprofen", "ckd"))
    for p in found.precedents:          # most relevant first, at most ``limit``
        p.task_type, p.trainer, p.week, p.channel, p.message_ts, p.reviews, p.settlement
        p.saved                         # the ruling its settler saved, if they did
    found.more                          # more matched than were returned: narrow the words
    found.disagreements                 # saved rulings on adjudicated disagreements between
                                        # trainers (labels on a shared item, not a sample)
    found.ranked()                      # both kinds together, most relevant first

What matches, with the store's full-text search (``bot.services.search``: FTS5 on SQLite,
tsvector on PostgreSQL; every word, English stems): a saved precedent (its category, ruling
and rationale), a Minor issue or Major error grade (its category and explanation), or a
manager's settlement note. A saved precedent of an adjudicated disagreement between
trainers is a result of its own (a ``DisagreementPrecedent``: the item, each trainer's
label, the adjudication and its thread message). A sample result is one sample: all its
reviewers' current grades (a Pass beside the matching Minor shows too), its settlement if a
manager settled it (the ruling that counts) and its saved precedent. Ranked by the
relevance of its best matching text (``bm25`` / ``ts_rank``); at equal relevance a saved
precedent comes first, then the newest.

Left out: task types the viewer neither reviews nor manages
(``disputes.visible_task_types``), calibration items (planted, not a trainer's real error,
and their grades are what calibration measures), and double reviews still blind
(``bot.services.blind``).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, cast, literal, null, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, select

from bot.common.clock import as_utc
from bot.common.grades import scale_in_force
from bot.services.blind import revealed
from bot.services.disputes import Settlement, is_disagreement, settlements, visible_task_types
from bot.services.people import NotAllowed
from bot.services.reviews import Review, samples_with_reviews
from bot.services.search import (
    GRADES,
    PRECEDENTS,
    SETTLEMENTS,
    Match,
    Source,
    any_of,
    matching,
    plain_words,
)
from bot.store.models import AuditThread, Grade, Sample, TrainerOutput
from bot.store.models.consistency import DisputeSettlement
from bot.store.models.precedents import Precedent as SavedRow
from bot.store.models.trainer import Disagreement
from bot.workspace import Workspace

SHOWN = 10
MOST = 25  # the cap on ``limit``: one message holds this many with room to spare


@dataclass(frozen=True)
class SavedPrecedent:
    """The ruling whoever settled a sample (or adjudicated a disagreement between trainers)
    saved, for reviewers to look up: exactly one of ``sample_id`` and ``disagreement_id``."""

    sample_id: int | None
    task_type: str
    category: str
    ruling: str  # one sentence
    rationale: str
    author: str
    saved_at: datetime  # created or last edited (UTC)
    disagreement_id: int | None = None


@dataclass(frozen=True)
class Precedent:
    """A sample whose grades, settlement or saved ruling match, with where it lives in Slack."""

    sample_id: int
    task_type: str
    trainer: str
    week: str  # ISO week of its audit
    position: int  # 0-based
    count: int
    channel: str
    message_ts: str | None  # None when the post never reached Slack
    ruled_at: datetime  # the newest matching grade, settlement or saved ruling (UTC)
    reviews: tuple[Review, ...]  # every current grade, first grader first
    settlement: Settlement | None  # a manager's ruling: it overrides the reviews
    saved: SavedPrecedent | None = None
    relevance: float = 0.0  # of its best matching text: only comparable within one search

    @property
    def disputed(self) -> bool:
        """Reviewers a whole step apart and nobody has settled it yet."""
        return self.settlement is None and is_disagreement(r.grade for r in self.reviews)


@dataclass(frozen=True)
class DisagreementPrecedent:
    """A saved ruling on an adjudicated disagreement between trainers, with its thread."""

    disagreement_id: int
    task_type: str
    item: str
    week: str  # ISO week the disagreement was posted
    channel: str
    message_ts: str | None  # the disagreement thread's message; None if it never posted
    labels: tuple[tuple[str, str], ...]  # (trainer, label) in the order shown
    ruled_by: str
    ruling_label: str
    ruling_reason: str
    ruled_at: datetime  # the newest of the adjudication and the saved ruling (UTC)
    saved: SavedPrecedent
    relevance: float = 0.0


@dataclass(frozen=True)
class Precedents:
    words: tuple[str, ...]
    task_types: tuple[str, ...]  # where it looked
    precedents: tuple[Precedent, ...]  # samples, most relevant first
    more: bool  # more matched than ``limit``
    disagreements: tuple[DisagreementPrecedent, ...] = ()  # most relevant first

    def ranked(self) -> list[Precedent | DisagreementPrecedent]:
        """Samples and disagreements together, most relevant first (a saved ruling first
        among equals, then the newest)."""
        found: list[Precedent | DisagreementPrecedent] = [*self.precedents,
                                                          *self.disagreements]
        return sorted(found, key=lambda p: (-p.relevance, p.saved is None,
                                            -p.ruled_at.timestamp()))


def find_precedents(session: Session, workspace: Workspace, *, viewer: str,
                    words: Sequence[str], limit: int = SHOWN) -> Precedents:
    """Earlier rulings whose text has every one of ``words``, in the task types ``viewer``
    reviews or manages (refused to anyone else), most relevant first."""
    keys = visible_task_types(workspace, viewer)
    if not keys:
        raise NotAllowed("Precedents are for the task types' reviewers and managers: they "
                         "show how earlier errors were graded.")
    wanted = normalized(words)
    if not wanted:
        raise ValueError("find_precedents needs at least one word")
    limit = max(1, min(limit, MOST))
    hits = _ranked(session, keys, wanted, limit=limit + 1)
    shown = hits[:limit]
    return Precedents(words=wanted, task_types=keys,
                      precedents=_load(session, [h for h in shown if h.sample_id is not None]),
                      disagreements=_load_disagreements(
                          session, [h for h in shown if h.disagreement_id is not None]),
                      more=len(hits) > limit)


def normalized(words: Iterable[str]) -> tuple[str, ...]:
    """The words without blanks and repeats (case-insensitive), in the order given."""
    seen: dict[str, str] = {}
    for word in words:
        word = word.strip()
        if word:
            seen.setdefault(word.casefold(), word)
    return tuple(seen.values())


def saved_precedents(session: Session, sample_ids: Iterable[int]) -> dict[int, SavedPrecedent]:
    ids = list(sample_ids)
    if not ids:
        return {}
    rows = session.exec(select(SavedRow).where(col(SavedRow.sample_id).in_(ids))).all()
    return {r.sample_id: as_saved(r) for r in rows if r.sample_id is not None}


def as_saved(row: SavedRow) -> SavedPrecedent:
    return SavedPrecedent(sample_id=row.sample_id, task_type=row.task_type,
                          category=row.category, ruling=row.ruling, rationale=row.rationale,
                          author=row.author, saved_at=as_utc(row.updated_at),
                          disagreement_id=row.disagreement_id)


GRADING_SHOWN = 2


def precedents_for_grading(session: Session, *, task_type: str, sample_id: int,
                           texts: Sequence[str], limit: int = GRADING_SHOWN,
                           ) -> tuple[SavedPrecedent, ...]:
    """The saved precedents of ``task_type`` most like the sample being graded, for the
    grading modal: full-text relevance of each precedent (category, ruling, rationale) to
    the longest words of ``texts`` (the sample's output and prompt; ``plain_words``: at most
    24, any of them matches, bm25 / ts_rank rank). Bounded for the modal's 3-second window:
    one statement through the precedents' full-text index, ``limit`` rows. None when no
    precedent shares a word with the sample (the grader can still search by hand)."""
    words = plain_words(*texts)
    if not words:
        return ()
    found = any_of(session, PRECEDENTS, col(SavedRow.id), words=words)
    # A disagreement's precedent has no sample (outer joins); a sample's is never the one
    # being graded, nor a calibration item.
    stmt = (found.join(select(SavedRow).select_from(SavedRow))
            .outerjoin(Sample, col(Sample.id) == SavedRow.sample_id)
            .outerjoin(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
            .where(found.condition, col(SavedRow.task_type) == task_type,
                   or_(col(SavedRow.disagreement_id).is_not(None),
                       and_(col(SavedRow.sample_id) != sample_id,
                            col(TrainerOutput.gold_grade).is_(None))))
            .order_by(found.score.desc(), col(SavedRow.updated_at).desc(),
                      col(SavedRow.id).desc())
            .limit(max(1, limit)))
    return tuple(as_saved(row) for row in session.exec(stmt).all())


@dataclass(frozen=True)
class _Hit:
    sample_id: int | None  # exactly one of the two
    disagreement_id: int | None
    relevance: float
    saved: bool
    at: datetime


def _ranked(session: Session, keys: Sequence[str], words: Sequence[str], *,
            limit: int) -> list[_Hit]:
    """The ``limit`` most relevant samples: each scored by its best matching text."""
    rows = session.exec(ranked_statement(session, keys, words, limit=limit)).all()
    return [_Hit(sample_id=sid, disagreement_id=did, relevance=float(score or 0.0),
                 saved=bool(is_saved), at=as_utc(at)) for sid, did, score, is_saved, at in rows]


def ranked_statement(session: Session, keys: Sequence[str], words: Sequence[str], *,
                     limit: int) -> Any:
    """One statement: the three sources' matches (each through its full-text index, in
    scope) as one union, grouped by sample (or, for a disagreement's saved precedent, by
    disagreement), ordered and cut in the store."""
    arms = [
        _arm(session, GRADES, Grade, words, keys, saved=False, at=Grade.updated_at,
             sample=Grade.sample_id, where=(col(Grade.grade).in_(scale_in_force().non_pass),)),
        _arm(session, SETTLEMENTS, DisputeSettlement, words, keys, saved=False,
             at=DisputeSettlement.settled_at, sample=DisputeSettlement.sample_id),
        _arm(session, PRECEDENTS, SavedRow, words, keys, saved=True, at=SavedRow.updated_at,
             sample=SavedRow.sample_id),
        _disagreement_arm(session, words, keys),
    ]
    hits = union_all(*arms).subquery("hits")
    best = func.max(hits.c.relevance).label("best")
    saved = func.max(hits.c.saved).label("is_saved")
    newest = func.max(hits.c.at).label("newest")
    return (core_select(hits.c.sample_id, hits.c.disagreement_id, best, saved, newest)
            .group_by(hits.c.sample_id, hits.c.disagreement_id)
            .order_by(best.desc(), saved.desc(), newest.desc(), hits.c.sample_id.desc(),
                      hits.c.disagreement_id.desc())
            .limit(limit))


def _disagreement_arm(session: Session, words: Sequence[str], keys: Sequence[str]) -> Any:
    """Saved precedents of adjudicated disagreements between trainers, in scope."""
    found: Match = matching(session, PRECEDENTS, col(SavedRow.id), words=words)
    stmt: Any = core_select(cast(null(), Integer).label("sample_id"),
                            col(SavedRow.disagreement_id).label("disagreement_id"),
                            found.score.label("relevance"), literal(1).label("saved"),
                            col(SavedRow.updated_at).label("at")).select_from(SavedRow)
    return (found.join(stmt)
            .join(Disagreement, col(Disagreement.id) == SavedRow.disagreement_id)
            .where(found.condition, col(Disagreement.task_type).in_(keys)))


def _arm(session: Session, source: Source, model: Any, words: Sequence[str],
         keys: Sequence[str], *, saved: bool, at: Any, sample: Any,
         where: tuple[Any, ...] = ()) -> Any:
    found: Match = matching(session, source, col(model.id), words=words)
    stmt: Any = core_select(col(sample).label("sample_id"),
                            cast(null(), Integer).label("disagreement_id"),
                            found.score.label("relevance"),
                            literal(1 if saved else 0).label("saved"), col(at).label("at")
                            ).select_from(model)
    stmt = found.join(stmt)
    return (stmt.join(Sample, col(Sample.id) == sample)
            .join(AuditThread, col(AuditThread.id) == Sample.thread_id)
            .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
            .where(found.condition, *scope_for(keys), *where))


def scope_for(keys: Sequence[str]) -> tuple[Any, ...]:
    """Visible samples of these task types: not calibration items, not blind."""
    return (col(AuditThread.task_type).in_(keys), col(TrainerOutput.gold_grade).is_(None),
            revealed())


def _load(session: Session, hits: Sequence[_Hit]) -> tuple[Precedent, ...]:
    if not hits:
        return ()
    ids = [h.sample_id for h in hits if h.sample_id is not None]
    reviewed = samples_with_reviews(session, col(Sample.id).in_(ids))
    settled = settlements(session, ids)
    saved = saved_precedents(session, ids)
    found = []
    for hit in hits:
        sid = hit.sample_id
        if sid is None or sid not in reviewed:  # a matched sample has grades; be safe anyway
            continue
        s = reviewed[sid]
        found.append(Precedent(
            sample_id=sid, task_type=s.thread.task_type, trainer=s.thread.trainer,
            week=s.thread.iso_week, position=s.sample.position, count=s.thread.sample_count,
            channel=s.thread.channel, message_ts=s.sample.message_ts, ruled_at=hit.at,
            reviews=s.reviews, settlement=settled.get(sid), saved=saved.get(sid),
            relevance=hit.relevance))
    return tuple(found)


def _load_disagreements(session: Session,
                        hits: Sequence[_Hit]) -> tuple[DisagreementPrecedent, ...]:
    ids = [h.disagreement_id for h in hits if h.disagreement_id is not None]
    if not ids:
        return ()
    rows = {r.id: r for r in session.exec(
        select(Disagreement).where(col(Disagreement.id).in_(ids))).all()}
    saved = {r.disagreement_id: as_saved(r) for r in session.exec(
        select(SavedRow).where(col(SavedRow.disagreement_id).in_(ids))).all()}
    found = []
    for hit in hits:
        row = rows.get(hit.disagreement_id)
        kept = saved.get(hit.disagreement_id)
        if row is None or kept is None or row.ruled_at is None:  # matched: be safe anyway
            continue
        labels = tuple((d["trainer"], d["label"]) for d in json.loads(row.labels_json))
        found.append(DisagreementPrecedent(
            disagreement_id=hit.disagreement_id or 0, task_type=row.task_type, item=row.item,
            week=row.iso_week, channel=row.channel, message_ts=row.message_ts, labels=labels,
            ruled_by=row.ruled_by or "", ruling_label=row.ruling_label or "",
            ruling_reason=row.ruling_reason or "", ruled_at=hit.at, saved=kept,
            relevance=hit.relevance))
    return tuple(found)
