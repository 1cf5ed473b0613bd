"""Reading ``[onboarding]`` and ``[[away]]``: new trainers' markers and people's time off.

    onboarding = read_onboarding(root.table("onboarding", known=ONBOARDING_KEYS))
    away = read_away(root, known_people={"U0NURSE01", ...})

``[onboarding]`` is optional (default: 90 days, week 4 ≥ 0.75, week 8 ≥ 0.85, week 12 ≥
the task type's threshold). A marker may name the scorecard's ``dimension`` it is about
(``precision``, the default, ``consistency`` or ``clarity``); its ``"threshold"`` is the task
type's threshold for that dimension, so every task type must set one. ``[[away]]`` tables
name someone who is away through ``until`` (from ``from``, or already): no audit for a
trainer, no reminders or escalation pings for anyone else. ``/audit away`` records the same
in the store.
"""

import math
import re
from collections.abc import Collection, Sequence
from datetime import date, datetime

from bot.workspace.model import Away, Onboarding, OnboardingMarker, TaskType
from bot.workspace.reader import MISSING, Table, describe, user_id_problem

ONBOARDING_KEYS = ("days", "markers")
MARKER_KEYS = ("week", "min_score", "dimension")
DIMENSIONS = ("precision", "consistency", "clarity")  # bot.services.scorecard.DIMENSIONS
AWAY_KEYS = ("user", "from", "until")
THRESHOLD = "threshold"  # a marker's min_score that means the task type's pass_threshold
MAX_ONBOARDING_DAYS = 365


def read_onboarding(table: Table, *, task_types: Sequence[TaskType] = ()) -> Onboarding:
    """``task_types``: to check that a ``"threshold"`` marker's dimension has a threshold in
    each of them."""
    default = Onboarding()
    days = table.integer("days", default=default.days, low=7, high=MAX_ONBOARDING_DAYS)
    tables = table.tables("markers", known=MARKER_KEYS)
    if tables is None:
        return Onboarding(days=days, markers=default.markers)
    last_week = math.ceil(days / 7)
    markers: list[OnboardingMarker] = []
    for marker in tables:
        week = marker.integer("week", default=0, low=1, high=last_week)
        dimension = _dimension(marker)
        before = [m for m in markers if m.dimension == dimension]
        if not marker.has("week"):
            marker.report("week", "missing required key")
        elif before and week and week <= before[-1].week:
            of = "" if dimension == "precision" else f" {dimension}"
            marker.report("week", f"must come after the previous{of} marker's week "
                          f"{before[-1].week} (got {week})")
        min_score = _min_score(marker)
        if min_score is None and marker.raw("min_score") == THRESHOLD:
            _check_threshold(marker, dimension, task_types)
        markers.append(OnboardingMarker(week=week, min_score=min_score, dimension=dimension))
    return Onboarding(days=days, markers=tuple(markers))


def _dimension(marker: Table) -> str:
    value = marker.raw("dimension")
    if value is MISSING:
        return "precision"
    if value not in DIMENSIONS:
        marker.report("dimension", f"must be one of {', '.join(DIMENSIONS)} "
                      f"(got {describe(value)})")
        return "precision"
    return str(value)


def _check_threshold(marker: Table, dimension: str, task_types: Sequence[TaskType]) -> None:
    """``"threshold"`` for consistency or clarity needs that threshold in every task type."""
    if dimension == "precision":
        return
    key = f"{dimension}_threshold"
    missing = [t.key for t in task_types if getattr(t.policy, key) is None]
    if missing:
        marker.report("min_score", f"\"{THRESHOLD}\" for {dimension} needs [policy] {key} "
                      f"(not set for task type {', '.join(repr(k) for k in missing)}); "
                      "set it or give a number")


def _min_score(marker: Table) -> float | None:
    if marker.raw("min_score") == THRESHOLD:
        return None
    if isinstance(marker.raw("min_score"), str):
        marker.report("min_score", f"must be a number between 0 and 1 or \"{THRESHOLD}\" "
                      f"(got {describe(marker.raw('min_score'))})")
        return None
    return marker.fraction("min_score", default=0.0, required=True)


def read_away(root: Table, *, known_people: Collection[str] | None) -> tuple[Away, ...]:
    """Every ``[[away]]`` table. ``known_people`` (``None``: not checked) are the ids the
    config names anywhere; someone else being away would change nothing, so it is a typo."""
    spans: list[Away] = []
    for table in root.tables("away", known=AWAY_KEYS) or []:
        user = table.string("user", required=True)
        if user is not None and (reason := user_id_problem(user)):
            table.report("user", reason)
        elif user is not None and known_people is not None and user not in known_people:
            table.report("user", f"{user!r} is not a manager, reviewer, lead or trainer "
                         "in this config")
        until = read_date(table, "until", required=True)
        start = read_date(table, "from")
        if start and until and start > until:
            table.report("from", f"must not be after until ({start} > {until})")
        if user and until:
            spans.append(Away(user=user, until=until, start=start))
    return tuple(spans)


def read_date(table: Table, key: str, *, required: bool = False) -> date | None:
    """A TOML date (``2026-12-24``) or the same as a string."""
    value = table.raw(key, required=required)
    if value is MISSING:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            table.report(key, f"is not a real date (got {value!r})")
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    table.report(key, f"must be a date like 2026-12-24 (got {describe(value)})")
    return None
