"""Per reviewer, for managers: calibration catch rate, agreement and the overturn rate.

    rows = reviewer_quality(session, workspace, now=now)   # one row per (task type, reviewer)

Three views of a reviewer's grading over each task type's window: how many planted errors
they caught (``bot.services.calibration``), how often they agreed with the other reviewer
on double reviews (``bot.services.consistency``), and how many of their grades that
trainers disputed were overturned by a second reviewer (``bot.services.trainer_disputes``).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.services.calibration import calibrations
from bot.services.consistency import task_agreements
from bot.services.standings import window_weeks
from bot.services.trainer_disputes import OverturnRate, overturn_rates_of
from bot.workspace import Workspace


@dataclass(frozen=True)
class ReviewerQuality:
    task_type: str
    task_name: str
    reviewer: str
    catch_rate: float | None
    calibration_items: int  # gold non-pass items graded
    agreement: float | None
    shared: int  # double reviews with the other reviewer's grade in
    overturn: OverturnRate | None


def reviewer_quality(session: Session, workspace: Workspace, *,
                     now: datetime) -> list[ReviewerQuality]:
    """One row per task type and reviewer: calibration and agreement from the reviewer-week
    tallies (one query each for every task type), and the overturn rates (one query)."""
    rows = []
    calibrated = calibrations(session, workspace, task_types=workspace.task_types, now=now)
    agreements = task_agreements(session, workspace, task_types=workspace.task_types, now=now)
    overturns = overturn_rates_of(session, weeks={
        t.key: window_weeks(workspace, now, t.policy.window_weeks) for t in workspace.task_types})
    for task_type in workspace.task_types:
        caught = {c.reviewer: c for c in calibrated[task_type.key]}
        agreed = {a.reviewer: a for a in agreements[task_type.key].reviewers}
        overturned = overturns.get(task_type.key, {})
        for reviewer in dict.fromkeys([*task_type.reviewers, *sorted(caught),
                                       *sorted(agreed), *sorted(overturned)]):
            c, a = caught.get(reviewer), agreed.get(reviewer)
            rows.append(ReviewerQuality(
                task_type=task_type.key, task_name=task_type.name, reviewer=reviewer,
                catch_rate=c.catch_rate if c else None, calibration_items=c.errors if c else 0,
                agreement=a.percent if a else None, shared=a.shared if a else 0,
                overturn=overturned.get(reviewer)))
    return rows
