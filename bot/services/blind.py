"""Double review is blind: until both reviews of a sample are in, nobody sees the first.

Usage::

    hidden = awaiting_second_review(session, sample_ids)   # their lone grade stays hidden
    shown = quotable(session, records)                     # GradedRecords safe to quote

Everything that shows reviewers' grades to people asks here: `/audit status @trainer`
(worst samples, recurring categories), the escalation notice's worst samples and the CSV
export. A lone first grade still counts towards the trainer's score and standing
(``bot.services.standings``); only who gave it, the grade and its explanation stay hidden.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, func, select

from bot.models import Grade, Sample
from bot.services.standings import GradedRecord


def awaiting_second_review(session: Session, sample_ids: Iterable[int]) -> set[int]:
    """Those of ``sample_ids`` marked for double review with fewer than two reviewers'
    grades in: the grade they have must not be shown yet."""
    wanted = set(sample_ids)
    if not wanted:
        return set()
    rows = session.exec(select(Sample.id).where(col(Sample.id).in_(wanted),
                                                col(Sample.needs_double_review))).all()
    doubles = {sid for sid in rows if sid is not None}
    if not doubles:
        return set()
    graded = session.exec(select(Grade.sample_id, func.count(func.distinct(Grade.reviewer)))
                          .where(col(Grade.sample_id).in_(doubles))
                          .group_by(col(Grade.sample_id))).all()
    return doubles - {sid for sid, reviewers in graded if reviewers >= 2}


def quotable(session: Session, records: list[GradedRecord]) -> list[GradedRecord]:
    """``records`` without the double reviews still waiting for their second grade."""
    hidden = awaiting_second_review(session, [r.sample_id for r in records])
    return [r for r in records if r.sample_id not in hidden]
