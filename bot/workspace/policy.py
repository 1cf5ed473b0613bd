"""``[policy]``: how a task type is audited and when a trainer is escalated, as a frozen
pydantic dataclass whose annotations are the checks. A ``[[task_types]]`` table may set any
of these keys; ``parse_workspace`` merges them over the workspace's.
"""

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any

from pydantic import PlainValidator, TypeAdapter, ValidationInfo
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict

from bot.common.grades import DEFAULT_SCALE, Scale
from bot.workspace import fields as f
from bot.workspace.fields import TABLE, Duration, fail

GRADES = DEFAULT_SCALE.keys  # the default scale's; a workspace's own is ``Workspace.scale``
MAX_SAMPLES_PER_TRAINER = 50  # a thread longer than this is not reviewed, it is skimmed
MAX_WINDOW_WEEKS = 520  # ten years; `auditbot export` reads at most as many
MAX_SAMPLING_FACTOR = 10  # tightened sampling; the sample count is capped at the maximum above
TRAINER_FEEDBACK = ("weekly", "each", "off")

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


@lru_cache
def _weights_of(grades: tuple[str, ...]) -> TypeAdapter[Any]:
    """One required fraction per grade: a missing or bad one is reported at its key path."""
    table = TypedDict("GradeWeights", {g: Annotated[float, f.fraction] for g in grades})  # type: ignore[misc]
    return TypeAdapter(table)


def _grade_weights(value: object, info: ValidationInfo) -> FrozenMap:
    """Every grade of the scale, each in [0, 1], never rewarding a worse grade more. The
    scale is the validation context's ``grade_scale`` (a ``bot.common.grades.Scale``; without one
    the default), so a workspace that defines its own scale has its weights checked by it."""
    if isinstance(value, FrozenMap):  # code re-building a Policy (dataclasses.replace)
        return value
    scale: Scale = (info.context or {}).get("grade_scale", DEFAULT_SCALE)
    grades = scale.keys
    if not isinstance(value, Mapping):
        like = ", ".join(f"{g} = {w:.1f}" for g, w in scale.default_weights.items())
        raise fail(f"must be a table like {{ {like} }} (got {f.describe(value)})")
    if error := f.failures(((str(k),), f.unknown_key(str(k), grades))
                           for k in value if k not in grades):
        raise error
    weights = _weights_of(grades).validate_python(value)  # its errors keep their key paths
    if any(weights[a] < weights[b] for a, b in pairwise(grades)):
        got = ", ".join(f"{g} = {weights[g]:g}" for g in grades)
        raise fail(f"must satisfy {' >= '.join(grades)} (got {got})")
    return FrozenMap({g: weights[g] for g in grades})


def _scale_object(value: object) -> Scale:
    """``Policy.scale`` is set by ``parse_workspace`` from ``[[grade_scale]]``, never by a
    policy table."""
    if not isinstance(value, Scale):
        raise fail("is not a policy key: the grade scale is set by [[grade_scale]]")
    return value


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
    grade_weights: Annotated[Mapping[str, float], PlainValidator(_grade_weights)] = (
        DEFAULT_GRADE_WEIGHTS)  # one per key of ``scale``
    # The workspace's grade scale ([[grade_scale]]), carried here too because scoring sees
    # only a policy: which grades count as severe, which is the pass.
    scale: Annotated[Scale, PlainValidator(_scale_object)] = DEFAULT_SCALE
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
        """Score contribution of one grade (a key of ``scale``)."""
        return self.grade_weights[grade]


# The keys a policy table may set (``scale`` comes from [[grade_scale]]).
POLICY_KEYS = tuple(field.name for field in dataclasses.fields(Policy) if field.name != "scale")
