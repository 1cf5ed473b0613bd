"""HTTP routes: Slack's events endpoint, health, served by waitress (a production WSGI server).

Usage::

    server = make_server(create_web_app(bolt_app, ctx), host="0.0.0.0", port=3000)
    server.run()
"""

from flask import Flask, Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import text
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.context import AppContext

EVENTS_PATH = "/slack/events"


def create_web_app(bolt: App, ctx: AppContext) -> Flask:
    web = Flask("auditbot")
    slack = SlackRequestHandler(bolt)

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        return slack.handle(request)

    @web.get("/healthz")
    def healthz() -> tuple[dict, int]:
        try:
            with ctx.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # the process is up but cannot reach its store
            return {"ok": False, "error": f"database: {error.__class__.__name__}"}, 503
        return {"ok": True}, 200

    return web


def make_server(web: Flask, *, host: str, port: int,
                threads: int = 8) -> BaseWSGIServer | MultiSocketServer:
    return create_server(web, host=host, port=port, threads=threads, ident="auditbot")


def stop_server(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Make ``server.run()`` return: the listening socket closes in the server's own loop
    (woken now, not at its next 1 s timeout). Requests in flight finish; call
    ``server.task_dispatcher.shutdown()`` after ``run()`` returns to wait for them."""
    server.trigger.pull_trigger(server.close)  # type: ignore[union-attr]
