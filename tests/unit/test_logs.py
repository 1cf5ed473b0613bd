"""Log lines as JSON with the request and job ids they belong to, also on worker threads."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.common.logs import ContextExecutor, configure_logging, log_context


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
