"""Log lines as JSON with the request and job ids they belong to, also on worker threads."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.common.logs import ContextExecutor, Throttled, configure_logging, log_context


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("json")
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_context_ids_and_errors(captured):
    log = logging.getLogger("auditbot.test")
    with log_context(request_id="req-1"):
        log.info("answered %s", "help")
        with log_context(job="weekly-audit"):
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("failed")
    log.warning("outside")
    first, second, third = lines(captured)
    assert first["message"] == "answered help" and first["request_id"] == "req-1"
    assert first["level"] == "INFO" and first["logger"] == "auditbot.test" and first["time"]
    assert (second["request_id"], second["job"]) == ("req-1", "weekly-audit")
    assert "ValueError: boom" in second["error"]
    assert "request_id" not in third


def test_work_handed_to_a_context_executor_logs_the_submitter_ids(captured):
    log = logging.getLogger("auditbot.test")
    with ContextExecutor(max_workers=1) as pool, log_context(request_id="req-2"):
        pool.submit(log.info, "after the ack").result()
    assert lines(captured)[0]["request_id"] == "req-2"


def test_a_throttled_logger_writes_one_warning_a_while_and_counts_the_rest(captured):
    now = [100.0]
    throttled = Throttled(logging.getLogger("waitress.queue"), every=10, clock=lambda: now[0])
    for depth in range(1, 6):  # a burst: five in the same moment
        throttled.warning("Task queue depth is %d", depth)
    now[0] += 9.9
    throttled.warning("Task queue depth is %d", 6)
    now[0] += 0.2  # past the ten seconds: the next one is written, with the count
    throttled.warning("Task queue depth is %d", 7)
    assert [line["message"] for line in lines(captured)] == [
        "Task queue depth is 1",
        "Task queue depth is 7 (5 more like it in the last 10 s not shown)"]


def test_the_http_server_throttles_waitress_queue_warnings():
    from flask import Flask

    from bot.fronts.web import make_server

    server = make_server(Flask(__name__), host="127.0.0.1", port=0)
    try:
        queue = server.task_dispatcher.queue_logger
        assert isinstance(queue, Throttled) and queue.logger.name == "waitress.queue"
    finally:
        server.close()
