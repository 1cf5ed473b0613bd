"""One place that turns failures into what the user reads, for verified requests only.

A request reaches a listener only after Bolt's signature check, but Bolt hands errors raised
before that (in its own parsing or matching) to ``@app.error`` too: those are answered with a
status and never with a message, a DM or a POST to whatever the body names.
"""

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.common.errors import AuditbotError
from bot.slack.payloads import BadPayload
from bot.slack.verify import VERIFIED, slack_response_url
from bot.wiring.context import AppContext

log = logging.getLogger(__name__)
Listener = Callable[..., None]


def register(app: App, ctx: AppContext) -> None:
    @app.error
    def on_error(error: Exception, request: BoltRequest,
                 response: BoltResponse | None) -> BoltResponse | None:
        if not verified(request):
            # Never a message, a DM or an outbound request for what nobody signed.
            log.warning("unverified request failed in Bolt: %s", error.__class__.__name__)
            return _status(response, 401)
        body = request.body if isinstance(request.body, dict) else {}
        report(ctx, body, error)
        # A signed request Bolt could not match or parse is the sender's problem, not a 5xx.
        return _status(response, 400 if isinstance(error, (BadPayload, LookupError, TypeError,
                                                           AttributeError, ValueError)) else 200)


def verified(request: BoltRequest) -> bool:
    """Came over Socket Mode (the app-level token is the proof) or through the HTTP route
    that checked its signature."""
    return request.mode == "socket_mode" or request.context.get(VERIFIED) is True


def _status(response: BoltResponse | None, status: int) -> BoltResponse | None:
    if response is None:  # acked already: the answer has gone out
        return None
    return BoltResponse(status=status, body="")


def guarded(ctx: AppContext) -> Callable[[Listener], Listener]:
    """Wrap a listener so that a failure reaches the user as an answer.

    Bolt hands exceptions raised after ``ack()`` to ``@app.error`` too, but on the way it
    resets the ack it already has, so a quick failure (a refusal found in a few ms) can
    leave the HTTP request unanswered for 3 seconds. Catching here keeps the ack intact.
    A failure before the ack is acked here at once: a modal with the message as an error on
    its first input (rather than Slack's "connection error"), anything else empty and then
    told.
    """

    def wrap(listener: Listener) -> Listener:
        @functools.wraps(listener)
        def guarded_listener(*args: Any, **kwargs: Any) -> None:
            try:
                listener(*args, **kwargs)
            except Exception as error:
                body = kwargs.get("body")
                body = body if isinstance(body, dict) else {}
                ack = kwargs.get("ack")
                if isinstance(ack, Ack) and ack.response is None:
                    # Failed before its ack: answer now, not after Slack gave up.
                    field = _first_input(body) if body.get("type") == "view_submission" \
                        else None
                    if field is not None:
                        # A person waits at a modal: a field error they can read.
                        ack(response_action="errors", errors={field: _message(error)})
                        return
                    ack()
                report(ctx, body, error)

        return guarded_listener

    return wrap


def report(ctx: AppContext, body: dict[str, Any], error: Exception) -> None:
    """The one translation of failures into what the user reads."""
    tell(ctx.client, body, _message(error), api_url=ctx.settings.slack_api_url)


def _message(error: Exception) -> str:
    """What the person reads; an unexpected error is logged with the incident id they see."""
    if isinstance(error, AuditbotError):
        return error.user_message
    if isinstance(error, BadPayload):
        return f"That request could not be read: {error}"
    incident = uuid.uuid4().hex[:8]
    log.error("listener failed (incident %s)", incident, exc_info=error)
    return (f"Something went wrong on auditbot's side (incident `{incident}`). "
            "Nothing was recorded; please try again.")


def _first_input(body: dict[str, Any]) -> str | None:
    """The block id of the modal's first input, where a field error can be shown."""
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input" and \
                isinstance(block.get("block_id"), str):
            return str(block["block_id"])
    return None


def check_answer(sent: WebhookResponse, *, user: str) -> None:
    """Log an answer through a response_url that did not arrive. Bolt's ``respond`` and
    ``WebhookClient.send`` do not raise: a response_url used up (5 answers) or expired
    (30 minutes) answers 404, and the person saw nothing."""
    if sent.status_code != 200:
        log.warning("an answer to %s did not arrive: the response_url answered %s %s",
                    user, sent.status_code, sent.body)


def tell(client: WebClient, body: dict[str, Any], text: str, *, api_url: str) -> None:
    """An ephemeral answer to whoever sent ``body``, where they are looking; a response_url
    is used only if it is Slack's (``api_url``: the Slack API the app talks to)."""
    user = _string(body.get("user"), "id") or _string(body, "user_id")
    if not user:
        return
    channel, thread_ts = _where(body)
    if body.get("command") and slack_response_url(body.get("response_url"), api_url=api_url):
        check_answer(WebhookClient(body["response_url"]).send(
            text=text, response_type="ephemeral"), user=user)
        return
    if channel and not channel.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
            return
        except SlackApiError as error:  # not in that channel, or the thread is not there
            log.info("could not tell %s in %s (%s): by DM instead", user, channel,
                     error.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as error:
        log.warning("could not tell %s: %s", user, error.response.get("error"))


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    if body.get("type") == "view_submission":
        try:
            meta = json.loads(_string(body.get("view"), "private_metadata") or "{}")
        except (ValueError, RecursionError):
            meta = {}
        return _string(meta, "channel"), _string(meta, "thread_ts")
    container = body.get("container")
    channel = _string(body.get("channel"), "id") or _string(body, "channel_id")
    return channel or _string(container, "channel_id"), _string(container, "thread_ts")


def _string(holder: Any, key: str) -> str | None:
    """``holder[key]`` when ``holder`` is a dict and the value a non-empty string."""
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, str) and value else None
