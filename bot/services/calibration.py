"""Calibration items: how well each reviewer catches planted errors, and the reveal after grading.

Usage (plain data out)::

    feedback = grader_feedback(session, sample_id=7, reviewer="U0NURSE01")
    feedback.calibration        # None, or how their grade compares with the known answer
    for c in calibration_by_reviewer(session, workspace, task_type=tt, now=now):
        c.catch_rate, c.false_alarm_rate, c.severity_match_rate, c.flagged

An output ingested with ``gold`` is a calibration item. Reviewers grade it like any other
and see nothing special until they have graded; then the grader alone is told how their
grade compares (``grader_feedback``; the handler posts it as an ephemeral message). It never
counts towards the trainer's score (``bot.services.standings`` leaves it out).

The statistics, per reviewer and task type over the window, use each reviewer's *first*
grade of an item: after the reveal a reviewer could change their grade to the known answer,
and that must not improve their record. That first grade is counted when it is given, into
the reviewer-week tallies (``bot.services.reviewer_tallies``), which the statistics read.

* **catch rate**: of the gold Minor/Major items they graded, the share they graded non-pass;
* **false-alarm rate**: of the gold Pass items they graded, the share they graded non-pass;
* **severity match** (our stand-in for a category match): of the errors they caught, the
  share graded with the gold severity (Minor vs Major). Gold records carry a grade and a
  note but no error category, so the category itself cannot be checked.

A reviewer is **flagged** (managers get a DM, once per week) when their catch rate is below
``calibration_min_catch_rate`` over at least ``calibration_min_items`` gold non-pass items.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.common.grades import scale_in_force
from bot.services.reviewer_tallies import GOLD, ByReviewer, kinds_total, reviewer_tallies
from bot.services.standings import window_weeks
from bot.store.models import Grade, GradeEvent, Sample, TrainerOutput
from bot.workspace import TaskType, Workspace


@dataclass(frozen=True)
class CalibrationReveal:
    gold_grade: str
    gold_note: str | None
    grade: str  # the reviewer's grade now
    verdict: str  # "match" | "caught" (other severity) | "missed" | "false alarm"
    first_grade: str  # what their calibration record keeps


@dataclass(frozen=True)
class GraderFeedback:
    """What the person who just graded is told, and only them."""

    sample_id: int
    reviewer: str
    grade: str
    calibration: CalibrationReveal | None
    # "waiting": a double review with only their grade in (hidden until the second);
    # "own change": the same, after they changed their own grade; None otherwise.
    double_review: str | None


@dataclass(frozen=True)
class ReviewerCalibration:
    reviewer: str
    task_type: str
    errors: int  # gold Minor/Major items graded
    caught: int  # of those, graded non-pass
    severity_matched: int  # of those caught, graded with the gold severity
    passes: int  # gold Pass items graded
    false_alarms: int  # of those, graded non-pass
    min_catch_rate: float
    min_items: int

    @property
    def graded(self) -> int:
        return self.errors + self.passes

    @property
    def catch_rate(self) -> float | None:
        return self.caught / self.errors if self.errors else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.passes if self.passes else None

    @property
    def severity_match_rate(self) -> float | None:
        return self.severity_matched / self.caught if self.caught else None

    @property
    def flagged(self) -> bool:
        rate = self.catch_rate
        return self.errors >= self.min_items and rate is not None and rate < self.min_catch_rate


def verdict(gold: str, grade: str) -> str:
    if grade == gold:
        return "match"
    if gold != scale_in_force().best:
        return "missed" if grade == scale_in_force().best else "caught"
    return "false alarm"


def grader_feedback(session: Session, *, sample_id: int, reviewer: str) -> GraderFeedback | None:
    """What to tell ``reviewer`` after they graded the sample (``None``: no grade of theirs)."""
    row = session.exec(
        select(Sample, TrainerOutput.gold_grade, TrainerOutput.gold_note)
        .join(TrainerOutput, col(TrainerOutput.id) == Sample.output_id)
        .where(Sample.id == sample_id)).first()
    events = session.exec(
        select(GradeEvent.reviewer, GradeEvent.grade).where(GradeEvent.sample_id == sample_id)
        .order_by(col(GradeEvent.id))).all()
    graders = set(session.exec(select(Grade.reviewer).where(Grade.sample_id == sample_id)).all())
    mine = [grade for who, grade in events if who == reviewer]
    if row is None or not mine or reviewer not in graders:
        return None
    sample, gold_grade, gold_note = row
    reveal = None
    if gold_grade is not None:
        reveal = CalibrationReveal(gold_grade=gold_grade, gold_note=gold_note, grade=mine[-1],
                                   verdict=verdict(gold_grade, mine[-1]), first_grade=mine[0])
    double = None
    if sample.needs_double_review and graders == {reviewer}:
        double = "own change" if len(mine) > 1 else "waiting"
    return GraderFeedback(sample_id=sample_id, reviewer=reviewer, grade=mine[-1],
                          calibration=reveal, double_review=double)


def calibration_by_reviewer(session: Session, workspace: Workspace, *, task_type: TaskType,
                            now: datetime) -> list[ReviewerCalibration]:
    """Every reviewer who graded a calibration item of ``task_type`` in the window."""
    return calibrations(session, workspace, task_types=[task_type], now=now)[task_type.key]


def calibrations(session: Session, workspace: Workspace, *, task_types: Sequence[TaskType],
                 now: datetime) -> dict[str, list[ReviewerCalibration]]:
    """``calibration_by_reviewer`` of each of ``task_types``, by key, from the reviewer-week
    tallies kept with the grades (each reviewer's first grade of an item, counted when it
    was given: ``bot.services.reviewer_tallies``): one query for all of them."""
    weeks = {t.key: window_weeks(workspace, now, t.policy.window_weeks) for t in task_types}
    tallies = reviewer_tallies(session, weeks=weeks)
    return {t.key: calibration_of(t, tallies.get(t.key, {})) for t in task_types}


def calibration_of(task_type: TaskType, by_reviewer: ByReviewer) -> list[ReviewerCalibration]:
    best = scale_in_force().best
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for reviewer, gold, grade, n in kinds_total(by_reviewer, GOLD):
        t = counts[reviewer]
        if gold != best:
            t[0] += n
            t[1] += n if grade != best else 0
            t[2] += n if grade == gold else 0
        else:
            t[3] += n
            t[4] += n if grade != best else 0
    policy = task_type.policy
    return [ReviewerCalibration(
        reviewer=reviewer, task_type=task_type.key, errors=t[0], caught=t[1],
        severity_matched=t[2], passes=t[3], false_alarms=t[4],
        min_catch_rate=policy.calibration_min_catch_rate, min_items=policy.calibration_min_items)
        for reviewer, t in sorted(counts.items())]


def calibration_by_task_type(session: Session, workspace: Workspace, *,
                             now: datetime) -> dict[str, list[ReviewerCalibration]]:
    """``calibration_by_reviewer`` for every task type, by key (for status and App Home)."""
    return calibrations(session, workspace, task_types=workspace.task_types, now=now)
