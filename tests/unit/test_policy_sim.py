"""`auditbot policy simulate`: the model, the rule's agreement with scoring, and the
acceptance figures the default policy must reach."""

import dataclasses
import time
from itertools import count
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.policy_sim import (
    TARGET_CATCH_MEDIAN_WEEKS,
    TARGET_FALSE_ALARM_SHARE,
    TARGET_LOAD,
    _Rule,
    default_true_scores,
    format_simulation,
    grade_probabilities,
    run_policy_simulate,
    simulate,
)
from bot.services.scoring import GradedSample, standing
from bot.workspace import Policy, load_workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auditbot.toml"
DEFAULT = Policy()


# --- the model of a trainer -----------------------------------------------------------------

@pytest.mark.parametrize("score", [1.0, 0.95, 0.9, 0.85, 0.65, 0.4, 0.2, 0.0])
@pytest.mark.parametrize("major_share", [0.0, 1 / 3, 1.0])
def test_grade_probabilities_have_the_true_score_as_their_mean(score, major_share):
    p = grade_probabilities(score, DEFAULT, major_share=major_share)
    assert sum(p) == pytest.approx(1.0)
    assert all(x >= 0 for x in p)
    assert p[0] * 1.0 + p[1] * 0.5 + p[2] * 0.0 == pytest.approx(score)


def test_errors_keep_the_minor_to_major_ratio_while_passes_remain():
    p_pass, p_minor, p_major = grade_probabilities(0.9, DEFAULT)  # 2 minor : 1 major
    assert p_minor == pytest.approx(2 * p_major)
    assert (p_pass, p_minor, p_major) == pytest.approx((0.85, 0.1, 0.05))


def test_impossible_true_scores_are_refused():
    with pytest.raises(ValueError):
        grade_probabilities(1.01, DEFAULT)
    weights = dataclasses.replace(DEFAULT, grade_weights={"pass": 0.9, "minor": 0.5,
                                                          "major": 0.1})
    with pytest.raises(ValueError):
        grade_probabilities(0.95, weights)


def test_default_true_scores_are_the_threshold_and_offsets_that_grades_can_reach():
    assert default_true_scores(DEFAULT) == [0.95, 0.9, 0.88, 0.85, 0.82, 0.8, 0.75, 0.65]
    high = dataclasses.replace(DEFAULT, pass_threshold=0.9)
    assert default_true_scores(high)[0] == 1.0


# --- the simulation runs the same rule as scoring.standing ----------------------------------

WEEKS = ("2026-W45", "2026-W46", "2026-W47", "2026-W48")
GRADE = st.sampled_from(["pass", "minor", "major"])


@given(
    weeks=st.tuples(*[st.lists(GRADE, max_size=10)] * 3, st.lists(GRADE, min_size=1,
                                                                    max_size=10)),
    policy=st.builds(Policy, pass_threshold=st.floats(0.0, 1.0),
                     min_graded=st.integers(0, 20), escalation_confidence=st.floats(0.5, 0.999),
                     severe_majors=st.integers(0, 5)),
)
def test_the_simulated_rule_agrees_with_standing(weeks, policy):
    ids = count()
    samples = [GradedSample(next(ids), name, (g,))
               for name, grades in zip(WEEKS, weeks, strict=True) for g in grades]
    s = standing(samples, policy, weeks=WEEKS)
    assert s.settled  # every sample graded, the newest week has samples
    weight = {"pass": 1.0, "minor": 0.5, "major": 0.0}
    majors = [sum(g == "major" for g in grades) for grades in weeks]
    verdict = _Rule(policy).check(
        total=np.array([sum(weight[g] for grades in weeks for g in grades)]),
        n=np.array([sum(len(grades) for grades in weeks)]),
        majors=np.array([sum(majors)]), worst_week=np.array([max(majors)]),
        every_week=np.array([all(weeks)]))
    assert bool(verdict.escalate[0]) == (s.state == "escalate")
    assert bool(verdict.watch[0]) == (s.state == "watch")
    assert bool(verdict.recovered[0]) == s.recovered
    assert bool(verdict.clean[0]) == (s.sampling == "reduced")


# --- what the simulation reports ------------------------------------------------------------

def test_the_same_seed_gives_the_same_figures():
    a = simulate(DEFAULT, true_scores=[0.8], runs=500, seed=3)
    b = simulate(DEFAULT, true_scores=[0.8], runs=500, seed=3)
    assert a == b


def test_load_is_the_sampling_the_rule_asks_for():
    fixed = dataclasses.replace(DEFAULT, tightened_factor=1.0, reduced_factor=1.0)
    (result,) = simulate(fixed, true_scores=[0.7], runs=200, seed=1)
    assert result.samples_per_week == 5.0
    (bad,) = simulate(DEFAULT, true_scores=[0.6], runs=200, seed=1)
    assert 9.0 < bad.samples_per_week <= 10.0  # tightened from week 2 on
    assert bad.tightened > 0.85


def test_a_perfect_trainer_is_never_escalated_and_earns_reduced_sampling():
    (perfect,) = simulate(DEFAULT, true_scores=[1.0], runs=500, seed=1)
    assert perfect.escalated == 0.0 and perfect.median_weeks is None
    assert perfect.reduced > 0.3 and perfect.samples_per_week < 5.0


def test_the_naive_rule_is_the_false_alarm_machine_the_issue_describes():
    """Escalating whenever the mean is below 0.85 (no bounds, no tightening) flags a
    trainer of true score 0.935 within 12 weeks in about 22% of runs; the default rule
    almost never does."""
    naive = dataclasses.replace(DEFAULT, escalation_confidence=0.5, severe_majors=0,
                                tightened_factor=1.0, reduced_factor=1.0)
    (flagged,) = simulate(naive, true_scores=[0.935], runs=20_000, weeks=12, seed=11)
    assert 0.19 < flagged.escalated < 0.26
    (default,) = simulate(DEFAULT, true_scores=[0.935], runs=20_000, weeks=12, seed=11)
    assert default.escalated < 0.005


def test_defaults_reach_the_acceptance_targets():
    """At most 2% of trainers 0.05 above the threshold escalated within a quarter; 0.20
    below caught within 2 weeks in the median; reviewers grade at most 6 samples per
    trainer-week for a trainer 0.05 above."""
    good, bad = simulate(DEFAULT, true_scores=[0.90, 0.65], runs=20_000, seed=2026)
    assert good.escalated <= TARGET_FALSE_ALARM_SHARE
    assert bad.median_weeks is not None and bad.median_weeks <= TARGET_CATCH_MEDIAN_WEEKS
    assert bad.escalated == 1.0
    assert good.samples_per_week <= TARGET_LOAD


def test_worse_trainers_are_escalated_more_and_sooner():
    results = simulate(DEFAULT, true_scores=default_true_scores(DEFAULT), runs=4000, seed=5)
    shares = [r.escalated for r in results]  # best first
    assert shares == sorted(shares)
    medians = [r.median_weeks or 99 for r in results]
    assert medians == sorted(medians, reverse=True)


def test_the_table_shows_every_row_and_the_targets():
    results = simulate(DEFAULT, true_scores=default_true_scores(DEFAULT), runs=2000, seed=1)
    text = format_simulation(results, DEFAULT)
    for r in results:
        assert f"{r.true_score:.2f}" in text
    assert "escalated ≤13 wk" in text and "samples/trainer-wk" in text
    assert "errors 2 Minor : 1 Major" in text
    assert "false alarms at threshold +0.05" in text
    assert "detection at threshold -0.20" in text
    assert "reviewer load at threshold +0.05" in text


def test_policy_simulate_on_the_example_workspace_is_fast_and_groups_equal_rules():
    workspace = load_workspace(EXAMPLE)
    started = time.perf_counter()
    text = run_policy_simulate(workspace, runs=10_000, seed=1)
    assert time.perf_counter() - started < 5
    # clinical has its own threshold; legal and finance differ only in double review.
    assert "Task type clinical (pass_threshold 0.9)" in text
    assert "Task types legal, finance (pass_threshold 0.85)" in text
    assert text.count("Rule: ") == 2
