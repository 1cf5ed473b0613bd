"""Durations (``"5m"``) and weekly times (``"mon 09:00"``) as written in auditbot.toml.

    >>> parse_duration("4h")
    datetime.timedelta(seconds=14400)
    >>> format_duration(parse_duration("90m"))
    '90m'
    >>> str(parse_weekly_time("Monday 9:00"))
    'mon 09:00'

Both parsers raise ``ValueError`` with a message that reads well on its own and after a key
path (``schedule.weekly_audit: invalid weekly time ...``).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_UNITS = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
# ASCII digits only: str.isdigit() and \d would also accept digits of other scripts.
_DURATION_RE = re.compile(r"([0-9]+)\s*([smhd])")
_DURATION_HELP = "expected a positive whole number and one unit (s, m, h, d), e.g. '5m' or '4h'"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_BY_NAME = {name: i for i, full in enumerate(WEEKDAYS) for name in (full, full[:3])}
_WEEKLY_RE = re.compile(r"([A-Za-z]+)\s+([0-9]{1,2}):([0-9]{2})")
_WEEKLY_HELP = "expected a weekday and a 24-hour time, e.g. 'mon 09:00'"


def parse_duration(text: str) -> timedelta:
    """Parse ``"30s"``, ``"5m"``, ``"4h"`` or ``"2d"`` into a positive ``timedelta``.

    One whole number and one unit; surrounding blanks are ignored. Anything else, zero, or a
    value too large for ``timedelta`` raises ``ValueError``.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: {_DURATION_HELP}")
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid duration {text!r}: {_DURATION_HELP}")
    if int(match[1]) == 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    try:
        return int(match[1]) * _UNITS[match[2]]
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def format_duration(value: timedelta) -> str:
    """Write a positive ``timedelta`` back in config form, in the largest exact unit.

    ``format_duration(timedelta(hours=24)) == "1d"``; ``parse_duration`` reads it back.
    Values that are not whole positive seconds fall back to ``str(value)``.
    """
    if value <= timedelta(0) or value.microseconds:
        return str(value)
    for suffix, unit in _UNITS.items():  # largest unit first
        if value % unit == timedelta(0):
            return f"{value // unit}{suffix}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1s")


@dataclass(frozen=True)
class WeeklyTime:
    """A moment in every week, in the workspace timezone: ``weekday`` 0 is Monday."""

    weekday: int
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday][:3]} {self.at:%H:%M}"

    @property
    def label(self) -> str:
        """Human form for messages: ``"Monday 09:00"``."""
        return f"{WEEKDAYS[self.weekday].capitalize()} {self.at:%H:%M}"

    def cron_fields(self) -> dict[str, str | int]:
        """Keyword arguments for APScheduler's ``CronTrigger`` (pass the timezone too)."""
        return {"day_of_week": WEEKDAYS[self.weekday][:3], "hour": self.at.hour,
                "minute": self.at.minute}

    def latest_at_or_before(self, now: datetime, tz: tzinfo) -> datetime:
        """The most recent occurrence not after ``now`` (aware), as an aware time in ``tz``.

        The scheduler uses it to catch up a run missed while the bot was down.
        """
        local_now = now.astimezone(tz)
        day = local_now.date() - timedelta(days=(local_now.weekday() - self.weekday) % 7)
        candidate = self._on(day, tz)
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall clock, which is
        # wrong around a DST change.
        if candidate.astimezone(UTC) > now.astimezone(UTC):
            candidate = self._on(day - timedelta(days=7), tz)
        return candidate

    def next_after(self, now: datetime, tz: tzinfo) -> datetime:
        """The first occurrence strictly after ``now`` (aware), as an aware time in ``tz``."""
        # Step by calendar days, not by 168 hours, so the wall-clock time survives DST.
        return self._on(self.latest_at_or_before(now, tz).date() + timedelta(days=7), tz)

    def shifted(self, delta: timedelta) -> "WeeklyTime":
        """The same moment ``delta`` later in the week (wrapping to Monday after Sunday):
        ``parse_weekly_time("mon 09:00").shifted(timedelta(days=2))`` is ``wed 09:00``."""
        minutes = (self.weekday * 1440 + self.at.hour * 60 + self.at.minute
                   + int(delta.total_seconds()) // 60) % (7 * 1440)
        return WeeklyTime(weekday=minutes // 1440, at=time(minutes % 1440 // 60, minutes % 60))

    def _on(self, day: date, tz: tzinfo) -> datetime:
        return datetime.combine(day, self.at, tzinfo=tz)


def parse_weekly_time(text: str) -> WeeklyTime:
    """Parse ``"mon 09:00"`` (weekday ``mon``..``sun`` or a full name, any case; 24h time)."""
    match = _WEEKLY_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid weekly time {text!r}: {_WEEKLY_HELP}")
    weekday = _WEEKDAY_BY_NAME.get(match[1].lower())
    if weekday is None:
        raise ValueError(f"invalid weekly time {text!r}: unknown weekday {match[1]!r}, "
                         "expected mon..sun or a full day name")
    hour, minute = int(match[2]), int(match[3])
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid weekly time {text!r}: {_WEEKLY_HELP}")
    return WeeklyTime(weekday=weekday, at=time(hour, minute))
