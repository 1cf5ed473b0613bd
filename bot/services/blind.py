"""Double review is blind: until both reviews of a sample are in, nobody sees the first.

Usage::

    hidden = blind_samples(session, sample_ids)     # their grade, if any, stays hidden
    select(Sample.id).where(revealed())             # the same rule as a SQL condition
    shown = quotable(session, records)              # GradedRecords safe to quote

``revealed()`` is the one rule for what a grade may count in and be shown by. Scores,
counts of graded samples, intervals and the escalation rule take a double review's grades
only once both are in (``bot.services.standings.window_samples``, the week counts of
``bot.services.status``): until then the sample is simply not graded yet, for everyone,
so no number anyone reads (`/audit status`, `/audit status @trainer`, the Home, the digest,
an escalation notice) moves with a lone first grade. What shows grades themselves asks here
too: the worst samples and recurring categories, the Home's recent samples, precedents,
the CSV export (which lists such a sample as awaiting its second review). The first
reviewer sees their own grade on the sample message; managers settle disputes.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, not_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from bot.store.models import Grade, Sample

if TYPE_CHECKING:  # standings asks ``revealed`` here; at run time the import goes that way
    from bot.services.standings import GradedRecord


def revealed() -> ColumnElement[bool]:
    """True for a sample whose grades may be shown: not a double review, or both in."""
    graded = aliased(Grade)  # its own alias: the enclosing query may join ``grade`` too
    reviewers = (select(func.count(func.distinct(graded.reviewer)))
                 .where(graded.sample_id == Sample.id).correlate(Sample).scalar_subquery())
    return or_(not_(col(Sample.needs_double_review)), reviewers >= 2)


def blind_samples(session: Session, sample_ids: Iterable[int]) -> set[int]:
    """Those of ``sample_ids`` marked for double review with fewer than two reviewers'
    grades in (none, or a lone first grade that must not be shown yet)."""
    wanted = set(sample_ids)
    if not wanted:
        return set()
    rows = session.exec(select(Sample.id).where(col(Sample.id).in_(wanted),
                                                not_(revealed()))).all()
    return {sid for sid in rows if sid is not None}


def quotable(session: Session, records: list["GradedRecord"]) -> list["GradedRecord"]:
    """``records`` without the double reviews still waiting for their second grade."""
    hidden = blind_samples(session, [r.sample_id for r in records])
    return [r for r in records if r.sample_id not in hidden]
