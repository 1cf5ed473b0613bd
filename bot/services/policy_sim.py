"""``auditbot policy simulate``: the live decision on simulated trainers of known quality.

    rows = simulate_rows(policy, runs=500, seed=1, double_review=False)
    print(format_table(rows, policy))
    print(run_policy_simulate(workspace, runs=500, seed=1))          # every task type
    run_policy_simulate_rows(workspace, runs=500, seed=1)            # the same, as dicts

One decision path: there is no copy of the rule here. Each simulated trainer is replayed
through ``scoring.standing`` with the inputs and the timing of the live bot
(``escalation.check_trainer`` and ``audit.plan_weekly_audit``), see ``replay``:

* a check at Monday 00:00 of every week (the scheduled check across the week boundary; the
  other scheduled checks of a week see the same grades and decide the same), and a check
  after every grade, each over ``scoring.decision_weeks`` ISO weeks ending with the
  check's week and with the state the previous check stored (watch's hysteresis);
* the week's audit is drawn after the Monday check, its size from the standing over the
  weeks ending with the week just finished (no stored state, like ``audit.plan_weekly_audit``)
  and tightened while an escalation is open (``scoring.samples_for_next_audit``); which
  samples get a second reviewer comes from ``sampling.double_review_positions``;
* grades arrive one by one at random times of the week; a share (``late_share``) of them
  only in the next week, interleaved with that week's grades (reviewers grading late);
* an escalation opens on "escalate" and closes on "recovered" (nobody resolves it by hand);
  the lead gets a watch FYI when ``scoring.watch_notice_due`` says so, at most once per
  ISO week (``scoring.watch_notice_key``).

The trainer model, stated so the figures can be judged: every output's deserved grade is
an independent draw on the policy's scale, errors split ``major_share`` to its severe
levels and the rest to its other errors (``error_shares``; on the default scale 1 Major to
2 Minor), passes whatever makes the expected score the true score
(``grade_probabilities``). The first reviewer grades what the output deserves; a second
reviewer agrees with probability ``SECOND_AGREES``, otherwise grades an independent draw
(the same expected score). Disputes (Pass against Major) are not modelled: the live bot
leaves such samples out until a manager settles them.

Rows (``offset`` = true score minus ``pass_threshold``): +0.05 and +0.03 (every escalation
is a false alarm: ``escalated_share`` within a quarter), -0.10 and -0.20 (``median_weeks``
and ``p95_weeks`` of the first escalation, counted from the first audited week, 1 = the
first week), and the drift (+0.05 for six weeks, then -0.15: weeks from the drop until an
escalation is open, ``escalated_share`` = caught by the end of the quarter). A percentile
beyond the quarter is ``None`` (printed ">13"). ``samples_per_trainer_week``: reviewers'
load in samples (a double-reviewed one counts once).
"""

import dataclasses
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.common.clock import iso_week
from bot.common.grades import Scale
from bot.services.sampling import double_review_positions
from bot.services.scoring import (
    GradedSample,
    Standing,
    decision_weeks,
    sample_sizes,
    samples_for_next_audit,
    standing,
    watch_notice_due,
)
from bot.workspace.model import Policy, Workspace

QUARTER_WEEKS = 13
DEFAULT_RUNS = 500
REFERENCE_RUNS = 2_000  # the reference precision per row
# Errors are drawn on the policy's scale: ``major_share`` of them spread over its severe
# levels, the rest over its other non-pass levels (on the default scale: one Major error for
# every two Minor ones).
DEFAULT_MAJOR_SHARE = 1 / 3
DEFAULT_LATE_SHARE = 0.0  # grades given only in the week after the audit's week
SECOND_AGREES = 0.8  # a second reviewer gives the first one's grade
OFFSETS: tuple[float, ...] = (0.05, 0.03, -0.10, -0.20)
DRIFT_GOOD_WEEKS, DRIFT_BEFORE, DRIFT_AFTER = 6, 0.05, -0.15
FIRST_MONDAY = datetime(2026, 1, 5, 12, tzinfo=UTC)  # the first simulated week is 2026-W02
# The goals of issue 13 (tests/unit/test_policy_sim.py holds the defaults to them).
GOALS = {
    "false alarms at +0.05": "escalated_share <= 2%",
    "false alarms at +0.03": "escalated_share <= 5%",
    "-0.10": "median <= 3 weeks",
    "-0.20": "median <= 2 weeks, p95 <= 4",
    "drift": "median <= 3 weeks after the drop",
    "load at +0.05": "<= 6 samples per trainer-week",
}

Offset = float | str  # a number, or "drift"


@dataclass(frozen=True)
class Check:
    """One decision of a replay: when (week index from 1, and the event's order), the
    standing's state, and the escalation afterwards."""

    week: int
    state: str
    escalation_open: bool


@dataclass(frozen=True)
class Replay:
    """One simulated trainer: every sample (with its grades and their arrival), the audit
    sizes, and every check's decision."""

    weeks: list[str]  # ISO week labels, the simulated ones (index 0 = week 1)
    samples: list[tuple[int, int, tuple[str, ...]]]  # (sample id, week index, grades)
    # Grade arrivals in order: (week index it arrives in, sample id, the grade)
    arrivals: list[tuple[int, int, str]]
    checks: list[Check]
    sizes: list[int]
    notices: int  # watch FYIs to the lead


@dataclass(frozen=True)
class SimRow:
    task_type: str
    offset: Offset
    double_review: bool
    runs: int
    weeks: int
    escalated_share: float
    median_weeks: int | None
    p95_weeks: int | None
    samples_per_trainer_week: float
    watch_notices_per_quarter: float  # lead FYIs per trainer, scaled to 13 weeks

    def as_json(self) -> dict[str, Any]:
        return {"task_type": self.task_type, "offset": self.offset,
                "double_review": self.double_review,
                "escalated_share": round(self.escalated_share, 6),
                "median_weeks": self.median_weeks, "p95_weeks": self.p95_weeks,
                "samples_per_trainer_week": round(self.samples_per_trainer_week, 4),
                "runs": self.runs, "weeks": self.weeks}


def error_shares(scale: Scale, major_share: float) -> tuple[float, ...]:
    """Of every error, the share each level of ``scale`` takes (0 for the pass):
    ``major_share`` spread evenly over the severe levels, the rest over the other non-pass
    levels (all to one group when the other is empty)."""
    severe = [k for k in scale.non_pass if scale.is_severe(k)]
    mild = [k for k in scale.non_pass if not scale.is_severe(k)]
    if not severe:
        severe, mild, major_share = mild, [], 1.0
    elif not mild:
        major_share = 1.0
    return (0.0, *((major_share / len(severe) if k in severe else
                    (1 - major_share) / len(mild)) for k in scale.non_pass))


def grade_probabilities(true_score: float, policy: Policy, *,
                        major_share: float = DEFAULT_MAJOR_SHARE) -> tuple[float, ...]:
    """One probability per level of ``policy.scale`` (best first) whose expected sample
    score is ``true_score``: on the default scale ``(p_pass, p_minor, p_major)``.

    Errors are split as ``error_shares`` says (``1 - major_share`` Minor to ``major_share``
    Major on the default scale); passes fill the rest. A score too low for that split with
    no passes at all is reached with no passes and a mix of the mildest and the worst
    error. ``ValueError`` outside [weight of the worst grade, weight of pass].
    """
    scale = policy.scale
    weights = [policy.weight(g) for g in scale.keys]
    wp, wM = weights[0], weights[-1]
    if not 0 <= major_share <= 1:
        raise ValueError(f"major_share must be between 0 and 1 (got {major_share})")
    if not wM - 1e-12 <= true_score <= wp + 1e-12:
        raise ValueError(f"true score {true_score:g} is outside the possible range "
                         f"[{wM:g}, {wp:g}] of these grade weights")
    shares = error_shares(scale, major_share)
    nothing = (1.0, *(0.0 for _ in scale.non_pass))
    per_error = sum(share * (wp - w) for share, w in zip(shares[1:], weights[1:], strict=True))
    if per_error <= 0:  # all errors cost nothing: every score is the pass weight
        return nothing
    errors = (wp - true_score) / per_error
    if errors <= 1:
        errors = max(errors, 0.0)
        return (1 - errors, *(share * errors for share in shares[1:]))
    wm = weights[1]
    mildest = (true_score - wM) / (wm - wM) if wm > wM else 0.0
    mildest = min(max(mildest, 0.0), 1.0)
    if len(weights) == 2:
        return 0.0, 1.0
    return (0.0, mildest, *(0.0 for _ in weights[2:-1]), 1 - mildest)


def _draw(rng: random.Random, probs: Sequence[float], scale: Scale) -> str:
    x = rng.random()
    below = 0.0
    for key, p in zip(scale.keys[:-1], probs, strict=False):
        below += p
        if x < below:
            return key
    return scale.worst


def _label(week: int) -> str:
    """The ISO week of simulated week ``week`` (1 = the first; 0 and below: before it)."""
    return iso_week(FIRST_MONDAY + timedelta(weeks=week - 1))


def replay(policy: Policy, true_score: Callable[[int], float], *, weeks: int,
           rng: random.Random, double_review: bool, late_share: float = DEFAULT_LATE_SHARE,
           major_share: float = DEFAULT_MAJOR_SHARE) -> Replay:
    """One trainer through the live decision, week by week (see the module docstring)."""
    span = decision_weeks(policy)
    labels = {w: _label(w) for w in range(1 - span, weeks + 1)}
    samples: dict[int, GradedSample] = {}
    week_of: dict[int, int] = {}
    arrivals: list[tuple[int, int, str]] = []
    checks: list[Check] = []
    sizes: list[int] = []
    previous: str | None = None
    escalation_open = False
    notices = 0
    noticed_weeks: set[int] = set()
    late: list[tuple[float, int, str]] = []  # grades of last week arriving this week

    def at(week: int, prior: str | None) -> Standing:
        first = week - span + 1
        names = [labels[w] for w in range(first, week + 1)]
        cut = len(names) - policy.window_weeks
        return standing([s for sid, s in samples.items() if week_of[sid] >= first],
                        policy, weeks=names[cut:], before=names[:cut], previous=prior)

    def check(week: int) -> None:
        nonlocal previous, escalation_open, notices
        current = at(week, previous)
        if current.state == "escalate" and not escalation_open:
            escalation_open = True
        elif escalation_open and current.recovered:
            escalation_open = False
        elif (watch_notice_due(previous, current, escalation_open)
              and week not in noticed_weeks):
            noticed_weeks.add(week)
            notices += 1
        previous = current.state
        checks.append(Check(week, current.state, escalation_open))

    next_id = 0
    for week in range(1, weeks + 1):
        check(week)  # Monday 00:00: the week boundary
        size = samples_for_next_audit(at(week - 1, None), policy,
                                      escalation_open=escalation_open)
        sizes.append(size)
        probs = grade_probabilities(true_score(week), policy, major_share=major_share)
        fraction = policy.double_review_fraction if double_review else 0.0
        doubles = double_review_positions(size, fraction=fraction,
                                          seed=f"{rng.getrandbits(64):016x}")
        events = late
        late = []
        for position in range(size):
            sid, next_id = next_id, next_id + 1
            samples[sid] = GradedSample(sid, labels[week], ())
            week_of[sid] = week
            deserved = _draw(rng, probs, policy.scale)
            grades = [deserved]
            if position in doubles:
                grades.append(deserved if rng.random() < SECOND_AGREES
                              else _draw(rng, probs, policy.scale))
            for grade in grades:
                (late if rng.random() < late_share else events).append(
                    (rng.random(), sid, grade))
        for _, sid, grade in sorted(events):
            old = samples[sid]
            samples[sid] = dataclasses.replace(old, grades=(*old.grades, grade))
            arrivals.append((week, sid, grade))
            check(week)
    return Replay(weeks=[labels[w] for w in range(1, weeks + 1)],
                  samples=[(sid, week_of[sid], s.grades) for sid, s in samples.items()],
                  arrivals=arrivals, checks=checks, sizes=sizes, notices=notices)


def _percentile(values: list[float], q: float, horizon: int) -> int | None:
    """The ``q`` quantile (inverted CDF) of whole weeks; None when beyond ``horizon``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    value = ordered[index]
    return int(value) if value <= horizon else None


def simulate_row(policy: Policy, offset: Offset, *, runs: int, seed: int,
                 double_review: bool, task_type: str = "", weeks: int = QUARTER_WEEKS,
                 late_share: float = DEFAULT_LATE_SHARE,
                 major_share: float = DEFAULT_MAJOR_SHARE) -> SimRow:
    """``runs`` trainers of one row (an offset from the threshold, or ``"drift"``)."""
    if runs < 1 or weeks < 1:
        raise ValueError("runs and weeks must be at least 1")
    t = policy.pass_threshold
    drift = offset == "drift"
    if drift:
        def true_score(week: int) -> float:
            return t + (DRIFT_BEFORE if week <= DRIFT_GOOD_WEEKS else DRIFT_AFTER)
    else:
        assert isinstance(offset, float | int)
        fixed = t + float(offset)

        def true_score(week: int) -> float:
            return fixed
    fraction = policy.double_review_fraction if double_review else 0.0
    rng = random.Random(f"{seed}:{offset}:{fraction}:{weeks}")  # equal runs, equal figures
    when: list[float] = []
    samples = notices = 0
    horizon = weeks - DRIFT_GOOD_WEEKS if drift else weeks
    for _ in range(runs):
        run = replay(policy, true_score, weeks=weeks, rng=rng, double_review=double_review,
                     late_share=late_share, major_share=major_share)
        samples += sum(run.sizes)
        notices += run.notices
        if drift:
            caught = [c.week - DRIFT_GOOD_WEEKS for c in run.checks
                      if c.week > DRIFT_GOOD_WEEKS and c.escalation_open]
        else:
            caught = [c.week for c in run.checks if c.escalation_open]
        when.append(caught[0] if caught else float("inf"))
    return SimRow(task_type=task_type, offset=offset, double_review=double_review, runs=runs,
                  weeks=weeks, escalated_share=sum(w <= horizon for w in when) / runs,
                  median_weeks=_percentile(when, 0.5, horizon),
                  p95_weeks=_percentile(when, 0.95, horizon),
                  samples_per_trainer_week=samples / (runs * weeks),
                  watch_notices_per_quarter=notices / runs * QUARTER_WEEKS / weeks)


def simulate_rows(policy: Policy, *, runs: int, seed: int, double_review: bool,
                  task_type: str = "", weeks: int = QUARTER_WEEKS,
                  late_share: float = DEFAULT_LATE_SHARE) -> list[SimRow]:
    """The issue's rows for one policy: the offsets that grades can reach, then the drift."""
    wp, wM = policy.weight(policy.scale.best), policy.weight(policy.scale.worst)
    offsets: list[Offset] = [o for o in OFFSETS if wM <= policy.pass_threshold + o <= wp]
    if (wM <= policy.pass_threshold + DRIFT_AFTER
            and policy.pass_threshold + DRIFT_BEFORE <= wp):
        offsets.append("drift")
    return [simulate_row(policy, o, runs=runs, seed=seed, double_review=double_review,
                         task_type=task_type, weeks=weeks, late_share=late_share)
            for o in offsets]


def _error_mix(scale: Scale) -> str:
    """``2 Minor issue : 1 Major error``: how the simulated errors split over the levels."""
    shares = error_shares(scale, DEFAULT_MAJOR_SHARE)[1:]
    smallest = min(s for s in shares if s > 0)
    return " : ".join(f"{share / smallest:g} {scale.label_of(key)}"
                      for key, share in zip(scale.non_pass, shares, strict=True) if share > 0)


def _weeks(value: int | None, horizon: int) -> str:
    return str(value) if value is not None else f">{horizon}"


def _offset(row: SimRow) -> str:
    if row.offset == "drift":
        return (f"drift {DRIFT_BEFORE:+.2f}→{DRIFT_AFTER:+.2f} after wk {DRIFT_GOOD_WEEKS}")
    assert isinstance(row.offset, float | int)
    return f"{row.offset:+.2f}"


def format_table(rows: Sequence[SimRow], policy: Policy, *,
                 late_share: float = DEFAULT_LATE_SHARE) -> str:
    """The table ``auditbot policy simulate`` prints for one policy, assumptions above."""
    if not rows:
        return "No rows to simulate."
    sizes = sample_sizes(policy)
    pct = f"{policy.escalation_confidence:.0%}"
    first = rows[0]
    lines = [
        f"Rule (bot.services.scoring.standing, the live function): watch below "
        f"{policy.pass_threshold:g} on at least {policy.min_graded} graded, until "
        f"{policy.pass_threshold + policy.watch_margin:g}; escalate when the exact upper "
        f"{pct} bound of a full {policy.window_weeks}-week window ending at a fully graded "
        f"week is below {policy.pass_threshold:g} (at least {policy.min_graded} graded), "
        + (f"or on {policy.severe_majors} {policy.scale.named(policy.scale.severe)} samples "
           "in a week" if policy.severe_majors
           else "no severe-drop rule") + f"; recover when the lower {pct} bound is at or above.",
        f"Samples per trainer-week: {sizes['reduced']} reduced, {sizes['normal']} normal, "
        f"{sizes['tightened']} tightened. {first.runs} simulated trainers per row "
        f"(the issue's reference: {REFERENCE_RUNS}), {first.weeks} weeks; errors "
        f"{_error_mix(policy.scale)}; {late_share:.0%} of grades a week late; checks after "
        "every grade and at every week boundary.",
        "",
    ]
    header = ("double review", "vs threshold", f"escalated ≤{first.weeks} wk", "median wk",
              "95th pct wk", "samples/trainer-wk", "watch FYIs/qtr")
    table = [header]
    for r in rows:
        horizon = r.weeks - DRIFT_GOOD_WEEKS if r.offset == "drift" else r.weeks
        table.append(("on" if r.double_review else "off", _offset(r),
                      f"{r.escalated_share:.1%}", _weeks(r.median_weeks, horizon),
                      _weeks(r.p95_weeks, horizon), f"{r.samples_per_trainer_week:.1f}",
                      f"{r.watch_notices_per_quarter:.2f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths,
                                                                          strict=True)))
    lines += ["", "Weeks count from the trainer's first audited week (drift: from the drop); "
              "'>N': not reached within N weeks.",
              "Goals: " + "; ".join(f"{k}: {v}" for k, v in GOALS.items()) + "."]
    return "\n".join(lines)


def run_policy_simulate_rows(workspace: Workspace, *, runs: int, seed: int,
                             late_share: float = DEFAULT_LATE_SHARE
                             ) -> list[tuple[str, Policy, list[SimRow]]]:
    """Every task type's rows, double review on and off (equal policies computed once)."""
    task_types = [(t.key, t.policy) for t in workspace.task_types] or [
        ("", workspace.policy)]
    done: dict[Policy, list[SimRow]] = {}
    result = []
    for key, policy in task_types:
        rows = []
        for double_review in (False, True):
            # Double review off is a fraction of 0: task types that differ only there, or
            # whose fraction is 0 anyway, share one computation.
            effective = dataclasses.replace(policy, double_review_fraction=(
                policy.double_review_fraction if double_review else 0.0))
            cached = done.get(effective)
            if cached is None:
                cached = done[effective] = simulate_rows(
                    effective, runs=runs, seed=seed, double_review=True,
                    late_share=late_share)
            rows += [dataclasses.replace(r, task_type=key, double_review=double_review)
                     for r in cached]
        result.append((key, policy, rows))
    return result


def run_policy_simulate(workspace: Workspace, *, runs: int, seed: int,
                        late_share: float = DEFAULT_LATE_SHARE) -> str:
    """What ``auditbot policy simulate`` prints: one table per task type."""
    sections = []
    for key, policy, rows in run_policy_simulate_rows(workspace, runs=runs, seed=seed,
                                                      late_share=late_share):
        title = f"Task type {key}" if key else "Workspace policy"
        sections.append(f"{title} (pass_threshold {policy.pass_threshold:g})\n"
                        + format_table(rows, policy, late_share=late_share))
    return "\n\n".join(sections)
