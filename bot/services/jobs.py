"""Claims on a scheduled job's due time, so restarts and replicas run each due time once."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.models import JobRun


def claim_run(session: Session, *, job: str, period: str, now: datetime) -> bool:
    """True for the one caller that gets to run ``job`` for ``period``."""
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period=period, started_at=now))
    except IntegrityError:
        return False
    return True


def finish_run(session: Session, *, job: str, period: str, now: datetime, summary: str) -> None:
    run = session.exec(select(JobRun).where(JobRun.job == job, JobRun.period == period)).one()
    run.finished_at, run.summary = now, summary
    session.add(run)


def has_run(session: Session, *, job: str, period: str) -> bool:
    found = session.exec(select(JobRun.id).where(JobRun.job == job, JobRun.period == period))
    return found.first() is not None
