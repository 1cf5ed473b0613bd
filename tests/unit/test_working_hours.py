"""Working hours of an escalation level: parsing, and when a page may go out (DST, nights
past midnight, weekends), on the workspace's wall clock."""

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.workspace import Problem, WorkspaceError, parse_workspace
from bot.workspace.timing import WorkingHours, parse_working_hours
from tests.support.factories import MANAGER, workspace_data

NEW_YORK = ZoneInfo("America/New_York")
OFFICE = parse_working_hours("mon-fri 09:00-18:00")
NIGHTS = parse_working_hours("sun-thu 22:00-06:00")  # a night shift, past midnight


def ny(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def test_parse_ranges_lists_and_wraps() -> None:
    assert WorkingHours(frozenset(range(5)), time(9), time(18)) == OFFICE
    assert parse_working_hours("Mon,wed , fri 08:00-12:30").days == frozenset({0, 2, 4})
    assert parse_working_hours("fri-mon 10:00-14:00").days == frozenset({4, 5, 6, 0})
    assert parse_working_hours("sat 00:00-24:00") == WorkingHours(frozenset({5}), time(0),
                                                                 None)
    assert NIGHTS.wraps and not OFFICE.wraps
    assert str(OFFICE) == "mon,tue,wed,thu,fri 09:00-18:00"
    assert parse_working_hours(str(NIGHTS)) == NIGHTS


@pytest.mark.parametrize("text", ["", "mon-fri", "9-18", "mon-fri 9am-6pm", "xyz 09:00-10:00",
                                  "mon-fri 25:00-26:00", "mon 09:00-09:00", "mon 09:60-10:00",
                                  "mon-tue-wed 09:00-10:00", "mon 09:00-24:30"])
def test_bad_working_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid working hours"):
        parse_working_hours(text)


def test_office_hours_on_weekdays_and_the_weekend() -> None:
    assert OFFICE.is_open(ny(2026, 11, 23, 9, 0), NEW_YORK)  # Monday, opening minute
    assert not OFFICE.is_open(ny(2026, 11, 23, 18, 0), NEW_YORK)  # closes at 18:00
    assert not OFFICE.is_open(ny(2026, 11, 23, 8, 59), NEW_YORK)
    # Friday evening: the next opening is Monday 09:00, not Saturday.
    assert OFFICE.next_opening(ny(2026, 11, 27, 18, 30), NEW_YORK) == ny(2026, 11, 30, 9, 0)
    assert OFFICE.next_opening(ny(2026, 11, 28, 12, 0), NEW_YORK) == ny(2026, 11, 30, 9, 0)
    # Open: now itself, in UTC.
    moment = ny(2026, 11, 24, 11, 0)
    assert OFFICE.next_opening(moment, NEW_YORK) == moment
    assert OFFICE.next_opening(moment, NEW_YORK).tzinfo == UTC


def test_a_night_shift_runs_past_midnight_into_the_next_day() -> None:
    assert NIGHTS.is_open(ny(2026, 11, 22, 23, 0), NEW_YORK)  # Sunday night
    assert NIGHTS.is_open(ny(2026, 11, 23, 5, 59), NEW_YORK)  # Monday morning, same shift
    assert not NIGHTS.is_open(ny(2026, 11, 23, 6, 0), NEW_YORK)
    # Thursday's shift ends Friday 06:00; Friday night has none (sun-thu).
    assert NIGHTS.is_open(ny(2026, 11, 27, 3, 0), NEW_YORK)
    assert not NIGHTS.is_open(ny(2026, 11, 27, 23, 0), NEW_YORK)
    assert not NIGHTS.is_open(ny(2026, 11, 28, 3, 0), NEW_YORK)  # Saturday 03:00
    assert NIGHTS.next_opening(ny(2026, 11, 27, 7, 0), NEW_YORK) == ny(2026, 11, 29, 22, 0)


def test_opening_hours_keep_their_wall_clock_across_dst() -> None:
    # New York leaves DST on Sunday 2026-11-01: Monday 09:00 is 14:00 UTC, not 13:00.
    opening = OFFICE.next_opening(ny(2026, 10, 30, 19, 0), NEW_YORK)
    assert opening == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    # And enters it on Sunday 2026-03-08: Monday 09:00 is 13:00 UTC.
    opening = OFFICE.next_opening(ny(2026, 3, 6, 19, 0), NEW_YORK)
    assert opening == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_an_opening_in_the_spring_forward_gap_is_the_first_real_instant_after_it() -> None:
    early = parse_working_hours("sun 02:30-05:00")  # 02:30 does not exist on 2026-03-08
    opening = early.next_opening(ny(2026, 3, 8, 0, 0), NEW_YORK)
    assert opening == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert early.is_open(opening, NEW_YORK)
    assert opening.astimezone(NEW_YORK).hour == 3


def test_every_opening_is_open_and_nothing_before_it_is() -> None:
    """From any moment, the next opening is open and every hour before it is closed."""
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    for hours in (OFFICE, NIGHTS, parse_working_hours("sat-sun 10:00-14:00")):
        for step in range(0, 24 * 14, 5):  # every 5 hours over two weeks, DST included
            moment = start + timedelta(hours=step)
            opening = hours.next_opening(moment, NEW_YORK)
            assert opening >= moment and hours.is_open(opening, NEW_YORK)
            probe = moment
            while probe + timedelta(minutes=30) < opening:
                assert not hours.is_open(probe, NEW_YORK)
                probe += timedelta(minutes=30)


def _escalation(**escalation: Any) -> dict[str, Any]:
    data = workspace_data()
    data["escalation"] = escalation
    return data


def _problems(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(WorkspaceError) as raised:
        parse_workspace(data)
    return list(raised.value.problems)


def test_working_hours_and_repeat_are_read() -> None:
    ws = parse_workspace(_escalation(repeat=2, levels=[
        {"notify": ["lead"], "ack_within": "4h"},
        {"notify": [MANAGER], "ack_within": "24h", "working_hours": "mon-fri 09:00-18:00"}]))
    assert ws.escalation.repeat == 2
    assert ws.escalation.levels[0].working_hours is None
    assert ws.escalation.levels[1].working_hours == OFFICE
    assert parse_workspace(workspace_data()).escalation.repeat == 0


@pytest.mark.parametrize(("escalation", "path", "message"), [
    ({"levels": [{"notify": ["lead"], "ack_within": "4h", "working_hours": "9 to 5"}]},
     "escalation.levels[0].working_hours", "invalid working hours '9 to 5'"),
    ({"levels": [{"notify": ["lead"], "ack_within": "4h", "working_hours": 9}]},
     "escalation.levels[0].working_hours", "must be a string like 'mon-fri 09:00-18:00'"),
    ({"repeat": -1}, "escalation.repeat", "must be between 0 and 10"),
    ({"repeat": "twice"}, "escalation.repeat", "must be a whole number"),
    ({"repeat": 1, "levels": [{"notify": ["lead"], "ack_within": "4h"}, {"notify": [MANAGER]}]},
     "escalation.levels[1].ack_within", "with escalation.repeat the last level needs one"),
])
def test_bad_working_hours_or_repeat_name_the_key(escalation: dict[str, Any], path: str,
                                                  message: str) -> None:
    [problem] = _problems(_escalation(**escalation))
    assert problem.path == path and message in problem.message
