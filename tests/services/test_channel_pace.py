"""The pace in the store: replicas taking slots for one channel share one pace."""

import threading

from sqlalchemy import Engine

from bot.slack.channel_pace import Pace, give_back, try_take
from bot.store.db import session_scope

PACE = Pace(per_second=2.0, burst=3)


def _take(engine: Engine, channel: str, now: float) -> float:
    with session_scope(engine) as session:
        return try_take(session, channel, now=now, pace=PACE).wait


def test_two_replicas_taking_in_turn_get_one_burst_between_them(engine):
    # Each "replica" is its own session; they alternate, as two dispatchers would.
    granted = [_take(engine, "C1", 100.0) == 0.0 for _ in range(6)]
    assert granted == [True, True, True, False, False, False]
    assert _take(engine, "C1", 100.5) == 0.0
    assert _take(engine, "C1", 100.5) > 0


def test_a_refused_take_changes_nothing_and_names_the_wait(engine):
    for _ in range(3):
        _take(engine, "C1", 100.0)
    assert _take(engine, "C1", 100.0) == 0.5
    assert _take(engine, "C1", 100.25) == 0.25
    assert _take(engine, "C1", 100.25) == 0.25  # the refusal did not move the arrival time


def test_channels_are_paced_independently(engine):
    for _ in range(3):
        _take(engine, "C1", 100.0)
    assert _take(engine, "C2", 100.0) == 0.0


def test_a_slot_says_where_the_channel_stands(engine):
    with session_scope(engine) as session:
        first = try_take(session, "C1", now=100.0, pace=PACE)
        second = try_take(session, "C1", now=100.0, pace=PACE)
    assert (first.wait, first.tat) == (0.0, 100.5)
    assert (second.wait, second.tat) == (0.0, 101.0)


def test_replicas_racing_for_one_channel_take_exactly_a_burst(engine):
    # Eight dispatchers ask at the same instant; the conditional UPDATE lets three through.
    start = threading.Barrier(8)
    results: list[float] = []
    lock = threading.Lock()

    def replica() -> None:
        start.wait()
        wait = _take(engine, "C0RACE", 500.0)
        with lock:
            results.append(wait)

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 8
    assert results.count(0.0) == PACE.burst


def _give_back(engine: Engine, channel: str, now: float) -> float | None:
    with session_scope(engine) as session:
        return give_back(session, channel, now=now, pace=PACE)


def test_a_slot_given_back_after_a_429_can_be_taken_again(engine):
    for _ in range(3):
        _take(engine, "C1", 100.0)
    assert _take(engine, "C1", 100.0) == 0.5
    # The third post was answered 429: Slack did not count it, so its slot is free again.
    assert _give_back(engine, "C1", 100.0) == 101.0
    assert _take(engine, "C1", 100.0) == 0.0
    assert _take(engine, "C1", 100.0) == 0.5


def test_giving_back_never_makes_a_burst_larger_than_the_pace_allows(engine):
    _take(engine, "C1", 100.0)
    # Long after: the bucket is full; a slot given back does not add to it.
    assert _give_back(engine, "C1", 200.0) == 200.0
    granted = [_take(engine, "C1", 200.0) == 0.0 for _ in range(4)]
    assert granted == [True, True, True, False]


def test_giving_back_to_a_channel_that_never_posted_changes_nothing(engine):
    assert _give_back(engine, "C9", 100.0) is None
    assert [_take(engine, "C9", 100.0) == 0.0 for _ in range(4)] == [True, True, True, False]
