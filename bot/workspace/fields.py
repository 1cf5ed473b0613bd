"""The value types of auditbot.toml as pydantic annotations, each failing with the message a
person reads after its key path (``must be between 1 and 50 (got 0)``).

    samples_per_trainer: Annotated[int, whole(1, 50)] = 5
    reviewers: Annotated[tuple[UserId, ...], strings(non_empty=True)]

pydantic's own messages speak Python ("Input should be a valid integer"); these speak TOML,
and never coerce (``"0.9"`` is not a number, ``true`` is not 1).
"""

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar, cast

from pydantic import BeforeValidator, ConfigDict, PlainValidator, ValidationError, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.workspace.ids import is_channel_id, is_user_id
from bot.workspace.timing import (
    WeeklyTime,
    WorkingHours,
    parse_duration,
    parse_weekly_time,
    parse_working_hours,
)

T = TypeVar("T")
TABLE = ConfigDict(extra="forbid")  # every table (models are frozen): unknown keys are mistakes
# A table with a field named unlike its key (TaskType.label_level is `label_scale`), so that
# code re-building it (`dataclasses.replace`) may name the field.
ALIASED = ConfigDict(extra="forbid", validate_by_name=True)


def fail(message: str, **ctx: Any) -> PydanticCustomError:
    """The error to raise: ``message`` is shown as is after the key path."""
    return PydanticCustomError("config", "{message}", {"message": message, **ctx})


def describe(value: object) -> str:
    """Name a value in TOML's terms for a type error: ``boolean true``, ``integer 5``."""
    if isinstance(value, bool):  # before int: bool is an int in Python, never in TOML
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"{'integer' if isinstance(value, int) else 'float'} {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, datetime):  # before date: datetime is a date subclass
        return f"date-time {value.isoformat()}"
    if isinstance(value, date | time):
        return f"{type(value).__name__} {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a table"
    return "an array" if isinstance(value, list | tuple) else type(value).__name__


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key(name: str, known: Iterable[str]) -> str:
    known = list(known)
    return f"unknown key {name!r}" + (suggest(name, known) or f" (known keys: {', '.join(known)})")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def whole(low: int | None, high: int | None = None) -> PlainValidator:
    """A whole number in ``[low, high]`` (``low`` ``None``: any; the table checks it)."""
    def check(value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise fail(f"must be a whole number (got {describe(value)})")
        if low is not None and (value < low or (high is not None and value > high)):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise fail(f"must be {bounds} (got {value})")
        return value
    return PlainValidator(check)


def number(low: float, high: float, *, low_open: bool = False, high_open: bool = False,
           kind: str = "a number") -> PlainValidator:
    """A number in ``[low, high]`` (``*_open`` excludes that end); integers are fine."""
    lower = f"greater than {low:g}" if low_open else f"at least {low:g}"
    upper = f"less than {high:g}" if high_open else f"at most {high:g}"
    bounds = f"{lower} and {upper}" if low_open or high_open else f"between {low:g} and {high:g}"

    def check(value: object) -> float:
        if not _is_number(value):
            raise fail(f"must be {kind} (got {describe(value)})")
        assert isinstance(value, int | float)
        # (isnan only on floats: math.isnan overflows on a huge TOML integer.)
        if ((isinstance(value, float) and math.isnan(value))
                or (value <= low if low_open else value < low)
                or (value >= high if high_open else value > high)):
            raise fail(f"must be {bounds} (got {value})")
        return float(value)
    return PlainValidator(check)


fraction = number(0, 1, kind="a number between 0 and 1")


def optional(validator: PlainValidator) -> PlainValidator:
    """``validator``, letting ``None`` through: TOML has no null, so only code passes it
    (``dataclasses.replace`` re-validates every field)."""
    check = cast(Callable[[object], object], validator.func)
    return PlainValidator(lambda value: None if value is None else check(value))


def failures(found: Iterable[tuple[tuple[str | int, ...], str]]) -> ValidationError | None:
    """Several problems at once, each at its location below the table checking them."""
    errors = [InitErrorDetails(type=fail(message), loc=loc, input=None) for loc, message in found]
    return ValidationError.from_exception_data("config", errors) if errors else None


def text(value: object) -> str:
    if not isinstance(value, str):
        raise fail(f"must be a string (got {describe(value)})")
    if not value.strip():
        raise fail("must not be blank")
    return value


def _checked(problem: Callable[[str], str | None]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if reason := problem(text(value)):
            raise fail(reason)
        return text(value)
    return check


def user_id_problem(value: str) -> str | None:
    """Why ``value`` is not a user id, or ``None`` when it is one."""
    if is_user_id(value):
        return None
    if is_channel_id(value):
        return f"must be a user id (U… or W…), not a channel id (got {value!r})"
    return f"must be a Slack user id like 'U0123ABCD' (got {value!r})"


def channel_id_problem(value: str) -> str | None:
    """Why ``value`` is not a channel id, or ``None`` when it is one."""
    if is_channel_id(value):
        return None
    if is_user_id(value):
        return f"must be a channel id (C… or G…), not a user id (got {value!r})"
    return f"must be a Slack channel id like 'C0123ABCD' (got {value!r})"


def checked(problem: Callable[[str], str | None]) -> PlainValidator:
    """A non-blank string that ``problem`` finds nothing wrong with."""
    return PlainValidator(_checked(problem))


Text = Annotated[str, PlainValidator(text)]
UserId = Annotated[str, checked(user_id_problem)]
ChannelId = Annotated[str, checked(channel_id_problem)]


def strings(*, non_empty: bool = False, fold: Callable[[str], str] = str) -> WrapValidator:
    """An array of strings (checked by the item's annotation); each duplicate (after
    ``fold``) is reported at its index, naming the first."""
    def check(value: object, handler: Callable[[object], tuple[str, ...]]) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise fail(f"must be an array of strings (got {describe(value)})")
        # (Only an array from the file: code re-building a model passes a tuple, where
        # empty means "none", as the default does.)
        if non_empty and value == []:
            raise fail("must not be empty")
        result = handler(value)
        first: dict[str, int] = {}
        duplicates: list[InitErrorDetails] = []
        for i, item in enumerate(result):
            if fold(item) in first:
                duplicates.append(InitErrorDetails(type=fail(f"duplicate {value[i]!r}",
                                                              first=first[fold(item)]),
                                                   loc=(i,), input=item))
            first.setdefault(fold(item), i)
        if duplicates:
            raise ValidationError.from_exception_data("config", duplicates)
        return result
    return WrapValidator(check)


def tables(*, non_empty: str = "") -> BeforeValidator:
    """An array of tables (``[[key]]``); ``non_empty``: the message when there are none."""
    def check(value: object) -> object:
        if not isinstance(value, list | tuple):
            raise PydanticCustomError("tables", "must be an array of tables", {"got": value})
        if non_empty and not value:
            raise fail(non_empty)
        return value
    return BeforeValidator(check)


def parsed(parse: Callable[[str], T], example: str, kind: type) -> PlainValidator:
    """A string read by ``parse`` (whose ``ValueError`` is the message); an already parsed
    value passes, so ``dataclasses.replace`` works on the models."""
    def check(value: object) -> Any:
        if isinstance(value, kind):
            return value
        if not isinstance(value, str):
            raise fail(f"must be a string like {example!r} (got {describe(value)})")
        try:
            return parse(value)
        except ValueError as error:
            raise fail(str(error)) from None
    return PlainValidator(check)


duration = parsed(parse_duration, "5m", timedelta)
hours = parsed(parse_working_hours, "mon-fri 09:00-18:00", WorkingHours)
Duration = Annotated[timedelta, duration]
Weekly = Annotated[WeeklyTime, parsed(parse_weekly_time, "mon 09:00", WeeklyTime)]


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise fail(f"must be true or false (got {describe(value)})")
    return value


def _date(value: object, example: str) -> date:
    """A TOML date (``2026-12-24``) or the same as a string; a date-time is not a date."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise fail(f"is not a real date (got {value!r})") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise fail(f"must be a date like {example} (got {describe(value)})")


def start_date(value: object) -> date:
    return _date(value, "2026-09-01")


def day(value: object) -> date:
    return _date(value, "2026-12-24")


Boolean = Annotated[bool, PlainValidator(_boolean)]


def one_of(*choices: str, near: bool = False) -> PlainValidator:
    """One of ``choices``; ``near``: a string first, and a near miss gets a suggestion."""
    def check(value: object) -> str:
        if value in choices:
            return str(value)
        if not near:
            raise fail(f"must be one of {', '.join(choices)} (got {describe(value)})")
        word = text(value)
        raise fail(f"must be one of {', '.join(choices)} (got {word!r}){suggest(word, choices)}")
    return PlainValidator(check)
