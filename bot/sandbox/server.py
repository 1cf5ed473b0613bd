"""`SlackSandbox`: a local Slack Web API over real HTTP, for end-to-end tests and the demo.

    with SlackSandbox(users={"U0NURSE1": "Nurse Joy"}, channels={"C0CLINICAL": "clinical"}) as sb:
        client = WebClient(token=sb.bot_token, base_url=sb.url)   # the real slack_sdk client
        client.chat_postMessage(channel="C0CLINICAL", text="hi")
        assert sb.messages("C0CLINICAL")[0].text == "hi"

It validates what Slack validates (auth, channels, threads, Block Kit limits, trigger ids,
view hashes), rate-limits chat.postMessage per channel, can inject faults (`fail_next`,
`ratelimit_next`, `accept_then_fail`, `set_latency`) and records everything: `calls`,
`messages`, `thread`, `ephemerals`, `dms`, `views`, `home`, `responses`. Record getters
return copies. Interaction payloads are sent by `bot.sandbox.driver.SlackDriver`, as signed
HTTP requests or, for an app in Socket Mode (`app_token`, ``apps.connections.open``), as
envelopes over the app's WebSocket connections (`socket_mode`, see
`bot.sandbox.socket_mode`).
"""

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from bot.sandbox import api_views, responses
from bot.sandbox.dispatch import Dispatcher
from bot.sandbox.faults import Fault, Faults
from bot.sandbox.httpd import SandboxHTTPServer
from bot.sandbox.queries import Queries
from bot.sandbox.ratelimit import Buckets
from bot.sandbox.records import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Channel, Message
from bot.sandbox.socket_mode import SocketModeHub
from bot.sandbox.state import Workspace


class SlackSandbox(Queries):
    """A fake Slack workspace served at `url` (Web API base, ends in "/api/").

    `users` maps user id → display name, `channels` channel id → name (default: C0GENERAL,
    "general"); every user is a member of every channel unless `add_channel(members=...)`
    says otherwise. `clock` (monotonic) drives rate limits and trigger/response_url expiry,
    `wall_clock` the message timestamps; pass fakes to control time in tests.
    """

    bot_user_id = BOT_USER_ID
    bot_id = BOT_ID
    team_id = TEAM_ID

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox",
        app_token: str = "xapp-sandbox",
        users: dict[str, str] | None = None,
        channels: dict[str, str] | None = None,
        post_rate_per_sec: float = 1.0,
        post_burst: int = 30,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode = SocketModeHub(app_id=APP_ID)
        self._lock = threading.RLock()
        limiter = Buckets(rate_per_sec=post_rate_per_sec, burst=post_burst, clock=clock)
        self._ws = Workspace(clock=clock, wall_clock=wall_clock, post_limiter=limiter)
        self._faults = Faults()
        self._dispatcher = Dispatcher(
            ws=self._ws, lock=self._lock, faults=self._faults, token=bot_token,
            app_token=app_token, socket_mode=self.socket_mode,
        )
        self._server: SandboxHTTPServer | None = None
        for user_id, name in (users or {}).items():
            self.add_user(user_id, name)
        channels = {"C0GENERAL": "general"} if channels is None else channels
        for channel_id, channel_name in channels.items():
            self.add_channel(channel_id, channel_name)

    # lifecycle ----------------------------------------------------------------
    def start(self) -> Self:
        """Serves on 127.0.0.1 (a free port) in a daemon thread."""
        if self._server is None:
            self._server = SandboxHTTPServer(self._dispatcher)
            self._ws.base_url = self._server.base_url
            self._server.start_in_thread()
        return self

    def stop(self) -> None:
        self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """e.g. "http://127.0.0.1:54321" (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("SlackSandbox is not started; call start() first")
        return self._server.base_url

    @property
    def post_rate_per_sec(self) -> float:
        """Posts per second per channel before chat.postMessage answers 429."""
        return self._ws.post_limiter.rate

    @property
    def post_burst(self) -> int:
        return self._ws.post_limiter.burst

    @property
    def url(self) -> str:
        """The Web API base URL for `WebClient(base_url=...)`, ending in "/api/"."""
        return f"{self.base_url}/api/"

    # workspace set-up -----------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        with self._lock:
            self._ws.add_user(user_id, name, is_bot=is_bot)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        bot_is_member: bool = True,
        archived: bool = False,
        members: list[str] | None = None,
    ) -> None:
        """Adds (or redefines) a channel; `members` None means every user is a member."""
        channel = Channel(
            channel_id,
            name,
            bot_is_member=bot_is_member,
            archived=archived,
            members=set(members) if members is not None else None,
        )
        with self._lock:
            self._ws.add_channel(channel)

    def post_as_user(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Seeds a message written by a person (not the bot); returns a copy."""
        with self._lock:
            message = self._ws.post(
                self._ws.resolve(channel), text=text, thread_ts=thread_ts, user=user
            )
            return message.copy()

    def issue_trigger_id(self, user: str) -> str:
        """A trigger_id as Slack puts in interaction payloads: usable once, for 3 seconds."""
        with self._lock:
            return self._ws.issue_trigger(user)

    def new_response_url(
        self,
        *,
        user: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A response_url at the sandbox; `user`/`channel`/`message_ts` say where it points."""
        with self._lock:
            key = self._ws.new_response_url(user=user, channel=channel, message_ts=message_ts)
        return f"{self.base_url}/response/{key}"

    def deliver_ack(self, body: dict[str, Any], *, user: str, channel: str) -> None:
        """Shows a slash command's HTTP ack body (text/blocks) to the user, as Slack does."""
        with self._lock:
            responses.deliver(
                self._ws, body, user=user, channel=channel, message_ts=None, source="command_ack"
            )

    def apply_view_answer(self, view_id: str, answer: Any) -> None:
        """Applies an app's answer to a view_submission (close, update, push or errors)."""
        with self._lock:
            api_views.apply_submission_answer(self._ws, view_id, answer)

    # faults -------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int = 500,
        error: str = "internal_error",
        channel: str | None = None,
    ) -> None:
        """The next `times` calls answer `status` with {"ok": false, "error": error}; no effect."""
        self._faults.add(Fault("fail", method, times, status=status, error=error, channel=channel))

    def ratelimit_next(
        self, method: str, *, times: int = 1, retry_after: int = 1, channel: str | None = None
    ) -> None:
        """The next `times` calls answer HTTP 429 with Retry-After; no effect."""
        fault = Fault("ratelimit", method, times, retry_after=retry_after, channel=channel)
        self._faults.add(fault)

    def accept_then_fail(
        self, method: str, *, times: int = 1, status: int = 500, channel: str | None = None
    ) -> None:
        """The next `times` successful calls take effect, then answer `status` (0: drop)."""
        fault = Fault("accept_then_fail", method, times, status=status, channel=channel)
        self._faults.add(fault)

    def set_latency(self, method: str, seconds: float) -> None:
        """Delays every call of `method` ("response_url" too); 0 removes the delay."""
        self._faults.set_latency(method, seconds)

    def clear_faults(self) -> None:
        self._faults.clear()
