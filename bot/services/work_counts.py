"""How many of an audit thread's samples have every grade they need, kept with the grades.

Usage (in the grading transaction, the sample locked)::

    state = sample_state(session, sample_id)          # its graders before
    ... record the grade (a first reviewer: one grade more) ...
    graded_now(session, thread_id=state.thread_id, double_review=state.double_review,
               before=len(state.grades), after=len(state.grades) + 1)  # moves graded_samples

A sample needs one grade, two when marked for double review (``needed``), calibration items
alike: the counts of work in `/audit status` (graded this week, the backlog) are of the
samples reviewers grade. Grades are never removed and a sample's double-review mark never
changes, so a sample is counted once, by the grade that gives it the last one it needs.
``recount_graded`` sets every thread's count from its grades (migration 0022; a store filled
without the bot).
"""

from sqlalchemy import Connection, bindparam, text, update
from sqlmodel import Session

from bot.store.models import AuditThread


def needed(double_review: bool) -> int:
    return 2 if double_review else 1


def graded_now(session: Session, *, thread_id: int, double_review: bool, before: int,
               after: int) -> None:
    """Count the sample in its thread if the grade just recorded gave it the last grade it
    needed (``before`` and ``after``: how many reviewers had graded it)."""
    if before < needed(double_review) <= after:
        session.connection().execute(_GRADED_ONE_MORE, {"thread_id": thread_id})


_THREAD = AuditThread.__table__.c  # type: ignore[attr-defined]
# Built once: it runs in a grade's transaction.
_GRADED_ONE_MORE = update(AuditThread.__table__).where(  # type: ignore[attr-defined]
    _THREAD.id == bindparam("thread_id")).values(graded_samples=_THREAD.graded_samples + 1)


_RECOUNT = """
UPDATE audit_thread SET graded_samples = (
    SELECT COUNT(*) FROM sample
    WHERE sample.thread_id = audit_thread.id
      AND (SELECT COUNT(*) FROM grade WHERE grade.sample_id = sample.id)
          >= CASE WHEN sample.needs_double_review THEN 2 ELSE 1 END)
"""


def recount_graded(connection: Connection) -> None:
    """Set every thread's ``graded_samples`` from its samples' grades."""
    connection.execute(text(_RECOUNT))
