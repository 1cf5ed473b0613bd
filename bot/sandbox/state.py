"""The sandbox workspace: users, conversations, messages, views, triggers, response_urls.

`Workspace` holds state only; the Web API methods (`api_*` modules) and `SlackSandbox` read and
change it under the sandbox's single lock. It is not thread-safe by itself.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.ratelimit import Buckets
from bot.sandbox.records import (
    BOT_ID,
    BOT_USER_ID,
    Channel,
    Ephemeral,
    Message,
    ResponsePost,
    User,
    ViewRecord,
)

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_TTL_SECONDS = 30 * 60
RESPONSE_URL_MAX_USES = 5


class ApiError(Exception):
    """A Slack error answer: HTTP 200 with {"ok": false, "error": ...}."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            out["response_metadata"] = {"messages": list(self.messages)}
        return out


class RateLimited(Exception):
    """HTTP 429 with Retry-After (whole seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class ResponseUrl:
    user: str | None
    channel: str | None
    message_ts: str | None
    issued: float
    uses: int = 0


class Workspace:
    """All sandbox state. `clock` is monotonic (expiry, rate limits), `wall_clock` makes ts."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        post_limiter: Buckets,
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.post_limiter = post_limiter
        self.users: dict[str, User] = {BOT_USER_ID: User(BOT_USER_ID, "auditbot", is_bot=True)}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, ViewRecord] = {}
        self.homes: dict[str, ViewRecord] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.responses: list[ResponsePost] = []
        self.files: dict[str, Any] = {}  # file id → api_files.FileRecord
        self.base_url = ""  # where the sandbox serves (upload URLs point here)
        self._last_micros = 0
        self._counter = 0

    # ids -----------------------------------------------------------------
    def next_ts(self) -> str:
        """A unique, strictly increasing Slack ts such as "1764134400.000100"."""
        micros = max(int(self.wall_clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}0SBX{self._counter:05d}"

    def new_hash(self) -> str:
        return f"{int(self.wall_clock())}.{secrets.token_hex(4)}"

    # people and conversations -------------------------------------------
    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        self.users[user_id] = User(user_id, name, is_bot=is_bot)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self.messages.setdefault(channel.id, [])

    def dm_for(self, user_id: str) -> Channel:
        """The (stable) DM between the bot and `user_id`, created on first use."""
        if user_id not in self.users:
            raise ApiError("user_not_found")
        if self.users[user_id].is_bot:
            raise ApiError("cannot_dm_bot")  # bots (this one too) have no DM to open
        dm_id = "D" + user_id[1:]
        if dm_id not in self.channels or self.channels[dm_id].dm_user != user_id:
            self.add_channel(Channel(dm_id, user_id, dm_user=user_id))
        return self.channels[dm_id]

    def resolve(self, channel: str | None) -> Channel:
        """A channel id, DM id, user id (their DM) or channel name ("#general") to its Channel."""
        if not channel:
            raise ApiError("channel_not_found")
        if channel in self.channels:
            return self.channels[channel]
        if channel[0] in "UW" and channel in self.users:
            return self.dm_for(channel)
        if channel[0] == "D":
            for prefix in "UW":
                if prefix + channel[1:] in self.users:
                    return self.dm_for(prefix + channel[1:])
        name = channel.removeprefix("#")
        for candidate in self.channels.values():
            if not candidate.is_dm and candidate.name == name:
                return candidate
        raise ApiError("channel_not_found")

    # messages -------------------------------------------------------------
    def find(self, channel_id: str, ts: str | None) -> Message | None:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def post(
        self,
        channel: Channel,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        user: str = BOT_USER_ID,
    ) -> Message:
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            text=text,
            user=user,
            blocks=blocks or [],
            thread_ts=thread_ts,
            metadata=metadata,
            bot_id=BOT_ID if user == BOT_USER_ID else None,
        )
        if thread_ts:
            parent = self.find(channel.id, thread_ts)
            if parent is not None:
                parent.reply_count += 1
        self.messages.setdefault(channel.id, []).append(message)
        return message

    def visible(self, channel_id: str) -> list[Message]:
        return [m for m in self.messages.get(channel_id, []) if not m.deleted]

    # triggers and response urls ----------------------------------------------
    def issue_trigger(self, user: str) -> str:
        self._counter += 1
        trigger_id = f"{int(self.wall_clock())}{self._counter:04d}.1000.{secrets.token_hex(12)}"
        self.triggers[trigger_id] = Trigger(user=user, issued=self.clock())
        return trigger_id

    def exchange_trigger(self, trigger_id: str | None) -> str:
        """Uses a trigger once; returns its user or raises the error Slack gives."""
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - trigger.issued > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def new_response_url(
        self, *, user: str | None, channel: str | None, message_ts: str | None
    ) -> str:
        key = secrets.token_urlsafe(12)
        self.response_urls[key] = ResponseUrl(user, channel, message_ts, self.clock())
        return key
