"""Agreement measures against published and hand-computed values; the dispute definition."""

import random

import pytest

from bot.services.agreement import (
    alpha_upper_bound,
    blind_pair,
    ordinal_alpha,
    percent_agreement,
    rank_distance,
)
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


def _reviewer_pairs(rng, *, agree: float, count: int) -> list[tuple[str, str]]:
    """Pairs from reviewers who see the true grade with chance ``agree`` each time and
    otherwise grade at random with the usual mix (Krippendorff's alpha about ``agree``)."""
    mix = ["pass"] * 6 + ["minor"] * 3 + ["major"]
    pairs = []
    for _ in range(count):
        if rng.random() < agree:
            truth = rng.choice(mix)
            pairs.append((truth, truth))
        else:
            pairs.append((rng.choice(mix), rng.choice(mix)))
    return pairs


def test_the_upper_bound_is_seeded_and_above_the_estimate():
    pairs = [("pass", "pass"), ("pass", "minor"), ("major", "major"), ("minor", "minor"),
             ("pass", "major"), ("minor", "pass"), ("major", "minor"), ("pass", "pass")]
    upper = alpha_upper_bound(pairs, confidence=0.9, seed="clinical:W47")
    assert upper == alpha_upper_bound(pairs, confidence=0.9, seed="clinical:W47")
    assert upper is not None and upper > ordinal_alpha(pairs)
    assert alpha_upper_bound([("pass", "pass")] * 5, confidence=0.9, seed="s") == 1.0
    assert alpha_upper_bound([], confidence=0.9, seed="s") is None


def test_alerting_on_the_bound_not_the_estimate_keeps_good_reviewers_quiet():
    # 20 pairs from reviewers of true alpha about 0.8, bar 0.667: the estimate alone dips
    # below the bar in a good share of windows; the bound at 90% rarely does.
    rng = random.Random(5)
    windows, on_estimate, on_bound = 80, 0, 0
    for i in range(windows):
        pairs = _reviewer_pairs(rng, agree=0.8, count=20)
        alpha = ordinal_alpha(pairs)
        if alpha is not None and alpha < 0.667:
            on_estimate += 1
            upper = alpha_upper_bound(pairs, confidence=0.9, seed=str(i), resamples=300)
            on_bound += upper is not None and upper < 0.667
    assert on_estimate / windows > 0.1
    assert on_bound / windows <= 0.05


def test_reviewers_who_do_not_share_a_standard_are_caught_on_the_bound():
    rng = random.Random(6)
    caught = sum(
        (upper := alpha_upper_bound(_reviewer_pairs(rng, agree=0.3, count=40), confidence=0.9,
                                    seed=str(i), resamples=300)) is not None and upper < 0.667
        for i in range(30))
    assert caught >= 27
