"""Time, passed in rather than read from the system, so jobs and tests share one notion of now.

Usage: ``clock = SystemClock(); clock.now()`` in production, ``FixedClock(datetime(...))``
in tests and the demo. Every ``now()`` is timezone-aware UTC.
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (``advance``), for tests and the demo."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = as_utc(moment)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (that is how the store keeps them); aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_week(moment: datetime) -> str:
    """``2026-W48`` for a moment (already in the workspace time zone)."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
