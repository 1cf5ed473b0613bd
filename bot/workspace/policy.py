"""Reading ``[policy]`` and the per-task-type overrides of it.

    base = read_policy(root.table("policy", known=POLICY_KEYS), Policy())
    effective = read_policy(task_type_table, base)   # only the keys it sets change

The same reader serves both: a ``[[task_types]]`` table may set any policy key directly.
"""

from collections.abc import Mapping
from itertools import pairwise

from bot.workspace.model import TRAINER_FEEDBACK, FrozenMap, Policy
from bot.workspace.reader import MISSING, Table, describe
from bot.workspace.timing import parse_duration

MAX_SAMPLES_PER_TRAINER = 50  # a thread longer than this is not reviewed, it is skimmed
MAX_WINDOW_WEEKS = 520  # ten years; `auditbot export` reads at most as many
MAX_SAMPLING_FACTOR = 10  # tightened sampling; the sample count is capped at the maximum above


def read_policy(table: Table, base: Policy) -> Policy:
    """``base`` with every policy key that ``table`` sets, validated (problems collected)."""
    return Policy(
        samples_per_trainer=table.integer(
            "samples_per_trainer", default=base.samples_per_trainer, low=1,
            high=MAX_SAMPLES_PER_TRAINER),
        double_review_fraction=table.fraction(
            "double_review_fraction", default=base.double_review_fraction),
        window_weeks=table.integer("window_weeks", default=base.window_weeks, low=1,
                                   high=MAX_WINDOW_WEEKS),
        pass_threshold=table.fraction("pass_threshold", default=base.pass_threshold),
        min_graded=table.integer("min_graded", default=base.min_graded, low=0),
        grade_weights=_grade_weights(table, base),
        scale=base.scale,
        escalation_confidence=table.number(
            "escalation_confidence", default=base.escalation_confidence, low=0.5, high=1,
            high_open=True),
        severe_majors=table.integer("severe_majors", default=base.severe_majors, low=0,
                                    high=MAX_SAMPLES_PER_TRAINER),
        tightened_factor=table.number("tightened_factor", default=base.tightened_factor,
                                      low=1, high=MAX_SAMPLING_FACTOR),
        reduced_factor=table.number("reduced_factor", default=base.reduced_factor, low=0,
                                    high=1, low_open=True),
        watch_margin=table.number("watch_margin", default=base.watch_margin, low=0, high=0.5),
        agreement_alert_alpha=table.fraction(
            "agreement_alert_alpha", default=base.agreement_alert_alpha),
        agreement_min_samples=table.integer(
            "agreement_min_samples", default=base.agreement_min_samples, low=2),
        calibration_min_catch_rate=table.fraction(
            "calibration_min_catch_rate", default=base.calibration_min_catch_rate),
        calibration_min_items=table.integer(
            "calibration_min_items", default=base.calibration_min_items, low=1),
        consistency_threshold=_optional_fraction(table, "consistency_threshold",
                                                 base.consistency_threshold),
        clarity_threshold=_optional_fraction(table, "clarity_threshold",
                                             base.clarity_threshold),
        trainer_feedback=table.parsed("trainer_feedback", _feedback_mode,
                                      default=base.trainer_feedback, example="weekly"),
        show_reviewer_to_trainer=_boolean(table, "show_reviewer_to_trainer",
                                          default=base.show_reviewer_to_trainer),
        dispute_within=table.parsed("dispute_within", parse_duration,
                                    default=base.dispute_within, example="7d"),
        disagreement_deadline=table.parsed("disagreement_deadline", parse_duration,
                                           default=base.disagreement_deadline, example="7d"),
    )


def _optional_fraction(table: Table, key: str, base: float | None) -> float | None:
    """A number in [0, 1] when set; ``base`` (None: no threshold) when absent or wrong."""
    if not table.has(key):
        return base
    value = table.fraction(key, default=-1.0)
    return base if value < 0 else value


def _feedback_mode(value: str) -> str:
    if value not in TRAINER_FEEDBACK:
        raise ValueError(f"must be one of {', '.join(repr(m) for m in TRAINER_FEEDBACK)} "
                         f"(got {value!r})")
    return value


def _boolean(table: Table, key: str, *, default: bool) -> bool:
    value = table.raw(key)
    if value is MISSING:
        return default
    if not isinstance(value, bool):
        table.report(key, f"must be true or false (got {describe(value)})")
        return default
    return value


def _grade_weights(table: Table, base: Policy) -> FrozenMap:
    """Every grade of the scale, each in [0, 1], never rewarding a worse grade more."""
    grades = base.scale.keys
    raw = table.raw("grade_weights")
    if not isinstance(raw, Mapping):  # absent, or reported here without a cascade below
        if table.has("grade_weights"):
            table.report("grade_weights", "must be a table like { "
                         + ", ".join(f"{level.key} = {level.weight:.1f}"
                                     for level in base.scale)
                         + f" }} (got {describe(raw)})")
        return FrozenMap(base.grade_weights)
    weights = table.table("grade_weights", known=grades)
    before = len(table.problems.items)
    values = {g: weights.fraction(g, default=base.grade_weights[g], required=True)
              for g in grades}
    ordered = all(values[a] >= values[b] for a, b in pairwise(grades))
    if len(table.problems.items) == before and not ordered:
        table.report("grade_weights", f"must satisfy {' >= '.join(grades)} (got "
                     + ", ".join(f"{g} = {values[g]:g}" for g in grades) + ")")
    return FrozenMap(values)

