"""auditbot running locally against the Slack sandbox: what the demo and the tests drive.

Usage::

    local = start_local_bot(engine=engine, workspace=workspace, clock=clock,
                            sandbox=SlackSandbox(users=..., channels=...).start())
    local.driver.click(user, message, "Pass", channel=channel)
    local.stop()

The app is the real one (signed HTTP in through waitress, Web API calls out through
slack_sdk to the sandbox's URL); only the URLs are local. With ``socket_mode=True`` it opens a
Socket Mode connection to the sandbox instead, and the driver sends envelopes over it.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.common.clock import Clock
from bot.common.logs import ContextExecutor
from bot.follow.weekly_audit import run_weekly_audit
from bot.fronts.app import create_app
from bot.fronts.socket_mode import SocketModeFront, connect_socket_mode
from bot.fronts.web import EVENTS_PATH, create_web_app, make_server, stop_server
from bot.sandbox.driver import SlackDriver
from bot.sandbox.records import Message
from bot.sandbox.server import SlackSandbox
from bot.services.audit import AuditSummary
from bot.services.ingest import (
    IngestReport,
    ingest,
    label_scales_of,
    records_from_json_array,
    roster_from_workspace,
)
from bot.slack.pacing import Pace
from bot.store.db import session_scope
from bot.wiring.config import load_settings
from bot.wiring.context import AppContext
from bot.workspace import Workspace

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox"


@dataclass
class LocalBot:
    ctx: AppContext
    sandbox: SlackSandbox
    driver: SlackDriver
    url: str
    server: Any
    thread: threading.Thread
    front: SocketModeFront | None = None
    bolt: App | None = None  # the Bolt app (its listener executor tells when listeners are done)

    def wait_listeners(self, timeout: float = 15.0) -> None:
        """Returns once every listener started so far (after its ack) has finished."""
        executor = getattr(self.bolt.listener_runner, "listener_executor", None) \
            if self.bolt is not None else None
        if isinstance(executor, ContextExecutor) and not executor.wait_idle(timeout):
            raise TimeoutError(f"listeners still running after {timeout}s")

    def ingest(self, records: Iterable[dict[str, Any]]) -> IngestReport:
        trainers, task_types = roster_from_workspace(self.ctx.workspace)
        with session_scope(self.ctx.engine) as session:
            return ingest(session, records_from_json_array(list(records)),
                          known_trainers=trainers, known_task_types=task_types,
                          now=self.ctx.clock.now(),
                          label_scales=label_scales_of(self.ctx.workspace))

    def run_audit(self, *, deliver: bool = True) -> AuditSummary:
        summary = run_weekly_audit(self.ctx, now=self.ctx.clock.now())
        if deliver:
            self.deliver()
        return summary

    def deliver(self, timeout: float = 60.0) -> None:
        """Everything owed to Slack, delivered (waiting out rate limits) before returning."""
        self.ctx.outbox.run_until_idle(timeout=timeout)

    def parents(self, channel: str) -> list[Message]:
        return [m for m in self.sandbox.messages(channel) if not m.thread_ts]

    def thread_replies(self, channel: str) -> list[Message]:
        return [m for m in self.sandbox.messages(channel) if m.thread_ts]

    def stop(self, *, keep_sandbox: bool = False) -> None:
        if self.front is not None:
            # The socket closes at once; slack_sdk then joins its reader threads, which can
            # take seconds: nothing is left for them to do, so don't wait.
            threading.Thread(target=self.front.close, name="socket-mode-close",
                             daemon=True).start()
        stop_server(self.server)
        self.thread.join(5)
        self.server.task_dispatcher.shutdown(timeout=5)
        self.ctx.follow_up.shutdown(wait=True)
        self.ctx.outbox.stop()
        if not keep_sandbox:
            self.sandbox.stop()


def start_local_bot(*, engine: Engine, workspace: Workspace, clock: Clock,
                    sandbox: SlackSandbox, worker: bool = True,
                    outbox_backoff: float = 0.05, socket_mode: bool = False) -> LocalBot:
    settings = load_settings({
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": sandbox.app_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sandbox.url,
        "DATABASE_URL": str(engine.url),
    }, cwd=Path.cwd())
    # Short backoffs: the sandbox's faults are injected, not a real outage to wait out.
    # Paced as the sandbox limits posts (its burst is Slack-like but larger than our default).
    pace = Pace(per_second=sandbox.post_rate_per_sec, burst=sandbox.post_burst)
    ctx = AppContext.build(settings, workspace, clock=clock, engine=engine,
                           outbox_backoff=outbox_backoff, pace=pace)
    bolt = create_app(ctx, socket_mode=socket_mode)
    front = connect_socket_mode(bolt, sandbox.app_token) if socket_mode else None
    server = make_server(create_web_app(None if socket_mode else bolt, ctx), host="127.0.0.1",
                         port=0)
    thread = threading.Thread(target=server.run, name="auditbot-http", daemon=True)
    thread.start()
    if worker:
        ctx.outbox.start(interval=0.05)
    url = f"http://127.0.0.1:{server.effective_port}"
    if socket_mode:
        driver = SlackDriver(sandbox=sandbox, socket_mode=True)
    else:
        driver = SlackDriver(app_url=url + EVENTS_PATH, signing_secret=SIGNING_SECRET,
                             sandbox=sandbox)
    return LocalBot(ctx=ctx, sandbox=sandbox, driver=driver, url=url, server=server,
                    thread=thread, front=front, bolt=bolt)
