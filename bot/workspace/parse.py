"""``parse_workspace``: parsed TOML (a dict) in, a validated ``Workspace`` out.

    import tomllib
    with open("auditbot.toml", "rb") as f:
        ws = parse_workspace(tomllib.load(f), source="auditbot.toml")

Raises ``WorkspaceError`` listing every problem found; tests may pass plain dicts.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.grades import DEFAULT_SCALE, Scale
from bot.workspace.escalation import ESCALATION_KEYS, read_escalation
from bot.workspace.model import POLICY_KEYS, FrozenMap, Policy, Schedule, Workspace
from bot.workspace.people import ONBOARDING_KEYS, read_away, read_onboarding
from bot.workspace.policy import read_policy
from bot.workspace.problems import Problem, WorkspaceError
from bot.workspace.reader import Problems, Table, suggest, user_id_problem
from bot.workspace.scale import parse_grade_scale
from bot.workspace.teams import read_task_types, read_trainers
from bot.workspace.timing import parse_duration, parse_weekly_time

TOP_KEYS = ("workspace", "schedule", "policy", "task_types", "trainers", "escalation",
            "onboarding", "away", "grade_scale")
WORKSPACE_KEYS = ("timezone", "managers")
SCHEDULE_KEYS = ("weekly_audit", "escalation_check", "reviewer_reminder", "weekly_digest")


def parse_workspace(data: Mapping[str, Any], *, source: str = "auditbot.toml") -> Workspace:
    """Validate ``data`` (as ``tomllib`` returns it) and build the ``Workspace``.

    ``source`` prefixes each line of the error message (normally the file name).
    """
    if not isinstance(data, Mapping):
        raise WorkspaceError([Problem("", "the config must be a table of sections")],
                             source=source)
    problems = Problems()
    root = Table(data, "", problems, known=TOP_KEYS)
    section = root.table("workspace", known=WORKSPACE_KEYS)
    timezone, tz = _timezone(section)
    managers = section.strings("managers", check=user_id_problem)
    schedule = _schedule(root.table("schedule", known=SCHEDULE_KEYS))
    scale = _grade_scale(data, problems)
    policy = read_policy(root.table("policy", known=POLICY_KEYS),
                         Policy(grade_weights=FrozenMap(scale.default_weights), scale=scale))
    task_types = read_task_types(root, policy)
    # A task type whose key could not be read has key "": then trainers' references are
    # not checked, rather than each reported as unknown because of that one mistake.
    keys = [t.key for t in task_types]
    trainers = read_trainers(root, task_type_keys=keys if keys and all(keys) else None)
    escalation = read_escalation(root.table("escalation", known=ESCALATION_KEYS),
                                 managers=managers)
    onboarding = read_onboarding(root.table("onboarding", known=ONBOARDING_KEYS),
                                 task_types=task_types)
    people = {*managers, *(r for t in task_types for r in t.reviewers),
              *(t.user for t in trainers), *(t.lead for t in trainers if t.lead)}
    away = read_away(root, known_people=people if all(t.user for t in trainers) else None)
    if problems:
        raise WorkspaceError(problems.items, source=source)
    return Workspace(timezone=timezone, tz=tz, managers=managers, schedule=schedule,
                     policy=policy, task_types=task_types, trainers=trainers,
                     escalation=escalation, onboarding=onboarding, away=away, scale=scale)


def _grade_scale(data: Mapping[str, Any], problems: Problems) -> Scale:
    """The workspace's ``[[grade_scale]]`` (bot.workspace.scale), else the default."""
    try:
        return parse_grade_scale(data.get("grade_scale"))
    except WorkspaceError as err:
        problems.items.extend(err.problems)
        return DEFAULT_SCALE


def _timezone(section: Table) -> tuple[str, ZoneInfo]:
    name = section.string("timezone", required=True)
    if name is None:
        return "UTC", ZoneInfo("UTC")
    if name == "localtime":  # a real file on many systems, but differs between machines
        section.report("timezone", "must name a zone like 'America/New_York', not the "
                       "machine's 'localtime'")
        return "UTC", ZoneInfo("UTC")
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # available_timezones() scans the tz database: only worth it to suggest a fix.
        hint = suggest(name, available_timezones()) or " (use an IANA name like 'Europe/Paris')"
        section.report("timezone", f"unknown timezone {name!r}{hint}")
        return "UTC", ZoneInfo("UTC")


def _schedule(section: Table) -> Schedule:
    default = Schedule()
    weekly_audit = section.parsed("weekly_audit", parse_weekly_time,
                                  default=default.weekly_audit, example="mon 09:00")
    return Schedule(
        weekly_audit=weekly_audit,
        escalation_check=section.parsed("escalation_check", parse_duration,
                                        default=default.escalation_check, example="5m"),
        # Nudges follow the audit unless set: reminders two days later, the digest an hour.
        reviewer_reminder=section.parsed(
            "reviewer_reminder", parse_weekly_time, example="wed 09:00",
            default=weekly_audit.shifted(timedelta(days=2))),
        weekly_digest=section.parsed(
            "weekly_digest", parse_weekly_time, example="mon 10:00",
            default=weekly_audit.shifted(timedelta(hours=1))),
    )
