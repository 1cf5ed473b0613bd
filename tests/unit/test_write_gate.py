"""The write gate: one writer at a time, writers that answer a person first, a timeout."""

import threading
import time

from bot.store.write_gate import WriteGate


def _holding(gate: WriteGate, *, urgent: bool, order: list[str], name: str,
             started: threading.Event) -> threading.Thread:
    def run() -> None:
        started.set()
        assert gate.acquire(urgent=urgent, timeout=5)
        order.append(name)
        gate.release()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting(gate: WriteGate, count: int, *, timeout: float = 5) -> None:
    """Until ``count`` writers wait at the gate (both kinds)."""
    deadline = time.monotonic() + timeout
    while gate._urgent_waiting + gate._background_waiting < count:
        assert time.monotonic() < deadline, "writers never queued"
        time.sleep(0.001)


def test_a_waiting_urgent_writer_goes_before_background_writers_that_came_first() -> None:
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)
    order: list[str] = []
    threads = []
    for n in range(3):
        threads.append(_holding(gate, urgent=False, order=order, name=f"background{n}",
                                started=threading.Event()))
    _waiting(gate, 3)
    threads.append(_holding(gate, urgent=True, order=order, name="click",
                            started=threading.Event()))
    _waiting(gate, 4)
    gate.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order[0] == "click"
    assert sorted(order[1:]) == ["background0", "background1", "background2"]


def test_one_writer_at_a_time() -> None:
    gate = WriteGate()
    inside, most = 0, 0
    lock = threading.Lock()

    def write(urgent: bool) -> None:
        nonlocal inside, most
        for _ in range(50):
            assert gate.acquire(urgent=urgent, timeout=5)
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0)
            with lock:
                inside -= 1
            gate.release()

    threads = [threading.Thread(target=write, args=(n % 2 == 0,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most == 1


def test_a_writer_that_cannot_get_the_gate_in_time_is_told_so_and_leaves_no_trace() -> None:
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)
    assert gate.acquire(urgent=True, timeout=0.05) is False
    assert gate._urgent_waiting == 0
    gate.release()
    assert gate.acquire(urgent=False, timeout=0.05)  # nothing urgent left in the way
    gate.release()


def test_a_holder_that_never_released_is_passed_over_once_stale(monkeypatch) -> None:
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)  # a connection lost mid-transaction
    monkeypatch.setattr("bot.store.write_gate.STALE", 0.05)
    assert gate.acquire(urgent=True, timeout=1)
