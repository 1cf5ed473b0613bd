"""Token buckets keyed by a string (the sandbox keys chat.postMessage by channel).

buckets = Buckets(rate_per_sec=1.0, burst=30, clock=time.monotonic)
wait = buckets.take("C0GENERAL")   # 0.0 when allowed, else seconds until a token is back
"""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Buckets:
    """One token bucket per key: `burst` tokens, refilled at `rate_per_sec`."""

    def __init__(self, *, rate_per_sec: float, burst: int, clock: Callable[[], float]) -> None:
        if rate_per_sec <= 0 or burst < 1:
            raise ValueError("rate_per_sec must be > 0 and burst >= 1")
        self.rate = rate_per_sec
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Takes one token for `key`; returns 0.0 on success or the seconds to wait."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, _Bucket(float(self.burst), now))
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after_header(wait_seconds: float) -> int:
    """Slack's Retry-After: whole seconds, at least 1."""
    return max(1, math.ceil(wait_seconds))
