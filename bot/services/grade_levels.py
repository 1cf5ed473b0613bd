"""The store's copy of the scale's keys (``grade_level``), which every grade column
references: written from the workspace at start, so the store refuses a grade off the scale.

    kept = sync_grade_levels(session, workspace.scale)   # keys off the scale still in use

Keys the scale gained are inserted; keys it lost are deleted unless stored grades still
use them (the foreign key refuses that delete): those stay, so history keeps its grades,
and are returned for the caller to report. Safe to run on every start and on two replicas
at once (a key inserted twice is the same key).
"""

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.common.grades import Scale
from bot.store.models import GradeLevel


def sync_grade_levels(session: Session, scale: Scale) -> tuple[str, ...]:
    """Make ``grade_level`` hold ``scale``'s keys; return the stale keys still in use."""
    stored = set(session.exec(select(GradeLevel.key)).all())
    for key in scale.keys:
        if key not in stored:
            try:
                with session.begin_nested():  # another replica may insert it at once
                    session.add(GradeLevel(key=key))
            except IntegrityError:
                pass
    kept = []
    for key in sorted(stored - set(scale.keys)):
        try:
            with session.begin_nested():  # refused while a grade column references it
                session.execute(delete(GradeLevel).where(col(GradeLevel.key) == key))
        except IntegrityError:
            kept.append(key)
    return tuple(kept)
