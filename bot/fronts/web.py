"""HTTP routes: Slack's events endpoint, health, metrics and the ingest API, served by
waitress (a production WSGI server).

Usage::

    server = make_server(create_web_app(bolt_app, ctx), host="0.0.0.0", port=3000)
    server.run()
"""

import logging
from collections.abc import Callable

from flask import Flask, Response
from slack_bolt import App
from sqlalchemy import text
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.common.logs import Throttled
from bot.fronts.web_ingest import MAX_BODY_BYTES, register_ingest
from bot.fronts.web_slack import EVENTS_PATH, add_slack_route
from bot.slack import metrics
from bot.wiring.context import AppContext

__all__ = ["EVENTS_PATH", "create_web_app", "make_server", "stop_server"]

log = logging.getLogger(__name__)


def create_web_app(bolt: App | None, ctx: AppContext, *,
                   socket_connected: Callable[[], bool] | None = None) -> Flask:
    """`bolt` None: no Slack route (Socket Mode), only health, metrics and ingest; then
    `socket_connected` tells /healthz whether the Socket Mode link to Slack is up."""
    web = Flask("auditbot")
    if bolt is not None:
        add_slack_route(web, bolt, ctx)

    @web.get("/metrics")
    def prometheus_metrics() -> Response:
        body, content_type = metrics.exposition(ctx.engine)
        return Response(body, content_type=content_type)

    @web.get("/healthz")
    def healthz() -> tuple[dict, int]:
        try:
            with ctx.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # the process is up but cannot reach its store
            return {"ok": False, "error": f"database: {error.__class__.__name__}"}, 503
        if socket_connected is not None and not socket_connected():
            # Nothing reaches the bot while its link is down (a refresh takes under a second;
            # a link that stays down, e.g. a revoked SLACK_APP_TOKEN, needs a person).
            return {"ok": False, "error": "slack: no Socket Mode connection"}, 503
        return {"ok": True}, 200

    register_ingest(web, ctx)
    return web


def make_server(web: Flask, *, host: str, port: int,
                threads: int = 8) -> BaseWSGIServer | MultiSocketServer:
    # Waitress buffers a body before the app sees it: refuse far larger ones there already
    # (the ingest route answers 413 past its own limit with a clearer message).
    server = create_server(web, host=host, port=port, threads=threads, ident="auditbot",
                           max_request_body_size=2 * MAX_BODY_BYTES)
    # Waitress warns once per request queued behind busy threads: under a burst, a line per
    # click, written by the thread that accepts them all. One every 10 s says the same.
    dispatcher = server.task_dispatcher
    dispatcher.queue_logger = Throttled(dispatcher.queue_logger)
    return server


def stop_server(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Make ``server.run()`` return: the listening socket closes in the server's own loop
    (woken now, not at its next 1 s timeout). Requests in flight finish; call
    ``server.task_dispatcher.shutdown()`` after ``run()`` returns to wait for them."""
    try:
        server.trigger.pull_trigger(server.close)
    except OSError as error:
        # The trigger's pipe is already closed: the server closed itself (its loop saw the
        # pipe fail). There is nothing left to wake; stopping twice must not fail either.
        log.warning("stopping the HTTP server: its wake-up pipe is gone (%s)", error)
