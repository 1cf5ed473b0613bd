"""The workspace config as frozen pydantic dataclasses: their fields are auditbot.toml's keys,
their annotations the checks. Build them with ``parse_workspace``.

    ws = load_workspace("auditbot.toml")
    tt = ws.task_type("clinical")            # KeyError if unknown
    tt.policy.pass_threshold                 # workspace [policy] merged with overrides
    ws.may_grade("U0NURSE01", "clinical")    # reviewer of the type, or a manager

Everything here is immutable and hashable, so it can be shared across threads and replicas'
jobs without copying. Checks that span sections (references, inherited policy, the default
escalation path) are ``Workspace._across_sections``.
"""

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, time, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetPydanticSchema,
    PlainValidator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict

from bot.grades import SCALE
from bot.workspace import fields as f
from bot.workspace.fields import ALIASED, TABLE, ChannelId, Duration, Text, UserId, Weekly, fail
from bot.workspace.timing import WeeklyTime, WorkingHours

GRADES = SCALE.keys
LEAD = "lead"  # the escalation target that means "this trainer's lead"
MAX_SAMPLES_PER_TRAINER = 50  # a thread longer than this is not reviewed, it is skimmed
MAX_WINDOW_WEEKS = 520  # ten years; `auditbot export` reads at most as many
MAX_SAMPLING_FACTOR = 10  # tightened sampling; the sample count is capped at the maximum above
MAX_REPEAT = 10
TRAINER_FEEDBACK = ("weekly", "each", "off")
LABEL_LEVELS = ("nominal", "ordinal", "interval")
DIMENSIONS = ("precision", "consistency", "clarity")  # bot.services.scorecard.DIMENSIONS
THRESHOLD = "threshold"  # a marker's min_score that means the task type's threshold for it


class FrozenMap(Mapping[str, float]):
    """A read-only, hashable mapping (``MappingProxyType`` is not hashable, and a frozen
    dataclass hashes its fields)."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        self._data = dict(items)

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


DEFAULT_GRADE_WEIGHTS = FrozenMap(SCALE.default_weights)


@dataclasses.dataclass(frozen=True)
class KnownKeys:
    """Annotation metadata: the keys a mapping-valued field may hold (for suggestions)."""

    toml_keys: tuple[str, ...]


# One required fraction per grade; TypedDict so that a missing or unknown grade is reported
# at its own key path. (A workspace's own grade scale would build this from its scale.)
_Weights = TypedDict("_Weights", {g: Annotated[float, f.fraction] for g in GRADES})  # type: ignore[misc]
_Weights.__pydantic_config__ = TABLE  # type: ignore[attr-defined]


def _weights_table(value: object) -> object:
    if not isinstance(value, Mapping):
        like = ", ".join(f"{g} = {w:.1f}" for g, w in SCALE.default_weights.items())
        raise fail(f"must be a table like {{ {like} }} (got {f.describe(value)})")
    return value


def _weights_ordered(weights: Mapping[str, float]) -> FrozenMap:
    """Never reward a worse grade more than a better one."""
    if any(weights[a] < weights[b] for a, b in pairwise(GRADES)):
        got = ", ".join(f"{g} = {weights[g]:g}" for g in GRADES)
        raise fail(f"must satisfy {' >= '.join(GRADES)} (got {got})")
    return FrozenMap({g: weights[g] for g in GRADES})


GradeWeights = Annotated[
    Mapping[str, float], GetPydanticSchema(lambda _type, handler: handler(_Weights)),
    AfterValidator(_weights_ordered), BeforeValidator(_weights_table), KnownKeys(GRADES)]


def _feedback_mode(value: object) -> str:
    if not isinstance(value, str):
        raise fail(f"must be a string like 'weekly' (got {f.describe(value)})")
    if value not in TRAINER_FEEDBACK:
        modes = ", ".join(repr(m) for m in TRAINER_FEEDBACK)
        raise fail(f"must be one of {modes} (got {value!r})")
    return value


@dataclass(frozen=True, config=TABLE)
class Policy:
    """How a task type is audited and when a trainer is escalated."""

    samples_per_trainer: Annotated[int, f.whole(1, MAX_SAMPLES_PER_TRAINER)] = 5
    # share of samples that need a second reviewer
    double_review_fraction: Annotated[float, f.fraction] = 0.2
    window_weeks: Annotated[int, f.whole(1, MAX_WINDOW_WEEKS)] = 4  # the score's window
    pass_threshold: Annotated[float, f.fraction] = 0.85  # a score below this opens an escalation
    min_graded: Annotated[int, f.whole(0)] = 8  # no escalation on fewer graded samples
    grade_weights: GradeWeights = DEFAULT_GRADE_WEIGHTS
    # The decision rule (bot.services.scoring): a score below the threshold puts a trainer
    # on watch; escalation needs the score's upper bound below it, recovery the lower bound
    # at or above it, each bound one-sided at this confidence (tuned with policy simulate).
    escalation_confidence: Annotated[float, f.number(0.5, 1, high_open=True)] = 0.9
    # Major samples in one ISO week that escalate at once; 0 = off
    severe_majors: Annotated[int, f.whole(0, MAX_SAMPLES_PER_TRAINER)] = 4
    # sampling multipliers: below the threshold or escalated; after a clean, confident window
    tightened_factor: Annotated[float, f.number(1, MAX_SAMPLING_FACTOR)] = 3.0
    reduced_factor: Annotated[float, f.number(0, 1, low_open=True)] = 0.6
    # Watch ends only when the score is at least this far above the threshold (hysteresis:
    # a trainer near the threshold does not flap on and off watch as grades arrive).
    watch_margin: Annotated[float, f.number(0, 0.5)] = 0.02
    # Consistency checks (bot.services.consistency): managers are told when the reviewers
    # of a task type do not share a standard (Krippendorff's alpha below this with at least
    # ``agreement_min_samples`` double-reviewed samples in the window), and when a reviewer
    # catches too few of the planted errors (with at least ``calibration_min_items`` gold
    # non-pass items graded in the window).
    agreement_alert_alpha: Annotated[float, f.fraction] = 0.667
    agreement_min_samples: Annotated[int, f.whole(2)] = 20
    calibration_min_catch_rate: Annotated[float, f.fraction] = 0.7
    calibration_min_items: Annotated[int, f.whole(1)] = 10
    # The trainer's scorecard (bot.services.scorecard): a trainer whose consistency with
    # other trainers, or whose clarity rate, is below its threshold (with at least
    # ``min_graded`` comparisons or ratings in the window) is shown on watch for that
    # dimension. ``None``: no threshold. Precision alone drives escalation.
    consistency_threshold: Annotated[float | None, f.optional(f.fraction)] = None
    clarity_threshold: Annotated[float | None, f.optional(f.fraction)] = None
    # Feedback to trainers (bot.services.feedback): "weekly" (one DM per audited week once
    # it is fully graded), "each" (a DM per final non-pass grade, and the weekly summary for
    # the rest) or "off". Reviewers' names are hidden from trainers unless
    # ``show_reviewer_to_trainer``. A trainer may dispute a non-pass grade within
    # ``dispute_within`` of the feedback that showed it (bot.services.trainer_disputes).
    trainer_feedback: Annotated[str, PlainValidator(_feedback_mode)] = "weekly"
    show_reviewer_to_trainer: f.Boolean = False
    dispute_within: Duration = timedelta(days=7)
    # A double-review disagreement (bot.services.disputes) keeps its week not fully graded
    # until a manager settles it, or until this long after it arose: then the mean of the
    # two grades counts (bot.services.disputes.lapse_overdue, run by the escalation check).
    disagreement_deadline: Duration = timedelta(days=7)

    def weight(self, grade: str) -> float:
        """Score contribution of one grade (``"pass"``, ``"minor"`` or ``"major"``)."""
        return self.grade_weights[grade]


POLICY_KEYS = tuple(field.name for field in dataclasses.fields(Policy))


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
    policy: Policy = Policy()  # the effective policy (Workspace merges [policy] into it)
    label_level: Annotated[str | None, f.optional(f.one_of(*LABEL_LEVELS, near=True))] = Field(
        default=None, alias="label_scale")
    labels: Annotated[tuple[Label, ...], f.strings(non_empty=True, fold=str.strip)] = ()

    @model_validator(mode="before")
    @classmethod
    def _policy_keys_in_a_table(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "policy" in data:
            return data  # (`policy` itself is not a key of the file: reported as unknown)
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
            audit = f.parse_weekly_time(data.get("weekly_audit", "mon 09:00"))
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

    week: Annotated[int, f.whole(1)]
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
            if marker.week > last_week:
                found.append((("markers", i, "week"),
                               f"must be between 1 and {last_week} (got {marker.week})"))
            elif before and marker.week <= before[-1]:
                found.append((("markers", i, "week"), f"must come after the previous{of} "
                              f"marker's week {before[-1]} (got {marker.week})"))
        if error := f.failures(found):
            raise error
        return self


@dataclass(frozen=True, config=ALIASED)
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
        return tuple(t for t in self.trainers if task_type_key in t.task_types)
