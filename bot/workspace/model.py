"""The workspace config as frozen, typed objects. Build them with ``parse_workspace``.

    ws = load_workspace("auditbot.toml")
    tt = ws.task_type("clinical")            # KeyError if unknown
    tt.policy.pass_threshold                 # workspace [policy] merged with overrides
    ws.may_grade("U0NURSE01", "clinical")    # reviewer of the type, or a manager

Everything here is immutable and hashable, so it can be shared across threads and replicas'
jobs without copying.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from bot.grades import DEFAULT_SCALE, Scale
from bot.workspace.timing import WeeklyTime, WorkingHours

GRADES = DEFAULT_SCALE.keys  # the default scale's; a workspace's own is ``Workspace.scale``
LEAD = "lead"  # the escalation target that means "this trainer's lead"


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


DEFAULT_GRADE_WEIGHTS = FrozenMap(DEFAULT_SCALE.default_weights)


@dataclass(frozen=True)
class Policy:
    """How a task type is audited and when a trainer is escalated."""

    samples_per_trainer: int = 5
    double_review_fraction: float = 0.2  # share of samples that need a second reviewer
    window_weeks: int = 4  # rolling window of the quality score
    pass_threshold: float = 0.85  # a score below this opens an escalation
    min_graded: int = 8  # no escalation on fewer graded samples
    grade_weights: Mapping[str, float] = DEFAULT_GRADE_WEIGHTS  # one per key of ``scale``
    # The workspace's grade scale ([[grade_scale]]), carried here too because scoring sees
    # only a policy: which grades count as severe, which is the pass.
    scale: Scale = DEFAULT_SCALE
    # The decision rule (bot.services.scoring): a score below the threshold puts a trainer
    # on watch; escalation needs the score's upper bound below it, recovery the lower bound
    # at or above it, each bound one-sided at this confidence.
    escalation_confidence: float = 0.9  # tuned with policy simulate (README)
    severe_majors: int = 4  # Major samples in one ISO week that escalate at once; 0 = off
    tightened_factor: float = 3.0  # sampling multiplier below the threshold or escalated
    reduced_factor: float = 0.6  # sampling multiplier after a clean, confident window
    # Watch ends only when the score is at least this far above the threshold (hysteresis:
    # a trainer near the threshold does not flap on and off watch as grades arrive).
    watch_margin: float = 0.02
    # Consistency checks (bot.services.consistency): managers are told when the reviewers
    # of a task type do not share a standard (Krippendorff's alpha below this with at least
    # ``agreement_min_samples`` double-reviewed samples in the window), and when a reviewer
    # catches too few of the planted errors (with at least ``calibration_min_items`` gold
    # non-pass items graded in the window).
    agreement_alert_alpha: float = 0.667
    agreement_min_samples: int = 20
    calibration_min_catch_rate: float = 0.7
    calibration_min_items: int = 10
    # The trainer's scorecard (bot.services.scorecard): a trainer whose consistency with
    # other trainers, or whose clarity rate, is below its threshold (with at least
    # ``min_graded`` comparisons or ratings in the window) is shown on watch for that
    # dimension. ``None``: no threshold. Precision alone drives escalation.
    consistency_threshold: float | None = None
    clarity_threshold: float | None = None
    # Feedback to trainers (bot.services.feedback): "weekly" (one DM per audited week once
    # it is fully graded), "each" (a DM per final non-pass grade, and the weekly summary for
    # the rest) or "off". Reviewers' names are hidden from trainers unless
    # ``show_reviewer_to_trainer``. A trainer may dispute a non-pass grade within
    # ``dispute_within`` of the feedback that showed it (bot.services.trainer_disputes).
    trainer_feedback: str = "weekly"
    show_reviewer_to_trainer: bool = False
    dispute_within: timedelta = timedelta(days=7)
    # A double-review disagreement (bot.services.disputes) keeps its week not fully graded
    # until a manager settles it, or until this long after it arose: then the mean of the
    # two grades counts (bot.services.disputes.lapse_overdue, run by the escalation check).
    disagreement_deadline: timedelta = timedelta(days=7)

    def weight(self, grade: str) -> float:
        """Score contribution of one grade (a key of ``scale``)."""
        return self.grade_weights[grade]


POLICY_KEYS = tuple(Policy.__dataclass_fields__)
TRAINER_FEEDBACK = ("weekly", "each", "off")

LABEL_LEVELS = ("nominal", "ordinal", "interval")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class TaskType:
    """A kind of work audited together, in one channel, by its own reviewers."""

    key: str
    name: str
    channel: str
    reviewers: tuple[str, ...]
    error_categories: tuple[str, ...]
    policy: Policy
    label_scale: LabelScale = LabelScale()


@dataclass(frozen=True)
class Trainer:
    """A person whose outputs are audited. ``lead`` gets the first escalation (if set)."""

    user: str
    task_types: tuple[str, ...]
    lead: str | None = None
    started: date | None = None


DEFAULT_WEEKLY_AUDIT = WeeklyTime(weekday=0, at=time(9, 0))  # mon 09:00
DEFAULT_REVIEWER_REMINDER = WeeklyTime(weekday=2, at=time(9, 0))  # two days after the audit
DEFAULT_WEEKLY_DIGEST = WeeklyTime(weekday=0, at=time(10, 0))  # an hour after it


@dataclass(frozen=True)
class Schedule:
    """When the jobs run: the weekly audit, the escalation re-check interval, and the
    nudges (by default two days after the audit, and an hour after it)."""

    weekly_audit: WeeklyTime = DEFAULT_WEEKLY_AUDIT
    escalation_check: timedelta = timedelta(minutes=5)
    reviewer_reminder: WeeklyTime = DEFAULT_REVIEWER_REMINDER
    weekly_digest: WeeklyTime = DEFAULT_WEEKLY_DIGEST


@dataclass(frozen=True)
class OnboardingMarker:
    """By onboarding week ``week``, a new trainer's ``dimension`` of the scorecard should be
    at least ``min_score`` (``None``: the task type's threshold for it: ``pass_threshold``
    for precision, ``consistency_threshold`` or ``clarity_threshold``)."""

    week: int
    min_score: float | None
    dimension: str = "precision"  # precision | consistency | clarity


@dataclass(frozen=True)
class Onboarding:
    """Trainers who started within ``days`` see their progress against the markers."""

    days: int = 90
    markers: tuple[OnboardingMarker, ...] = (
        OnboardingMarker(4, 0.75), OnboardingMarker(8, 0.85), OnboardingMarker(12, None))


@dataclass(frozen=True)
class Away:
    """Someone away from ``start`` (``None``: already) through ``until``, both inclusive."""

    user: str
    until: date
    start: date | None = None


@dataclass(frozen=True)
class EscalationLevel:
    """Who is notified at this level and how long they have to acknowledge.

    ``notify`` holds ``"lead"`` (the trainer's lead; skipped for a trainer without one),
    user ids (DM) and channel ids (post). ``ack_within`` is ``None`` only on the last level
    (and never with ``repeat``). ``working_hours`` (workspace timezone): nobody at this level
    is paged outside them; the notice waits for the next opening, and ``ack_within`` counts
    from its delivery.
    """

    notify: tuple[str, ...]
    ack_within: timedelta | None = None
    working_hours: WorkingHours | None = None


@dataclass(frozen=True)
class Escalation:
    """The path an escalation climbs, and when an acknowledged level is pinged again."""

    levels: tuple[EscalationLevel, ...]
    reack_after: timedelta = timedelta(hours=24)
    repeat: int = 0  # after the last level, start again from the first at most this often


def default_escalation(managers: tuple[str, ...]) -> Escalation:
    """Lead (4h to acknowledge), then the managers (24h); just the lead without managers."""
    levels = [EscalationLevel(notify=(LEAD,), ack_within=timedelta(hours=4))]
    if managers:
        levels.append(EscalationLevel(notify=managers, ack_within=timedelta(hours=24)))
    return Escalation(levels=tuple(levels))


@dataclass(frozen=True)
class Workspace:
    """The whole validated config. Look things up with the methods, not by scanning."""

    timezone: str
    tz: ZoneInfo
    managers: tuple[str, ...]
    schedule: Schedule
    policy: Policy  # the workspace defaults; each TaskType carries its effective policy
    task_types: tuple[TaskType, ...]
    trainers: tuple[Trainer, ...]
    escalation: Escalation
    onboarding: Onboarding = Onboarding()
    away: tuple[Away, ...] = ()  # [[away]] in the config; `/audit away` adds to the store
    scale: Scale = DEFAULT_SCALE  # [[grade_scale]]: the grades, best first (bot.grades)
    _task_types_by_key: Mapping[str, TaskType] = field(
        init=False, repr=False, compare=False, hash=False)
    _trainers_by_user: Mapping[str, Trainer] = field(
        init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Frozen: indexes are set once, through object.__setattr__.
        object.__setattr__(self, "_task_types_by_key", {t.key: t for t in self.task_types})
        object.__setattr__(self, "_trainers_by_user", {t.user: t for t in self.trainers})

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
