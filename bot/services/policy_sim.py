"""``auditbot policy simulate``: the configured rule on simulated trainers of known quality.

    results = simulate(policy, true_scores=[0.90, 0.65], runs=10_000, seed=1)
    print(format_simulation(results, policy))
    print(run_policy_simulate(workspace, runs=10_000, seed=1))   # every distinct policy

Pure (no database, no Slack) and vectorised with numpy: each row runs ``runs`` independent
trainers side by side.

The model, stated so the figures can be judged:

* A trainer of true score ``s`` produces outputs whose grades are independent draws with
  fixed probabilities. Errors are split between Minor and Major in a fixed ratio
  (``major_share``: by default a third of the errors are Major, two thirds Minor), and the
  share of passes is whatever makes the expected sample score under ``grade_weights``
  equal ``s`` (see ``grade_probabilities``). More Major errors at the same mean means more
  variance: the rule's bounds do not assume the ratio (see ``bot.services.scoring``), but
  the simulated figures do, so ``major_share`` is a parameter.
* Each sample has one reviewer who grades what the output deserves (double review does
  not change a sample's expected score; it adds ``double_review_fraction`` second grades
  per sample to the reviewers' work, not counted below).
* The trainer starts with an empty window (their first audited week is week 1) and keeps
  the same true score for ``weeks`` weeks (13: a quarter).
* Every week's samples are all graded within the week. The bot checks after every grade,
  but takes the confidence test only once the newest week is settled (fully graded), and
  the severe-drop count only grows during a week; so deciding at the end of each week, as
  here, gives the same weeks of escalation. An escalation opens on "escalate" and closes
  on "recovered"; nobody resolves it by hand.
* The next week's sample count follows the rule's own sampling (tightened on watch,
  escalate or while an escalation is open; reduced after a clean window; normal
  otherwise), so the reported load is what reviewers would really grade.

Reported per true score: the share of trainers escalated at least once within ``weeks``
(for a true score at or above the threshold every escalation is a false alarm), the median
and 95th percentile of the week of the first escalation over *all* runs (``None`` when that
percentile lies beyond the horizon: most runs never escalate), and the average number of
samples per trainer-week.
"""

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.services.scoring import Sampling, sample_sizes, wilson_bounds, z_value
from bot.workspace.model import GRADES, Policy, Workspace

QUARTER_WEEKS = 13
MODES: tuple[Sampling, ...] = ("reduced", "normal", "tightened")
DEFAULT_OFFSETS = (0.20, 0.10, 0.05, 0.03, 0.0, -0.03, -0.05, -0.10, -0.20)
DEFAULT_MAJOR_SHARE = 1 / 3  # one Major error for every two Minor ones
# The acceptance targets the defaults are held to (tests/unit/test_policy_sim.py).
TARGET_FALSE_ALARM_OFFSET, TARGET_FALSE_ALARM_SHARE = 0.05, 0.02
TARGET_CATCH_OFFSET, TARGET_CATCH_MEDIAN_WEEKS = -0.20, 2
TARGET_LOAD = 6.0


@dataclass(frozen=True)
class SimResult:
    """How the rule treated ``runs`` simulated trainers of one true score."""

    true_score: float
    runs: int
    weeks: int
    escalated: float  # share escalated at least once within ``weeks``
    median_weeks: int | None  # week of the first escalation (1 = the first audited week)
    p95_weeks: int | None  # ``None``: beyond ``weeks`` (fewer runs escalated than that)
    samples_per_week: float  # reviewers' load: samples per trainer-week, all weeks
    tightened: float  # share of trainer-weeks sampled tightened
    reduced: float  # share of trainer-weeks sampled reduced
    open_at_end: float  # share with an escalation still open after the last week


def grade_probabilities(true_score: float, policy: Policy, *,
                        major_share: float = DEFAULT_MAJOR_SHARE) -> tuple[float, float, float]:
    """``(p_pass, p_minor, p_major)`` whose expected sample score is ``true_score``.

    Errors are split ``1 - major_share`` Minor to ``major_share`` Major; passes fill the
    rest. A score too low for that split with no passes at all is reached with no passes
    and a Minor/Major mix. ``ValueError`` outside [weight of major, weight of pass].
    """
    wp, wm, wM = (policy.weight(g) for g in GRADES)
    if not 0 <= major_share <= 1:
        raise ValueError(f"major_share must be between 0 and 1 (got {major_share})")
    if not wM - 1e-12 <= true_score <= wp + 1e-12:
        raise ValueError(f"true score {true_score:g} is outside the possible range "
                         f"[{wM:g}, {wp:g}] of these grade weights")
    per_error = (1 - major_share) * (wp - wm) + major_share * (wp - wM)
    if per_error <= 0:  # all errors cost nothing: every score is the pass weight
        return 1.0, 0.0, 0.0
    errors = (wp - true_score) / per_error
    if errors <= 1:
        errors = max(errors, 0.0)
        return 1 - errors, (1 - major_share) * errors, major_share * errors
    minor = (true_score - wM) / (wm - wM) if wm > wM else 0.0
    minor = min(max(minor, 0.0), 1.0)
    return 0.0, minor, 1 - minor


def default_true_scores(policy: Policy) -> list[float]:
    """The threshold and threshold ± 0.03, 0.05, 0.10, 0.20 that grades can reach."""
    wp, wM = policy.weight("pass"), policy.weight("major")
    scores = [round(policy.pass_threshold + d, 6) for d in DEFAULT_OFFSETS]
    return [s for s in scores if wM <= s <= wp]


def simulate(policy: Policy, *, true_scores: Iterable[float], runs: int,
             weeks: int = QUARTER_WEEKS, seed: int = 0,
             major_share: float = DEFAULT_MAJOR_SHARE) -> list[SimResult]:
    """Run the rule of ``bot.services.scoring`` on ``runs`` trainers per true score."""
    scores = list(true_scores)
    if runs < 1 or weeks < 1:
        raise ValueError("runs and weeks must be at least 1")
    if not scores:
        return []
    probs = np.array([grade_probabilities(s, policy, major_share=major_share)
                      for s in scores])[:, None, :]  # (K, 1, 3): pass, minor, major
    weight = np.array([policy.weight(g) for g in GRADES])
    rng = np.random.default_rng(seed)
    shape = (len(scores), runs)
    rule = _Rule(policy)
    sizes = np.array([sample_sizes(policy)[m] for m in MODES])
    hist_total = np.zeros((weeks, *shape))
    hist_n = np.zeros((weeks, *shape), dtype=np.int64)
    hist_major = np.zeros((weeks, *shape), dtype=np.int64)
    escalation_open = np.zeros(shape, dtype=bool)
    first = np.zeros(shape, dtype=np.int64)  # week of the first escalation; 0 = none
    mode = np.full(shape, MODES.index("normal"))
    mode_weeks = np.zeros((len(MODES), *shape), dtype=np.int64)
    load = np.zeros(shape, dtype=np.int64)

    for t in range(weeks):
        n_t = sizes[mode]
        load += n_t
        mode_weeks += mode == np.arange(len(MODES))[:, None, None]
        counts = rng.multinomial(n_t, np.broadcast_to(probs, (*shape, 3)))  # (K, R, 3)
        hist_total[t] = counts @ weight
        hist_n[t] = n_t
        hist_major[t] = counts[..., 2]
        lo = max(0, t - policy.window_weeks + 1)
        verdict = rule.check(total=hist_total[lo:t + 1].sum(axis=0),
                             n=hist_n[lo:t + 1].sum(axis=0),
                             majors=hist_major[lo:t + 1].sum(axis=0),
                             worst_week=hist_major[lo:t + 1].max(axis=0),
                             every_week=(t - lo + 1 == policy.window_weeks)
                             & (hist_n[lo:t + 1] > 0).all(axis=0))
        first[verdict.escalate & (first == 0)] = t + 1
        escalation_open |= verdict.escalate
        escalation_open &= ~verdict.recovered
        mode = np.where(escalation_open | verdict.escalate | verdict.watch,
                        MODES.index("tightened"),
                        np.where(verdict.clean, MODES.index("reduced"), MODES.index("normal")))

    results = []
    for i, score in enumerate(scores):
        esc = first[i]
        when = np.where(esc > 0, esc, weeks + 1)  # not escalated: beyond the horizon
        median, p95 = (int(np.quantile(when, q, method="inverted_cdf")) for q in (0.5, 0.95))
        results.append(SimResult(
            true_score=score, runs=runs, weeks=weeks, escalated=float((esc > 0).mean()),
            median_weeks=median if median <= weeks else None,
            p95_weeks=p95 if p95 <= weeks else None,
            samples_per_week=float(load[i].mean() / weeks),
            tightened=float(mode_weeks[MODES.index("tightened"), i].mean() / weeks),
            reduced=float(mode_weeks[MODES.index("reduced"), i].mean() / weeks),
            open_at_end=float(escalation_open[i].mean()),
        ))
    return results


@dataclass
class _Verdict:
    escalate: np.ndarray
    watch: np.ndarray
    recovered: np.ndarray
    clean: np.ndarray  # reduced sampling: recovered, no Major, every week graded


class _Rule:
    """``scoring.standing``'s rule on arrays of settled windows (the tests check they agree)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.z = z_value(policy.escalation_confidence)

    def check(self, *, total: np.ndarray, n: np.ndarray, majors: np.ndarray,
              worst_week: np.ndarray, every_week: np.ndarray | np.bool) -> _Verdict:
        """``total``/``n``: the window's score sum and graded samples; ``majors``: its
        samples counting as Major, ``worst_week`` the most in one week; ``every_week``:
        each week of the window has graded samples."""
        p = self.policy
        has = n > 0
        safe_n = np.maximum(n, 1)
        score = total / safe_n
        lower, upper = wilson_bounds(total, safe_n, self.z)
        lower = np.maximum(0.0, np.minimum(lower, score))
        upper = np.minimum(1.0, np.maximum(upper, score))
        severe = (worst_week >= p.severe_majors) & (p.severe_majors > 0)
        enough = n >= p.min_graded
        escalate = has & (severe | (enough & (upper < p.pass_threshold)))
        watch = has & ~escalate & (score < p.pass_threshold)
        recovered = has & enough & (lower >= p.pass_threshold) & ~severe
        clean = recovered & (majors == 0) & every_week
        return _Verdict(escalate=escalate, watch=watch, recovered=recovered, clean=clean)


def _weeks(value: int | None, horizon: int) -> str:
    return str(value) if value is not None else f">{horizon}"


def format_simulation(results: Sequence[SimResult], policy: Policy, *,
                      major_share: float = DEFAULT_MAJOR_SHARE) -> str:
    """The table ``auditbot policy simulate`` prints, with the assumptions above it."""
    if not results:
        return "No true scores to simulate."
    sizes = sample_sizes(policy)
    horizon, runs = results[0].weeks, results[0].runs
    minor_to_major = (1 - major_share) / major_share if major_share else float("inf")
    pct = f"{policy.escalation_confidence:.0%}"
    lines = [
        f"Rule: watch below {policy.pass_threshold:g}; escalate when the upper {pct} bound "
        f"is below it (at least {policy.min_graded} graded) or on {policy.severe_majors} "
        "Major samples in a week" + (" (off)" if not policy.severe_majors else "")
        + f"; recover when the lower {pct} bound is at or above it.",
        f"Window {policy.window_weeks} weeks; samples per trainer-week: "
        f"{sizes['reduced']} reduced, {sizes['normal']} normal, {sizes['tightened']} "
        "tightened.",
        f"{runs} simulated trainers per row, each of constant true score from their first "
        f"audited week, for {horizon} weeks; errors {minor_to_major:.3g} Minor : 1 Major.",
        "",
    ]
    header = ("true score", "vs threshold", f"escalated ≤{horizon} wk", "median wk",
              "95th pct wk", "samples/trainer-wk")
    rows = [header]
    for r in results:
        rows.append((f"{r.true_score:.2f}", f"{r.true_score - policy.pass_threshold:+.2f}",
                     f"{r.escalated:.1%}", _weeks(r.median_weeks, horizon),
                     _weeks(r.p95_weeks, horizon), f"{r.samples_per_week:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths,
                                                                          strict=True)))
    lines += ["", "Weeks count from the trainer's first audited week; '>N': that share of "
              "trainers was not escalated within N weeks."]
    lines += _targets(results, policy)
    return "\n".join(lines)


def _targets(results: Sequence[SimResult], policy: Policy) -> list[str]:
    """The acceptance targets, with the figures reached, for the rows that test them."""
    by_offset = {round(r.true_score - policy.pass_threshold, 6): r for r in results}
    lines = []
    good = by_offset.get(TARGET_FALSE_ALARM_OFFSET)
    if good is not None:
        ok = good.escalated <= TARGET_FALSE_ALARM_SHARE
        lines.append(f"  false alarms at threshold +{TARGET_FALSE_ALARM_OFFSET:.2f}: "
                     f"{good.escalated:.1%} escalated within {good.weeks} weeks (target "
                     f"≤{TARGET_FALSE_ALARM_SHARE:.0%}) {'ok' if ok else 'MISSED'}")
    bad = by_offset.get(TARGET_CATCH_OFFSET)
    if bad is not None:
        ok = bad.median_weeks is not None and bad.median_weeks <= TARGET_CATCH_MEDIAN_WEEKS
        lines.append(f"  detection at threshold {TARGET_CATCH_OFFSET:+.2f}: median "
                     f"{_weeks(bad.median_weeks, bad.weeks)} weeks (target "
                     f"≤{TARGET_CATCH_MEDIAN_WEEKS}) {'ok' if ok else 'MISSED'}")
    if good is not None:
        ok = good.samples_per_week <= TARGET_LOAD
        lines.append(f"  reviewer load at threshold +{TARGET_FALSE_ALARM_OFFSET:.2f}: "
                     f"{good.samples_per_week:.1f} samples per trainer-week (target "
                     f"≤{TARGET_LOAD:g}) {'ok' if ok else 'MISSED'}; below the threshold "
                     "sampling is tightened on purpose")
    return ["Targets:", *lines] if lines else []


def _rule_only(policy: Policy) -> Policy:
    """The policy without what the simulation ignores, so equal rules share one table."""
    return dataclasses.replace(policy, double_review_fraction=0.0)


def run_policy_simulate(workspace: Workspace, *, runs: int, seed: int,
                        major_share: float = DEFAULT_MAJOR_SHARE) -> str:
    """What ``auditbot policy simulate`` prints: one table per distinct effective policy."""
    groups: dict[Policy, list[str]] = {}
    for task_type in workspace.task_types:
        groups.setdefault(_rule_only(task_type.policy), []).append(task_type.key)
    if not groups:
        groups[_rule_only(workspace.policy)] = []
    sections = []
    for policy, keys in groups.items():
        title = (f"Task type{'s' if len(keys) > 1 else ''} {', '.join(keys)}" if keys
                 else "Workspace policy")
        results = simulate(policy, true_scores=default_true_scores(policy), runs=runs,
                           seed=seed, major_share=major_share)
        sections.append(f"{title} (pass_threshold {policy.pass_threshold:g})\n"
                        + format_simulation(results, policy, major_share=major_share))
    return "\n\n".join(sections)
