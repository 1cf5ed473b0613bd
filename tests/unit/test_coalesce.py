"""Keyed follow-up work: asked for again while it waits, it runs once, the latest asked."""

import threading

from bot.common.coalesce import Coalescer
from bot.common.logs import ContextExecutor


def test_work_asked_for_again_while_it_waits_runs_once_and_others_run_too() -> None:
    pool = ContextExecutor(max_workers=1)
    keyed = Coalescer(pool, gather=0.05)
    ran: list[str] = []
    for n in range(5):
        keyed.submit(("check", "U0TRAINER1"), lambda n=n: ran.append(f"U0TRAINER1:{n}"))
    keyed.submit(("check", "U0TRAINER2"), lambda: ran.append("U0TRAINER2"))
    assert pool.wait_idle(timeout=5)  # the gathering wait counts as the pool's work
    assert ran == ["U0TRAINER1:4", "U0TRAINER2"]
    keyed.submit(("check", "U0TRAINER1"), lambda: ran.append("again"))
    assert pool.wait_idle(timeout=5)
    assert ran[-1] == "again"  # once run, the key is free for the next change
    pool.shutdown()


def test_asked_for_while_a_batch_runs_it_runs_in_the_next_batch() -> None:
    pool = ContextExecutor(max_workers=2)
    keyed = Coalescer(pool, gather=0.01)
    running, go = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow() -> None:
        running.set()
        go.wait(5)
        ran.append("first")

    keyed.submit("k", slow)
    assert running.wait(5)
    keyed.submit("k", lambda: ran.append("second"))  # the first already started: not merged
    go.set()
    assert pool.wait_idle(timeout=5)
    assert sorted(ran) == ["first", "second"]
    pool.shutdown()


def test_a_failure_does_not_stop_the_rest_of_the_batch() -> None:
    pool = ContextExecutor(max_workers=1)
    keyed = Coalescer(pool, gather=0.01)
    ran: list[str] = []

    def fails() -> None:
        raise RuntimeError("the store went away")

    keyed.submit("a", fails)
    keyed.submit("b", lambda: ran.append("b"))
    assert pool.wait_idle(timeout=5)
    assert ran == ["b"]
    pool.shutdown()


def test_after_the_pool_is_shut_down_work_runs_at_once() -> None:
    pool = ContextExecutor(max_workers=1)
    pool.shutdown()
    ran: list[str] = []
    Coalescer(pool, gather=10).submit("k", lambda: ran.append("k"))
    assert ran == ["k"]
