"""One place that turns failures after the ack into what the user reads."""

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.context import AppContext
from bot.errors import AuditbotError
from bot.slack.payloads import BadPayload

log = logging.getLogger(__name__)
Listener = Callable[..., None]


def register(app: App, ctx: AppContext) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        report(ctx, body, error)


def guarded(ctx: AppContext) -> Callable[[Listener], Listener]:
    """Wrap a listener so that a failure after its ack reaches the user as an answer.

    Bolt hands exceptions raised after ``ack()`` to ``@app.error`` too, but on the way it
    resets the ack it already has, so a quick failure (a refusal found in a few ms) can
    leave the HTTP request unanswered for 3 seconds. Catching here keeps the ack intact.
    """

    def wrap(listener: Listener) -> Listener:
        @functools.wraps(listener)
        def guarded_listener(*args: Any, **kwargs: Any) -> None:
            try:
                listener(*args, **kwargs)
            except Exception as error:
                report(ctx, kwargs.get("body") or {}, error)

        return guarded_listener

    return wrap


def report(ctx: AppContext, body: dict[str, Any], error: Exception) -> None:
    """The one translation of failures into what the user reads."""
    if isinstance(error, AuditbotError):
        tell(ctx.client, body, error.user_message)
    elif isinstance(error, BadPayload):
        tell(ctx.client, body, f"That request could not be read: {error}")
    else:
        incident = uuid.uuid4().hex[:8]
        log.error("listener failed (incident %s)", incident, exc_info=error)
        tell(ctx.client, body,
             f"Something went wrong on auditbot's side (incident `{incident}`). "
             "Nothing was recorded; please try again.")


def check_answer(sent: WebhookResponse, *, user: str) -> None:
    """Log an answer through a response_url that did not arrive. Bolt's ``respond`` and
    ``WebhookClient.send`` do not raise: a response_url used up (5 answers) or expired
    (30 minutes) answers 404, and the person saw nothing."""
    if sent.status_code != 200:
        log.warning("an answer to %s did not arrive: the response_url answered %s %s",
                    user, sent.status_code, sent.body)


def tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral answer to whoever sent ``body``, where they are looking."""
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user:
        return
    channel, thread_ts = _where(body)
    try:
        if body.get("command") and body.get("response_url"):
            check_answer(WebhookClient(body["response_url"]).send(
                text=text, response_type="ephemeral"), user=user)
            return
        if channel and not channel.startswith("D"):
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as error:
        log.warning("could not tell %s: %s", user, error.response.get("error"))


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    if body.get("type") == "view_submission":
        try:
            meta = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        return meta.get("channel"), meta.get("thread_ts")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) \
        else body.get("channel_id")
    return channel or container.get("channel_id"), container.get("thread_ts")
