"""Typed, path-aware reads from parsed TOML that collect problems instead of raising.

    problems = Problems()
    policy = Table(data.get("policy", {}), "policy", problems, known=POLICY_KEYS)
    n = policy.integer("samples_per_trainer", default=5, low=1, high=50)
    if problems:
        raise WorkspaceError(problems.items)

Every read returns a usable value (the default, or a placeholder) even when it reports a
problem, so one pass over the file finds every mistake instead of stopping at the first.
"""

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar

from bot.workspace.ids import is_channel_id, is_user_id
from bot.workspace.problems import Problem

T = TypeVar("T")
MISSING: Any = object()


class Problems:
    """An ordered collection of ``Problem``s, truthy when any were found."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def join(path: str, key: str | int) -> str:
    """``join("task_types[0]", "reviewers")`` → ``task_types[0].reviewers``; ints index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def describe(value: object) -> str:
    """Name a value in TOML's terms for a type error: ``boolean true``, ``integer 5``."""
    if isinstance(value, bool):  # before int: bool is an int in Python, never in TOML
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, datetime):  # before date: datetime is a date subclass
        return f"date-time {value.isoformat()}"
    if isinstance(value, date | time):
        return f"{type(value).__name__} {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Table:
    """One TOML table at ``path``; unknown keys are reported when it is opened."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: Problems, *,
                 known: Sequence[str]) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        for key in data:
            if key not in known:
                name = str(key)  # TOML keys are strings; a dict built in code may differ
                hint = suggest(name, known) or f" (known keys: {', '.join(known)})"
                problems.add(join(path, name), f"unknown key {name!r}{hint}")

    def path_of(self, key: str) -> str:
        return join(self.path, key)

    def report(self, key: str, message: str) -> None:
        self.problems.add(self.path_of(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, *, required: bool = False, hint: str = "") -> Any:
        """The value as parsed, or ``MISSING`` (reported when ``required``)."""
        if key not in self.data:
            if required:
                self.report(key, f"missing required key{hint}")
            return MISSING
        return self.data[key]

    def string(self, key: str, *, required: bool = False) -> str | None:
        """A non-blank string, or ``None`` when absent or wrong (reported)."""
        value = self.raw(key, required=required)
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.report(key, f"must be a string (got {describe(value)})")
            return None
        if not value.strip():
            self.report(key, "must not be blank")
            return None
        return value

    def integer(self, key: str, *, default: int, low: int, high: int | None = None) -> int:
        """A whole number in ``[low, high]``; the default when absent or wrong."""
        value = self.raw(key)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(key, f"must be a whole number (got {describe(value)})")
            return default
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            self.report(key, f"must be {bounds} (got {value})")
            return default
        return value

    def fraction(self, key: str, *, default: float, required: bool = False) -> float:
        """A number in ``[0, 1]`` (an integer 0 or 1 is fine); the default when wrong."""
        value = self.raw(key, required=required)
        if value is MISSING:
            return default
        if not is_number(value):
            self.report(key, f"must be a number between 0 and 1 (got {describe(value)})")
            return default
        # (isnan only on floats: math.isnan overflows on a huge TOML integer.)
        if (isinstance(value, float) and math.isnan(value)) or not 0 <= value <= 1:
            self.report(key, f"must be between 0 and 1 (got {value})")
            return default
        return float(value)

    def number(self, key: str, *, default: float, low: float, high: float,
               low_open: bool = False, high_open: bool = False) -> float:
        """A number in ``[low, high]`` (``low_open``/``high_open`` exclude that end; an
        integer is fine); the default when absent or wrong."""
        value = self.raw(key)
        if value is MISSING:
            return default
        if not is_number(value):
            self.report(key, f"must be a number (got {describe(value)})")
            return default
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        # (isnan only on floats: math.isnan overflows on a huge TOML integer.)
        if (isinstance(value, float) and math.isnan(value)) or too_low or too_high:
            lower = f"greater than {low:g}" if low_open else f"at least {low:g}"
            upper = f"less than {high:g}" if high_open else f"at most {high:g}"
            bounds = (f"between {low:g} and {high:g}" if not (low_open or high_open)
                      else f"{lower} and {upper}")
            self.report(key, f"must be {bounds} (got {value})")
            return default
        return float(value)

    def parsed(self, key: str, parse: Callable[[str], T], *, default: T, example: str) -> T:
        """A string read with ``parse`` (which raises ``ValueError``); default when absent."""
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self.report(key, f"must be a string like {example!r} (got {describe(value)})")
            return default
        try:
            return parse(value)
        except ValueError as err:
            self.report(key, str(err))
            return default

    def strings(self, key: str, *, required: bool = False, non_empty: bool = False,
                check: Callable[[str], str | None] | None = None,
                fold: Callable[[str], str] = str) -> tuple[str, ...]:
        """An array of strings; each bad or duplicate item is reported at ``key[i]``.

        ``check`` returns why an item is wrong (or ``None``); ``fold`` normalises items
        before the duplicate check (``str.casefold`` for labels people read).
        """
        value = self.raw(key, required=required)
        if value is MISSING:
            return ()
        if not isinstance(value, list | tuple):
            self.report(key, f"must be an array of strings (got {describe(value)})")
            return ()
        if non_empty and not value:
            self.report(key, "must not be empty")
        items: list[str] = []
        first_seen: dict[str, int] = {}
        for i, item in enumerate(value):
            item_path = join(self.path_of(key), i)
            if not isinstance(item, str):
                self.problems.add(item_path, f"must be a string (got {describe(item)})")
                continue
            reason = check(item) if check else None
            if reason:
                self.problems.add(item_path, reason)
                continue
            if fold(item) in first_seen:
                self.problems.add(item_path, f"duplicate {item!r} (already at "
                                  f"{join(key, first_seen[fold(item)])})")
                continue
            first_seen[fold(item)] = i
            items.append(item)
        return tuple(items)

    def table(self, key: str, *, known: Sequence[str], required: bool = False) -> "Table":
        """A nested table; an empty one when absent or wrong, so defaults still apply."""
        value = self.raw(key, required=required)
        if value is not MISSING and not isinstance(value, Mapping):
            self.report(key, f"must be a table (got {describe(value)})")
            value = MISSING
        return Table({} if value is MISSING else value, self.path_of(key), self.problems,
                     known=known)

    def tables(self, key: str, *, known: Sequence[str], required: bool = False,
               hint: str = "") -> list["Table"] | None:
        """An array of tables (``[[key]]``); ``None`` when absent or not an array."""
        value = self.raw(key, required=required, hint=hint)
        if value is MISSING:
            return None
        if not isinstance(value, list | tuple):
            self.report(key, f"must be an array of tables like [[{self.path_of(key)}]] "
                        f"(got {describe(value)})")
            return None
        tables = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                self.problems.add(join(self.path_of(key), i),
                                  f"must be a table (got {describe(item)})")
                continue
            tables.append(Table(item, join(self.path_of(key), i), self.problems, known=known))
        return tables
