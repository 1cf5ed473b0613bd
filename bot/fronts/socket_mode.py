"""The Socket Mode front: Slack's envelopes over a WebSocket instead of signed HTTP requests.

Usage::

    front = connect_socket_mode(create_app(ctx, socket_mode=True), ctx.settings.slack_app_token)
    ...                       # envelopes are handled on the client's threads
    front.close()

For teams that cannot expose a public URL. The app opens the connection itself with its
app-level token (``apps.connections.open``, through the same Web API base URL as every other
call), acks each envelope as soon as its listener calls ``ack()``, and reconnects on its own
when Slack asks (``disconnect``) or the link drops. Each envelope is logged and timed like an
HTTP request (request id = the envelope id).
"""

import logging
import time

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.common.logs import log_context
from bot.slack import metrics
from bot.slack.verify import shape_problem

log = logging.getLogger(__name__)


class SocketModeFront(SocketModeHandler):
    """Bolt's Socket Mode handler with the HTTP front's request ids, logs and ack metric."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        with log_context(request_id=str(req.envelope_id)[:12]):
            # With process_before_response=False, dispatch returns at the ack and the
            # listener goes on on Bolt's executor (which keeps this context's ids).
            response = self._dispatch(req)
            send_response(client, req, response, started)
            elapsed = time.perf_counter() - started
            log.info("slack %s envelope acked (%s) in %.0f ms", req.type, response.status,
                     elapsed * 1000)
        metrics.ACK_SECONDS.observe(elapsed)


    def _dispatch(self, req: SocketModeRequest) -> BoltResponse:
        """Bolt's answer; an envelope whose payload Bolt cannot read is acked (so Slack does
        not send it again) with one log line, never a traceback."""
        payload = req.payload
        problem = "its payload is not an object" if not isinstance(payload, dict) \
            else shape_problem(payload)
        if problem is None:
            try:
                return run_bolt_app(self.app, req)
            except Exception as error:  # Bolt failed on it, even in its error handler
                problem = f"Bolt could not read it ({error.__class__.__name__})"
        log.warning("slack %s envelope dropped: %s", req.type, problem)
        return BoltResponse(status=200, body="")


def connect_socket_mode(bolt: App, app_token: str) -> SocketModeFront:
    """Opens the Socket Mode connection; raises ``SlackApiError`` if the token is refused."""
    front = SocketModeFront(bolt, app_token)
    front.connect()
    return front
