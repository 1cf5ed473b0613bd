"""One trainer in depth: `/audit status @trainer`, their chart, and their own Home.

Usage::

    report = trainer_report(session, workspace, trainer="U0TRAINER1", viewer=user, now=now)
    for task in report.tasks:
        task.current.score, task.history, task.worst, task.categories, task.onboarding

``history`` is the score per ISO week over the last ``HISTORY_WEEKS`` weeks (what the
sparkline and the chart show); ``current`` is the standing over the policy's window (what
the escalation rule decides on). Onboarding progress is there for trainers who started
within ``[onboarding] days``: each marker's dimension of the scorecard over the window that
ended with the marker week (precision: the window score; consistency, clarity: the
scorecard as it stood at the end of that ISO week, one ``scorecards`` read per distinct
marker week reached) against its target.
"""

import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlmodel import Session

from bot.common.grades import scale_in_force
from bot.services.blind import quotable
from bot.services.escalation import open_escalation
from bot.services.people import away_on, local_date, paused_trainers
from bot.services.scorecard import Scorecard, scorecards
from bot.services.scoring import GradedSample, Standing, WeekScore, standing
from bot.services.standings import GradedRecord, window_samples, window_weeks, worst
from bot.services.visibility import check_may_see_trainer, reviewers_shown
from bot.store.models import Escalation
from bot.workspace import TaskType, Trainer, Workspace
from bot.workspace.model import OnboardingMarker

HISTORY_WEEKS = 12
WORST_SHOWN = 3
RECURRING_AT_LEAST = 2
MarkerState = Literal["met", "missed", "ungraded", "now", "upcoming"]


@dataclass(frozen=True)
class MarkerProgress:
    week: int  # onboarding week (1 = the week they started)
    target: float
    score: float | None  # the dimension over the window ending that week (so far, "now")
    state: MarkerState
    dimension: str = "precision"  # precision | consistency | clarity


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
    pairs = [(trainer, key) for key in found.task_types]
    cards = scorecards(session, workspace, pairs=pairs, now=now)
    marker_cards = _marker_scorecards(session, workspace, found, pairs, now=now)
    return TrainerReport(
        trainer=trainer, lead=found.lead, started=found.started,
        paused=trainer in paused_trainers(session), away_until=away.get(trainer),
        tasks=tuple(replace(_task_report(session, workspace, found, workspace.task_type(key),
                                         now=now,
                                         named=reviewers_shown(workspace, viewer=viewer,
                                                               trainer=trainer, task_type=key),
                                         marker_cards={w: c[(trainer, key)]
                                                       for w, c in marker_cards.items()}),
                            scorecard=cards.get((trainer, key)))
                    for key in found.task_types),
    )


def _marker_scorecards(session: Session, workspace: Workspace, trainer: Trainer,
                       pairs: list[tuple[str, str]], *,
                       now: datetime) -> dict[int, dict[tuple[str, str], Scorecard]]:
    """For each onboarding marker reached that names consistency or clarity: the trainer's
    scorecards as they stood at the end of the marker week's ISO week (or now, if sooner)."""
    week = _onboarding_week(workspace, trainer, now=now)
    if week is None or trainer.started is None:
        return {}
    found: dict[int, dict[tuple[str, str], Scorecard]] = {}
    for marker in workspace.onboarding.markers:
        if marker.dimension == "precision" or marker.week > week or marker.week in found:
            continue
        last_day = trainer.started + timedelta(days=7 * marker.week - 1)
        sunday = last_day + timedelta(days=6 - last_day.weekday())
        end = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=workspace.tz)
        found[marker.week] = scorecards(session, workspace, pairs=pairs,
                                        now=min(now, end - timedelta(microseconds=1)))
    return found


def _task_report(session: Session, workspace: Workspace, trainer: Trainer,
                 task_type: TaskType, *, now: datetime, named: bool = True,
                 marker_cards: dict[int, Scorecard] | None = None) -> TaskReport:
    """``named``: whether the viewer may read who graded (``reviewers_shown``); if not, the
    worst samples carry no reviewer. ``marker_cards``: per marker week, the scorecard the
    consistency and clarity markers read (``_marker_scorecards``)."""
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
                         for g in r.grades if g.grade != scale_in_force().best and g.category)
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
                               now=now, cards=marker_cards or {}),
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


def marker_target(marker: OnboardingMarker, task_type: TaskType) -> float:
    """A marker's target: its ``min_score``, or the task type's threshold for its dimension
    (the config makes sure there is one)."""
    if marker.min_score is not None:
        return marker.min_score
    policy = task_type.policy
    found = {"consistency": policy.consistency_threshold,
             "clarity": policy.clarity_threshold}.get(marker.dimension)
    return found if found is not None else policy.pass_threshold


def _onboarding(workspace: Workspace, trainer: Trainer, task_type: TaskType,
                samples: list[GradedSample], windows: dict[int, list[str]], *,
                now: datetime, cards: dict[int, Scorecard]) -> OnboardingProgress | None:
    week = _onboarding_week(workspace, trainer, now=now)
    if week is None or trainer.started is None:
        return None
    markers = []
    for marker in workspace.onboarding.markers:
        target = marker_target(marker, task_type)
        score = None
        if marker.week <= week and marker.dimension == "precision":
            score = standing(samples, task_type.policy, weeks=windows[marker.week]).score
        elif marker.week <= week and marker.week in cards:
            card = cards[marker.week]
            score = (card.consistency if marker.dimension == "consistency"
                     else card.clarity).value
        state: MarkerState
        if marker.week > week:
            state = "upcoming"
        elif marker.week == week:
            state = "now"
        else:
            state = "ungraded" if score is None else "met" if score >= target else "missed"
        markers.append(MarkerProgress(week=marker.week, target=target, score=score,
                                      state=state, dimension=marker.dimension))
    return OnboardingProgress(started=trainer.started, week=week,
                              weeks=math.ceil(workspace.onboarding.days / 7),
                              markers=tuple(markers))

