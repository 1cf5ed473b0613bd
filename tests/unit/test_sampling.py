from hypothesis import given
from hypothesis import strategies as st

from bot.services.sampling import double_review_positions, draw_sample, sample_seed

SEED = sample_seed(trainer="U0TRAINER1", task_type="clinical", iso_week="2026-W48")


def test_same_week_and_data_pick_the_same_samples_whatever_the_order():
    population = [f"out-{i}" for i in range(40)]
    first = draw_sample(population, k=5, seed=SEED)
    again = draw_sample(list(reversed(population)), k=5, seed=SEED)
    assert first == again
    assert len(set(first)) == 5


def test_another_week_picks_differently():
    population = [f"out-{i}" for i in range(40)]
    other = sample_seed(trainer="U0TRAINER1", task_type="clinical", iso_week="2026-W49")
    assert draw_sample(population, k=5, seed=SEED) != draw_sample(population, k=5, seed=other)


def test_fewer_outputs_than_asked_takes_all_of_them():
    assert sorted(draw_sample(["b", "a", "c"], k=5, seed=SEED)) == ["a", "b", "c"]


def test_no_outputs_no_sample():
    assert draw_sample([], k=5, seed=SEED) == []


@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=60),
       st.integers(min_value=1, max_value=20))
def test_sample_is_a_subset_of_the_population_of_the_right_size(population, k):
    chosen = draw_sample(population, k=k, seed=SEED)
    assert set(chosen) <= set(population)
    assert len(chosen) == min(k, len(population))
    assert len(set(chosen)) == len(chosen)


def test_no_double_review_at_fraction_zero():
    assert double_review_positions(5, fraction=0.0, seed=SEED) == frozenset()


def test_double_review_share_matches_the_fraction_over_many_weeks():
    total = sum(
        len(double_review_positions(5, fraction=0.2, seed=sample_seed(
            trainer="U0TRAINER1", task_type="clinical", iso_week=f"2026-W{w}")))
        for w in range(1, 401)
    )
    assert 0.17 < total / (5 * 400) < 0.23


def test_double_review_positions_are_reproducible_and_in_range():
    chosen = double_review_positions(7, fraction=0.5, seed=SEED)
    assert chosen == double_review_positions(7, fraction=0.5, seed=SEED)
    assert all(0 <= p < 7 for p in chosen)
