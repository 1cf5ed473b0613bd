"""Logging: text for people, JSON lines for log pipelines (``LOG_FORMAT=json``), with the id of
the request or job a line belongs to.

Usage::

    configure_logging("json")                     # the CLI does this once
    with log_context(request_id="a1b2c3"):        # the web front, per request
        log.info("answered")                      # {"message": "answered", "request_id": ...}
    App(listener_executor=ContextExecutor(5))     # Bolt's listeners keep the request's ids

Ids live in context variables; ``ContextExecutor`` copies them into the worker thread, so a
listener that runs after the ack still logs the id of the request that started it.
"""

import contextvars
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

# An immutable mapping (a tuple of pairs), so no caller can change another's context.
_CONTEXT: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "log_context", default=())
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Add ``fields`` (``request_id``, ``job``, ``job_run`` …) to every line logged inside."""
    token = _CONTEXT.set(tuple({**dict(_CONTEXT.get()), **fields}.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, str]:
    return dict(_CONTEXT.get())


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(_CONTEXT.get())
        record.context_fields = fields
        record.context = "".join(f" [{k}={v}]" for k, v in fields.items())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context ids, any error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context_fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


HANDLER_NAME = "auditbot"  # the root handler configure_logging installs


def configure_logging(log_format: str = "text", *, level: int = logging.INFO) -> None:
    """Replace the root handlers with one on stderr in ``log_format`` ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every connection at INFO; `db upgrade` says what it did itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)


class ShortLines(logging.Filter):
    """Cuts a record's message to ``limit`` characters: for loggers that quote what a request
    held (Bolt's "Unhandled request ({body})"), so a sender cannot fill the log."""

    def __init__(self, limit: int = 1000) -> None:
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > self.limit:
            record.msg = f"{message[:self.limit]}… ({len(message) - self.limit} characters cut)"
            record.args = None
        return True


class Throttled:
    """``logger``'s warnings, at most one per ``every`` seconds; the next one written says
    how many were left out. For a caller that warns once per event of a burst (waitress's
    "Task queue depth is N", once per request queued while every thread is busy: 1,700
    lines for 2,000 clicks in `make bench` row 1, written by the thread that accepts every
    request), so a burst still shows in the log, as a line every ``every`` seconds. A
    warning left out costs a clock reading, not a log record."""

    def __init__(self, logger: logging.Logger, every: float = 10.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.every, self._clock = logger, every, clock
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._left_out = 0

    def warning(self, message: str, *args: object) -> None:
        now = self._clock()
        with self._lock:
            if now < self._next:
                self._left_out += 1
                return
            left_out, self._left_out, self._next = self._left_out, 0, now + self.every
        if left_out:
            message += " (%d more like it in the last %g s not shown)"
            args += (left_out, self.every)
        self.logger.warning(message, *args)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context (its log ids);
    ``wait_idle()`` returns once every task submitted so far has finished."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        context = contextvars.copy_context()
        with self._idle:
            self._running += 1
        try:
            future = super().submit(context.run, fn, *args, **kwargs)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        with self._idle:
            self._running -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True when nothing is queued or running (False if ``timeout`` passed first)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)
