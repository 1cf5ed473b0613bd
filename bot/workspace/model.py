"""The workspace config as frozen pydantic dataclasses: their fields are auditbot.toml's keys,
their annotations the checks. Build them with ``parse_workspace``.

    ws = load_workspace("auditbot.toml")
    tt = ws.task_type("clinical")            # KeyError if unknown
    tt.policy.pass_threshold                 # workspace [policy] merged with overrides
    ws.may_grade("U0NURSE01", "clinical")    # reviewer of the type, or a manager

Everything here is immutable and hashable, so it can be shared across threads and replicas'
jobs without copying. ``[policy]`` is ``bot.workspace.policy``; what spans sections
(references, inherited policy, the default escalation path) is checked in ``parse``.
"""

import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from functools import cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, PlainValidator, model_validator
from pydantic.dataclasses import dataclass

from bot.common.grades import DEFAULT_SCALE, Scale
from bot.workspace import fields as f
from bot.workspace.fields import ALIASED, TABLE, ChannelId, Duration, Text, UserId, Weekly, fail
from bot.workspace.policy import DEFAULT_GRADE_WEIGHTS as DEFAULT_GRADE_WEIGHTS  # callers' path
from bot.workspace.policy import GRADES as GRADES
from bot.workspace.policy import POLICY_KEYS, Policy, _scale_object
from bot.workspace.policy import FrozenMap as FrozenMap
from bot.workspace.timing import WeeklyTime, WorkingHours, parse_weekly_time

LEAD = "lead"  # the escalation target that means "this trainer's lead"
MAX_REPEAT = 10
LABEL_LEVELS = ("nominal", "ordinal", "interval")
DIMENSIONS = ("precision", "consistency", "clarity")  # bot.services.scorecard.DIMENSIONS
THRESHOLD = "threshold"  # a marker's min_score that means the task type's threshold for it


@dataclasses.dataclass(frozen=True)
class LabelScale:
    """How a task type's trainer labels compare (``label_scale`` and ``labels`` keys).

    ``nominal``: labels are names, equal or not (``labels``, if given, are the only ones
    allowed). ``ordinal``: labels are ordered; ``labels`` lists them first to last, or,
    when absent, labels are numbers and ordered as numbers. ``interval``: labels are
    numbers and their differences mean something (``labels`` not allowed). Undeclared:
    nominal, any label.
    """

    level: str = "nominal"
    labels: tuple[str, ...] = ()
    declared: bool = False


# Error categories become options of a Slack select menu: at most 100 options, each label
# at most 75 characters. Trainer labels have the same cap as a record's `label`.
MAX_CATEGORIES = 100
MAX_CATEGORY_LENGTH = 75
MAX_LABEL_LENGTH = 64
DEFAULT_ERROR_CATEGORIES = ("Factual error", "Reasoning error", "Instruction not followed",
                            "Formatting or style", "Other")


def _key_problem(key: str) -> str | None:
    if re.fullmatch(r"[a-z][a-z0-9_-]*", key):
        return None
    return f"must be lowercase letters, digits, '_' or '-', starting with a letter (got {key!r})"


def _category(value: object) -> str:
    if isinstance(value, str) and not value.strip():
        raise fail("must not be blank")
    if isinstance(value, str) and len(value) > MAX_CATEGORY_LENGTH:
        raise fail(f"must be at most {MAX_CATEGORY_LENGTH} characters, a Slack menu option's "
                   f"limit (got {len(value)})")
    return f.text(value)


def _categories_fit_a_menu(categories: tuple[str, ...]) -> tuple[str, ...]:
    if len(categories) > MAX_CATEGORIES:
        raise fail(f"must have at most {MAX_CATEGORIES} entries, a Slack menu's limit "
                   f"(got {len(categories)})")
    return categories


def _label(value: object) -> str:
    label = f.text(value).strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise fail(f"must be at most {MAX_LABEL_LENGTH} characters (got {len(label)})")
    return label


Category = Annotated[str, PlainValidator(_category)]
Label = Annotated[str, PlainValidator(_label)]


@dataclass(frozen=True, config=ALIASED)
class TaskType:
    """A kind of work audited together, in one channel, by its own reviewers. The policy
    keys sit in its table and override the workspace's ``[policy]``."""

    TOML_KEYS = ("key", "name", "channel", "reviewers", "error_categories", "label_scale",
                 "labels", *POLICY_KEYS)

    key: Annotated[str, f.checked(_key_problem)]
    name: Text
    channel: ChannelId
    reviewers: Annotated[tuple[UserId, ...], f.strings(non_empty=True)]
    error_categories: Annotated[
        tuple[Category, ...], AfterValidator(_categories_fit_a_menu),
        f.strings(non_empty=True, fold=lambda c: c.strip().casefold())] = DEFAULT_ERROR_CATEGORIES
    policy: Policy = Policy()  # the effective one: parse_workspace merges [policy] under it
    label_level: Annotated[str | None, f.optional(f.one_of(*LABEL_LEVELS, near=True))] = Field(
        default=None, alias="label_scale")
    labels: Annotated[tuple[Label, ...], f.strings(non_empty=True, fold=str.strip)] = ()

    @model_validator(mode="before")
    @classmethod
    def _policy_keys_in_a_table(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        if "policy" in data:  # the nested table is ours: the file writes the keys here
            raise fail("unknown key 'policy': set policy keys in the task type's table itself "
                       "(e.g. pass_threshold = 0.9)", at=("policy",))
        return {**{k: v for k, v in data.items() if k not in POLICY_KEYS},
                "policy": {k: v for k, v in data.items() if k in POLICY_KEYS}}

    @model_validator(mode="after")
    def _labels_fit_the_scale(self) -> "TaskType":
        problem = None
        if self.labels and self.label_level is None:
            problem = "needs `label_scale` (nominal or ordinal) to say what the labels are"
        elif self.labels and self.label_level == "interval":
            problem = ("is not used with label_scale = 'interval' (labels are numbers there): "
                       "remove it")
        elif len(self.labels) == 1:
            problem = "must list at least two labels"
        if problem:
            raise fail(problem, at=("labels",))
        return self

    @property
    def label_scale(self) -> LabelScale:
        return LabelScale(level=self.label_level or "nominal", labels=self.labels,
                          declared=self.label_level is not None)


@dataclass(frozen=True, config=TABLE)
class Trainer:
    """A person whose outputs are audited. ``lead`` gets the first escalation (if set)."""

    user: UserId
    task_types: Annotated[tuple[Text, ...], f.strings(non_empty=True)]
    lead: Annotated[str | None, f.optional(f.checked(f.user_id_problem))] = None
    started: Annotated[date | None, f.optional(PlainValidator(f.start_date))] = None

    @model_validator(mode="after")
    def _not_own_lead(self) -> "Trainer":
        if self.lead == self.user:
            raise fail("a trainer cannot be their own lead", at=("lead",))
        return self


@dataclass(frozen=True, config=TABLE)
class Schedule:
    """When the jobs run: the weekly audit, the escalation re-check interval, and the
    nudges (by default two days after the audit, and an hour after it)."""

    weekly_audit: Weekly = WeeklyTime(weekday=0, at=time(9, 0))  # mon 09:00
    escalation_check: Duration = timedelta(minutes=5)
    reviewer_reminder: Weekly = WeeklyTime(weekday=2, at=time(9, 0))
    weekly_digest: Weekly = WeeklyTime(weekday=0, at=time(10, 0))

    @model_validator(mode="before")
    @classmethod
    def _nudges_follow_the_audit(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        try:
            audit = parse_weekly_time(data.get("weekly_audit", "mon 09:00"))
        except ValueError:
            return data  # reported by weekly_audit's own check
        return {"reviewer_reminder": audit.shifted(timedelta(days=2)),
                "weekly_digest": audit.shifted(timedelta(hours=1)), **data}


def _target(target: str) -> str | None:
    if target == LEAD or not f.user_id_problem(target) or not f.channel_id_problem(target):
        return None
    return f"must be \"lead\", a user id (U… or W…) or a channel id (C… or G…) (got {target!r})"


@dataclass(frozen=True, config=TABLE)
class EscalationLevel:
    """Who is notified at this level and how long they have to acknowledge.

    ``notify`` holds ``"lead"`` (the trainer's lead; skipped for a trainer without one),
    user ids (DM) and channel ids (post). ``ack_within`` is ``None`` only on the last level
    (and never with ``repeat``). ``working_hours`` (workspace timezone): nobody at this level
    is paged outside them; the notice waits for the next opening, and ``ack_within`` counts
    from its delivery. ("lead" is allowed even if some trainers have none: for them the
    level notifies its other targets, and a level with no target left is passed over.)
    """

    notify: Annotated[tuple[Annotated[str, f.checked(_target)], ...], f.strings(non_empty=True)]
    ack_within: Annotated[timedelta | None, f.optional(f.duration)] = None
    working_hours: Annotated[WorkingHours | None, f.optional(f.hours)] = None


@dataclass(frozen=True, config=TABLE)
class Escalation:
    """The path an escalation climbs, and when an acknowledged level is pinged again.
    Without ``levels`` the workspace gives the default path (``default_escalation``)."""

    levels: Annotated[tuple[EscalationLevel, ...],
                      f.tables(non_empty="must have at least one level")] = ()
    reack_after: Duration = timedelta(hours=24)
    repeat: Annotated[int, f.whole(0, MAX_REPEAT)] = 0  # times the path may start again

    @model_validator(mode="after")
    def _every_level_is_left(self) -> "Escalation":
        last = len(self.levels) - 1
        missing = "missing required key: "
        if error := f.failures(
                (("levels", i, "ack_within"),
                 missing + ("every level but the last needs one, or the next level is never "
                            "reached" if i < last else "with escalation.repeat the last level "
                            "needs one too, or the path never starts again"))
                for i, level in enumerate(self.levels)
                if level.ack_within is None and (i < last or self.repeat)):
            raise error
        return self


def default_escalation(managers: tuple[str, ...]) -> Escalation:
    """Lead (4h to acknowledge), then the managers (24h); just the lead without managers."""
    levels = [EscalationLevel(notify=(LEAD,), ack_within=timedelta(hours=4))]
    if managers:
        levels.append(EscalationLevel(notify=managers, ack_within=timedelta(hours=24)))
    return Escalation(levels=tuple(levels))


def _min_score(value: object) -> float | None:
    if value == THRESHOLD or value is None:
        return None
    if isinstance(value, str):
        raise fail(f"must be a number between 0 and 1 or \"{THRESHOLD}\" "
                   f"(got {f.describe(value)})")
    return float(f.fraction.func(value))  # type: ignore[call-arg]


@dataclass(frozen=True, config=TABLE)
class OnboardingMarker:
    """By onboarding week ``week``, a new trainer's ``dimension`` of the scorecard should be
    at least ``min_score`` (``None``, "threshold" in the file: the task type's threshold for
    it: ``pass_threshold`` for precision, ``consistency_threshold`` or ``clarity_threshold``)."""

    week: Annotated[int, f.whole(None)]  # 1 to the last week of onboarding: Onboarding checks
    min_score: Annotated[float | None, PlainValidator(_min_score)]
    dimension: Annotated[str, f.one_of(*DIMENSIONS)] = "precision"


@dataclass(frozen=True, config=TABLE)
class Onboarding:
    """Trainers who started within ``days`` see their progress against the markers."""

    days: Annotated[int, f.whole(7, 365)] = 90
    markers: Annotated[tuple[OnboardingMarker, ...], f.tables()] = (
        OnboardingMarker(4, 0.75), OnboardingMarker(8, 0.85), OnboardingMarker(12, None))

    @model_validator(mode="after")
    def _weeks_in_order(self) -> "Onboarding":
        last_week, found = math.ceil(self.days / 7), []
        for i, marker in enumerate(self.markers):
            before = [m.week for m in self.markers[:i] if m.dimension == marker.dimension]
            of = "" if marker.dimension == "precision" else f" {marker.dimension}"
            if not 1 <= marker.week <= last_week:
                found.append((("markers", i, "week"),
                               f"must be between 1 and {last_week} (got {marker.week})"))
            elif before and marker.week <= before[-1]:
                found.append((("markers", i, "week"), f"must come after the previous{of} "
                              f"marker's week {before[-1]} (got {marker.week})"))
        if error := f.failures(found):
            raise error
        return self


@dataclass(frozen=True, config=TABLE)
class Away:
    """Someone away from ``start`` (``from``; ``None``: already) through ``until``, both
    inclusive."""

    user: UserId
    until: Annotated[date, PlainValidator(f.day)]
    start: Annotated[date | None, f.optional(PlainValidator(f.day))] = Field(
        default=None, alias="from")

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> "Away":
        if self.start and self.start > self.until:
            raise fail(f"must not be after until ({self.start} > {self.until})", at=("from",))
        return self


def _timezone(value: object) -> str:
    name = f.text(value)
    if name == "localtime":  # a real file on many systems, but differs between machines
        raise fail("must name a zone like 'America/New_York', not the machine's 'localtime'")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # available_timezones() scans the tz database: only worth it to suggest a fix.
        hint = f.suggest(name, available_timezones()) or " (use an IANA name like 'Europe/Paris')"
        raise fail(f"unknown timezone {name!r}{hint}") from None
    return name


@dataclass(frozen=True, config=TABLE)
class Head:
    """``[workspace]``: the timezone of every schedule, and the managers."""

    timezone: Annotated[str, PlainValidator(_timezone)]
    managers: Annotated[tuple[UserId, ...], f.strings()] = ()


@dataclass(frozen=True, config=TABLE, kw_only=True)
class Workspace:
    """The whole validated config (``parse_workspace`` builds it: sections are checked
    against each other there). Look things up with the methods, not by scanning."""

    # [[grade_scale]], parsed by bot.workspace.scale before the rest (parse_workspace hands
    # the Scale in, and to [policy]'s grade_weights check).
    grade_scale: Annotated[Scale, PlainValidator(_scale_object)] = DEFAULT_SCALE
    workspace: Head = Field(default_factory=dict, validate_default=True)  # timezone required
    schedule: Schedule = Schedule()
    policy: Policy = Policy()  # the workspace defaults; each TaskType carries its effective policy
    task_types: Annotated[tuple[TaskType, ...],
                          f.tables(non_empty="must declare at least one task type")]
    trainers: Annotated[tuple[Trainer, ...], f.tables()] = ()
    escalation: Escalation = Escalation()
    onboarding: Onboarding = Onboarding()
    away: Annotated[tuple[Away, ...], f.tables()] = ()  # `/audit away` adds to the store

    @property
    def scale(self) -> Scale:
        """The grades, best first (bot.common.grades)."""
        return self.grade_scale

    @property
    def timezone(self) -> str:
        return self.workspace.timezone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)  # ZoneInfo caches its instances

    @property
    def managers(self) -> tuple[str, ...]:
        return self.workspace.managers

    @cached_property
    def _task_types_by_key(self) -> Mapping[str, TaskType]:
        return {t.key: t for t in self.task_types}

    @cached_property
    def _trainers_by_user(self) -> Mapping[str, Trainer]:
        return {t.user: t for t in self.trainers}

    def task_type(self, key: str) -> TaskType:
        """The task type with this key; ``KeyError`` if none."""
        try:
            return self._task_types_by_key[key]
        except KeyError:
            raise KeyError(f"unknown task type {key!r}") from None

    def trainer(self, user: str) -> Trainer | None:
        """The trainer with this user id, or ``None``."""
        return self._trainers_by_user.get(user)

    def is_manager(self, user: str) -> bool:
        """Managers may run ``/audit run``, pause trainers and grade every task type."""
        return user in self.managers

    def may_grade(self, user: str, task_type_key: str) -> bool:
        """A reviewer of that task type, or a manager. (Own outputs are checked elsewhere.)"""
        if self.is_manager(user):
            return True
        task_type = self._task_types_by_key.get(task_type_key)
        return task_type is not None and user in task_type.reviewers

    def reviewer_task_types(self, user: str) -> tuple[TaskType, ...]:
        """The task types that list ``user`` as a reviewer (managers not included)."""
        return tuple(t for t in self.task_types if user in t.reviewers)

    def trainers_of(self, task_type_key: str) -> tuple[Trainer, ...]:
        """The trainers audited for this task type, in config order."""
        return self._trainers_by_key.get(task_type_key, ())

    @cached_property
    def _trainers_by_key(self) -> Mapping[str, tuple[Trainer, ...]]:
        # Once per config: status, Home and the digest ask for every task type's trainers
        # on each read, and a scan of all trainers per task type is O(trainers x types).
        found: dict[str, list[Trainer]] = {}
        for trainer in self.trainers:
            for key in dict.fromkeys(trainer.task_types):
                found.setdefault(key, []).append(trainer)
        return {key: tuple(trainers) for key, trainers in found.items()}
