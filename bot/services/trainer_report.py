"""One trainer in depth: `/audit status @trainer`, their chart, and their own Home.

Usage::

    report = trainer_report(session, workspace, trainer="U0TRAINER1", viewer=user, now=now)
    for task in report.tasks:
        task.current.score, task.history, task.worst, task.categories, task.onboarding

``history`` is the score per ISO week over the last ``HISTORY_WEEKS`` weeks (what the
sparkline and the chart show); ``current`` is the standing over the policy's window (what
the escalation rule decides on). Onboarding progress is there for trainers who started
within ``[onboarding] days``: the window score at the end of each marker week against its
target.
"""

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlmodel import Session

from bot.models import Escalation
from bot.services.blind import quotable
from bot.services.escalation import open_escalation
from bot.services.people import away_on, local_date, paused_trainers
from bot.services.scorecard import Scorecard, scorecards
from bot.services.scoring import GradedSample, Standing, WeekScore, standing
from bot.services.standings import GradedRecord, window_samples, window_weeks, worst
from bot.services.visibility import check_may_see_trainer, reviewers_shown
from bot.workspace import TaskType, Trainer, Workspace

HISTORY_WEEKS = 12
WORST_SHOWN = 3
RECURRING_AT_LEAST = 2
MarkerState = Literal["met", "missed", "ungraded", "now", "upcoming"]


@dataclass(frozen=True)
class MarkerProgress:
    week: int  # onboarding week (1 = the week they started)
    target: float
    score: float | None  # window score at the end of that week (so far, for "now")
    state: MarkerState


@dataclass(frozen=True)
class OnboardingProgress:
    started: date
    week: int  # the onboarding week they are in now (1-based)
    weeks: int  # how many weeks onboarding lasts
    markers: tuple[MarkerProgress, ...]


@dataclass(frozen=True)
class TaskReport:
    key: str
    name: str
    threshold: float
    current: Standing  # over the policy's window
    history: tuple[WeekScore, ...]  # HISTORY_WEEKS, oldest first
    worst: tuple[GradedRecord, ...]  # the window's lowest-scored samples
    categories: tuple[tuple[str, int], ...]  # recurring error categories, most first
    escalation: Escalation | None  # open
    onboarding: OnboardingProgress | None
    scorecard: Scorecard | None = None  # precision, consistency, clarity (bot.services.scorecard)


@dataclass(frozen=True)
class TrainerReport:
    trainer: str
    lead: str | None
    started: date | None
    paused: bool
    away_until: date | None
    tasks: tuple[TaskReport, ...]


def trainer_report(session: Session, workspace: Workspace, *, trainer: str, viewer: str,
                   now: datetime) -> TrainerReport:
    found = check_may_see_trainer(workspace, viewer=viewer, trainer=trainer)
    today = local_date(workspace, now)
    away = away_on(session, workspace, day=today, users=[trainer])
    cards = scorecards(session, workspace, pairs=[(trainer, key) for key in found.task_types],
                       now=now)
    return TrainerReport(
        trainer=trainer, lead=found.lead, started=found.started,
        paused=trainer in paused_trainers(session), away_until=away.get(trainer),
        tasks=tuple(replace(_task_report(session, workspace, found, workspace.task_type(key),
                                         now=now,
                                         named=reviewers_shown(workspace, viewer=viewer,
                                                               trainer=trainer, task_type=key)),
                            scorecard=cards.get((trainer, key)))
                    for key in found.task_types),
    )


def _task_report(session: Session, workspace: Workspace, trainer: Trainer,
                 task_type: TaskType, *, now: datetime, named: bool = True) -> TaskReport:
    """``named``: whether the viewer may read who graded (``reviewers_shown``); if not, the
    worst samples carry no reviewer."""
    policy = task_type.policy
    history_weeks = window_weeks(workspace, now, max(HISTORY_WEEKS, policy.window_weeks))
    onboarding_weeks = _onboarding_windows(workspace, trainer, task_type, now=now)
    wanted = sorted(set(history_weeks) | {w for ws in onboarding_weeks.values() for w in ws})
    samples, records = window_samples(session, workspace, trainer=trainer.user,
                                      task_type=task_type.key, weeks=wanted)
    window = history_weeks[-policy.window_weeks:]
    current = standing(samples, policy, weeks=window)
    history = standing(samples, policy, weeks=history_weeks[-HISTORY_WEEKS:]).weekly
    shown = quotable(session, records)  # a lone first grade of a double review stays blind
    in_window = [r for r in shown if r.week in window]
    recent = set(history_weeks[-HISTORY_WEEKS:])
    categories = Counter(g.category for r in shown if r.week in recent
                         for g in r.grades if g.grade != "pass" and g.category)
    return TaskReport(
        key=task_type.key, name=task_type.name, threshold=policy.pass_threshold,
        current=current, history=history,
        worst=tuple(r if named else replace(r, grades=tuple(replace(g, reviewer="")
                                                            for g in r.grades))
                    for r in worst(in_window, WORST_SHOWN)),
        categories=tuple((c, n) for c, n in categories.most_common()
                         if n >= RECURRING_AT_LEAST),
        escalation=open_escalation(session, trainer=trainer.user, task_type=task_type.key),
        onboarding=_onboarding(workspace, trainer, task_type, samples, onboarding_weeks,
                               now=now),
    )


def _onboarding_windows(workspace: Workspace, trainer: Trainer, task_type: TaskType, *,
                        now: datetime) -> dict[int, list[str]]:
    """For each marker week, the ISO weeks of the window ending with it."""
    if not _onboarding_week(workspace, trainer, now=now):
        return {}
    assert trainer.started is not None
    windows = {}
    for marker in workspace.onboarding.markers:
        last_day = trainer.started + timedelta(days=7 * marker.week - 1)
        moment = datetime.combine(last_day, time(12), tzinfo=workspace.tz)
        windows[marker.week] = window_weeks(workspace, moment, task_type.policy.window_weeks)
    return windows


def _onboarding_week(workspace: Workspace, trainer: Trainer, *, now: datetime) -> int | None:
    """The onboarding week ``trainer`` is in (1-based), or None when not onboarding."""
    if trainer.started is None:
        return None
    days = (local_date(workspace, now) - trainer.started).days
    if days < 0 or days >= workspace.onboarding.days:
        return None
    return days // 7 + 1


def _onboarding(workspace: Workspace, trainer: Trainer, task_type: TaskType,
                samples: list[GradedSample], windows: dict[int, list[str]], *,
                now: datetime) -> OnboardingProgress | None:
    week = _onboarding_week(workspace, trainer, now=now)
    if week is None or trainer.started is None:
        return None
    markers = []
    for marker in workspace.onboarding.markers:
        target = marker.min_score if marker.min_score is not None \
            else task_type.policy.pass_threshold
        score = None
        if marker.week <= week:
            score = standing(samples, task_type.policy, weeks=windows[marker.week]).score
        state: MarkerState
        if marker.week > week:
            state = "upcoming"
        elif marker.week == week:
            state = "now"
        else:
            state = "ungraded" if score is None else "met" if score >= target else "missed"
        markers.append(MarkerProgress(week=marker.week, target=target, score=score,
                                      state=state))
    return OnboardingProgress(started=trainer.started, week=week,
                              weeks=math.ceil(workspace.onboarding.days / 7),
                              markers=tuple(markers))

