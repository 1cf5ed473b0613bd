"""`auditbot serve`: the HTTP (or Socket Mode) front, the outbox worker and the scheduler."""

import gc
import logging
import signal
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.common.logs import log_context
from bot.fronts.app import create_app
from bot.fronts.socket_mode import connect_socket_mode
from bot.fronts.web import EVENTS_PATH, create_web_app, make_server, stop_server
from bot.slack import metrics
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)


def serve(ctx: AppContext, *, socket_mode: bool, scheduler: bool) -> int:
    """Runs until SIGTERM/SIGINT. Over HTTP, Slack reaches ``/slack/events`` on PORT; in
    Socket Mode the bot connects out to Slack and PORT serves only health, metrics and the
    ingest API (so probes and the pipeline work the same either way)."""
    try:
        identity = ctx.client.auth_test()
    except SlackApiError as error:
        log.error("SLACK_BOT_TOKEN was refused by %s: %s", ctx.settings.slack_api_url,
                  error.response.get("error"))
        return 2
    except OSError as error:  # URLError and connection failures
        log.error("cannot reach Slack at SLACK_API_URL %s: %s", ctx.settings.slack_api_url,
                  error)
        return 2
    log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))
    bolt = create_app(ctx, socket_mode=socket_mode)
    front = None
    if socket_mode:
        try:
            front = connect_socket_mode(bolt, ctx.settings.slack_app_token or "")
        except SlackApiError as error:
            log.error("SLACK_APP_TOKEN was refused by %s: %s (it needs an app-level token "
                      "with connections:write)", ctx.settings.slack_api_url,
                      error.response.get("error"))
            return 2
        log.info("Socket Mode connected; port %s serves /healthz, /metrics and the ingest "
                 "API", ctx.settings.port)
    ctx.outbox.start()
    log.info("outbox worker %s started", ctx.outbox.owner)
    jobs = None
    if scheduler:
        from schedules.runner import start_scheduler

        with log_context(job="startup"):
            jobs = start_scheduler(ctx)
        _observe_jobs(jobs)
    stopping = threading.Event()
    web = (create_web_app(None, ctx, socket_connected=front.client.is_connected)
           if front is not None else create_web_app(bolt, ctx))
    server = make_server(web, host="0.0.0.0", port=ctx.settings.port)

    def stop() -> None:
        stopping.set()
        if front is not None:
            front.close()  # no new envelopes; Slack sends them to another connection
        stop_server(server)

    _on_sigterm(stop)
    # What is built by now lives as long as the process: out of the cycle collector's reach,
    # a full collection walks only what requests made since. Measured in `make bench` row 1:
    # two full collections of ~150k objects took up to 95 ms each with the interpreter held,
    # and every request in flight waited (with the freeze: under 5 ms). Collected first, so
    # no start-up garbage is kept for good.
    gc.collect()
    gc.freeze()
    try:
        if not socket_mode:
            log.info("listening on port %s at %s", ctx.settings.port, EVENTS_PATH)
        try:
            server.run()
        except OSError:
            if not stopping.is_set():
                raise
        server.task_dispatcher.shutdown(timeout=10)  # let requests in flight finish
    finally:
        # Stop taking work, then let the outbox finish what it holds (leases hand back the rest).
        if front is not None and not stopping.is_set():
            front.close()
        # Listeners still working after their ack (a grade being saved, a modal opening)
        # finish before the process goes.
        executor = bolt.listener_runner.listener_executor
        if isinstance(executor, ThreadPoolExecutor):
            executor.shutdown(wait=True)
        ctx.follow_up.shutdown(wait=True)  # what those grades are followed by, too
        if jobs is not None:
            jobs.shutdown(wait=True)
        ctx.outbox.stop()
    return 0


def _observe_jobs(scheduler: Any) -> None:
    """Every scheduled run logs under its job and run id and is counted in /metrics.

    The jobs claim their due time in the database (``schedules.runner``), so on several
    replicas each counts its executions, and only one of them does the work of a due time.
    """
    for job in scheduler.get_jobs():
        job.modify(func=_observed(job.id, job.func))


def _observed(job_id: str, func: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any, **kwargs: Any) -> None:
        with log_context(job=job_id, job_run=uuid.uuid4().hex[:8]):
            try:
                func(*args, **kwargs)
            except Exception:
                metrics.JOB_RUNS.labels(job=job_id, outcome="error").inc()
                raise
            metrics.JOB_RUNS.labels(job=job_id, outcome="ok").inc()
    return run


def _on_sigterm(stop: Callable[[], None]) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        log.info("SIGTERM: stopping")
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
