"""The workspace config (auditbot.toml): parsed once into frozen, validated objects.

    from bot.workspace import WorkspaceError, load_workspace

    try:
        ws = load_workspace("auditbot.toml")
    except WorkspaceError as err:
        sys.exit(str(err))   # "auditbot.toml: task_types[1].pass_threshold: must be ..."
    ws.task_type("clinical").policy.pass_threshold
    ws.may_grade("U0NURSE01", "clinical")

``parse_workspace(dict)`` does the same from already-parsed data (tests build dicts);
``describe_workspace(ws)`` is what ``auditbot config check`` prints. The reference example
with every key explained is ``examples/auditbot.toml``.

Modules: ``model`` (the sections as frozen pydantic dataclasses), ``fields`` (the value
checks, worded for TOML), ``parse`` (checks across sections), ``problems`` (pydantic's errors
as key paths), ``timing`` (durations, weekly times), ``ids`` (Slack id shapes), ``load``,
``describe``.
"""

from bot.workspace.describe import describe_workspace
from bot.workspace.ids import is_channel_id, is_user_id
from bot.workspace.load import load_workspace
from bot.workspace.model import (
    GRADES,
    LEAD,
    Escalation,
    EscalationLevel,
    FrozenMap,
    LabelScale,
    Policy,
    Schedule,
    TaskType,
    Trainer,
    Workspace,
)
from bot.workspace.parse import parse_workspace
from bot.workspace.problems import Problem, WorkspaceError
from bot.workspace.timing import WeeklyTime, format_duration, parse_duration, parse_weekly_time

__all__ = [
    "GRADES", "LEAD", "Escalation", "EscalationLevel", "FrozenMap", "LabelScale", "Policy",
    "Problem", "Schedule", "TaskType", "Trainer", "WeeklyTime", "Workspace", "WorkspaceError",
    "describe_workspace", "format_duration", "is_channel_id", "is_user_id", "load_workspace",
    "parse_duration", "parse_weekly_time", "parse_workspace",
]
