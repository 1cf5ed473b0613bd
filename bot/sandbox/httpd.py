"""The HTTP layer of the sandbox: a ThreadingHTTPServer whose handler only does I/O.

Routes: ``POST|GET /api/<method>`` (Web API), ``POST /response/<id>`` (response_url) and
``POST /upload/<file id>`` (file uploads); anything else is 404. The `Dispatcher` decides
the answer.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bot.sandbox.dispatch import Dispatcher, Outcome


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dispatcher = dispatcher

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name="slack-sandbox",
        )
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        dispatcher = self.server.dispatcher
        if parts.path.startswith("/api/"):
            outcome = dispatcher.web_api(
                parts.path[len("/api/") :],
                query=parts.query,
                body=body,
                content_type=self.headers.get("Content-Type", ""),
                authorization=self.headers.get("Authorization", ""),
            )
        elif parts.path.startswith("/response/"):
            key = parts.path[len("/response/") :]
            outcome = dispatcher.response_url(key, self.server.base_url + parts.path, body)
        elif parts.path.startswith("/upload/"):
            outcome = dispatcher.upload(parts.path[len("/upload/") :], body)
        else:
            outcome = Outcome(404, b"not found", {"Content-Type": "text/plain"})
        self._write(outcome)

    def _write(self, outcome: Outcome) -> None:
        if outcome.drop:
            self.close_connection = True
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(outcome.body)
        self.close_connection = True
