"""Reading ``[[task_types]]`` and ``[[trainers]]``, including references between them.

    task_types = read_task_types(root, base_policy)
    trainers = read_trainers(root, task_type_keys=[t.key for t in task_types])
"""

import re
from datetime import date, datetime

from bot.workspace.model import LABEL_LEVELS, POLICY_KEYS, LabelScale, Policy, TaskType, Trainer
from bot.workspace.policy import read_policy
from bot.workspace.reader import (
    MISSING,
    Table,
    channel_id_problem,
    describe,
    suggest,
    user_id_problem,
)

TASK_TYPE_KEYS = ("key", "name", "channel", "reviewers", "error_categories", "label_scale",
                  "labels", *POLICY_KEYS)
TRAINER_KEYS = ("user", "task_types", "lead", "started")
TASK_TYPE_KEY_RE = re.compile(r"[a-z][a-z0-9_-]*")
# Error categories become options of a Slack select menu: at most 100 options, each label
# at most 75 characters.
MAX_CATEGORIES = 100
MAX_CATEGORY_LENGTH = 75
DEFAULT_ERROR_CATEGORIES = ("Factual error", "Reasoning error", "Instruction not followed",
                            "Formatting or style", "Other")


def read_task_types(root: Table, base: Policy) -> tuple[TaskType, ...]:
    """Every ``[[task_types]]`` table; at least one is required, keys are unique."""
    tables = root.tables("task_types", known=TASK_TYPE_KEYS, required=True,
                         hint=": declare at least one [[task_types]] table")
    if tables is None:
        return ()
    if not tables and not root.data["task_types"]:
        root.report("task_types", "must declare at least one task type")
    task_types: list[TaskType] = []
    seen: dict[str, str] = {}
    for table in tables:
        key = table.string("key", required=True)
        if key is not None:
            if not TASK_TYPE_KEY_RE.fullmatch(key):
                table.report("key", "must be lowercase letters, digits, '_' or '-', starting "
                             f"with a letter (got {key!r})")
            if key in seen:
                table.report("key", f"duplicate task type key {key!r} (already used by "
                             f"{seen[key]})")
            seen.setdefault(key, table.path)
        channel = table.string("channel", required=True)
        if channel is not None and (reason := channel_id_problem(channel)):
            table.report("channel", reason)
        task_types.append(TaskType(
            key=key or "",
            name=table.string("name", required=True) or "",
            channel=channel or "",
            reviewers=table.strings("reviewers", required=True, non_empty=True,
                                    check=user_id_problem),
            error_categories=_error_categories(table),
            policy=read_policy(table, base),
            label_scale=_label_scale(table),
        ))
    return tuple(task_types)


MAX_LABEL_LENGTH = 64  # the same cap as a record's `label`


def _label_scale(table: Table) -> LabelScale:
    """``label_scale`` (nominal | ordinal | interval) and its optional ``labels``."""
    level = table.string("label_scale")
    if level is not None and level not in LABEL_LEVELS:
        table.report("label_scale", f"must be one of {', '.join(LABEL_LEVELS)} (got "
                     f"{level!r}){suggest(level, LABEL_LEVELS)}")
        level = None
    labels = table.strings("labels", non_empty=True, check=_label_problem,
                           fold=lambda label: label.strip())
    if table.has("labels"):
        if level is None and not table.has("label_scale"):
            table.report("labels", "needs `label_scale` (nominal or ordinal) to say what "
                         "the labels are")
        elif level == "interval":
            table.report("labels", "is not used with label_scale = 'interval' (labels are "
                         "numbers there): remove it")
            labels = ()
        elif len(labels) == 1:
            table.report("labels", "must list at least two labels")
    return LabelScale(level=level or "nominal", labels=tuple(x.strip() for x in labels),
                      declared=level is not None)


def _label_problem(label: str) -> str | None:
    if not label.strip():
        return "must not be blank"
    if len(label.strip()) > MAX_LABEL_LENGTH:
        return f"must be at most {MAX_LABEL_LENGTH} characters (got {len(label.strip())})"
    return None


def _error_categories(table: Table) -> tuple[str, ...]:
    if not table.has("error_categories"):
        return DEFAULT_ERROR_CATEGORIES
    categories = table.strings("error_categories", non_empty=True, check=_category_problem,
                               fold=lambda c: c.strip().casefold())
    if len(categories) > MAX_CATEGORIES:
        table.report("error_categories", f"must have at most {MAX_CATEGORIES} entries, a "
                     f"Slack menu's limit (got {len(categories)})")
    return categories


def _category_problem(category: str) -> str | None:
    if not category.strip():
        return "must not be blank"
    if len(category) > MAX_CATEGORY_LENGTH:
        return (f"must be at most {MAX_CATEGORY_LENGTH} characters, a Slack menu option's "
                f"limit (got {len(category)})")
    return None


def read_trainers(root: Table, *, task_type_keys: list[str] | None) -> tuple[Trainer, ...]:
    """Every ``[[trainers]]`` table (none is fine); users unique, task types must exist.

    ``task_type_keys`` is ``None`` when some task type keys could not be read: references
    are then not checked, rather than each reported as unknown.
    """
    tables = root.tables("trainers", known=TRAINER_KEYS) or []
    trainers: list[Trainer] = []
    seen: dict[str, str] = {}
    for table in tables:
        user = table.string("user", required=True)
        if user is not None:
            if reason := user_id_problem(user):
                table.report("user", reason)
            elif user in seen:
                table.report("user", f"duplicate trainer {user!r} (already at {seen[user]})")
            seen.setdefault(user, table.path)
        lead = table.string("lead")
        if lead is not None:
            if reason := user_id_problem(lead):
                table.report("lead", reason)
            elif lead == user:
                table.report("lead", "a trainer cannot be their own lead")
        trainers.append(Trainer(
            user=user or "",
            task_types=_trainer_task_types(table, task_type_keys),
            lead=lead,
            started=_started(table),
        ))
    return tuple(trainers)


def _trainer_task_types(table: Table, known: list[str] | None) -> tuple[str, ...]:
    def check(key: str) -> str | None:
        if known is None or key in known:
            return None
        listed = f" (known: {', '.join(known)})" if known else ""
        return f"unknown task type {key!r}{suggest(key, known) or listed}"

    return table.strings("task_types", required=True, non_empty=True, check=check)


def _started(table: Table) -> date | None:
    """A TOML date (``started = 2026-09-01``) or the same as a string."""
    value = table.raw("started")
    if value is MISSING:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            table.report("started", f"is not a real date (got {value!r})")
            return None
    # datetime is a date subclass, but a start *moment* is not what we ask for.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    table.report("started", f"must be a date like 2026-09-01 (got {describe(value)})")
    return None

