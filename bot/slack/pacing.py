"""Per-channel pacing of posts, so the outbox keeps to Slack's limit instead of hitting 429s.

Usage::

    pacer = ChannelPacer(Pace(per_second=1.0, burst=3))
    if pacer.ready_in("C0CLINICAL") == 0:   # may a post go to this channel now?
        pacer.take("C0CLINICAL")            # a post is going out
        client.chat_postMessage(...)

Slack allows about one ``chat.postMessage`` per second per channel, with short bursts; it
answers 429 with ``Retry-After`` beyond that. Each channel has a token bucket of ``burst``
posts refilled at ``per_second``. The pacer is per process: replicas do not share it, and a
429 (which the outbox answers by holding the channel in the database) covers the rest.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    per_second: float = 1.0
    burst: int = 3

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("Pace needs per_second > 0 and burst >= 1")


# Slack's documented limit for posts to one channel: one a second, short bursts allowed.
SLACK_PACE = Pace(per_second=1.0, burst=3)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class ChannelPacer:
    def __init__(self, pace: Pace = SLACK_PACE, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pace = pace
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def ready_in(self, channel: str) -> float:
        """Seconds until a post to ``channel`` may go out (0.0: now)."""
        with self._lock:
            bucket = self._refill(channel)
            return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / self.pace.per_second

    def take(self, channel: str) -> None:
        """Count a post to ``channel`` (it may overdraw: the next one then waits longer)."""
        with self._lock:
            self._refill(channel).tokens -= 1.0

    def _refill(self, channel: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.setdefault(channel, _Bucket(float(self.pace.burst), now))
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.pace.burst), bucket.tokens + elapsed * self.pace.per_second)
        bucket.updated = now
        return bucket
