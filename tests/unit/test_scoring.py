"""The standing rule: score, Wilson bounds, watch / escalate / recover, sampling, and its knobs."""

import dataclasses
from itertools import count

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from bot.services.scoring import (
    GradedSample,
    Standing,
    bounds,
    sample_sizes,
    samples_for_next_audit,
    standing,
    wilson_bounds,
    z_value,
)
from bot.workspace import Policy, Problem, WorkspaceError, parse_workspace

POLICY = Policy()  # threshold 0.85, min_graded 8, confidence 0.95, severe_majors 4
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

@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 5), (7, 10), (10, 10), (17, 20), (33, 40)])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_bounds_are_scipys_one_sided_wilson_bounds_for_whole_counts(k, n, confidence):
    lower, upper = bounds(k, n, z_value(confidence))
    expected_lower = binomtest(k, n, alternative="greater").proportion_ci(
        confidence_level=confidence, method="wilson").low
    expected_upper = binomtest(k, n, alternative="less").proportion_ci(
        confidence_level=confidence, method="wilson").high
    assert lower == pytest.approx(expected_lower, abs=1e-12)
    assert upper == pytest.approx(expected_upper, abs=1e-12)


def test_all_passes_still_leave_room_below():
    lower, upper = bounds(10, 10, z_value(0.95))
    assert upper == 1.0 and lower == pytest.approx(0.787, abs=1e-3)


def grade_probabilities(mean: float, major_share: float) -> list[float]:
    errors = (1 - mean) / ((1 - major_share) * 0.5 + major_share)
    return [1 - errors, (1 - major_share) * errors, major_share * errors]


@pytest.mark.parametrize("n", [8, 20, 40])
@pytest.mark.parametrize("mean", [0.65, 0.85, 0.93])
@pytest.mark.parametrize("major_share", [0.0, 1 / 3, 1.0])
def test_bounds_cover_the_true_score_at_the_configured_confidence(n, mean, major_share):
    """Each one-sided bound holds the true score about 95% of the time or more, whatever
    the minor/major mix (the Bernoulli variance bound makes it conservative for mixes).
    Only all-or-nothing grades on very few samples dip a few points below: Wilson's known
    discreteness (at 8 samples and a true 0.93, 6 passes of 8 give an upper bound of 0.91)."""
    slack = 0.06 if n < 10 and major_share == 1.0 else 0.03
    rng = np.random.default_rng(20261123)
    counts = rng.multinomial(n, grade_probabilities(mean, major_share), size=20_000)
    totals = counts @ np.array([1.0, 0.5, 0.0])
    lower, upper = wilson_bounds(totals, n, z_value(POLICY.escalation_confidence))
    assert (upper >= mean).mean() >= POLICY.escalation_confidence - slack
    assert (lower <= mean).mean() >= POLICY.escalation_confidence - slack
    # And the bounds mean something: not trivially wide.
    assert (upper - lower).mean() < 0.6


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
    assert hits["lower"] / trials >= policy.escalation_confidence - 0.03
    assert hits["upper"] / trials >= policy.escalation_confidence - 0.03


# --- the rule -------------------------------------------------------------------------------

def test_confidently_below_with_a_settled_week_escalates():
    s = at(window(*[["minor", "major", "pass", "pass", "major"]] * 4))  # score 0.5 over 20
    assert s.state == "escalate" and s.settled
    assert s.upper is not None and s.upper < POLICY.pass_threshold
    assert "upper 95% bound" in s.reason and "below the threshold 0.85" in s.reason
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
    assert few.tested_through is None and few.state == "watch"


def test_fewer_than_min_graded_never_escalates_on_the_bound():
    s = at(window([], [], ["major"] * 3, ["major"] * 3 + ["pass"]))  # 7 graded, 1 pass
    assert s.graded < POLICY.min_graded
    assert s.state == "watch" and "escalation needs 8" in s.reason


def test_a_severe_week_escalates_at_once_even_on_few_grades_and_unsettled():
    s = at(window([], [], [], ["major"] * 4 + [()]))
    assert s.state == "escalate" and s.severe_week == "2026-W48" and not s.settled
    assert "4 samples graded Major in 2026-W48" in s.reason
    off = at(window([], [], [], ["major"] * 4 + [()]), Policy(severe_majors=0))
    assert off.state == "watch"


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
    assert "lower 95% bound" in s.reason and "at or above the threshold 0.85" in s.reason


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
                assert "bound 0.80 " not in s.reason


# --- sampling -------------------------------------------------------------------------------

def test_sample_sizes_follow_the_factors():
    assert sample_sizes(POLICY) == {"reduced": 3, "normal": 5, "tightened": 10}
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
    watch = at(window([], [], [], ["minor", "pass"]))
    assert watch.state == "watch" and samples_for_next_audit(watch, POLICY) == 10


# --- properties -----------------------------------------------------------------------------

GRADE = st.sampled_from(["pass", "minor", "major"])
SAMPLE_GRADES = st.one_of(st.tuples(GRADE), st.tuples(GRADE, GRADE), st.just(()))
WINDOWS = st.lists(st.lists(SAMPLE_GRADES, max_size=12), min_size=4, max_size=4)
POLICIES = st.builds(
    Policy,
    pass_threshold=st.floats(0.0, 1.0),
    min_graded=st.integers(0, 20),
    escalation_confidence=st.floats(0.5, 0.999),
    severe_majors=st.integers(0, 5),
)


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
    assert (s.sampling == "tightened") == (s.state in ("watch", "escalate"))
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
            ws.policy.reduced_factor) == (0.95, 4, 2.0, 0.6)


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
