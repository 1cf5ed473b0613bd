"""A trainer's standing on one task type: score, confidence bounds and the decision rule.

Pure: grades and the policy in, plain frozen data out. No database, no Slack.

    weeks = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]       # the window, oldest first
    before = ["2026-W42", "2026-W43", "2026-W44"]  # for the confidence test (decision_weeks)
    samples = [GradedSample(sample_id=7, week="2026-W48", grades=("pass", "minor")), ...]
    s = standing(samples, policy, weeks=weeks, before=before, previous="ok")
    s.state        # "ok" | "watch" | "escalate" | "insufficient"
    s.score, s.lower, s.upper, s.reason, s.recovered, s.weekly
    samples_for_next_audit(s, policy, escalation_open=False)       # 3, 5 or 10 by default
    # Many trainers at once, their samples counted by (week, grades): the tallies' form.
    by_trainer = standings({"U0T1": {("2026-W48", ("minor", "pass")): 2}, ...}, policy,
                           weeks=weeks, before=before)

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
``lower`` and ``upper`` are one-sided bounds at ``escalation_confidence`` each (the true
score is below ``upper`` with that confidence, above ``lower`` with it; together a
``2 * confidence - 1`` two-sided interval). They are the exact binomial (Clopper–Pearson)
bounds, taken at the whole count on the safe side of the summed score (``bounds``): exact
when every grade scores 0 or 1 (all-Major errors, the worst case), conservative for other
mixes, which have less variance at the same mean. The Wilson bound used before fell to
85–88% coverage at all-Major errors. They need no random numbers (a bootstrap would make
the decision depend on a seed), never leave [0, 1], and ten passes out of ten give a lower
bound of 0.74, not 1. tests/unit/test_scoring.py checks their coverage by simulation over
true scores 0.5–0.99, 3–60 samples and every mix from all-Minor to all-Major.

The rule
--------
In this order, over the window's graded samples (``graded``) and ``pass_threshold``:

1. no graded sample: **insufficient**.
2. a *severe drop*: some ISO week of the window has ``severe_majors`` or more samples that
   count as Major (``severe_majors = 0`` turns this off): **escalate** at once, even below
   ``min_graded``. (This is the only way to escalate on fewer than ``min_graded``.)
3. the confidence test (see "Complete evidence" below) has ``graded >= min_graded`` and
   ``upper < pass_threshold`` (confidently below): **escalate**.
4. ``graded >= min_graded`` and ``score < pass_threshold`` (below, not confidently, or the
   newest week is still being graded): **watch**. The lead gets a quiet FYI
   (``watch_notice_due``, at most once per ISO week: ``watch_notice_key``). Watch holds
   (given the ``previous`` state) until the score is at least ``pass_threshold +
   watch_margin``: it does not flap on and off as grades arrive.
5. ``graded < min_graded``: **insufficient** (too few to judge either way).
6. otherwise **ok**.

``recovered`` is the same rule reversed: the test taken, ``graded >= min_graded`` in it,
``lower >= pass_threshold`` (confidently at or above), no severe week in the window, and the
score with the weeks still being graded not below the threshold. An
open escalation closes itself when a check finds ``recovered``; between the two bounds it
stays open (hysteresis: an escalation does not flap open and shut around the threshold).

Complete evidence. The threshold is checked after every grade and on a schedule, but the
confidence test is only taken on a full window (``window_weeks`` weeks) that ends at the
newest *fully graded* week of the current window (every audited sample of it has a grade),
so it changes only when a week's last grade arrives. Weeks after it (still being graded,
or without samples yet, like the new week at Monday 00:00) count for the score and watch,
never for the test, and do not shift its window: a week boundary alone never creates a new
test (each extra look is another chance of a false alarm). The live check therefore passes
the ``window_weeks - 1`` weeks before the window too (``before``; ``decision_weeks``) and the
window's *ungraded* samples too (``grades=()``): they are how the rule knows a week is not
done. Given only the window, the test is cut to the part of it up to that week.
``settled`` says whether the newest week itself is done; ``tested_through`` names the week
the test ran to.

Sampling (acceptance-sampling style, like ISO 2859's normal / tightened / reduced):
**tightened** (``samples_per_trainer * tightened_factor``) below the threshold (on any
number of grades), on watch or escalate, and while an escalation is open; **reduced**
(``* reduced_factor``) after a clean record: recovered, every week of the window graded,
and no sample counting as Major in it; **normal** otherwise.
Compute the standing for ``samples_for_next_audit`` over the window that ends with the
week just finished (the one before the week being planned).

``bot.services.policy_sim`` calls this very function on simulated trainers with the live
bot's inputs and timing (``auditbot policy simulate``) and reports its false alarms, its
time to escalation and the reviewers' load.
"""

import functools
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypedDict, TypeVar

from bot.common.grades import DEFAULT_SCALE, Scale
from bot.workspace.model import FrozenMap, Policy
from bot.workspace.policy import MAX_SAMPLES_PER_TRAINER

State = Literal["ok", "watch", "escalate", "insufficient"]
Sampling = Literal["reduced", "normal", "tightened"]


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
    tested_weeks: tuple[WeekScore, ...] = ()  # the test's weeks, oldest first (for display)


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (no overflow for large n)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    lp, lq, lf = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    return min(1.0, sum(math.exp(lf - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + i * lp + (n - i) * lq) for i in range(k + 1)))


@lru_cache(maxsize=65536)
def _exact_upper(k: int, n: int, confidence: float) -> float:
    """Clopper–Pearson: the ``u`` with P(Binomial(n, u) <= k) = 1 - confidence."""
    if k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(60):  # bisection to far below any printed digit
        mid = (lo + hi) / 2
        if _binom_cdf(k, n, mid) > 1 - confidence:
            lo = mid
        else:
            hi = mid
    return hi


def bounds(total: float, n: int, confidence: float) -> tuple[float, float]:
    """One-sided bounds ``(lower, upper)``, each at ``confidence``, on the mean of ``n``
    sample scores in [0, 1] that sum to ``total`` (``n > 0``).

    The exact (Clopper–Pearson) binomial bounds, taken at the whole counts on the safe
    side: the upper bound at ``ceil(total)`` successes, the lower at ``floor(total)``.
    With 0/1 scores (only Pass and Major, or weights 0/1) they are the exact binomial
    bounds, whose coverage is at least ``confidence`` for every true score. Partial scores
    (Minor, two reviewers) have less variance than a 0/1 score of the same mean (Bernoulli
    has the most among variables on [0, 1]), and rounding the total to the safe side keeps
    each bound at least as wide as the binomial one; tests/unit/test_scoring.py checks
    coverage by simulation on a grid of true scores 0.5–0.99, n 3–60 and every mix from
    all-Minor to all-Major, one and two reviewers. (The Wilson bound used before was not
    conservative for all-Major mixes: 85–88% coverage at n 8–40, p 0.91–0.97.)
    """
    k_up = min(n, math.ceil(total - 1e-9))
    k_low = max(0, math.floor(total + 1e-9))
    upper = _exact_upper(k_up, n, confidence)
    lower = 1.0 - _exact_upper(n - k_low, n, confidence)  # the upper bound of the failures
    p = total / n
    return max(0.0, min(lower, p)), min(1.0, max(upper, p))


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` (a whole number >= 1) degrees of freedom, in
    closed form (Abramowitz & Stegun 26.7.3-4: finite series in the angle atan(t / sqrt(df)))."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:  # odd: 2/pi (theta + sin cos (1 + 2/3 c^2 + 2*4/(3*5) c^4 + ...))
        term, series = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            series += term
        inside = 2 / math.pi * (theta + (math.sin(theta) * math.cos(theta) * series
                                        if df > 1 else 0.0))
    else:  # even: sin (1 + 1/2 c^2 + 1*3/(2*4) c^4 + ...)
        term, series = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            series += term
        inside = math.sin(theta) * series
    return 0.5 + inside / 2 if t >= 0 else 0.5 - inside / 2


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (0.5 < p < 1), by
    bisection on ``t_cdf`` to 1e-10 (``t_cdf`` sums about ``df / 2`` terms, so a team of
    hundreds of trainers costs thousands of them: kept per (p, df), which task types and
    reads share)."""
    if not 0.5 < p < 1:
        raise ValueError(f"quantile must be in (0.5, 1), got {p}")
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    while high - low > 1e-10:
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


def between_trainers(count: int, total: float, squares: float,
                     confidence: float) -> tuple[float, float, float]:
    """A team's score as the mean of its ``count`` trainers' scores (their sum ``total``,
    the sum of their squares ``squares``), each trainer weighing the same, with one-sided
    bounds at ``confidence`` that count the differences between trainers: Student's t on the
    trainers' scores (two or more), so a team whose trainers differ widely gets a wide
    interval however many samples each one has. Returns (mean, lower, upper)."""
    if count < 2:
        raise ValueError("between_trainers needs two or more trainers' scores")
    mean = total / count
    variance = max(0.0, (squares - total * total / count) / (count - 1))
    half = t_quantile(confidence, count - 1) * math.sqrt(variance / count)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def sample_score(grades: Sequence[str], policy: Policy) -> float:
    """The mean weight of a sample's reviewers' latest grades."""
    return sum(policy.weight(g) for g in grades) / len(grades)


def counts_as_major(grades: Sequence[str], scale: Scale = DEFAULT_SCALE) -> bool:
    """More than half of the reviewers' latest grades are severe (Major on the default
    scale; ``scale``: the policy's)."""
    return 2 * sum(scale.is_severe(g) for g in grades) > len(grades)


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


Kinds = Mapping[tuple[str, tuple[str, ...]], int]
"""A trainer's samples counted by kind: (ISO week, one sample's reviewers' latest grades) →
how many samples of that week count so (``()``: not graded yet). The form the trainer-week
tallies keep (``bot.services.tallies.as_kinds``) and what ``standings`` decides on."""

K = TypeVar("K", bound=Hashable)


@dataclass
class _Tally:
    """Running sums over some samples."""

    audited: int = 0
    graded: int = 0
    total: float = 0.0
    passes: float = 0.0
    majors: int = 0

    def add(self, kind: "_Kind | None", n: int) -> None:
        """``n`` samples of one kind (``None``: not graded yet)."""
        self.audited += n
        if kind is None:
            return
        self.graded += n
        self.total += n * kind.score
        self.passes += n * kind.passes
        self.majors += n * kind.major


@dataclass(frozen=True)
class _Kind:
    """What one sample with these grades adds: its score, its share of passes, Major?"""

    score: float
    passes: float
    major: bool


class _Rule:
    """``standing``'s rule for one policy and one span of weeks, applied to many tallies: what
    a kind of sample adds, each distinct week's sums and the bounds of a (total, count) are
    worked out once per batch (a task type's trainers share a handful of kinds and a few
    hundred distinct weeks), not once per sample."""

    def __init__(self, policy: Policy, *, weeks: Sequence[str], before: Sequence[str]) -> None:
        if not weeks:
            raise ValueError("weeks must name at least one ISO week")
        self.policy = policy
        self.window = list(weeks)
        self.weeks = [*before, *self.window]
        if len(set(self.weeks)) != len(self.weeks):
            raise ValueError(f"weeks listed twice in {list(self.weeks)}")
        self.confidence = policy.escalation_confidence
        self.grades = policy.scale.keys
        self._kinds: dict[tuple[str, ...], _Kind | None] = {}
        self._bounds: dict[tuple[float, int], tuple[float, float]] = {}
        self._weeks: dict[tuple[str, tuple[tuple[tuple[str, ...], int], ...]], _Week] = {}

    def kind(self, grades: tuple[str, ...]) -> "_Kind | None":
        """``ValueError`` on an unknown grade (raised for every kind, in the window or not)."""
        if grades in self._kinds:
            return self._kinds[grades]
        unknown = [g for g in grades if g not in self.grades]
        if unknown:
            raise ValueError(f"unknown grade {unknown[0]!r}")
        made = _Kind(score=sample_score(grades, self.policy),
                     passes=sum(g == self.policy.scale.best for g in grades) / len(grades),
                     major=counts_as_major(grades, self.policy.scale)) if grades else None
        self._kinds[grades] = made
        return made

    def bounds(self, total: float, graded: int) -> tuple[float, float]:
        found = self._bounds.get((total, graded))
        if found is None:
            found = self._bounds[(total, graded)] = bounds(total, graded, self.confidence)
        return found

    def week(self, week: str, kinds: tuple[tuple[tuple[str, ...], int], ...]) -> "_Week":
        """One week of a trainer: its ``(grades, samples)`` kinds, sorted. Kept per batch:
        a team's trainers have a few hundred distinct weeks between them, not one each."""
        found = self._weeks.get((week, kinds))
        if found is None:
            tally, counts = _Tally(), dict.fromkeys(self.grades, 0)
            for grades, n in kinds:
                tally.add(self.kind(grades), n)
                for g in grades:
                    counts[g] += n
            found = self._weeks[(week, kinds)] = _Week(
                tally, counts, self._week_score(week, tally, counts))
        return found

    def _week_score(self, week: str, tally: "_Tally", counts: dict[str, int]) -> WeekScore:
        frozen = FrozenMap(counts)
        if not tally.graded:
            return WeekScore(week=week, audited=tally.audited, graded=0, counts=frozen,
                             majors=0, score=None, pass_rate=None, lower=None, upper=None)
        lower, upper = self.bounds(tally.total, tally.graded)
        return WeekScore(week=week, audited=tally.audited, graded=tally.graded, counts=frozen,
                         majors=tally.majors, score=tally.total / tally.graded,
                         pass_rate=tally.passes / tally.graded, lower=lower, upper=upper)


@dataclass(frozen=True)
class _Week:
    """One week's sums, its grades' counts and its ``WeekScore`` (shared: never changed)."""

    tally: _Tally
    counts: dict[str, int]  # by grade, every grade of the scale
    score: WeekScore


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
             weeks: Sequence[str], before: Sequence[str] = (),
             previous: str | None = None) -> Standing:
    """The trainer's standing; THE decision of the live bot and of ``policy simulate``.

    ``weeks``: the window's ISO weeks, oldest first (ending with the check's own week).
    ``before``: the weeks just before it, oldest first (``decision_weeks`` gives how many
    the live check passes, window included); they only serve the confidence test, which
    covers ``len(weeks)`` weeks ending at the window's newest fully graded week (see
    "Complete evidence" above). Without them the test is cut to the part of the window up
    to that week. ``samples``: the audited samples of these weeks, graded or not; samples
    of other weeks are ignored. ``previous``: the state the last check stored, for
    watch's hysteresis (None: no memory, watch only on entry terms). ``ValueError`` on an
    unknown grade, or a sample or week listed twice.

    The samples are counted by kind (``Kinds``) and decided by ``standings``, the one rule
    for one trainer and for a whole task type's.
    """
    kinds: Counter[tuple[str, tuple[str, ...]]] = Counter()
    seen: set[int] = set()
    for sample in samples:
        if sample.sample_id in seen:
            raise ValueError(f"sample {sample.sample_id} listed twice")
        seen.add(sample.sample_id)
        unknown = [g for g in sample.grades if g not in policy.scale]
        if unknown:
            raise ValueError(f"sample {sample.sample_id}: unknown grade {unknown[0]!r}")
        # Sorted: a sample scores the same whatever its reviewers' order, and the same
        # kind as the tallies keep it (so both ways of reading sum alike, to the last bit).
        kinds[(sample.week, tuple(sorted(sample.grades)))] += 1
    return standings({0: kinds}, policy, weeks=weeks, before=before,
                     previous={0: previous})[0]


def standings(kinds_of: Mapping[K, Kinds], policy: Policy, *, weeks: Sequence[str],
              before: Sequence[str] = (),
              previous: Mapping[K, str | None] | None = None) -> dict[K, Standing]:
    """``standing`` of each of many trainers at once (by any key: a trainer, a (trainer,
    task type) pair), all on ``policy`` over the same ``weeks`` and ``before``: each one's
    samples counted by kind (``Kinds``, the trainer-week tallies' form). What a kind adds and
    the bounds of each (total, count) are worked out once for the batch, so a trainer costs
    a few steps per tallied kind, not per sample. ``previous``: each key's stored state
    (missing: None). ``ValueError`` on an unknown grade or a week listed twice."""
    rule = _Rule(policy, weeks=weeks, before=before)
    earlier = previous or {}
    return {key: _decide(kinds, rule, earlier.get(key)) for key, kinds in kinds_of.items()}


def _decide(kinds: Kinds, rule: _Rule, previous: str | None) -> Standing:
    """The rule (the module docstring) on one trainer's counted samples."""
    policy, window, weeks, confidence = rule.policy, rule.window, rule.weeks, rule.confidence
    of_week: dict[str, list[tuple[tuple[str, ...], int]]] = {w: [] for w in weeks}
    for (week, grades), n in kinds.items():
        rule.kind(grades)  # every kind is known (else ValueError), in these weeks or not
        if n and week in of_week:
            of_week[week].append((grades, n))
    # Each week's kinds sorted: the sums do not depend on the order the kinds come in (to
    # the last bit), and equal weeks are one key of the batch's.
    sums = {w: rule.week(w, tuple(sorted(of_week[w]))) for w in weeks}
    by_week = {w: s.tally for w, s in sums.items()}

    def week_score(w: str) -> WeekScore:
        return sums[w].score

    size = len(window)
    weekly = tuple(week_score(w) for w in window)
    graded = sum(by_week[w].graded for w in window)
    total = sum(by_week[w].total for w in window)
    newest = by_week[window[-1]]
    # Complete evidence: the test covers a full window ending at the window's newest fully
    # graded week. Weeks after it (being graded, or not audited yet) wait until they are
    # done; a week boundary alone changes neither the tested week nor its window.
    first = len(weeks) - size
    tested = next((i for i in range(len(weeks) - 1, first - 1, -1)
                   if by_week[weeks[i]].audited
                   and by_week[weeks[i]].graded == by_week[weeks[i]].audited), None)
    settled = tested == len(weeks) - 1
    severe_week = next((w for w in window if policy.severe_majors
                        and by_week[w].majors >= policy.severe_majors), None)
    counts = dict.fromkeys(rule.grades, 0)
    for w in window:
        for g, n in sums[w].counts.items():
            counts[g] += n
    common: _Window = {
        "graded": graded, "weekly": weekly, "threshold": policy.pass_threshold,
        "confidence": confidence, "settled": settled, "severe_week": severe_week,
        "counts": FrozenMap(counts),
    }
    if graded == 0:
        span = window[0] if len(window) == 1 else f"{window[0]}–{window[-1]}"
        return Standing(state="insufficient", score=None, lower=None, upper=None,
                        pass_rate=None, sampling="normal", recovered=False,
                        reason=f"no graded samples in {span}", **common)

    score = total / graded
    lower, upper = rule.bounds(total, graded)
    threshold = policy.pass_threshold
    enough = graded >= policy.min_graded
    test = None
    if tested is not None:
        test = _confidence_test([by_week[w] for w in weeks[max(0, tested - size + 1):tested + 1]],
                                weeks[tested], rule)
    # Recovered on the weeks that are done, and not below on a week still being graded.
    recovered = (test is not None and test.lower >= threshold and severe_week is None
                 and score >= threshold)
    held = previous in ("watch", "escalate") and score < threshold + policy.watch_margin
    state: State
    if severe_week is not None or (test is not None and test.upper < threshold):
        state = "escalate"
    elif (enough and score < threshold) or held:
        state = "watch"
    elif not enough:
        state = "insufficient"
    else:
        state = "ok"
    sampling: Sampling
    if state in ("watch", "escalate") or score < threshold:
        # Below the threshold on any number of grades: more evidence, at once (only the
        # lead's FYI waits for ``min_graded``).
        sampling = "tightened"
    elif (recovered and all(by_week[w].majors == 0 for w in window)
          and all(by_week[w].graded for w in window)):
        sampling = "reduced"
    else:
        sampling = "normal"
    reason = _reason(state, policy, score=score, upper=upper, lower=lower, graded=graded,
                     recovered=recovered, week=window[-1], audited=newest.audited,
                     pending=newest.audited - newest.graded, held=held and not (
                         enough and score < threshold),
                     severe=(severe_week, by_week[severe_week].majors) if severe_week else None,
                     test=test)
    return Standing(state=state, score=score, lower=lower, upper=upper,
                    pass_rate=sum(by_week[w].passes for w in window) / graded,
                    sampling=sampling, recovered=recovered, reason=reason,
                    tested_through=test.through if test else None,
                    tested_upper=test.upper if test else None,
                    tested_lower=test.lower if test else None,
                    tested_weeks=tuple(
                        week_score(w) for w in weeks[max(0, tested - size + 1):tested + 1]
                    ) if test is not None and tested is not None else (), **common)


def decision_weeks(policy: Policy) -> int:
    """How many ISO weeks, up to the check's own, the live decision reads: the window and,
    before it (``before``), what a test ending at its oldest week covers."""
    return 2 * policy.window_weeks - 1


def watch_notice_due(previous: str | None, current: Standing,
                     escalation_open: bool) -> bool:
    """Whether a check that found ``current`` owes the lead a watch FYI: the trainer has
    just gone on watch (not from watch or escalate) and has no open escalation. At most one
    per trainer and ISO week: deliver it under ``watch_notice_key``, which is unique."""
    return (current.state == "watch" and previous not in ("watch", "escalate")
            and not escalation_open)


def watch_notice_key(trainer_state_id: int, current: Standing) -> str:
    """The outbox dedupe key of a watch FYI: one per trainer (and task type) and ISO week."""
    return f"watch_fyi:{trainer_state_id}:{current.weekly[-1].week}"


@dataclass(frozen=True)
class _Test:
    """The confidence test over a window ending at ``through`` (fully graded)."""

    through: str
    graded: int
    lower: float
    upper: float


def _confidence_test(upto: list[_Tally], through: str, rule: _Rule) -> _Test | None:
    """None when too few samples are graded in the tested window."""
    graded = sum(t.graded for t in upto)
    if graded == 0 or graded < rule.policy.min_graded:
        return None
    lower, upper = rule.bounds(sum(t.total for t in upto), graded)
    return _Test(through, graded, lower, upper)


def _num(value: float, threshold: float) -> str:
    """Two decimals, or as many as it takes not to print a value equal to the threshold."""
    for places in (2, 3, 4):
        text = f"{value:.{places}f}"
        if value == threshold or text != f"{threshold:.{places}f}":
            return text
    return f"{value:.4f}"


def _reason(state: State, policy: Policy, *, score: float, lower: float, upper: float,
            graded: int, recovered: bool, week: str, audited: int, pending: int, held: bool,
            severe: tuple[str, int] | None, test: _Test | None) -> str:
    t = policy.pass_threshold
    # The interval's one name everywhere (cards, status): each end is one-sided at
    # escalation_confidence, together a (2c - 1) two-sided interval.
    pct = f"{2 * policy.escalation_confidence - 1:.0%} interval"
    base = f"score {_num(score, t)} over {graded} graded sample{'s' if graded != 1 else ''}"
    if severe is not None:
        severe_week, majors = severe
        severe_names = policy.scale.named(policy.scale.severe)
        return (f"{majors} samples graded {severe_names} in {severe_week} (a severe drop: "
                f"{policy.severe_majors} in one week escalate at once); {base}")
    newest = (f"{week} has no samples yet" if not audited
              else f"{week} is still being graded" if pending else "")
    if state == "escalate" and test is not None:
        if test.through == week:
            return (f"{base}; even the top of its {pct}, {_num(test.upper, t)}, is below "
                    f"the threshold {t:g}")
        return (f"{base}; through {test.through} (fully graded; {newest}) even the top of the "
                f"{pct}, {_num(test.upper, t)} over {test.graded} graded, is below the "
                f"threshold {t:g}")
    if state == "watch":
        if held:
            why = (f"on watch until it is at least {t + policy.watch_margin:g}, the "
                   f"threshold {t:g} plus the margin {policy.watch_margin:g}")
            return f"{base}; {why}: sampling tightened"
        if upper < t and newest:  # confidently below, but the newest week is not settled
            why = (f"top of the {pct} {_num(upper, t)}; escalation is decided once {week} "
                   f"is fully graded, {pending} sample{'s' if pending != 1 else ''} left" if pending
                   else f"top of the {pct} {_num(upper, t)}; {newest}")
        else:
            why = f"not confidently: top of the {pct} {_num(upper, t)}"
        return f"{base} is below the threshold {t:g} ({why}): on watch, sampling tightened"
    if state == "insufficient":
        side = "below" if score < t else "at or above"
        return (f"{base}, {side} the threshold {t:g}, but too few to judge "
                f"({policy.min_graded} needed)")
    if recovered and test is not None:
        return (f"{base}; the bottom of its {pct}, {_num(test.lower, t)}, is at or above "
                f"the threshold {t:g}" + (f" (through {test.through}, fully graded)"
                                      if test.through != week else ""))
    return (f"{base} is at or above the threshold {t:g} (not confidently: bottom of the {pct} "
            f"{_num(lower, t)})")
