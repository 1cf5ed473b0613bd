"""``POST /slack/events``: the body is read (capped), its signature checked and it is parsed
here, before Bolt sees any of it.

Usage (``create_web_app`` does this)::

    add_slack_route(web, bolt, ctx)

Answers: 413 past ``MAX_BODY_BYTES``; 401 ``{"error": "invalid request"}`` for anything
Slack did not sign in the last five minutes (one log line with the reason and the size, never
the body; no Web API call, no outbound request); 400 for a signed body that is not a Slack
request (not UTF-8, not a JSON object, a response_url that is not Slack's); otherwise what
the Bolt app answers. Bolt's own signature check stays on behind this one.
"""

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.request.internals import build_context

from bot.common.logs import log_context
from bot.fronts.prompt_ack import prompt_ack
from bot.slack import metrics
from bot.slack.verify import (
    MAX_BODY_BYTES,
    VERIFIED,
    BadBody,
    parse_slack_body,
    shape_problem,
    signature_problem,
    slack_response_url,
)
from bot.wiring.context import AppContext

EVENTS_PATH = "/slack/events"
log = logging.getLogger(__name__)


def add_slack_route(web: Flask, bolt: App, ctx: AppContext, *,
                    now: Callable[[], float] = time.time) -> None:
    """``now``: the wall clock Slack's timestamps are compared with (seconds since the epoch)."""
    secret = ctx.settings.slack_signing_secret or ""
    api_url = ctx.settings.slack_api_url
    if not secret:
        raise ValueError("the Slack route needs SLACK_SIGNING_SECRET")

    @web.post(EVENTS_PATH)
    def slack_events() -> Response:
        # Every line logged for this request, here and in the listener after the ack,
        # carries its id; Slack's own retry headers say when it is a redelivery.
        request_id = _request_id(request.headers.get("X-Request-Id"))
        started = time.perf_counter()
        with log_context(request_id=request_id):
            try:
                response = _answer(bolt, secret=secret, api_url=api_url, now=now())
            except Refused as refused:
                # One line, without the body (it is the sender's, and may be megabytes).
                log.warning("slack request refused with %s: %s", refused.status, refused.why)
                return _flask_response(BoltResponse(status=refused.status,
                                                    body={"error": refused.error}))
            # With process_before_response=False the response is the ack.
            elapsed = time.perf_counter() - started
            log.info("slack request answered %s in %.0f ms", response.status_code,
                     elapsed * 1000)
        metrics.ACK_SECONDS.observe(elapsed)
        return response


class Refused(Exception):
    """A request answered here, before Bolt: ``status`` with ``{"error": error}``."""

    def __init__(self, status: int, error: str, why: str) -> None:
        super().__init__(why)
        self.status, self.error, self.why = status, error, why


def _answer(bolt: App, *, secret: str, api_url: str, now: float) -> Response:
    """Bolt's answer to a request Slack signed; raises Refused for any other."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise Refused(413, "request body too large", f"{request.content_length} bytes")
    # Content-Length may be absent (chunked) or wrong: read at most one byte past the limit.
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(413, "request body too large", f"over {MAX_BODY_BYTES} bytes")
    problem = signature_problem(secret, body=raw, now=now,
                                timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                                signature=request.headers.get("X-Slack-Signature"))
    if problem:
        raise Refused(401, "invalid request", f"{problem}, {len(raw)} bytes")
    try:
        text, body = parse_slack_body(raw, request.headers.get("Content-Type"))
        shape = shape_problem(body)
        if shape:
            raise BadBody(shape)
        if not all(slack_response_url(url, api_url=api_url) for url in _response_urls(body)):
            raise BadBody("a response_url that is not Slack's")
        bolt_request = _bolt_request(text, body)
    except BadBody as error:
        raise Refused(400, "bad request", f"signed, but {error}") from None
    try:
        with prompt_ack(bolt_request.context):
            return _flask_response(bolt.dispatch(bolt_request))
    except Exception as error:  # Bolt failed on a signed body, even in its error handler
        raise Refused(400, "bad request", f"signed, but Bolt could not read it "
                                           f"({error.__class__.__name__})") from None


def _flask_response(answer: BoltResponse) -> Response:
    """Bolt's answer as Flask's, its headers as Bolt set them (Content-Type included), built
    in one step (Bolt's Flask adapter makes a response through ``make_response``, takes its
    Content-Type off and adds each header again: seen in every click's profile)."""
    return Response(answer.body, status=answer.status,
                    headers=[(name, value) for name, values in answer.headers.items()
                             for value in values])


def _bolt_request(text: str, body: dict[str, Any]) -> BoltRequest:
    """A BoltRequest holding ``body`` as parsed here (Bolt's own parser would read a slash
    command whose text says "payload" as an empty interaction)."""
    bolt_request = BoltRequest(body="", query=request.query_string.decode("latin-1"),
                               headers=dict(request.headers.items()), context={VERIFIED: True})
    bolt_request.raw_body, bolt_request.body = text, body
    try:
        build_context(bolt_request.context, body)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError):
        raise BadBody("its ids are not where Slack puts them") from None
    return bolt_request


def _response_urls(body: dict[str, Any]) -> list[Any]:
    urls = [body["response_url"]] if "response_url" in body else []
    listed = body.get("response_urls")
    if isinstance(listed, list):
        urls += [u.get("response_url") if isinstance(u, dict) else u for u in listed]
    elif listed is not None:
        urls.append(listed)
    return urls


def _request_id(header: str | None) -> str:
    """The caller's X-Request-Id when it is a plain id (it goes into every log line)."""
    if header and len(header) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.")
                                            for c in header):
        return header
    return uuid.uuid4().hex[:12]
