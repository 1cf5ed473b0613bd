"""The per-channel pacer: a burst, then one post per 1/rate seconds, channels independent."""

import pytest

from bot.slack.pacing import ChannelPacer, Pace


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_at_once_then_posts_wait_one_interval_each():
    time = FakeTime()
    pacer = ChannelPacer(Pace(per_second=2.0, burst=3), clock=time)
    for _ in range(3):
        assert pacer.ready_in("C1") == 0.0
        pacer.take("C1")
    assert pacer.ready_in("C1") == pytest.approx(0.5)
    time.now += 0.5
    assert pacer.ready_in("C1") == 0.0
    pacer.take("C1")
    assert pacer.ready_in("C1") == pytest.approx(0.5)


def test_channels_are_paced_independently():
    time = FakeTime()
    pacer = ChannelPacer(Pace(per_second=1.0, burst=1), clock=time)
    pacer.take("C1")
    assert pacer.ready_in("C1") == pytest.approx(1.0)
    assert pacer.ready_in("C2") == 0.0


def test_an_idle_channel_gets_its_burst_back_but_no_more():
    time = FakeTime()
    pacer = ChannelPacer(Pace(per_second=1.0, burst=2), clock=time)
    pacer.take("C1")
    pacer.take("C1")
    time.now += 60
    pacer.take("C1")
    pacer.take("C1")
    assert pacer.ready_in("C1") == pytest.approx(1.0)


def test_a_pace_must_be_possible():
    with pytest.raises(ValueError):
        Pace(per_second=0, burst=1)
    with pytest.raises(ValueError):
        Pace(per_second=1, burst=0)
