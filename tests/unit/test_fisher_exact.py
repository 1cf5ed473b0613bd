"""The outlier test's p-value, computed without scipy, against scipy's Fisher exact test."""

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, hypergeom

from bot.services.consistency import hypergeometric_cdf, pass_rate_below_rest


def scipy_p(passed: int, graded: int, rest_passed: int, rest_graded: int) -> float:
    table = [[passed, graded - passed], [rest_passed, rest_graded - rest_passed]]
    return float(fisher_exact(table, alternative="less").pvalue)


def test_every_small_table_matches_scipys_one_sided_fisher_test():
    # Every table with up to 9 samples a side, empty sides included.
    tables = [(p, g, rp, rg) for g in range(10) for p in range(g + 1)
              for rg in range(10) for rp in range(rg + 1)]
    for passed, graded, rest_passed, rest_graded in tables:
        ours = pass_rate_below_rest(passed, graded, rest_passed=rest_passed,
                                    rest_graded=rest_graded)
        assert ours == pytest.approx(scipy_p(passed, graded, rest_passed, rest_graded),
                                     rel=1e-9, abs=1e-15), (passed, graded, rest_passed,
                                                            rest_graded)


@pytest.mark.parametrize(("passed", "graded", "rest_passed", "rest_graded"), [
    (0, 40, 400, 400),           # nothing passed against everything: far below
    (40, 40, 0, 400),            # everything passed against nothing: p = 1
    (0, 40, 0, 400),             # nobody passed: nothing to tell apart, p = 1
    (40, 40, 400, 400),          # everybody passed: p = 1
    (1, 1, 0, 1), (0, 1, 1, 1),  # one sample a side
    (300, 1000, 90_000, 100_000),  # tens of thousands of digits in the counts
    (800, 1000, 90_000, 100_000),  # a p-value near 1e-20: still to nine digits
    (899, 1000, 90_000, 100_000),  # just below the rest's rate
    (950, 1000, 90_000, 100_000),  # above it
    (5, 2000, 1, 3),             # the trainer is nearly all of the task type
])
def test_edge_and_large_tables_match_scipy(passed: int, graded: int, rest_passed: int,
                                           rest_graded: int):
    ours = pass_rate_below_rest(passed, graded, rest_passed=rest_passed,
                                rest_graded=rest_graded)
    assert 0.0 <= ours <= 1.0
    assert ours == pytest.approx(scipy_p(passed, graded, rest_passed, rest_graded),
                                 rel=1e-9, abs=1e-300)


def test_the_tail_is_the_exact_fraction_rounded_once():
    # P(X <= 2), X: 10 drawn from 60 of which 47 succeed; by the definition, as a Fraction.
    exact = sum(Fraction(comb(47, x) * comb(13, 10 - x), comb(60, 10)) for x in range(3))
    assert hypergeometric_cdf(2, total=60, successes=47, draws=10) == float(exact)
    assert pass_rate_below_rest(2, 10, rest_passed=45, rest_graded=50) == float(exact)


def test_a_tail_below_the_fewest_successes_possible_is_zero_and_past_the_most_is_one():
    # 10 drawn from 12 with 9 successes: at least 7 successes come out, at most 9.
    assert hypergeometric_cdf(6, total=12, successes=9, draws=10) == 0.0
    assert hypergeometric_cdf(9, total=12, successes=9, draws=10) == 1.0
    assert hypergeometric_cdf(7, total=12, successes=9, draws=10) == pytest.approx(
        hypergeom.cdf(7, 12, 9, 10), rel=1e-12)


def test_an_impossible_draw_is_an_error():
    with pytest.raises(ValueError, match="no such draw"):
        hypergeometric_cdf(1, total=5, successes=6, draws=2)
    with pytest.raises(ValueError, match="no such draw"):
        hypergeometric_cdf(1, total=5, successes=2, draws=6)


tables = st.integers(1, 300).flatmap(lambda graded: st.tuples(
    st.integers(0, graded), st.just(graded),
    st.integers(1, 3000).flatmap(lambda rest: st.tuples(st.integers(0, rest), st.just(rest)))))


@settings(max_examples=300, deadline=None)
@given(tables)
def test_any_table_matches_scipy_and_more_passes_never_look_worse(table):
    passed, graded, (rest_passed, rest_graded) = table
    ours = pass_rate_below_rest(passed, graded, rest_passed=rest_passed,
                                rest_graded=rest_graded)
    assert ours == pytest.approx(scipy_p(passed, graded, rest_passed, rest_graded),
                                 rel=1e-9, abs=1e-300)
    if passed < graded:  # one more pass (one fewer fail) is at least as likely a draw
        better = pass_rate_below_rest(passed + 1, graded, rest_passed=rest_passed,
                                      rest_graded=rest_graded)
        assert better >= ours
