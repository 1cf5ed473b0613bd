"""The app factory: a Bolt app wired to one AppContext, built fresh per process or test.

Usage::

    ctx = AppContext.build(settings, workspace, clock=SystemClock())
    bolt = create_app(ctx)
    web = create_web_app(bolt, ctx)   # bot.fronts.web: /slack/events, /healthz

    bolt = create_app(ctx, socket_mode=True)   # envelopes come through bot.fronts.socket_mode
"""

import logging

from slack_bolt import App

import handlers
from bot.common.logs import ShortLines
from bot.fronts.prompt_ack import AckingExecutor
from bot.wiring.context import AppContext


def create_app(ctx: AppContext, *, socket_mode: bool = False) -> App:
    settings = ctx.settings
    settings.require("slack_bot_token")
    if not socket_mode:
        settings.require("slack_signing_secret")
    # Bolt quotes request bodies in some of its lines: each line is cut short.
    bolt_logger = logging.getLogger("slack_bolt.auditbot")
    if not bolt_logger.filters:
        bolt_logger.addFilter(ShortLines())
    app = App(
        name="auditbot",
        logger=bolt_logger,
        signing_secret=settings.slack_signing_secret or None,
        # Socket Mode has no signatures: the app-level token that opened the socket is the proof.
        request_verification_enabled=not socket_mode,
        client=ctx.client,
        # Listeners ack first and keep working after the HTTP response has gone out.
        process_before_response=False,
        # No network at construction; `serve` checks the token itself with a clear message.
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        # Listeners run on these threads, logging the request's id, and go on after their
        # ack; an HTTP request is answered as soon as its listener acks (prompt_ack).
        listener_executor=AckingExecutor(max_workers=5, thread_name_prefix="listener"),
    )
    handlers.register(app, ctx)
    return app
