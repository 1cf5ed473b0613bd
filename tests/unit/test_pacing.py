"""The pace rule (GCRA): a burst, then one post per 1/rate seconds, channels independent."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.channel_pace import Pace, gcra


class Channel:
    """One channel's arrival time, moved by `gcra` as the store's UPDATE moves it."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.tat: float | None = None

    def take(self, now: float) -> float:
        decision = gcra(self.tat, now, self.pace)
        self.tat = decision.tat
        return decision.wait


def test_a_burst_goes_at_once_then_posts_wait_one_interval_each():
    channel = Channel(Pace(per_second=2.0, burst=3))
    assert [channel.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert channel.take(100.0) == pytest.approx(0.5)  # refused: nothing taken
    assert channel.take(100.5) == 0.0
    assert channel.take(100.5) == pytest.approx(0.5)


def test_an_idle_channel_gets_its_burst_back_but_no_more():
    channel = Channel(Pace(per_second=1.0, burst=2))
    channel.take(100.0)
    channel.take(100.0)
    assert [channel.take(160.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


@given(pace=st.builds(Pace, per_second=st.floats(0.1, 50), burst=st.integers(1, 10)),
       gaps=st.lists(st.floats(0, 5), min_size=1, max_size=200))
def test_no_window_ever_holds_more_than_a_burst_plus_the_rate(pace, gaps):
    channel, now, granted = Channel(pace), 1000.0, []
    for gap in gaps:
        now += gap
        if channel.take(now) == 0.0:
            granted.append(now)
    for i, start in enumerate(granted):
        for j in range(i, len(granted)):
            span = granted[j] - start
            assert j - i + 1 <= pace.burst + span * pace.per_second + 1e-6


@given(pace=st.builds(Pace, per_second=st.floats(0.1, 50), burst=st.integers(1, 10)),
       tat=st.floats(0, 2000), now=st.floats(900, 1100))
def test_a_refusal_names_the_wait_after_which_the_post_is_allowed(pace, tat, now):
    refused = gcra(tat, now, pace)
    if refused.allowed:
        assert refused.wait == 0.0
    else:
        assert refused.wait > 0
        assert gcra(tat, now + refused.wait + 1e-6, pace).allowed


def test_a_pace_must_be_possible():
    with pytest.raises(ValueError):
        Pace(per_second=0, burst=1)
    with pytest.raises(ValueError):
        Pace(per_second=1, burst=0)
