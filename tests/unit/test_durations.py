"""Durations ("5m") and weekly times ("mon 09:00") as written in auditbot.toml."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.workspace import WeeklyTime, format_duration, parse_duration, parse_weekly_time

UNITS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1),
         "d": timedelta(days=1)}
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("text", "expected"), [
    ("30s", timedelta(seconds=30)),
    ("5m", timedelta(minutes=5)),
    ("4h", timedelta(hours=4)),
    ("2d", timedelta(days=2)),
    (" 24h ", timedelta(hours=24)),
    ("10 m", timedelta(minutes=10)),
])
def test_parse_duration_reads_one_number_and_one_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", [
    "", "5", "m", "0s", "-5m", "+5m", "1.5h", "5M", "5 minutes", "1h30m", "5w", "٣m",
    "99999999999d",
])
def test_parse_duration_rejects_anything_else_with_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"invalid duration {text!r}")):
        parse_duration(text)


def test_parse_duration_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        parse_duration(300)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(seconds=90), "90s"),
    (timedelta(minutes=5), "5m"),
    (timedelta(hours=4), "4h"),
    (timedelta(hours=24), "1d"),
    (timedelta(hours=36), "36h"),
])
def test_format_duration_uses_the_largest_exact_unit(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_any_positive_whole_duration_round_trips(number: int, unit: str) -> None:
    value = parse_duration(f"{number}{unit}")
    assert value == number * UNITS[unit]
    assert parse_duration(format_duration(value)) == value


@given(st.text(max_size=30))
def test_garbage_durations_raise_only_value_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except ValueError:
        return
    assert value > timedelta(0)


@pytest.mark.parametrize(("text", "weekday", "at"), [
    ("mon 09:00", 0, time(9, 0)),
    ("Monday 09:00", 0, time(9, 0)),
    ("TUE 9:05", 1, time(9, 5)),
    ("wednesday 00:00", 2, time(0, 0)),
    ("Thu 23:59", 3, time(23, 59)),
    ("fri 12:30", 4, time(12, 30)),
    ("  SATURDAY   18:00 ", 5, time(18, 0)),
    ("sun 07:45", 6, time(7, 45)),
])
def test_parse_weekly_time(text: str, weekday: int, at: time) -> None:
    assert parse_weekly_time(text) == WeeklyTime(weekday=weekday, at=at)


@pytest.mark.parametrize("text", [
    "", "mon", "09:00", "mo 09:00", "mon 24:00", "mon 09:60", "mon 9am", "mon 09:00:00",
    "monday, 09:00", "tues 09:00", "funday 09:00",
])
def test_parse_weekly_time_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="invalid weekly time"):
        parse_weekly_time(text)


@given(st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                        "sunday"]),
       st.booleans(), st.sampled_from([str.lower, str.upper, str.title, str.swapcase]),
       st.integers(0, 23), st.integers(0, 59))
def test_weekly_time_round_trips_in_any_case(day: str, short: bool,
                                             case: Callable[[str], str], hour: int,
                                             minute: int) -> None:
    name = case(day[:3] if short else day)
    parsed = parse_weekly_time(f"{name} {hour:02d}:{minute:02d}")
    assert parse_weekly_time(str(parsed)) == parsed
    assert str(parsed) == f"{day[:3]} {hour:02d}:{minute:02d}"


@given(st.text(max_size=30))
def test_garbage_weekly_times_raise_only_value_error(text: str) -> None:
    try:
        parsed = parse_weekly_time(text)
    except ValueError:
        return
    assert parse_weekly_time(str(parsed)) == parsed


def test_weekly_time_label_and_cron_fields() -> None:
    monday = parse_weekly_time("mon 09:00")
    assert monday.label == "Monday 09:00"
    assert monday.cron_fields() == {"day_of_week": "mon", "hour": 9, "minute": 0}


def test_latest_occurrence_is_this_weeks_once_it_has_passed() -> None:
    monday_nine = parse_weekly_time("mon 09:00")
    # 2026-11-23 is a Monday; 14:00 UTC is 09:00 in New York (EST).
    at_nine = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert monday_nine.latest_at_or_before(at_nine, NEW_YORK) == datetime(
        2026, 11, 23, 9, 0, tzinfo=NEW_YORK)
    just_before = at_nine - timedelta(seconds=1)
    assert monday_nine.latest_at_or_before(just_before, NEW_YORK) == datetime(
        2026, 11, 16, 9, 0, tzinfo=NEW_YORK)
    assert monday_nine.next_after(just_before, NEW_YORK) == datetime(
        2026, 11, 23, 9, 0, tzinfo=NEW_YORK)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)),
       st.integers(0, 6), st.integers(0, 23), st.integers(0, 59))
def test_occurrences_bracket_now_a_week_apart_across_dst(now: datetime, weekday: int,
                                                         hour: int, minute: int) -> None:
    weekly = WeeklyTime(weekday=weekday, at=time(hour, minute))
    latest = weekly.latest_at_or_before(now, NEW_YORK)
    following = weekly.next_after(now, NEW_YORK)

    assert latest <= now < following
    assert (latest.weekday(), latest.time()) == (weekday, time(hour, minute))
    assert following.date() - latest.date() == timedelta(days=7)
    # A week of wall clock is 168 hours, give or take a DST change.
    # (Subtract in UTC: aware datetimes sharing a tzinfo subtract by wall clock.)
    elapsed = following.astimezone(UTC) - latest.astimezone(UTC)
    assert timedelta(hours=167) <= elapsed <= timedelta(hours=169)
