"""The floor for `bench/start_bench.py`: a bare Bolt app with one listener behind waitress.

    PORT=3100 SLACK_API_URL=http://127.0.0.1:PORT/api/ python bench/bare_bolt.py

What any Bolt app served by waitress costs: Bolt (with slack_sdk), its WSGI adapter, one
slash command listener, an action listener that only acks, and ``/healthz``. It checks its
token with ``auth.test`` at start, as ``auditbot serve`` does. Not part of the bot.
"""

import os
import re
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve

app = App(token=os.environ["SLACK_BOT_TOKEN"], signing_secret=os.environ["SLACK_SIGNING_SECRET"],
          client=WebClient(token=os.environ["SLACK_BOT_TOKEN"],
                           base_url=os.environ["SLACK_API_URL"]))


@app.command("/audit")
def audit(ack: Ack) -> None:
    ack("ok")


@app.action(re.compile(".*"))
def action(ack: Ack) -> None:  # `bench/run.py` row 1's floor: a click, only acked
    ack()


bolt = SlackRequestHandler(app)


def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return bolt(environ, start_response)


if __name__ == "__main__":
    serve(wsgi, host="127.0.0.1", port=int(os.environ["PORT"]),
          threads=int(os.environ.get("THREADS", "4")))
