"""Fault injection queues for the sandbox's Web API (see `SlackSandbox.fail_next`).

A `Fault` is consumed by the next matching call: `kind` "fail" answers with an error and
changes nothing, "ratelimit" answers HTTP 429, "accept_then_fail" lets the call take effect
and then answers HTTP 500 (or drops the connection when `status` is 0).
"""

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # fail | ratelimit | accept_then_fail
    method: str
    times: int
    status: int = 500
    error: str = "internal_error"
    channel: str | None = None
    retry_after: int = 1

    def matches(self, method: str, channels: set[str]) -> bool:
        if self.method != method or self.times <= 0:
            return False
        return self.channel is None or self.channel in channels


class Faults:
    """Pending faults and per-method latency; thread-safe."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._latency: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._pending.append(fault)

    def take(self, method: str, channels: set[str], *, kinds: tuple[str, ...]) -> Fault | None:
        """Consumes one use of the first pending fault of `kinds` matching this call."""
        with self._lock:
            for fault in self._pending:
                if fault.kind in kinds and fault.matches(method, channels):
                    fault.times -= 1
                    if fault.times == 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def set_latency(self, method: str, seconds: float) -> None:
        with self._lock:
            if seconds > 0:
                self._latency[method] = seconds
            else:
                self._latency.pop(method, None)

    def latency(self, method: str) -> float:
        with self._lock:
            return self._latency.get(method, 0.0)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._latency.clear()
