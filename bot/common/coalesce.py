"""Follow-up work run once per key however often it was asked for while it waited.

    keyed = Coalescer(pool, gather=0.1)
    keyed.submit(("check", "U0TRAINER1", "clinical"), lambda: check(...))

Meant for work that reads the store as it is when it runs and is idempotent (a trainer's
threshold check, the feedback a thread owes): five grades of one trainer landing within a
moment need one check after the last of them, not five. The store still decides what happens
exactly once (unique keys, locked rows); this only skips repeats that would find nothing new.
A batch waits ``gather`` seconds on the pool before it runs, so a burst's requests collect;
the wait counts as the pool's work (``ContextExecutor.wait_idle`` waits for it too).
"""

import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Executor

log = logging.getLogger(__name__)


class Coalescer:
    def __init__(self, executor: Executor, *, gather: float) -> None:
        self._executor = executor
        self._gather = gather
        self._lock = threading.Lock()
        self._pending: dict[Hashable, Callable[[], object]] = {}
        self._queued = False

    def submit(self, key: Hashable, work: Callable[[], object]) -> None:
        """Run ``work`` on the pool soon, unless work of the same ``key`` is still waiting
        (then only the latest of them runs)."""
        with self._lock:
            self._pending[key] = work
            if self._queued:
                return
            self._queued = True
        try:
            self._executor.submit(self._drain)
        except RuntimeError:  # the pool is shut down: the process is stopping, run it here
            self._drain(gather=False)

    def _drain(self, *, gather: bool = True) -> None:
        if gather:
            time.sleep(self._gather)
        with self._lock:
            batch = list(self._pending.values())
            self._pending.clear()
            self._queued = False
        for work in batch:
            try:
                work()
            except Exception:  # each piece stands alone; the scheduled check catches up
                log.exception("follow-up work failed")
