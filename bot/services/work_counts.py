"""How many of an audit thread's samples have every grade they need, kept with the grades.

Usage (in the grading transaction, the sample locked)::

    before = reviewers(session, sample_id)
    ... record the grade ...
    graded_now(session, sample_id, before=before)   # moves audit_thread.graded_samples

A sample needs one grade, two when marked for double review (``needed``), calibration items
alike: the counts of work in `/audit status` (graded this week, the backlog) are of the
samples reviewers grade. Grades are never removed and a sample's double-review mark never
changes, so a sample is counted once, by the grade that gives it the last one it needs.
``recount_graded`` sets every thread's count from its grades (migration 0022; a store filled
without the bot).
"""

from sqlalchemy import Connection, text, update
from sqlmodel import Session, col, func, select

from bot.store.models import AuditThread, Grade


def needed(double_review: bool) -> int:
    return 2 if double_review else 1


def reviewers(session: Session, sample_id: int) -> int:
    """How many reviewers graded the sample (a grade is one per reviewer)."""
    return int(session.exec(select(func.count()).select_from(Grade)
                            .where(Grade.sample_id == sample_id)).one())


def graded_now(session: Session, *, sample_id: int, thread_id: int, double_review: bool,
               before: int) -> None:
    """Count the sample in its thread if the grade just recorded (flushed) gave it the last
    grade it needed (``before``: its reviewers before that grade)."""
    need = needed(double_review)
    if before < need <= reviewers(session, sample_id):
        session.execute(update(AuditThread).where(col(AuditThread.id) == thread_id)
                        .values(graded_samples=col(AuditThread.graded_samples) + 1))


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
