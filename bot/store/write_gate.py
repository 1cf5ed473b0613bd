"""One SQLite writer at a time, queued in the process instead of polling for the lock.

    gate = WriteGate()
    if gate.acquire(urgent=True, timeout=1.5): ...   # then BEGIN IMMEDIATE; release() at the end

SQLite has one write lock and no queue for it: a writer that finds it taken sleeps in the
busy handler (1, 2, 5 … up to 100 ms a try) and wakes to find it taken again by whoever
happened to try in between. Under a burst of clicks plus the outbox and the follow-up work,
that put a grade's wait for the lock at up to 2 s although each transaction takes a few ms.
Writers of one process wait here instead, handed the lock the moment it is free; writers
that answer a person (``urgent``: a click's transaction, ``bot.store.db.bounded_session``) go
before background writers (the outbox, follow-up work, jobs), which can wait. Other
processes on the same file still meet at SQLite's busy timeout.

The gate only orders writers; SQLite's lock still decides. So a holder that never released
it (a connection lost mid-transaction) is passed over after ``STALE`` seconds, when SQLite's
own busy timeout would have given up on it too.
"""

import threading
import time

STALE = 30.0  # seconds; as long as SQLite's busy timeout (``bot.store.db``)


class WriteGate:
    def __init__(self) -> None:
        lock = threading.Lock()
        # One condition per class of writer, so a release wakes one writer (of the class
        # that goes next), not every waiting thread to find the gate taken again.
        self._urgent = threading.Condition(lock)
        self._background = threading.Condition(lock)
        self._held = False
        self._held_since = 0.0
        self._urgent_waiting = 0
        self._background_waiting = 0

    def acquire(self, *, urgent: bool, timeout: float) -> bool:
        """True once this writer holds the gate; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        turn = self._urgent if urgent else self._background
        with turn:
            while self._taken() or (not urgent and self._urgent_waiting):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._count(urgent, 1)
                try:
                    turn.wait(min(left, STALE))
                finally:
                    self._count(urgent, -1)
            self._held, self._held_since = True, time.monotonic()
            return True

    def release(self) -> None:
        with self._urgent:
            self._held = False
            if self._urgent_waiting:
                self._urgent.notify()
            elif self._background_waiting:
                self._background.notify()

    def _count(self, urgent: bool, delta: int) -> None:
        if urgent:
            self._urgent_waiting += delta
        else:
            self._background_waiting += delta

    def _taken(self) -> bool:
        return self._held and time.monotonic() - self._held_since < STALE
