"""What the hostile suite needs: raw HTTP into the running bot, Slack's signature (or a broken
one), a local listener that stands for an internal address, and a watch over everything a
request could change (Web API calls, response_url posts, outbound requests, the store, logs).

    with Watch(bot, caplog, outbound) as watch:
        status, body = post(bot, b"...", headers=signed(b"..."))
    watch.assert_nothing_happened()
"""

import hashlib
import hmac
import http.client
import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (the tables, for the row counts)
from bot.demo.local import SIGNING_SECRET
from tests.support.harness import RunningBot

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed(body: bytes, *, timestamp: str | None = None,
           secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's headers for ``body``, signed now (or at ``timestamp``)."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def payload_form(payload: Any) -> bytes:
    return form({"payload": json.dumps(payload)})


def post(bot: RunningBot, body: bytes, *, headers: dict[str, str | bytes],
         content_type: str | None = FORM) -> tuple[int, str]:
    """POSTs raw bytes to /slack/events; (status, body). Header values may be bytes (sent
    as they are, like a client that does not care about HTTP's latin-1)."""
    url = urlsplit(bot.driver.app_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.putrequest("POST", url.path)
        all_headers: dict[str, str | bytes] = {"Content-Length": str(len(body)), **headers}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        for name, value in all_headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


class Outbound:
    """A local HTTP listener standing for an internal address: counts what reaches it."""

    def __init__(self) -> None:
        hits = self.hits = []  # type: list[str]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outbound() -> Iterator[Outbound]:
    listener = Outbound()
    yield listener
    listener.close()


def row_counts(bot: RunningBot) -> dict[str, int]:
    with bot.ctx.engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


@dataclass
class Watch:
    """Everything a request could have changed, from entering to ``settle()``."""

    bot: RunningBot
    caplog: pytest.LogCaptureFixture
    outbound: Outbound
    calls: int = 0
    posts: int = 0
    hits: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> "Watch":
        self.bot.wait_listeners()
        self.caplog.clear()
        self.calls = len(self.bot.sandbox.calls())
        self.posts = len(self.bot.sandbox.responses())
        self.hits = len(self.outbound.hits)
        self.rows = row_counts(self.bot)
        return self

    def __exit__(self, *exc: object) -> None:
        self.bot.wait_listeners()

    def new_calls(self) -> list[str]:
        return [c.method for c in self.bot.sandbox.calls()[self.calls:]]

    def assert_no_outside_effect(self) -> None:
        """No Web API call, no response_url post, nothing to the internal address."""
        assert self.new_calls() == []
        assert self.bot.sandbox.responses()[self.posts:] == []
        assert self.outbound.hits[self.hits:] == []

    def assert_store_unchanged(self) -> None:
        assert row_counts(self.bot) == self.rows

    def assert_no_traceback(self) -> None:
        records = self.caplog.records
        assert [r.getMessage()[:200] for r in records if r.exc_info] == []
        assert [r.getMessage()[:200] for r in records if "Traceback" in r.getMessage()] == []

    def log_text(self) -> str:
        return "\n".join(r.getMessage() for r in self.caplog.records)


def quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything from INFO (Bolt logs refused bodies at INFO)."""
    caplog.set_level(logging.INFO)
