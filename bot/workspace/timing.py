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


_HOURS_RE = re.compile(r"([A-Za-z,\- ]+?)\s+([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")
_HOURS_HELP = ("expected weekdays and a 24-hour span, e.g. 'mon-fri 09:00-18:00', "
               "'mon,wed 08:00-12:00' or 'sun-thu 22:00-06:00' (past midnight)")


@dataclass(frozen=True)
class WorkingHours:
    """When a level may be paged, on the workspace's wall clock: from ``start`` to ``end`` on
    each of ``days`` (0 is Monday). An ``end`` not after ``start`` runs past midnight into
    the next day (``22:00-06:00`` on Friday ends Saturday 06:00); ``00:00-24:00`` is the
    whole day. Times that a DST change skips open at the first instant after the gap."""

    days: frozenset[int]
    start: time
    end: time | None  # None: 24:00

    def __str__(self) -> str:
        days = ",".join(WEEKDAYS[d][:3] for d in sorted(self.days))
        end = "24:00" if self.end is None else f"{self.end:%H:%M}"
        return f"{days} {self.start:%H:%M}-{end}"

    @property
    def wraps(self) -> bool:
        return self.end is not None and self.end <= self.start

    def is_open(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        today = local.weekday()
        yesterday = (today - 1) % 7
        if self.wraps:
            assert self.end is not None
            return ((today in self.days and clock >= self.start)
                    or (yesterday in self.days and clock < self.end))
        return (today in self.days and clock >= self.start
                and (self.end is None or clock < self.end))

    def next_opening(self, moment: datetime, tz: tzinfo) -> datetime:
        """``moment`` itself (in UTC) when open; else the next start of the hours, in UTC."""
        moment = moment.astimezone(UTC)
        if self.is_open(moment, tz):
            return moment
        local_day = moment.astimezone(tz).date()
        for ahead in range(8):
            day = local_day + timedelta(days=ahead)
            if day.weekday() not in self.days:
                continue
            # A wall time in a DST gap converts with the offset before the gap (02:30 in a
            # spring-forward night is 03:30 after it); UTC makes it a real instant.
            candidate = datetime.combine(day, self.start, tzinfo=tz).astimezone(UTC)
            if candidate > moment:
                return candidate
        raise AssertionError("unreachable: every week has an opening")


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        ends = part.split("-")
        if not part or len(ends) > 2:
            raise ValueError(f"bad weekdays {text!r}")
        found = [_WEEKDAY_BY_NAME.get(end.lower()) for end in ends]
        if any(f is None for f in found):
            raise ValueError(f"unknown weekday in {text!r}, expected mon..sun")
        first, last = found[0], found[-1]
        assert first is not None and last is not None
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def parse_working_hours(text: str) -> WorkingHours:
    """Parse ``"mon-fri 09:00-18:00"`` (day ranges may wrap: ``fri-mon``; lists with commas)."""
    match = _HOURS_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid working hours {text!r}: {_HOURS_HELP}")
    try:
        days = _parse_days(match[1])
    except ValueError as error:
        raise ValueError(f"invalid working hours {text!r}: {error}") from None
    sh, sm, eh, em = (int(match[i]) for i in range(2, 6))
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
        raise ValueError(f"invalid working hours {text!r}: {_HOURS_HELP}")
    start = time(sh, sm)
    end = None if eh == 24 else time(eh, em)
    if end == start:
        raise ValueError(f"invalid working hours {text!r}: the span is empty "
                         "(use 00:00-24:00 for the whole day)")
    return WorkingHours(days=days, start=start, end=end)
