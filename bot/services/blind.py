"""Double review is blind: until both reviews of a sample are in, nobody sees the first.

Usage::

    hidden = blind_samples(session, sample_ids)     # their grade, if any, stays hidden
    select(Sample.id).where(revealed())             # the same rule as a SQL condition
    shown = quotable(session, records)              # GradedRecords safe to quote

Everything that shows reviewers' grades to people asks here: `/audit status @trainer`
(worst samples, recurring categories), the escalation notice's worst samples, the CSV
export. A lone first grade still counts towards the trainer's score and standing
(``bot.services.standings``); only who gave it, the grade and its explanation stay hidden.
"""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, not_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from bot.models import Grade, Sample
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


def quotable(session: Session, records: list[GradedRecord]) -> list[GradedRecord]:
    """``records`` without the double reviews still waiting for their second grade."""
    hidden = blind_samples(session, [r.sample_id for r in records])
    return [r for r in records if r.sample_id not in hidden]
