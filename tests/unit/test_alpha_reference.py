"""Krippendorff's ordinal alpha, computed in fractions, against the ``krippendorff`` package."""

import krippendorff
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.agreement import SCALE, ordinal_alpha


def package_alpha(units: list[list[str]], scale: tuple[str, ...]) -> float | None:
    rows = [[unit.count(value) for value in scale] for unit in units if len(unit) >= 2]
    if sum(1 for column in zip(*rows, strict=True) if any(column)) < 2:
        return None
    return float(krippendorff.alpha(value_counts=rows, value_domain=list(range(len(scale))),
                                    level_of_measurement="ordinal"))


@st.composite
def rated_units(draw: st.DrawFn) -> tuple[tuple[str, ...], list[list[str]]]:
    scale = tuple(str(v) for v in range(draw(st.integers(2, 6))))
    unit = st.lists(st.sampled_from(scale), min_size=1, max_size=5)
    units = draw(st.lists(unit, min_size=1, max_size=40))
    return scale, units


@settings(max_examples=300, deadline=None)
@given(rated_units())
def test_any_units_on_any_scale_give_the_packages_alpha(case):
    scale, units = case
    expected = package_alpha(units, scale)
    ours = ordinal_alpha(units, scale=scale)
    if expected is None:
        assert ours is None
    else:
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SCALE), st.sampled_from(SCALE)), min_size=1,
                max_size=500))
def test_blind_pairs_of_grades_give_the_packages_alpha(pairs):
    expected = package_alpha([list(p) for p in pairs], SCALE)
    ours = ordinal_alpha(pairs)
    assert (ours is None) == (expected is None)
    if expected is not None:
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_a_value_no_grader_gave_changes_nothing():
    # An unused value between two used ones holds no pairable values: the distance is the same.
    units = [("pass", "major"), ("pass", "pass"), ("major", "major"), ("pass", "major")]
    assert ordinal_alpha(units) == pytest.approx(package_alpha([list(u) for u in units], SCALE))
    assert ordinal_alpha(units) == pytest.approx(
        ordinal_alpha(units, scale=("pass", "major")))
