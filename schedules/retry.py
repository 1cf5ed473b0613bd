"""Jobs retry on a busy store: another process holding the write lock (SQLite) or a lock
timeout (PostgreSQL) is a wait, not a failure.

Usage::

    summary = when_busy(lambda: run_escalation_check(ctx, now=now))

Every job may run again safely: each due time is claimed in the same transaction as its
work, and every Slack write has a dedupe key, so a run that failed on a busy store and
rolled back is simply run again. Anything else fails at once.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from bot.store.db import is_busy

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
FIRST_WAIT = 1.0  # seconds; doubled after each busy attempt (1, 2, 4)


def when_busy(job: Callable[[], T], *, attempts: int = ATTEMPTS, first_wait: float = FIRST_WAIT,
              sleep: Callable[[float], None] = time.sleep) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return job()
        except Exception as error:
            if attempt == attempts or not is_busy(error):
                raise
            wait = first_wait * 2 ** (attempt - 1)
            log.warning("the database is busy (another process is writing to it); "
                        "retrying in %.0fs (attempt %d of %d)", wait, attempt + 1, attempts)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
