"""Config errors that name the key path, all of them at once.

    try:
        ws = load_workspace("auditbot.toml")
    except WorkspaceError as err:
        print(err)            # one "file: key.path: message" line per problem
        err.problems          # [Problem(path="task_types[1].pass_threshold", message=...)]

``problems_of`` turns pydantic's errors into ``Problem``s: its locations become TOML key
paths, its generic errors (missing, unknown key, not a table) TOML-worded messages.
"""

import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.workspace.fields import describe, unknown_key

Loc = tuple[str | int, ...]
# What to add to "missing required key" where a bare one would not help.
MISSING_HINTS = {"task_types": ": declare at least one [[task_types]] table"}
NOT_A_TABLE = {"dataclass_type", "dataclass_exact_type", "model_type", "dict_type"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config. ``path`` is empty for file-level problems."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class WorkspaceError(Exception):
    """The config cannot be used; ``problems`` lists every problem found in one pass."""

    def __init__(self, problems: list[Problem], *, source: str = "auditbot.toml") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


def problems_of(error: ValidationError | None, data: Mapping[str, Any], root: type,
                more: Iterable[tuple[Loc, str]] = ()) -> list[Problem]:
    """Every error of ``error`` (validating ``data`` as ``root``) and the ``more`` found
    otherwise, sections in ``root``'s order and, within a table, in the order the file
    writes the keys."""
    found = [(loc, message) for loc, message in more]
    for detail in error.errors() if error else ():
        ctx = detail.get("ctx") or {}
        loc = toml_loc(detail["loc"]) + tuple(ctx.get("at", ()))
        found.append((loc, _message(detail, loc, root)))
    found.sort(key=lambda item: _order(item[0], data, root))
    return [Problem(join(loc), message) for loc, message in found]


def join(loc: Loc) -> str:
    """``("task_types", 0, "reviewers")`` → ``task_types[0].reviewers``."""
    path = ""
    for step in loc:
        path = f"{path}[{step}]" if isinstance(step, int) else f"{path}.{step}" if path else step
    return path


def toml_loc(loc: Loc) -> Loc:
    """A task type's policy keys sit in its table, not in a ``policy`` table of their own."""
    if len(loc) > 2 and loc[0] == "task_types" and loc[2] == "policy":
        return loc[:2] + loc[3:]
    return tuple(loc)


def _message(detail: ErrorDetails, loc: Loc, root: type) -> str:
    kind, ctx, value = detail["type"], detail.get("ctx") or {}, detail["input"]
    if kind == "config":
        first = ctx.get("first")
        key = next((s for s in reversed(loc) if isinstance(s, str)), "")
        return ctx["message"] + ("" if first is None else f" (already at {key}[{first}])")
    if kind == "missing":
        return "missing required key" + MISSING_HINTS.get(join(loc), "")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return unknown_key(str(loc[-1]), known_keys(root, detail["loc"][:-1]))
    if kind == "tables":
        return f"must be an array of tables like [[{join(loc)}]] (got {describe(ctx['got'])})"
    if kind in NOT_A_TABLE:
        return f"must be a table (got {describe(value)})"
    return detail["msg"]  # not expected: every field checks its own values


def known_keys(root: type, loc: Sequence[str | int]) -> tuple[str, ...]:
    """The keys the table at ``loc`` (pydantic's location) may hold."""
    table = root
    for step in (s for s in loc if isinstance(s, str)):
        fields = getattr(table, "__pydantic_fields__", {})
        field = next((f for n, f in fields.items() if (f.alias or n) == step), None)
        if field is None:
            return ()
        table = _table_type(field.annotation)
    return getattr(table, "TOML_KEYS", None) or tuple(
        f.alias or n for n, f in getattr(table, "__pydantic_fields__", {}).items())


def _table_type(tp: Any) -> Any:
    """The table type inside ``X | None``, ``tuple[X, ...]`` and ``Annotated[X, ...]``."""
    while get_origin(tp) in (Annotated, tuple, Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None) and a is not Ellipsis)
    return tp


def _order(loc: Loc, data: Mapping[str, Any], root: type) -> tuple[int, ...]:
    sections = list(getattr(root, "__pydantic_fields__", {}))
    order = [sections.index(loc[0]) if loc and loc[0] in sections else len(sections)]
    node: Any = data
    for step in loc:
        if isinstance(node, Mapping) and step in node:
            order.append(list(node).index(step))
            node = node[step]
        elif isinstance(node, list | tuple) and isinstance(step, int) and step < len(node):
            order.append(step)
            node = node[step]
        else:  # absent (a missing key): after what is there
            order.append(len(node) if isinstance(node, Mapping | list | tuple) else 0)
            node = None
    return tuple(order)
