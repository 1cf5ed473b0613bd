"""The outlier test: an exact permutation test of the weighted score, Benjamini–Hochberg
over the trainers of a task type, against scipy, brute force and simulation."""

import random
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from bot.services.outliers import below_rest_p_values, benjamini_hochberg, grid_for


def fisher_p(passed: int, graded: int, rest_passed: int, rest_graded: int) -> float:
    table = [[passed, graded - passed], [rest_passed, rest_graded - rest_passed]]
    return float(fisher_exact(table, alternative="less").pvalue)


def brute_force_p(mine: list[float], rest: list[float]) -> float:
    """The share of equally likely draws of len(mine) samples from everyone's that score
    no more than mine did (sums compared on the same grid as the test's)."""
    population = mine + rest
    steps = grid_for(sorted(set(population)))
    lost = [round((1 - s) * steps) for s in population]
    seen = sum(lost[:len(mine)])
    draws = list(combinations(range(len(population)), len(mine)))
    return sum(sum(lost[i] for i in draw) >= seen for draw in draws) / len(draws)


def test_with_pass_and_fail_alone_it_is_fishers_exact_test():
    # Every table with up to 7 samples a side (empty sides have nothing to compare).
    for graded in range(1, 8):
        for passed in range(graded + 1):
            for rest_graded in range(1, 8):
                for rest_passed in range(rest_graded + 1):
                    p = below_rest_p_values({
                        "me": [1.0] * passed + [0.0] * (graded - passed),
                        "rest": [1.0] * rest_passed + [0.0] * (rest_graded - rest_passed),
                    })["me"]
                    assert p == pytest.approx(fisher_p(passed, graded, rest_passed,
                                                       rest_graded), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("passed", "graded", "rest_passed", "rest_graded"), [
    (0, 40, 400, 400), (40, 40, 0, 400), (0, 40, 0, 400), (30, 60, 900, 1000),
    (50, 60, 900, 1000), (55, 60, 900, 1000)])
def test_larger_pass_fail_tables_match_fisher(passed, graded, rest_passed, rest_graded):
    p = below_rest_p_values({"me": [1.0] * passed + [0.0] * (graded - passed),
                             "rest": [1.0] * rest_passed + [0.0] * (rest_graded - rest_passed)})
    assert 0.0 <= p["me"] <= 1.0
    assert p["me"] == pytest.approx(fisher_p(passed, graded, rest_passed, rest_graded),
                                    rel=1e-6, abs=1e-300)


scores = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
odd_scores = st.sampled_from([0.0, 0.3, 0.65, 0.7, 1.0])


@settings(max_examples=150, deadline=None)
@given(st.lists(scores, min_size=1, max_size=6), st.lists(scores, min_size=1, max_size=7))
def test_weighted_scores_match_every_draw_counted(mine, rest):
    p = below_rest_p_values({"me": mine, "rest": rest})["me"]
    assert p == pytest.approx(brute_force_p(mine, rest), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(odd_scores, min_size=1, max_size=5), st.lists(odd_scores, min_size=1, max_size=7))
def test_other_weights_use_a_finer_grid_and_stay_exact(mine, rest):
    p = below_rest_p_values({"me": mine, "rest": rest})["me"]
    assert p == pytest.approx(brute_force_p(mine, rest), rel=1e-9, abs=1e-12)


def test_a_lower_score_is_never_less_suspicious():
    rest = [1.0] * 40 + [0.5] * 6 + [0.0] * 4
    ps = [below_rest_p_values({"me": [1.0] * (8 - bad) + [0.5] * bad, "rest": rest})["me"]
          for bad in range(9)]
    assert ps == sorted(ps, reverse=True) and ps[0] == pytest.approx(1.0) and ps[-1] < 0.01


def test_nobody_to_compare_with_is_no_p_value():
    assert below_rest_p_values({"me": [0.0, 0.0], "new": []}) == {"me": None, "new": None}
    assert below_rest_p_values({}) == {}


def test_benjamini_hochberg_steps_up_from_the_largest_p_that_passes():
    assert benjamini_hochberg({"a": 0.01, "b": 0.02, "c": 0.03, "d": 0.2},
                              fdr=0.1) == {"a", "b", "c"}
    # 0.06 misses its own bar (0.05) but the larger 0.07 meets its (0.10): both flagged.
    assert benjamini_hochberg({"a": 0.06, "b": 0.07}, fdr=0.1) == {"a", "b"}
    assert benjamini_hochberg({"a": 0.06, "b": 0.5, "c": None}, fdr=0.1) == set()
    assert benjamini_hochberg({}, fdr=0.1) == set()


def _team(rng: random.Random, true_scores: list[float]) -> dict[str, list[float]]:
    """One window: each trainer 5 to 20 single-reviewed samples; a miss is Minor twice as
    often as Major (score 0.5 or 0), so a trainer's mean score is their true score."""
    team = {}
    for i, true in enumerate(true_scores):
        # P(miss) m with Minor:Major 2:1 loses (2/3 · 0.5 + 1/3) m = 2m/3 of a point.
        miss = (1 - true) * 3 / 2
        team[f"T{i}"] = [1.0 if rng.random() >= miss else (0.5 if rng.random() < 2 / 3
                                                             else 0.0)
                         for _ in range(rng.choice((5, 10, 15, 20)))]
    return team


def test_fifty_equal_trainers_are_flagged_in_at_most_a_tenth_of_looks():
    rng = random.Random(20261205)
    looks = 300
    corrected = uncorrected = 0
    for _ in range(looks):
        p_values = below_rest_p_values(_team(rng, [0.9] * 50))
        corrected += bool(benjamini_hochberg(p_values, fdr=0.1))
        uncorrected += any(p is not None and p < 0.05 for p in p_values.values())
    assert corrected / looks <= 0.10
    assert uncorrected / looks > 0.5  # what the correction is for


def test_a_trainer_far_below_the_rest_is_flagged_in_most_looks():
    rng = random.Random(7)
    looks, caught = 100, 0
    for _ in range(looks):
        team = _team(rng, [0.9] * 49 + [0.5])
        team["T49"] = team["T49"][:5] + [0.5 if rng.random() < 0.5 else 0.0 for _ in range(15)]
        caught += "T49" in benjamini_hochberg(below_rest_p_values(team), fdr=0.1)
    assert caught / looks >= 0.8
