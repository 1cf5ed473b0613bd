"""The standing rule: score, Wilson bounds, watch / escalate / recover, sampling, and its knobs."""

import dataclasses
from collections.abc import Callable
from itertools import count
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from bot.services.scoring import (
    GradedSample,
    Standing,
    bounds,
    decision_weeks,
    sample_sizes,
    samples_for_next_audit,
    standing,
    watch_notice_due,
    watch_notice_key,
)
from bot.workspace import Policy, Problem, WorkspaceError, parse_workspace
from tests.support.policy_strategies import policies

# The worked examples below use 95% bounds and tightened x2 (the defaults are 90% and x3,
# see test_the_rule_knobs_have_documented_defaults): threshold 0.85, min_graded 8,
# severe_majors 4.
POLICY = Policy(escalation_confidence=0.95, tightened_factor=2.0)
WEEKS = ("2026-W45", "2026-W46", "2026-W47", "2026-W48")


def week(name: str, *grades: str | tuple[str, ...], start: int = 0) -> list[GradedSample]:
    """Samples of one week; a tuple is one sample's several reviewers, ``()`` ungraded."""
    return [GradedSample(sample_id=start + i, week=name,
                         grades=g if isinstance(g, tuple) else (g,))
            for i, g in enumerate(grades)]


def window(*weeks: list[str | tuple[str, ...]]) -> list[GradedSample]:
    """One list of grades per week of WEEKS (oldest first), sample ids unique."""
    samples: list[GradedSample] = []
    for name, grades in zip(WEEKS, weeks, strict=False):
        samples += week(name, *grades, start=len(samples))
    return samples


def at(samples: list[GradedSample], policy: Policy = POLICY) -> Standing:
    return standing(samples, policy, weeks=WEEKS)


# --- the score ------------------------------------------------------------------------------

def test_each_sample_counts_once_as_the_mean_of_its_reviewers_grades():
    s = at(window([], [], [], ["pass", ("pass", "minor"), ("major", "pass"), "minor"]))
    # samples: 1.0, 0.75, 0.5, 0.5
    assert s.score == pytest.approx(2.75 / 4)
    assert s.graded == 4
    assert dict(s.counts) == {"pass": 3, "minor": 2, "major": 1}  # reviewers' grades
    assert s.pass_rate == pytest.approx((1 + 0.5 + 0.5 + 0) / 4)
    assert s.weekly[-1].score == s.score and s.weekly[0].score is None


def test_weekly_scores_follow_the_window_oldest_first():
    s = at(window(["pass"] * 5, ["minor"] * 5, [], ["major", "pass"]))
    assert [w.week for w in s.weekly] == list(WEEKS)
    assert [w.score for w in s.weekly] == [1.0, 0.5, None, 0.5]
    assert [w.graded for w in s.weekly] == [5, 5, 0, 2]
    assert s.weekly[3].majors == 1
    for w in s.weekly:
        if w.score is not None:
            assert w.lower is not None and w.upper is not None
            assert w.lower <= w.score <= w.upper


def test_samples_outside_the_window_and_ungraded_ones_add_nothing_to_the_score():
    outside = GradedSample(sample_id=99, week="2026-W30", grades=("major",))
    samples = [*window([], [], [], ["pass", "pass", ()]), outside]
    s = at(samples)
    assert (s.score, s.graded) == (1.0, 2)
    assert s.weekly[-1].audited == 3


def test_custom_grade_weights_change_the_score():
    policy = Policy(grade_weights={"pass": 1.0, "minor": 0.8, "major": 0.0})
    assert at(window([], [], [], ["minor", "pass"]), policy).score == pytest.approx(0.9)


def test_no_graded_samples_is_insufficient_without_a_score():
    s = at(window([], [], [], [(), ()]))
    assert s.state == "insufficient" and s.score is None and s.lower is None
    assert s.sampling == "normal" and not s.recovered
    assert "no graded samples in 2026-W45–2026-W48" in s.reason


@pytest.mark.parametrize("bad", [
    [GradedSample(1, "2026-W48", ("fail",))],
    [GradedSample(1, "2026-W48", ("pass",)), GradedSample(1, "2026-W48", ("pass",))],
])
def test_bad_input_is_a_value_error(bad: list[GradedSample]):
    with pytest.raises(ValueError):
        at(bad)


def test_weeks_must_be_given_once_each():
    with pytest.raises(ValueError):
        standing([], POLICY, weeks=["2026-W48", "2026-W48"])
    with pytest.raises(ValueError):
        standing([], POLICY, weeks=[])


# --- the bounds -----------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 5), (7, 10), (10, 10), (17, 20), (33, 40),
                                    (150, 200)])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_bounds_are_scipys_exact_clopper_pearson_bounds_for_whole_counts(k, n, confidence):
    lower, upper = bounds(k, n, confidence)
    expected_lower = binomtest(k, n, alternative="greater").proportion_ci(
        confidence_level=confidence, method="exact").low
    expected_upper = binomtest(k, n, alternative="less").proportion_ci(
        confidence_level=confidence, method="exact").high
    assert lower == pytest.approx(expected_lower, abs=1e-9)
    assert upper == pytest.approx(expected_upper, abs=1e-9)


def test_partial_totals_take_the_whole_count_on_the_safe_side():
    assert bounds(16.5, 20, 0.95)[1] == bounds(17, 20, 0.95)[1]
    assert bounds(16.5, 20, 0.95)[0] == bounds(16, 20, 0.95)[0]


def test_all_passes_still_leave_room_below():
    lower, upper = bounds(10, 10, 0.95)
    assert upper == 1.0 and lower == pytest.approx(0.05 ** (1 / 10), abs=1e-9)  # 0.741


def grade_probabilities(mean: float, major_share: float) -> list[float]:
    errors = (1 - mean) / ((1 - major_share) * 0.5 + major_share)
    return [1 - errors, (1 - major_share) * errors, major_share * errors]


COVERAGE_SCORES = [round(0.5 + 0.035 * i, 3) for i in range(14)] + [0.97, 0.99]
COVERAGE_N = [3, 4, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60]
COVERAGE_MIXES = [0.0, 0.25, 0.5, 0.75, 1.0]  # share of errors that are Major
COVERAGE_RUNS = 2000


def _coverage_misses(confidence: float, bound: Callable[[float, int], tuple[float, float]], *,
                     sizes: list[int] = COVERAGE_N, mixes: list[float] = COVERAGE_MIXES
                     ) -> list[tuple[str, float, int, float, int, float]]:
    """Every cell of the grid whose coverage is, beyond Monte Carlo error, below
    ``confidence`` for either one-sided bound: (side, score, n, mix, reviewers, coverage).

    A cell fails when even the upper 1 - 1e-7 confidence bound of its estimated coverage
    (normal approximation; about 2,000 cells x 2 sides, Bonferroni) is below the nominal
    level. Two reviewers: the second agrees with the first 80% of the time, otherwise
    grades an independent draw (the sample's score is their mean: quarters)."""
    rng = np.random.default_rng(20261202)
    z = 5.2  # one-sided 1e-7
    failed = []
    for n in sizes:
        # Every total a window of n samples can have, in quarters: bounds computed once.
        table = np.array([bound(q / 4, n) for q in range(4 * n + 1)])
        for score in COVERAGE_SCORES:
            for mix in mixes:
                probs = np.array(grade_probabilities(score, mix))
                if probs.min() < -1e-12:
                    continue
                probs = np.clip(probs, 0, None) / np.clip(probs, 0, None).sum()
                weights = np.array([1.0, 0.5, 0.0])
                cut = np.cumsum(probs)[:2]
                first = np.searchsorted(cut, rng.random((COVERAGE_RUNS, n)), side="right")
                one = weights[first].sum(axis=1)
                other = np.where(rng.random((COVERAGE_RUNS, n)) < 0.8, first,
                                 np.searchsorted(cut, rng.random((COVERAGE_RUNS, n)),
                                                 side="right"))
                two = ((weights[first] + weights[other]) / 2).sum(axis=1)
                for reviewers, totals in ((1, one), (2, two)):
                    index = np.rint(totals * 4).astype(int)
                    for side, column, holds in (("upper", 1, np.greater_equal),
                                                ("lower", 0, np.less_equal)):
                        covered = holds(table[index, column], score - 1e-12 if side == "upper"
                                        else score + 1e-12).mean()
                        ucb = covered + z * max(covered * (1 - covered), 1e-4) ** 0.5 / (
                            COVERAGE_RUNS ** 0.5)
                        if ucb < confidence:
                            failed.append((side, score, n, mix, reviewers, float(covered)))
    return failed


def test_bounds_cover_the_true_score_for_every_grade_mix():
    """The whole grid: true score 0.5–0.99, n 3–60, all-Minor to all-Major errors, one
    and two reviewers; no cell's coverage is below the nominal 95% beyond Monte Carlo
    error, for either bound."""
    confidence = POLICY.escalation_confidence
    assert _coverage_misses(confidence, lambda t, n: bounds(t, n, confidence)) == []


def test_the_coverage_check_catches_the_wilson_bound_on_all_major_errors():
    """The check can fail: the Wilson bound the rule used before misses at all-Major."""
    confidence = POLICY.escalation_confidence
    z = NormalDist().inv_cdf(confidence)

    def wilson(total: float, n: int) -> tuple[float, float]:
        p, z2n = total / n, z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * (p * (1 - p) / n + z2n / (4 * n)) ** 0.5
        return centre - half, centre + half

    misses = _coverage_misses(confidence, wilson, sizes=[8, 12, 20, 40], mixes=[1.0])
    assert any(m[0] == "upper" and m[3] == 1.0 and 8 <= m[2] <= 40 for m in misses)


def test_coverage_of_standing_itself_on_simulated_windows():
    rng = np.random.default_rng(7)
    policy, mean, hits = POLICY, 0.88, {"lower": 0, "upper": 0}
    trials = 1500
    for _ in range(trials):
        grades = rng.choice(["pass", "minor", "major"], size=20,
                            p=grade_probabilities(mean, 1 / 3))
        s = at(window(*(list(grades[i * 5:(i + 1) * 5]) for i in range(4))), policy)
        assert s.lower is not None and s.upper is not None
        hits["lower"] += s.lower <= mean
        hits["upper"] += s.upper >= mean
    assert hits["lower"] / trials >= policy.escalation_confidence
    assert hits["upper"] / trials >= policy.escalation_confidence


# --- the rule -------------------------------------------------------------------------------

def test_confidently_below_with_a_settled_week_escalates():
    s = at(window(*[["minor", "major", "pass", "pass", "major"]] * 4))  # score 0.5 over 20
    assert s.state == "escalate" and s.settled
    assert s.upper is not None and s.upper < POLICY.pass_threshold
    assert "top of its 90% interval" in s.reason and "below the threshold 0.85" in s.reason
    assert s.sampling == "tightened"


def test_below_but_not_confidently_is_watch():
    s = at(window(["pass"] * 5, ["pass"] * 5, ["pass", "pass", "pass", "pass", "minor"],
                  ["minor", "minor", "major", "pass", "major"]))  # 16.5 / 20
    assert s.score is not None and s.score < 0.85
    assert s.state == "watch" and not s.recovered and s.sampling == "tightened"
    assert "on watch" in s.reason


def test_a_week_being_graded_waits_for_its_last_grade():
    # The earlier weeks alone are not confidently below; with the newest week they are.
    fine = ["pass", "pass", "pass", "minor", "minor"]
    pending = at(window(fine, fine, fine, ["major", "major", "major", (), ()]))
    assert pending.state == "watch" and not pending.settled
    assert pending.tested_through == "2026-W47" and pending.tested_upper is not None
    assert pending.tested_upper >= 0.85
    assert "escalation is decided once 2026-W48 is fully graded, 2 samples left" in (
        pending.reason)
    done = at(window(fine, fine, fine, ["major", "major", "major", "minor", "minor"]))
    assert done.state == "escalate" and done.severe_week is None
    assert done.settled and done.tested_through == "2026-W48"


def test_reviewers_a_week_behind_still_get_the_test_on_the_weeks_that_are_done():
    bad = ["major", "major", "minor", "pass", "minor"]
    late = at(window(bad, bad, bad, ["pass", (), (), (), ()]))
    assert late.state == "escalate" and not late.settled
    assert late.tested_through == "2026-W47"
    assert "through 2026-W47 (fully graded; 2026-W48 is still being graded)" in late.reason


def test_a_newest_week_without_samples_leaves_the_test_on_the_weeks_before():
    s = at(window(["major"] * 3, ["major", "pass", "pass"], ["major"] * 3, []))
    assert not s.settled and s.tested_through == "2026-W47" and s.state == "escalate"
    few = at(window([], [], ["major", "pass", "pass"], []))  # 3 graded: no test yet
    assert few.tested_through is None and few.state == "insufficient"
    assert few.sampling == "tightened"  # below the threshold: more evidence at once


def test_fewer_than_min_graded_never_escalates_on_the_bound():
    s = at(window([], [], ["major"] * 3, ["major"] * 3 + ["pass"]))  # 7 graded, 1 pass
    assert s.graded < POLICY.min_graded
    assert s.state == "insufficient" and "below the threshold 0.85" in s.reason
    assert "too few to judge (8 needed)" in s.reason and s.sampling == "tightened"


def test_a_severe_week_escalates_at_once_even_on_few_grades_and_unsettled():
    s = at(window([], [], [], ["major"] * 4 + [()]))
    assert s.state == "escalate" and s.severe_week == "2026-W48" and not s.settled
    assert "4 samples graded Major error in 2026-W48" in s.reason
    off = at(window([], [], [], ["major"] * 4 + [()]), Policy(severe_majors=0))
    assert off.state == "insufficient"  # 4 graded: too few for watch or the test


def test_a_sample_counts_as_major_only_when_most_of_its_reviewers_say_so():
    split = ("major", "pass")
    s = at(window([], [], [], [split] * 4 + ["major"] * 3))
    assert s.weekly[-1].majors == 3 and s.severe_week is None
    settled = at(window([], [], [], [("major", "pass", "major")] * 4))
    assert settled.severe_week == "2026-W48"


def test_a_severe_week_blocks_recovery_while_it_is_in_the_window():
    s = at(window(["major"] * 4, ["pass"] * 10, ["pass"] * 10, ["pass"] * 10))
    assert s.state == "escalate" and not s.recovered


def test_confidently_above_is_recovered_and_ok():
    s = at(window(["pass"] * 5, ["pass"] * 5, ["pass"] * 10, ["pass"] * 9 + ["minor"]))
    assert s.state == "ok" and s.recovered
    assert s.lower is not None and s.lower >= 0.85
    assert "bottom of its 90% interval" in s.reason and "at or above the threshold 0.85" in s.reason


def test_recovery_waits_for_a_settled_week():
    s = at(window(["pass"] * 5, ["pass"] * 5, ["pass"] * 5, ["pass"] * 5 + [()]))
    assert s.lower is not None and s.lower >= 0.85
    assert s.state == "ok" and not s.recovered


def test_at_or_above_on_few_grades_is_insufficient():
    s = at(window([], [], [], ["pass"] * 5))
    assert s.state == "insufficient" and "too few to judge (8 needed)" in s.reason


def test_above_but_not_confidently_is_ok_without_recovery():
    s = at(window([], [], *[["pass", "pass", "pass", "pass", "minor"]] * 2))
    assert s.state == "ok" and not s.recovered and "not confidently" in s.reason


def test_reason_never_prints_a_bound_that_looks_equal_to_the_threshold():
    # Search a few windows for an upper bound that rounds to the threshold.
    policy = Policy(pass_threshold=0.8)
    for passes in range(30):
        for minors in range(30 - passes):
            grades = ["pass"] * passes + ["minor"] * minors + ["major"] * (30 - passes - minors)
            s = at(window([], [], [], grades), policy)
            if s.state == "escalate":
                assert s.upper is not None
                assert "interval, 0.80," not in s.reason


# --- sampling -------------------------------------------------------------------------------

def test_sample_sizes_follow_the_factors():
    assert sample_sizes(POLICY) == {"reduced": 3, "normal": 5, "tightened": 10}
    assert sample_sizes(Policy())["tightened"] == 15
    assert sample_sizes(Policy(samples_per_trainer=40, tightened_factor=2)) == {
        "reduced": 24, "normal": 40, "tightened": 50}  # capped at a thread's maximum
    assert sample_sizes(Policy(samples_per_trainer=1, reduced_factor=0.1))["reduced"] == 1


def test_a_clean_full_window_reduces_sampling():
    clean = at(window(["pass"] * 5, ["pass"] * 5, ["pass"] * 10, ["pass"] * 9 + ["minor"]))
    assert clean.sampling == "reduced"
    assert samples_for_next_audit(clean, POLICY) == 3
    assert samples_for_next_audit(clean, POLICY, escalation_open=True) == 10
    with_a_major = at(window(["pass"] * 9 + ["major"], ["pass"] * 10, ["pass"] * 10,
                             ["pass"] * 10))
    assert with_a_major.recovered and with_a_major.sampling == "normal"
    gap = at(window(["pass"] * 10, [], ["pass"] * 10, ["pass"] * 10))
    assert gap.recovered and gap.sampling == "normal"


def test_watch_and_escalate_tighten_sampling():
    below = at(window([], [], [], ["minor", "pass"]))
    assert below.state == "insufficient" and samples_for_next_audit(below, POLICY) == 10
    watch = at(window([], [], [], ["minor", "pass"] * 4))
    assert watch.state == "watch" and samples_for_next_audit(watch, POLICY) == 10


# --- properties -----------------------------------------------------------------------------

GRADE = st.sampled_from(["pass", "minor", "major"])
SAMPLE_GRADES = st.one_of(st.tuples(GRADE), st.tuples(GRADE, GRADE), st.just(()))
WINDOWS = st.lists(st.lists(SAMPLE_GRADES, max_size=12), min_size=4, max_size=4)
POLICIES = policies()


def build(weeks: list[list[tuple[str, ...]]]) -> list[GradedSample]:
    ids = count()
    return [GradedSample(next(ids), name, grades)
            for name, grades_of_week in zip(WEEKS, weeks, strict=True)
            for grades in grades_of_week]


@given(WINDOWS, POLICIES)
def test_bounds_hold_the_score_within_zero_and_one(weeks, policy):
    s = at(build(weeks), policy)
    if s.score is None:
        assert s.graded == 0 and s.state == "insufficient"
        return
    assert s.lower is not None and s.upper is not None
    assert 0.0 <= s.lower <= s.score <= s.upper <= 1.0
    assert s.pass_rate is not None and 0.0 <= s.pass_rate <= 1.0
    for w in s.weekly:
        if w.score is not None:
            assert w.lower is not None and w.upper is not None
            assert 0.0 <= w.lower <= w.score <= w.upper <= 1.0


@given(WINDOWS, POLICIES, st.integers(0, 3))
def test_adding_a_pass_never_lowers_the_score_nor_the_upper_bound(weeks, policy, where):
    before = at(build(weeks), policy)
    weeks[where] = [*weeks[where], ("pass",)]
    after = at(build(weeks), policy)
    assert after.score is not None and after.upper is not None
    if before.score is not None and before.upper is not None:
        assert after.score >= before.score - 1e-12
        assert after.upper >= before.upper - 1e-12


@given(WINDOWS, POLICIES)
def test_fewer_than_min_graded_never_escalates_unless_a_week_is_severe(weeks, policy):
    s = at(build(weeks), policy)
    if s.graded < policy.min_graded:
        assert s.state != "escalate" or s.severe_week is not None
        assert not s.recovered


@given(WINDOWS, POLICIES)
def test_only_fully_graded_weeks_decide_but_a_severe_drop(weeks, policy):
    s = at(build(weeks), policy)
    if s.tested_through is None:
        assert s.state != "escalate" or s.severe_week is not None
        assert not s.recovered
    else:
        done = next(w for w in s.weekly if w.week == s.tested_through)
        assert done.audited and done.graded == done.audited
        later = [w for w in s.weekly if w.week > s.tested_through]
        assert all(not w.audited or w.graded < w.audited for w in later)


@given(WINDOWS, POLICIES)
def test_states_are_consistent(weeks, policy):
    s = at(build(weeks), policy)
    assert not (s.recovered and s.state in ("escalate", "watch"))
    assert (s.sampling == "tightened") == (s.state in ("watch", "escalate") or (
        s.score is not None and s.score < policy.pass_threshold))
    if s.sampling == "reduced":
        assert s.recovered and all(w.graded and not w.majors for w in s.weekly)
    if s.state == "escalate" and s.severe_week is None:
        assert s.tested_upper is not None and s.tested_upper < policy.pass_threshold
    if s.state == "watch":
        assert s.score is not None and s.score < policy.pass_threshold


@settings(max_examples=50)
@given(WINDOWS, st.randoms(use_true_random=False))
def test_the_order_of_samples_does_not_matter(weeks, random):
    samples = build(weeks)
    shuffled = samples[:]
    random.shuffle(shuffled)
    a, b = at(samples), at(shuffled)
    assert (a.state, a.graded, a.recovered, a.sampling) == (b.state, b.graded, b.recovered,
                                                            b.sampling)
    if a.score is not None:
        assert b.score == pytest.approx(a.score)


# --- the knobs in auditbot.toml -------------------------------------------------------------

BASE = {
    "workspace": {"timezone": "Europe/Paris"},
    "task_types": [{"key": "clinical", "name": "Clinical", "channel": "C0CLIN",
                    "reviewers": ["U0REV1"]}],
}


def test_the_rule_knobs_have_documented_defaults():
    ws = parse_workspace(BASE)
    assert (ws.policy.escalation_confidence, ws.policy.severe_majors, ws.policy.tightened_factor,
            ws.policy.reduced_factor, ws.policy.watch_margin) == (0.9, 4, 3.0, 0.6, 0.02)


def test_the_rule_knobs_can_be_set_and_overridden_per_task_type():
    data = {**BASE, "policy": {"escalation_confidence": 0.9, "severe_majors": 0,
                               "tightened_factor": 1, "reduced_factor": 1},
            "task_types": [{**BASE["task_types"][0], "escalation_confidence": 0.99}]}
    ws = parse_workspace(data)
    assert ws.policy == dataclasses.replace(Policy(), escalation_confidence=0.9, severe_majors=0,
                                            tightened_factor=1.0, reduced_factor=1.0)
    assert ws.task_type("clinical").policy.escalation_confidence == 0.99
    assert ws.task_type("clinical").policy.severe_majors == 0


@pytest.mark.parametrize(("key", "value", "message"), [
    ("escalation_confidence", 1, "must be at least 0.5 and less than 1 (got 1)"),
    ("escalation_confidence", 0.4, "must be at least 0.5 and less than 1 (got 0.4)"),
    ("escalation_confidence", float("nan"), "must be at least 0.5 and less than 1 (got nan)"),
    ("escalation_confidence", "95%", "must be a number (got string '95%')"),
    ("severe_majors", -1, "must be between 0 and 50 (got -1)"),
    ("severe_majors", 2.0, "must be a whole number (got float 2.0)"),
    ("tightened_factor", 0.5, "must be between 1 and 10 (got 0.5)"),
    ("tightened_factor", True, "must be a number (got boolean true)"),
    ("reduced_factor", 0, "must be greater than 0 and at most 1 (got 0)"),
    ("reduced_factor", 1.5, "must be greater than 0 and at most 1 (got 1.5)"),
])
def test_impossible_rule_knobs_name_their_key_path(key, value, message):
    with pytest.raises(WorkspaceError) as err:
        parse_workspace({**BASE, "policy": {key: value}})
    assert err.value.problems == [Problem(f"policy.{key}", message)]
    with pytest.raises(WorkspaceError) as err:
        parse_workspace({**BASE, "task_types": [{**BASE["task_types"][0], key: value}]})
    assert err.value.problems == [Problem(f"task_types[0].{key}", message)]


# --- complete evidence: a week boundary alone never creates a test -------------------------

HISTORY = ("2026-W50", "2026-W51", "2026-W52", "2026-W53", "2027-W01", "2027-W02",
           "2027-W03", "2027-W04", "2027-W05")  # ISO weeks in a row (2026 has a W53)


def decision_window(through: str, policy: Policy = POLICY) -> dict[str, list[str]]:
    """What a live check in ``through`` passes: the window and the weeks before it."""
    end = HISTORY.index(through) + 1
    weeks = list(HISTORY[max(0, end - decision_weeks(policy)):end])
    cut = max(0, len(weeks) - policy.window_weeks)
    return {"weeks": weeks[cut:], "before": weeks[:cut]}


def test_the_issues_reproduction_watch_at_the_end_of_w04_stays_watch_at_monday_of_w05():
    """Issue 13: W01 five Pass; W02 and W03 each 3 Pass + 1 Minor + 1 Major; W04 2 Pass +
    2 Minor + 1 Major. The old rule escalated at Monday 00:00 of W05 on a window that
    dropped W01 for the empty W05, saying W05 "is still being graded"."""
    w1, w2, w3, w4, w5 = HISTORY[3:8]
    samples = (week(w1, *["pass"] * 5) + week(w2, "pass", "pass", "pass", "minor", "major",
                                               start=10)
               + week(w3, "pass", "pass", "pass", "minor", "major", start=20)
               + week(w4, "pass", "pass", "minor", "minor", "major", start=30))
    end_of_w04 = standing(samples, POLICY, **decision_window(w4))
    monday_w05 = standing(samples, POLICY, **decision_window(w5))
    assert end_of_w04.state == "watch" and end_of_w04.tested_through == w4
    assert monday_w05.state == "watch"
    assert (monday_w05.tested_through, monday_w05.tested_upper, monday_w05.tested_lower) == (
        end_of_w04.tested_through, end_of_w04.tested_upper, end_of_w04.tested_lower)
    assert end_of_w04.tested_upper is not None and end_of_w04.tested_upper >= 0.85
    assert "still being graded" not in monday_w05.reason


def test_an_escalation_through_a_finished_week_names_an_empty_new_week_as_such():
    w1, w2, w3, w4, w5 = HISTORY[3:8]
    bad = ["major", "minor", "pass", "major", "minor"]
    samples = [s for i, w in enumerate((w1, w2, w3, w4)) for s in week(w, *bad, start=10 * i)]
    monday = standing(samples, POLICY, **decision_window(w5))
    assert monday.state == "escalate" and monday.tested_through == w4
    assert f"{w5} has no samples yet" in monday.reason


@given(st.lists(st.lists(SAMPLE_GRADES, max_size=8), min_size=8, max_size=8), POLICIES)
def test_a_week_boundary_alone_never_creates_a_new_test(history, policy):
    """The check at Monday 00:00 (a new, empty week) takes the same test as the last check
    of the week before, or none (its tested week left the window), never another one."""
    ids = count()
    samples = [GradedSample(next(ids), name, grades)
               for name, of_week in zip(HISTORY, history, strict=False) for grades in of_week]
    for end in range(1, len(HISTORY) - 1):
        before = standing(samples, policy, **decision_window(HISTORY[end], policy))
        empty = [s for s in samples if s.week != HISTORY[end + 1]]
        after = standing(empty, policy, **decision_window(HISTORY[end + 1], policy))
        if after.tested_through is not None:
            assert (after.tested_through, after.tested_upper, after.tested_lower) == (
                before.tested_through, before.tested_upper, before.tested_lower)
            if before.severe_week is None and after.severe_week is None:
                assert (after.state == "escalate") == (before.state == "escalate")


def test_the_test_covers_a_full_window_ending_at_the_newest_fully_graded_week():
    w1, w2, w3, w4, w5 = HISTORY[3:8]
    samples = (week(w1, *["major"] * 3, start=0) + week(w2, *["pass"] * 5, start=10)
               + week(w3, *["pass"] * 5, start=20) + week(w4, *["pass"] * 5, start=30)
               + week(w5, "pass", (), start=40))
    s = standing(samples, POLICY, **decision_window(w5))
    assert s.tested_through == w4
    assert [w.week for w in s.weekly] == [w2, w3, w4, w5]  # the window: the last 4
    assert s.graded == 16  # w2-w5 graded
    # The test: w1-w4, 18 graded with 3 Major (w1 left the window, not the test).
    assert s.tested_upper == bounds(15, 18, POLICY.escalation_confidence)[1]


# --- watch ----------------------------------------------------------------------------------

def test_one_minor_is_not_watch_and_notifies_nobody():
    s = at(window([], [], [], ["minor"]))
    assert s.state == "insufficient" and s.score == 0.5
    assert not watch_notice_due(None, s, escalation_open=False)


def test_watch_needs_min_graded_samples_below_the_threshold():
    seven = at(window([], [], [], ["minor", "pass"] * 3 + ["minor"]))
    eight = at(window([], [], [], ["minor", "pass"] * 4))
    assert seven.state == "insufficient" and eight.state == "watch"


def test_watch_clears_only_above_the_threshold_by_the_margin():
    # 17 pass and 3 minor of 20: 0.925; 35 pass, 5 minor over 40 at threshold 0.9: 0.9375.
    policy = dataclasses.replace(POLICY, pass_threshold=0.9, watch_margin=0.05, min_graded=8)
    grades = [["pass"] * 9 + ["minor"]] * 3 + [["pass"] * 8 + ["minor", "minor"]]
    s_new = at(window(*grades), policy)  # 0.9375: above 0.9, below 0.95
    assert s_new.score == pytest.approx(0.9375)
    assert s_new.state == "ok"
    held = standing(window(*grades), policy, weeks=WEEKS, previous="watch")
    assert held.state == "watch" and "at least 0.95" in held.reason
    assert held.sampling == "tightened"
    from_escalation = standing(window(*grades), policy, weeks=WEEKS, previous="escalate")
    assert from_escalation.state in ("watch", "escalate")
    cleared = standing(window(*[["pass"] * 10] * 3 + [["pass"] * 9 + ["minor"]]), policy,
                       weeks=WEEKS, previous="watch")
    assert cleared.state == "ok"


def test_the_watch_margin_has_a_documented_default_and_is_configurable():
    assert Policy().watch_margin == 0.02
    ws = parse_workspace({**BASE, "policy": {"watch_margin": 0.05}})
    assert ws.policy.watch_margin == 0.05
    with pytest.raises(WorkspaceError):
        parse_workspace({**BASE, "policy": {"watch_margin": -0.1}})


def test_a_lead_is_told_of_watch_once_per_trainer_and_week():
    watch = at(window([], [], [], ["minor", "pass"] * 4))
    assert watch_notice_due(None, watch, escalation_open=False)
    assert watch_notice_due("ok", watch, escalation_open=False)
    assert not watch_notice_due("watch", watch, escalation_open=False)  # no flapping
    assert not watch_notice_due("escalate", watch, escalation_open=False)
    assert not watch_notice_due("ok", watch, escalation_open=True)
    # The outbox key is unique: a second FYI in the same ISO week is the same message.
    assert watch_notice_key(7, watch) == "watch_fyi:7:2026-W48"
    later = standing(window([], [], [], ["minor", "pass"] * 4), POLICY,
                     weeks=(*WEEKS[1:], "2026-W49"))
    assert watch_notice_key(7, later) != watch_notice_key(7, watch)
