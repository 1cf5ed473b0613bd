"""Agreement measures against published and hand-computed values; the dispute definition."""

import pytest
from scipy.stats import hypergeom

from bot.services.agreement import (
    blind_pair,
    ordinal_alpha,
    percent_agreement,
    rank_distance,
)
from bot.services.consistency import pass_rate_below_rest
from bot.services.disputes import is_disagreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, values 1-5, missing values as None. Published: ordinal 0.815.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(observers: list[list[int | None]]) -> list[list[str]]:
    return [[str(row[unit]) for row in observers if row[unit] is not None]
            for unit in range(len(observers[0]))]


def test_ordinal_alpha_reproduces_krippendorffs_published_example():
    alpha = ordinal_alpha(_units(KRIPPENDORFF_2011), scale=["1", "2", "3", "4", "5"])
    assert alpha == pytest.approx(0.815, abs=5e-4)


def test_ordinal_alpha_on_grades_matches_the_hand_computation():
    # Values pass 3, minor 1, major 2 (n = 6); ordinal distances from those margins:
    # d(pass, minor) = (3 + 1 - 2)^2 = 4, d(pass, major) = (6 - 2.5)^2 = 12.25,
    # d(minor, major) = (3 - 1.5)^2 = 2.25. Observed: the one pass/minor pair, 2 * 4 = 8.
    # Expected: 2 * (3*1*4 + 3*2*12.25 + 1*2*2.25) = 180. alpha = 1 - (n - 1) * 8 / 180.
    units = [("pass", "pass"), ("pass", "minor"), ("major", "major")]
    assert ordinal_alpha(units) == pytest.approx(1 - 5 * 8 / 180)


def test_alpha_does_not_depend_on_which_end_of_the_scale_is_best():
    units = [("pass", "minor"), ("minor", "minor"), ("major", "pass"), ("major", "major"),
             ("pass", "pass"), ("minor", "major")]
    forward = ordinal_alpha(units)
    backward = ordinal_alpha(units, scale=("major", "minor", "pass"))
    assert forward == pytest.approx(backward)


def test_perfect_agreement_is_one_and_systematic_disagreement_is_negative():
    assert ordinal_alpha([("pass", "pass"), ("major", "major"), ("minor", "minor")]) == 1.0
    assert ordinal_alpha([("pass", "major"), ("major", "pass")]) < 0


def test_alpha_is_undefined_without_pairs_or_without_variation():
    assert ordinal_alpha([]) is None
    assert ordinal_alpha([("pass",), ("major",)]) is None  # no unit has two grades
    assert ordinal_alpha([("pass", "pass")] * 30) is None  # 0 / 0: nothing to agree on


def test_units_with_one_grade_add_nothing():
    units = [("pass", "pass"), ("pass", "minor"), ("major", "major")]
    assert ordinal_alpha([*units, ("major",), ("pass",)]) == pytest.approx(ordinal_alpha(units))


def test_a_value_off_the_scale_is_an_error():
    with pytest.raises(ValueError, match="not on the scale"):
        ordinal_alpha([("pass", "excellent")])


def test_percent_agreement_counts_identical_pairs():
    assert percent_agreement([("pass", "pass"), ("pass", "minor"), ("major", "major"),
                              ("minor", "major")]) == 0.5
    assert percent_agreement([]) is None


def test_a_whole_step_is_pass_against_major():
    assert rank_distance("pass", "major") == 2
    assert rank_distance("minor", "pass") == rank_distance("major", "minor") == 1
    assert is_disagreement(["pass", "major"]) and is_disagreement(["major", "minor", "pass"])
    assert not is_disagreement(["pass", "minor"])
    assert not is_disagreement(["minor", "major"])
    assert not is_disagreement(["major"])


def test_blind_pair_keeps_the_grades_given_before_both_were_in():
    events = [("A", "pass"), ("A", "minor"),  # A corrects themself while still alone
              ("B", "major"),                  # the pair is complete: minor vs major
              ("A", "major"),                  # A copies B once both are shown: ignored
              ("C", "pass")]                   # a third grader is not part of the pair
    assert blind_pair(events) == (("A", "minor"), ("B", "major"))
    assert blind_pair([("A", "pass"), ("A", "major")]) is None
    assert blind_pair([]) is None


def test_the_outlier_test_is_fishers_one_sided_exact_test():
    # P(X <= 2) for X hypergeometric: 60 samples, 47 passed, the trainer's 10 drawn.
    expected = hypergeom.cdf(2, 60, 47, 10)
    assert pass_rate_below_rest(2, 10, rest_passed=45, rest_graded=50) == pytest.approx(expected)
    assert pass_rate_below_rest(2, 10, rest_passed=45, rest_graded=50) < 0.05
    assert pass_rate_below_rest(9, 10, rest_passed=45, rest_graded=50) > 0.5
    # One failed sample against one passed: a coin toss, never significant.
    assert pass_rate_below_rest(0, 1, rest_passed=1, rest_graded=1) == pytest.approx(0.5)
