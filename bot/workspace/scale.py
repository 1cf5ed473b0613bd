"""``[[grade_scale]]``: a workspace's own grade scale (2 to 5 levels), best first.

    [[grade_scale]]
    key = "pass"                 # stored, and sent in button ids: a-z, 0-9, _
    label = "Pass"               # the button's text
    marker = "✅"                # shown before the label where a grade is shown (or `badge`)
    style = "primary"            # the button's style: "primary", "danger" or "default"
    weight = 1.0                 # the grade's default score contribution, in [0, 1]
    needs_explanation = false    # default: true for every level but the first
    severe = false               # counts as a major error (escalation, precedents)

    scale = parse_grade_scale(data.get("grade_scale"))   # WorkspaceError if wrong

Absent (``None``), the default scale of ``bot.common.grades`` applies. Problems are collected in
one pass and raised together, each naming its key path (``grade_scale[2].weight: ...``),
as ``bot.workspace.problems`` does for the rest of the config. This module reads nothing
else of ``bot.workspace`` so it can be hooked into any loader.
"""

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.common.grades import DEFAULT_SCALE, MAX_LEVELS, MIN_LEVELS, Level, Scale
from bot.workspace.problems import Problem, WorkspaceError

LEVEL_KEYS = ("key", "label", "marker", "badge", "style", "weight", "needs_explanation",
              "severe", "colour")
# A key is stored in grade columns, written to CSV and carried in Slack action ids
# ("grade_<key>"), so it is kept to characters that are safe in all three.
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,15}")  # grade columns hold 16 characters
STYLES = {"primary": "primary", "danger": "danger", "default": None}
MAX_LABEL = 30  # a button's text is cut by Slack past 75 characters; a badge adds a marker
# Chart colours when a level names none, from best (green) to worst (dark red), by rank.
PALETTE = {2: ("#2e7d32", "#c62828"),
           3: ("#2e7d32", "#f9a825", "#c62828"),
           4: ("#2e7d32", "#f9a825", "#c62828", "#6a1b9a"),
           5: ("#2e7d32", "#9e9d24", "#f9a825", "#c62828", "#6a1b9a")}
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def parse_grade_scale(raw: object, path: str = "grade_scale") -> Scale:
    """The scale ``raw`` (an array of tables, as ``tomllib`` reads ``[[grade_scale]]``)
    defines; the default scale when ``raw`` is ``None``. Raises ``WorkspaceError`` listing
    every problem found."""
    if raw is None:
        return DEFAULT_SCALE
    problems: list[Problem] = []
    if not isinstance(raw, list | tuple):
        raise WorkspaceError([Problem(path, "must be an array of tables like "
                                      f"[[{path}]] (got {_describe(raw)})")])
    if not MIN_LEVELS <= len(raw) <= MAX_LEVELS:
        problems.append(Problem(path, f"must have {MIN_LEVELS} to {MAX_LEVELS} levels, best "
                                f"first (got {len(raw)})"))
    levels: list[Level] = []
    seen: dict[str, int] = {}
    for rank, item in enumerate(raw):
        level = _level(item, f"{path}[{rank}]", rank=rank, count=len(raw), problems=problems)
        if level is None:
            continue
        if level.key in seen:
            problems.append(Problem(f"{path}[{rank}].key", f"duplicate {level.key!r} "
                                    f"(already at {path}[{seen[level.key]}])"))
            continue
        seen[level.key] = rank
        if levels and level.weight > levels[-1].weight:
            problems.append(Problem(
                f"{path}[{rank}].weight",
                f"must not be more than the better level's ({levels[-1].key} = "
                f"{levels[-1].weight:g}): a worse grade never scores higher (got "
                f"{level.weight:g})"))
        levels.append(level)
    if problems:
        raise WorkspaceError(problems)
    return Scale(tuple(levels))


def _level(item: object, path: str, *, rank: int, count: int,
           problems: list[Problem]) -> Level | None:
    """One level, or ``None`` when it cannot be built (its problems added)."""
    if not isinstance(item, Mapping):
        problems.append(Problem(path, f"must be a table (got {_describe(item)})"))
        return None
    before = len(problems)
    for name in item:
        if name not in LEVEL_KEYS:
            close = difflib.get_close_matches(str(name), LEVEL_KEYS, n=1)
            hint = (f" (did you mean {close[0]!r}?)" if close
                    else f" (known keys: {', '.join(LEVEL_KEYS)})")
            problems.append(Problem(f"{path}.{name}", f"unknown key {str(name)!r}{hint}"))

    def report(key: str, message: str) -> None:
        problems.append(Problem(f"{path}.{key}", message))

    key = _string(item, "key", report, required=True)
    if key is not None and not KEY_RE.fullmatch(key):
        report("key", "must start with a lowercase letter and hold only a-z, 0-9 and _ "
               f"(at most 16 characters; got {key!r})")
    label = _string(item, "label", report, required=True)
    if label is not None and len(label) > MAX_LABEL:
        report("label", f"must be at most {MAX_LABEL} characters (got {len(label)})")
    marker = _string(item, "marker", report)
    badge = _string(item, "badge", report)
    if marker is not None and badge is not None:
        report("badge", "give either `marker` (shown before the label) or `badge` "
               "(the whole text shown), not both")
    style = _string(item, "style", report)
    if style is not None and style not in STYLES:
        report("style", f"must be one of {', '.join(repr(s) for s in STYLES)} (got {style!r})")
    weight = _weight(item, report)
    needs_explanation = _boolean(item, "needs_explanation", report, default=rank > 0)
    severe = _boolean(item, "severe", report, default=False)
    if severe and rank == 0:
        report("severe", "the best level (the first) cannot be severe")
    if needs_explanation and rank == 0:
        report("needs_explanation", "the best level (the first) records on the click, "
               "without one")
    colour = _string(item, "colour", report)
    if colour is not None and not COLOUR_RE.fullmatch(colour):
        report("colour", f"must be a colour like '#c62828' (got {colour!r})")
    if len(problems) > before or key is None or label is None or weight is None:
        return None
    shown = badge if badge is not None else f"{marker} {label}" if marker else label
    palette = PALETTE.get(count, PALETTE[MAX_LEVELS])
    return Level(key, label, shown, STYLES[style or "default"], weight,
                 colour or palette[min(rank, len(palette) - 1)],
                 needs_explanation=needs_explanation, severe=severe)


def _string(item: Mapping[str, Any], key: str, report: Any, *,
            required: bool = False) -> str | None:
    if key not in item:
        if required:
            report(key, "missing required key")
        return None
    value = item[key]
    if not isinstance(value, str):
        report(key, f"must be a string (got {_describe(value)})")
        return None
    if not value.strip():
        report(key, "must not be blank")
        return None
    return value


def _weight(item: Mapping[str, Any], report: Any) -> float | None:
    if "weight" not in item:
        report("weight", "missing required key")
        return None
    value = item["weight"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        report("weight", f"must be a number between 0 and 1 (got {_describe(value)})")
        return None
    # (isnan only on floats: math.isnan overflows on a huge TOML integer.)
    if (isinstance(value, float) and math.isnan(value)) or not 0 <= value <= 1:
        report("weight", f"must be between 0 and 1 (got {value})")
        return None
    return float(value)


def _boolean(item: Mapping[str, Any], key: str, report: Any, *, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        report(key, f"must be true or false (got {_describe(value)})")
        return default
    return value


def _describe(value: object) -> str:
    """A value in TOML's terms for a type error (``integer 5``, ``a table``)."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"{'integer' if isinstance(value, int) else 'float'} {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, Sequence):
        return "an array"
    return type(value).__name__
