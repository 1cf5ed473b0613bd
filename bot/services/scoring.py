"""A trainer's standing on one task type: score, confidence bounds and the decision rule.

Pure: grades and the policy in, plain frozen data out. No database, no Slack.

    weeks = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]       # the window, oldest first
    samples = [GradedSample(sample_id=7, week="2026-W48", grades=("pass", "minor")), ...]
    s = standing(samples, policy, weeks=weeks)
    s.state        # "ok" | "watch" | "escalate" | "insufficient"
    s.score, s.lower, s.upper, s.reason, s.recovered, s.weekly
    samples_for_next_audit(s, policy, escalation_open=False)       # 3, 5 or 10 by default

The score
---------
Each sample counts once: its score is the mean of ``grade_weights`` over its reviewers'
latest grades (a double-reviewed pass + minor scores 0.75 by default). The window's score is
the mean over its graded samples; the pass rate is the same mean with pass = 1 and
minor = major = 0. ``counts`` tallies the reviewers' latest grades (a double-reviewed
sample contributes two). A sample *counts as Major* when more than half of its reviewers'
latest grades are Major (one reviewer: theirs; two: both; a settling third grade decides).

The bounds
----------
``lower`` and ``upper`` are one-sided bounds at ``escalation_confidence`` each (default
95%: the true score is below ``upper`` with 95% confidence, above ``lower`` with 95%;
together they form a 90% two-sided interval). They are Wilson score bounds, treating the
mean sample score like a proportion over the ``graded`` samples. Why Wilson with the
Bernoulli variance:

* a sample score lies in [0, 1], and among all variables on [0, 1] with mean ``p`` the
  Bernoulli one has the largest variance, ``p(1 - p)``. Bounds built on that variance hold
  (conservatively) whatever the mix of minor and major errors, which we do not know; the
  test ``|mean - p| <= z sqrt(p(1 - p) / n)`` is the Wilson interval, inverted in closed
  form (what ``scipy.stats.binomtest(...).proportion_ci(method="wilson")`` returns for
  whole counts);
* unlike a t-interval or a bootstrap it behaves at the edges that matter here: ten passes
  out of ten give bounds (0.79, 1.0) at 95%, not the absurd (1.0, 1.0), and it never
  leaves [0, 1];
* it always contains the point score and needs no random numbers (a bootstrap would make
  the bot's decision depend on a seed).

The tests check its coverage on simulated grades of several minor/major mixes.

The rule
--------
In this order, over the window's graded samples (``graded``) and ``pass_threshold``:

1. no graded sample: **insufficient**.
2. a *severe drop*: some ISO week of the window has ``severe_majors`` or more samples that
   count as Major (``severe_majors = 0`` turns this off): **escalate** at once, even below
   ``min_graded``. (This is the only way to escalate on fewer than ``min_graded``.)
3. the confidence test (see "Settled weeks" below), over the window up to its newest fully
   graded week, has ``graded >= min_graded`` and ``upper < pass_threshold`` (confidently
   below): **escalate**.
4. ``score < pass_threshold`` (below, but not confidently, too few graded, or the newest
   week is still being graded): **watch**. The lead gets a quiet FYI and sampling is
   tightened, which gathers the evidence fast.
5. ``graded < min_graded``: **insufficient** (at or above the threshold on little data).
6. otherwise **ok**.

``recovered`` is the same rule reversed: the test taken, ``graded >= min_graded`` in it,
``lower >= pass_threshold`` (confidently at or above), no severe week in the window, and the
score with the weeks still being graded not below the threshold. An
open escalation closes itself when a check finds ``recovered``; between the two bounds it
stays open (hysteresis: an escalation does not flap open and shut around the threshold).

Settled weeks. The threshold is checked after every grade, but the confidence test is
taken once per week: over the window's weeks up to its newest *fully graded* one (every
audited sample has a grade). Testing after each grade would test every partial week as
well, and each extra look is another chance of a false alarm (with 5 samples a week,
checking after every grade roughly triples the false alarms of a quarter). So pass the
window's *ungraded* samples too (``grades=()``): they are how the rule knows a week is not
done. Weeks after the newest fully graded one (still being graded, or without samples yet)
count for the score and "watch" but not for the test; so a test, once taken, stands until
the next week is done, and reviewers who grade a week late still get one. ``settled`` says
whether the newest week itself is done; ``tested_through`` names the week the test ran to.

Sampling (acceptance-sampling style, like ISO 2859's normal / tightened / reduced):
**tightened** (``samples_per_trainer * tightened_factor``) on watch or escalate, and while an
escalation is open; **reduced** (``* reduced_factor``) after a clean record: recovered, every
week of the window graded, and no sample counting as Major in it; **normal** otherwise.
Compute the standing for ``samples_for_next_audit`` over the window that ends with the
week just finished (the one before the week being planned).

``bot.services.policy_sim`` runs this rule on simulated trainers (``auditbot policy
simulate``) and reports its false alarms, its time to escalation and the reviewers' load.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, TypedDict, TypeVar

from bot.workspace.model import GRADES, FrozenMap, Policy
from bot.workspace.policy import MAX_SAMPLES_PER_TRAINER

State = Literal["ok", "watch", "escalate", "insufficient"]
Sampling = Literal["reduced", "normal", "tightened"]
Number = TypeVar("Number")  # a float, or a numpy array of them (the simulation's case)


@dataclass(frozen=True)
class GradedSample:
    """One audited sample: its ISO week (``2026-W48``) and each reviewer's latest grade.

    ``grades`` is empty while nobody has graded it: such a sample adds nothing to the
    score, but tells the rule that its week is not fully graded yet.
    """

    sample_id: int
    week: str
    grades: tuple[str, ...]


@dataclass(frozen=True)
class WeekScore:
    """One ISO week of the window. ``score``, ``pass_rate`` and the bounds are ``None``
    when nothing of that week is graded; the bounds use the policy's confidence."""

    week: str
    audited: int  # samples of the week given, graded or not
    graded: int
    counts: FrozenMap  # reviewers' latest grades by grade
    majors: int  # samples counting as Major
    score: float | None
    pass_rate: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Standing:
    """A trainer's standing on one task type over the window (see the module docstring)."""

    state: State
    score: float | None
    lower: float | None  # one-sided bound at ``confidence``
    upper: float | None  # one-sided bound at ``confidence``
    graded: int
    counts: FrozenMap  # reviewers' latest grades by grade, over the window
    pass_rate: float | None
    weekly: tuple[WeekScore, ...]  # one per week of the window, oldest first
    sampling: Sampling  # for the next audit (``samples_for_next_audit``)
    reason: str  # one sentence for people: the numbers and why this state
    recovered: bool  # confidently at or above the threshold: an open escalation closes
    threshold: float
    confidence: float  # escalation_confidence, of each bound: [lower, upper] is a
    #                    (2 * confidence - 1) two-sided interval
    settled: bool  # the newest week is fully graded
    severe_week: str | None = None  # a week with ``severe_majors`` Major samples, if any
    # The confidence test, over the window up to its newest fully graded week (None: not
    # taken, no week fully graded or too few graded up to it); escalate/recover follow it.
    tested_through: str | None = None
    tested_upper: float | None = None
    tested_lower: float | None = None


def z_value(confidence: float) -> float:
    """The standard normal quantile for a one-sided bound: 1.645 at 95%."""
    return NormalDist().inv_cdf(confidence)


def wilson_bounds(total: Number, n: Number, z: float) -> tuple[Number, Number]:
    """One-sided Wilson score bounds ``(lower, upper)`` for a mean of ``total / n``.

    ``total`` is the sum of ``n`` sample scores in [0, 1]; ``n > 0``. Works element-wise on
    numpy arrays too (only arithmetic), so the simulation uses this very function.
    """
    p = total / n  # type: ignore[operator]
    z2n = z * z / n  # type: ignore[operator]
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * (p * (1 - p) / n + z2n / (4 * n)) ** 0.5  # type: ignore[operator]
    return centre - half, centre + half


def bounds(total: float, n: int, z: float) -> tuple[float, float]:
    """``wilson_bounds`` for one mean, clamped so ``0 <= lower <= total / n <= upper <= 1``
    exactly (the closed form can miss by a rounding error at the edges)."""
    lower, upper = wilson_bounds(total, n, z)
    p = total / n
    return max(0.0, min(lower, p)), min(1.0, max(upper, p))


def sample_score(grades: Sequence[str], policy: Policy) -> float:
    """The mean weight of a sample's reviewers' latest grades."""
    return sum(policy.weight(g) for g in grades) / len(grades)


def counts_as_major(grades: Sequence[str]) -> bool:
    """More than half of the reviewers' latest grades are Major."""
    return 2 * sum(g == "major" for g in grades) > len(grades)


def sample_sizes(policy: Policy) -> dict[Sampling, int]:
    """How many samples a week's audit draws per trainer in each sampling mode."""
    def scaled(factor: float) -> int:
        # Round half up; the epsilon absorbs float noise (5 * 0.6 is 3.0000000000000004).
        exact = policy.samples_per_trainer * factor
        return max(1, min(MAX_SAMPLES_PER_TRAINER, math.floor(exact + 0.5 + 1e-9)))

    return {"reduced": min(policy.samples_per_trainer, scaled(policy.reduced_factor)),
            "normal": policy.samples_per_trainer,
            "tightened": max(policy.samples_per_trainer, scaled(policy.tightened_factor))}


def samples_for_next_audit(current: Standing, policy: Policy, *,
                           escalation_open: bool = False) -> int:
    """Samples to draw for this trainer in the next weekly audit.

    ``current`` is the standing over the window ending with the week just finished. An
    open escalation keeps sampling tightened until it is closed, so recovery (or the lack
    of it) shows quickly.
    """
    mode: Sampling = "tightened" if escalation_open else current.sampling
    return sample_sizes(policy)[mode]


@dataclass
class _Tally:
    """Running sums over some samples."""

    audited: int = 0
    graded: int = 0
    total: float = 0.0
    passes: float = 0.0
    majors: int = 0

    def add(self, grades: Sequence[str], policy: Policy) -> None:
        self.audited += 1
        if not grades:
            return
        self.graded += 1
        self.total += sample_score(grades, policy)
        self.passes += sum(g == "pass" for g in grades) / len(grades)
        self.majors += counts_as_major(grades)


class _Window(TypedDict):
    """The fields of a ``Standing`` that ``standing`` sets the same way in every state."""

    graded: int
    weekly: tuple[WeekScore, ...]
    threshold: float
    confidence: float
    settled: bool
    severe_week: str | None
    counts: FrozenMap


def standing(samples: Iterable[GradedSample], policy: Policy, *,
             weeks: Sequence[str]) -> Standing:
    """The trainer's standing over ``weeks`` (the window's ISO weeks, oldest first).

    ``samples``: the window's audited samples, graded or not (see "Settled weeks" above);
    samples of other weeks are ignored. ``ValueError`` on an unknown grade, or a sample or
    week listed twice.
    """
    if not weeks:
        raise ValueError("weeks must name at least one ISO week")
    if len(set(weeks)) != len(weeks):
        raise ValueError(f"weeks listed twice in {list(weeks)}")
    z = z_value(policy.escalation_confidence)
    by_week = {w: _Tally() for w in weeks}
    week_counts: dict[str, Counter[str]] = {w: Counter() for w in weeks}
    seen: set[int] = set()
    for sample in samples:
        if sample.sample_id in seen:
            raise ValueError(f"sample {sample.sample_id} listed twice")
        seen.add(sample.sample_id)
        unknown = [g for g in sample.grades if g not in GRADES]
        if unknown:
            raise ValueError(f"sample {sample.sample_id}: unknown grade {unknown[0]!r}")
        if sample.week in by_week:
            by_week[sample.week].add(sample.grades, policy)
            week_counts[sample.week].update(sample.grades)

    weekly = tuple(_week_score(w, by_week[w], week_counts[w], z) for w in weeks)
    graded = sum(t.graded for t in by_week.values())
    total = sum(t.total for t in by_week.values())
    newest = by_week[weeks[-1]]
    # The confidence test covers the window up to its newest fully graded week: weeks after
    # it (still being graded, or with no samples yet) wait until they are done, so the test
    # is taken once per week, never on a partial week, and reviewers a week behind still
    # get one (the newest week need not be the one that finished).
    tested = next((i for i in range(len(weeks) - 1, -1, -1)
                   if by_week[weeks[i]].audited
                   and by_week[weeks[i]].graded == by_week[weeks[i]].audited), None)
    settled = tested == len(weeks) - 1
    severe_week = next((w for w in weeks if policy.severe_majors
                        and by_week[w].majors >= policy.severe_majors), None)
    common: _Window = {
        "graded": graded, "weekly": weekly, "threshold": policy.pass_threshold,
        "confidence": policy.escalation_confidence, "settled": settled,
        "severe_week": severe_week,
        "counts": FrozenMap({g: sum(c[g] for c in week_counts.values()) for g in GRADES}),
    }
    if graded == 0:
        span = weeks[0] if len(weeks) == 1 else f"{weeks[0]}–{weeks[-1]}"
        return Standing(state="insufficient", score=None, lower=None, upper=None,
                        pass_rate=None, sampling="normal", recovered=False,
                        reason=f"no graded samples in {span}", **common)

    score = total / graded
    lower, upper = bounds(total, graded, z)
    threshold = policy.pass_threshold
    enough = graded >= policy.min_graded
    test = _confidence_test(by_week, weeks, tested, policy, z)
    # Recovered on the weeks that are done, and not below on a week still being graded.
    recovered = (test is not None and test.lower >= threshold and severe_week is None
                 and score >= threshold)
    state: State
    if severe_week is not None or (test is not None and test.upper < threshold):
        state = "escalate"
    elif score < threshold:
        state = "watch"
    elif not enough:
        state = "insufficient"
    else:
        state = "ok"
    sampling: Sampling
    if state in ("watch", "escalate"):
        sampling = "tightened"
    elif (recovered and all(t.majors == 0 for t in by_week.values())
          and all(t.graded for t in by_week.values())):
        sampling = "reduced"
    else:
        sampling = "normal"
    reason = _reason(state, policy, score=score, lower=lower, upper=upper, graded=graded,
                     recovered=recovered, week=weeks[-1], pending=newest.audited - newest.graded,
                     severe=(severe_week, by_week[severe_week].majors) if severe_week else None,
                     test=test)
    return Standing(state=state, score=score, lower=lower, upper=upper,
                    pass_rate=sum(t.passes for t in by_week.values()) / graded,
                    sampling=sampling, recovered=recovered, reason=reason,
                    tested_through=test.through if test else None,
                    tested_upper=test.upper if test else None,
                    tested_lower=test.lower if test else None, **common)


@dataclass(frozen=True)
class _Test:
    """The confidence test over the window's weeks up to ``through`` (fully graded)."""

    through: str
    graded: int
    lower: float
    upper: float


def _confidence_test(by_week: dict[str, "_Tally"], weeks: Sequence[str], tested: int | None,
                     policy: Policy, z: float) -> _Test | None:
    """None when no week is fully graded yet or too few samples are graded up to it."""
    if tested is None:
        return None
    upto = [by_week[w] for w in weeks[:tested + 1]]
    graded = sum(t.graded for t in upto)
    if graded == 0 or graded < policy.min_graded:
        return None
    lower, upper = bounds(sum(t.total for t in upto), graded, z)
    return _Test(weeks[tested], graded, lower, upper)


def _week_score(week: str, tally: _Tally, counts: Counter[str], z: float) -> WeekScore:
    frozen = FrozenMap({g: counts[g] for g in GRADES})
    if not tally.graded:
        return WeekScore(week=week, audited=tally.audited, graded=0, counts=frozen, majors=0,
                         score=None, pass_rate=None, lower=None, upper=None)
    lower, upper = bounds(tally.total, tally.graded, z)
    return WeekScore(week=week, audited=tally.audited, graded=tally.graded, counts=frozen,
                     majors=tally.majors, score=tally.total / tally.graded,
                     pass_rate=tally.passes / tally.graded, lower=lower, upper=upper)


def _num(value: float, threshold: float) -> str:
    """Two decimals, or as many as it takes not to print a value equal to the threshold."""
    for places in (2, 3, 4):
        text = f"{value:.{places}f}"
        if value == threshold or text != f"{threshold:.{places}f}":
            return text
    return f"{value:.4f}"


def _reason(state: State, policy: Policy, *, score: float, lower: float, upper: float,
            graded: int, recovered: bool, week: str, pending: int,
            severe: tuple[str, int] | None, test: _Test | None) -> str:
    t = policy.pass_threshold
    pct = f"{policy.escalation_confidence:.0%}"
    base = f"score {_num(score, t)} over {graded} graded sample{'s' if graded != 1 else ''}"
    if severe is not None:
        severe_week, majors = severe
        return (f"{majors} samples graded Major in {severe_week} (a severe drop: "
                f"{policy.severe_majors} in one week escalate at once); {base}")
    if state == "escalate" and test is not None:
        if test.through == week:
            return (f"{base}; even its upper {pct} bound {_num(test.upper, t)} is below the "
                    f"threshold {t:g}")
        return (f"{base}; through {test.through} (fully graded; {week} is still being "
                f"graded) even the upper {pct} bound {_num(test.upper, t)} over "
                f"{test.graded} graded is below the threshold {t:g}")
    if state == "watch":
        if graded < policy.min_graded:
            why = f"only {graded} graded, escalation needs {policy.min_graded}"
        elif upper < t:  # confidently below, but the newest week is not settled
            left = (f"{pending} sample{'s' if pending != 1 else ''} left to grade" if pending
                    else "no samples yet")
            why = (f"upper {pct} bound {_num(upper, t)}; escalation is decided once {week} "
                   f"is fully graded, {left}")
        else:
            why = f"not confidently: upper {pct} bound {_num(upper, t)}"
        return f"{base} is below the threshold {t:g} ({why}): on watch, sampling tightened"
    if state == "insufficient":
        return (f"{base}, at or above the threshold {t:g}, but too few to judge "
                f"({policy.min_graded} needed)")
    if recovered and test is not None:
        return (f"{base}; its lower {pct} bound {_num(test.lower, t)} is at or above the "
                f"threshold {t:g}" + (f" (through {test.through}, fully graded)"
                                      if test.through != week else ""))
    return (f"{base} is at or above the threshold {t:g} (not confidently: lower {pct} bound "
            f"{_num(lower, t)})")
