"""The scorecard's statistics against hand-computed examples (pure, no store)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.agreement import label_alpha, labels_match, ordinal_alpha
from bot.services.scorecard import Share, label_shares, share_dimension
from bot.services.scoring import bounds

WEEKS = ("2026-W47", "2026-W48")


def test_nominal_alpha_by_hand():
    # Six pairable labels, three a and three b; one unit of two disagrees.
    # D_o = 2/6 (its two ordered pairs), D_e = 2*3*3/(6*5) = 0.6: alpha = 1 - (1/3)/0.6.
    assert label_alpha([("a", "a"), ("a", "b"), ("b", "b")], level="nominal") == \
        pytest.approx(1 - (1 / 3) / 0.6)


def test_interval_alpha_by_hand():
    # Values 1,2,3,3,4,5 (mean 3). D_o = (2*1 + 0 + 2*1)/6; D_e = 2*6*10/(6*5) = 4.
    assert label_alpha([("1", "2"), ("3", "3"), ("4", "5")], level="interval") == \
        pytest.approx(1 - (4 / 6) / 4)


def test_ordinal_alpha_with_listed_labels_is_the_reviewers_ordinal_alpha():
    units = [("A", "A"), ("A", "B"), ("C", "C")]
    as_grades = [("pass", "pass"), ("pass", "minor"), ("major", "major")]
    assert label_alpha(units, level="ordinal", order=("A", "B", "C")) == \
        pytest.approx(ordinal_alpha(as_grades))


def test_ordinal_labels_without_a_list_are_ordered_as_numbers():
    assert label_alpha([("1", "1"), ("1", "2"), ("10", "10")], level="ordinal") == \
        pytest.approx(ordinal_alpha([("pass", "pass"), ("pass", "minor"),
                                     ("major", "major")]))


def test_alpha_is_undefined_without_pairs_or_without_variation():
    assert label_alpha([("A",), ("B",)], level="nominal") is None
    assert label_alpha([("A", "A"), ("A", "A")], level="nominal") is None


def test_interval_labels_match_as_numbers():
    assert labels_match("4", "4.0", level="interval")
    assert not labels_match("4", "4.0", level="nominal")
    assert not labels_match("4", "5", level="interval")


def test_pairwise_shares_by_hand():
    rows = [("T1", "i1", "A", WEEKS[0]), ("T2", "i1", "A", WEEKS[0]),
            ("T3", "i1", "B", WEEKS[1]),
            ("T1", "i2", "B", WEEKS[1]), ("T2", "i2", "C", WEEKS[1])]
    shares = label_shares(rows, trainers=["T1", "T2", "T3"], weeks=WEEKS, level="nominal")
    # T1: i1 vs T2 (match) and T3 (no), i2 vs T2 (no): 1 of 3; the week of T1's own label.
    assert shares["T1"] == Share(hits=1, n=3, weekly=((1, 2), (0, 1)))
    assert shares["T2"] == Share(hits=1, n=3, weekly=((1, 2), (0, 1)))
    assert shares["T3"] == Share(hits=0, n=2, weekly=((0, 0), (0, 2)))


def test_a_trainer_alone_on_their_items_has_no_comparisons():
    shares = label_shares([("T1", "i1", "A", WEEKS[0])], trainers=["T1"], weeks=WEEKS,
                          level="nominal")
    assert shares["T1"] == Share(hits=0, n=0, weekly=((0, 0), (0, 0)))


def test_a_share_gets_the_exact_bounds_and_watch_needs_enough_data():
    share = Share(hits=6, n=10, weekly=((2, 5), (4, 5)))
    shown = share_dimension("clarity", share, confidence=0.9, threshold=0.8, min_n=8)
    assert (shown.value, (shown.lower, shown.upper)) == (0.6, bounds(6, 10, 0.9))
    assert shown.weekly == (0.4, 0.8)
    assert shown.watch and shown.n == 10
    assert not share_dimension("clarity", share, confidence=0.9, threshold=0.8,
                               min_n=11).watch
    assert not share_dimension("clarity", share, confidence=0.9, threshold=0.5,
                               min_n=8).watch
    assert not share_dimension("clarity", share, confidence=0.9, threshold=None,
                               min_n=0).watch
    empty = share_dimension("clarity", Share(weekly=((0, 0), (0, 0))), confidence=0.9,
                            threshold=0.8, min_n=0)
    assert (empty.value, empty.lower, empty.upper, empty.watch) == (None, None, None, False)


labelled = st.lists(st.tuples(st.sampled_from(["T1", "T2", "T3"]),
                              st.sampled_from(["i1", "i2", "i3"]),
                              st.sampled_from(["A", "B"]), st.sampled_from(WEEKS)),
                    max_size=20)


@given(labelled)
def test_every_comparison_is_counted_from_both_sides(rows):
    shares = label_shares(rows, trainers=["T1", "T2", "T3"], weeks=WEEKS, level="nominal")
    cross = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1:]
             if a[1] == b[1] and a[0] != b[0]]
    assert sum(s.n for s in shares.values()) == 2 * len(cross)
    assert sum(s.hits for s in shares.values()) == 2 * sum(a[2] == b[2] for a, b in cross)
    for share in shares.values():
        assert 0 <= share.hits <= share.n
        assert sum(n for _, n in share.weekly) == share.n


@given(labelled)
def test_trainers_who_always_agree_match_every_time(rows):
    same = [(t, i, "A", w) for t, i, _, w in rows]
    for share in label_shares(same, trainers=["T1", "T2", "T3"], weeks=WEEKS,
                              level="ordinal").values():
        assert share.hits == share.n
