"""``parse_workspace``: parsed TOML (a dict) in, a validated ``Workspace`` out.

    import tomllib
    with open("auditbot.toml", "rb") as f:
        ws = parse_workspace(tomllib.load(f), source="auditbot.toml")

Raises ``WorkspaceError`` listing every problem found; tests may pass plain dicts. Each
section is checked by its model; what one section says about another (references,
duplicates across tables, inherited policy, the default escalation path) is checked here,
on the data as written, so it is reported even when another key of the section is wrong.
"""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.common.grades import DEFAULT_SCALE
from bot.workspace.fields import suggest, user_id_problem
from bot.workspace.model import DIMENSIONS, POLICY_KEYS, THRESHOLD, Workspace, default_escalation
from bot.workspace.policy import FrozenMap
from bot.workspace.problems import Loc, Problem, WorkspaceError, problems_of
from bot.workspace.scale import parse_grade_scale

_WORKSPACE = TypeAdapter(Workspace)


def parse_workspace(data: Mapping[str, Any], *, source: str = "auditbot.toml") -> Workspace:
    """Validate ``data`` (as ``tomllib`` returns it) and build the ``Workspace``.

    ``source`` prefixes each line of the error message (normally the file name).
    """
    if not isinstance(data, Mapping):
        raise WorkspaceError([Problem("", "the config must be a table of sections")],
                             source=source)
    found = list(_across_sections(data))
    # The scale first: [policy]'s grade_weights are checked against it (the context's
    # grade_scale), and every policy carries it.
    try:
        scale = parse_grade_scale(data.get("grade_scale"))
        scale_problems: list[Problem] = []
    except WorkspaceError as error:
        scale, scale_problems = DEFAULT_SCALE, error.problems
    data = {**data, "grade_scale": scale}
    try:
        ws = _WORKSPACE.validate_python(data, context={"grade_scale": scale})
    except ValidationError as error:
        raise WorkspaceError(scale_problems + problems_of(error, data, Workspace, found),
                             source=source) from None
    if found or scale_problems:
        raise WorkspaceError(scale_problems + problems_of(None, data, Workspace, found),
                             source=source)
    raw_policy = data.get("policy") or {}
    policy = replace(ws.policy, scale=scale, grade_weights=(
        ws.policy.grade_weights if "grade_weights" in raw_policy
        else FrozenMap(scale.default_weights)))
    raw_types = data["task_types"]
    return replace(
        ws,
        policy=policy,
        task_types=tuple(replace(t, policy=replace(policy, **{
            k: getattr(t.policy, k) for k in raw if k in POLICY_KEYS}))
            for t, raw in zip(ws.task_types, raw_types, strict=True)),
        escalation=ws.escalation if ws.escalation.levels
        else replace(ws.escalation, levels=default_escalation(ws.managers).levels))


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key)
    return [t for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


def _across_sections(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Problems between tables and sections, as (key path, message)."""
    task_types, trainers = _tables(data, "task_types"), _tables(data, "trainers")
    first_key: dict[str, int] = {}
    for i, table in enumerate(task_types):
        if isinstance(key := table.get("key"), str):
            if key in first_key:
                yield ("task_types", i, "key"), (f"duplicate task type key {key!r} (already "
                                                 f"used by task_types[{first_key[key]}])")
            first_key.setdefault(key, i)
    # A task type whose key cannot be read: trainers' references are not checked, rather
    # than each reported as unknown because of that one mistake.
    known = [k for t in task_types if isinstance(k := t.get("key"), str) and k.strip()]
    check_refs = bool(known) and len(known) == len(data.get("task_types") or ())
    first_user: dict[str, int] = {}
    for i, table in enumerate(trainers):
        user = table.get("user")
        if isinstance(user, str) and not user_id_problem(user):
            if user in first_user:
                yield ("trainers", i, "user"), (f"duplicate trainer {user!r} (already at "
                                                f"trainers[{first_user[user]}])")
            first_user.setdefault(user, i)
        refs = table.get("task_types")
        for j, ref in enumerate(refs if check_refs and isinstance(refs, list) else []):
            if isinstance(ref, str) and ref.strip() and ref not in known:
                listed = f" (known: {', '.join(known)})"
                yield (("trainers", i, "task_types", j),
                       f"unknown task type {ref!r}{suggest(ref, known) or listed}")
    yield from _thresholds_to_reach(data, task_types)
    yield from _away_people_named(data, task_types, trainers)


def _thresholds_to_reach(data: Mapping[str, Any],
                         task_types: list[Mapping[str, Any]]) -> Iterator[tuple[Loc, str]]:
    """A marker's "threshold" for consistency or clarity needs that threshold set for every
    task type ([policy] or its own)."""
    onboarding, policy = data.get("onboarding"), data.get("policy")
    base = policy if isinstance(policy, Mapping) else {}
    markers = _tables(onboarding, "markers") if isinstance(onboarding, Mapping) else []
    for i, marker in enumerate(markers):
        dimension = marker.get("dimension", "precision")
        if marker.get("min_score") != THRESHOLD or dimension not in DIMENSIONS[1:]:
            continue
        key = f"{dimension}_threshold"
        missing = [t.get("key") for t in task_types if t.get(key, base.get(key)) is None]
        if missing:
            yield (("onboarding", "markers", i, "min_score"),
                   f"\"{THRESHOLD}\" for {dimension} needs [policy] {key} (not set for task "
                   f"type {', '.join(repr(k) for k in missing)}); set it or give a number")


def _away_people_named(data: Mapping[str, Any], task_types: list[Mapping[str, Any]],
                       trainers: list[Mapping[str, Any]]) -> Iterator[tuple[Loc, str]]:
    """Someone away who the config names nowhere would change nothing: a typo."""
    if not all(isinstance(t.get("user"), str) for t in trainers):
        return
    head = data.get("workspace")
    managers = head.get("managers") if isinstance(head, Mapping) else None
    named = [*(managers if isinstance(managers, list) else ()),
             *(r for t in task_types if isinstance(t.get("reviewers"), list)
               for r in t["reviewers"]),
             *(t.get("user") for t in trainers), *(t.get("lead") for t in trainers)]
    people = {p for p in named if isinstance(p, str)}
    for i, table in enumerate(_tables(data, "away")):
        user = table.get("user")
        if isinstance(user, str) and not user_id_problem(user) and user not in people:
            yield (("away", i, "user"),
                   f"{user!r} is not a manager, reviewer, lead or trainer in this config")
