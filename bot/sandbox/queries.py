"""Read-only views of the sandbox's records, mixed into `SlackSandbox`.

Every getter returns copies, so a test can keep them while the bot goes on working.
A `channel` argument may be a channel id, a DM id or a user id (meaning the DM with them).
"""

import copy
import threading
from collections.abc import Callable
from typing import Any

from bot.sandbox import api_views
from bot.sandbox.dispatch import Dispatcher
from bot.sandbox.records import Call, Ephemeral, Message, ResponsePost, ViewRecord
from bot.sandbox.state import ApiError, Workspace


class Queries:
    """Assertion helpers over what the bot did in the sandbox."""

    _lock: threading.RLock
    _ws: Workspace
    _dispatcher: Dispatcher

    def calls(self, method: str | None = None) -> list[Call]:
        """Every Web API call (including refused and faulted ones), oldest first."""
        with self._lock:
            calls = [c for c in self._dispatcher.calls if method is None or c.method == method]
            return copy.deepcopy(calls)

    def call_count(self, method: str | None = None) -> int:
        """How many Web API calls (of ``method``) so far, without copying them: for a
        watcher that polls while thousands of calls arrive (``calls`` copies every one)."""
        with self._lock:
            return sum(1 for c in self._dispatcher.calls if method is None or c.method == method)

    def reset_calls(self) -> None:
        with self._lock:
            self._dispatcher.calls.clear()

    def _channel_id(self, channel: str) -> str:
        if channel[:1] in ("U", "W"):
            return "D" + channel[1:]
        try:
            return self._ws.resolve(channel).id
        except ApiError as exc:
            raise KeyError(f"unknown channel {channel!r}") from exc

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages and thread replies of `channel`, in ts order."""
        with self._lock:
            return [m.copy() for m in self._ws.visible(self._channel_id(channel))]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent `ts` and its replies, in ts order."""
        return [m for m in self.messages(channel) if ts in (m.ts, m.thread_ts)]

    def message(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages(channel) if m.ts == ts), None)

    def find_message(self, channel: str, predicate: Callable[[Message], bool]) -> Message | None:
        """The first message of `channel` (in ts order) for which `predicate` is true."""
        return next((m for m in self.messages(channel) if predicate(m)), None)

    def dms(self, user: str) -> list[Message]:
        """Messages in the bot's DM with `user`."""
        return self.messages(user)

    def dm_id(self, user: str) -> str:
        return "D" + user[1:]

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages (chat.postEphemeral, response_url, slash-command acks)."""
        with self._lock:
            wanted = self._channel_id(channel) if channel else None
            return [
                e.copy()
                for e in self._ws.ephemerals
                if (user is None or e.user == user) and (wanted is None or e.channel == wanted)
            ]

    def views(self, user: str | None = None) -> list[ViewRecord]:
        """Modals opened or pushed (latest version of each), oldest first."""
        with self._lock:
            return [v.copy() for v in self._ws.views.values() if user is None or v.user == user]

    def view(self, view_id: str) -> ViewRecord | None:
        with self._lock:
            record = self._ws.views.get(view_id)
            return record.copy() if record else None

    def open_modals(self, user: str) -> list[ViewRecord]:
        """The user's open modal stack, root first."""
        with self._lock:
            return [v.copy() for v in api_views.open_modals(self._ws, user)]

    def latest_modal(self, user: str) -> ViewRecord | None:
        """The most recently opened or pushed modal of `user` (open or not)."""
        views = self.views(user)
        return views[-1] if views else None

    def home(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for `user`, or None."""
        with self._lock:
            record = self._ws.homes.get(user)
            return record.copy().view if record else None

    def responses(self, response_url: str | None = None) -> list[ResponsePost]:
        """What was POSTed to response_urls, with the sandbox's answers."""
        with self._lock:
            posts = [
                r
                for r in self._ws.responses
                if response_url is None or r.response_url == response_url
            ]
            return copy.deepcopy(posts)

    def files(self, channel: str | None = None) -> list[Any]:
        """Files uploaded through files.* (`api_files.FileRecord`, bytes included), oldest
        first; with `channel`, only those shared there (a user id means their DM)."""
        with self._lock:
            wanted = self._channel_id(channel) if channel else None
            return [f.copy() for f in self._ws.files.values()
                    if wanted is None or wanted in f.channels]

    @property
    def user_names(self) -> dict[str, str]:
        """user id → display name, for rendering mentions."""
        with self._lock:
            return {u.id: u.name for u in self._ws.users.values()}

    @property
    def channel_names(self) -> dict[str, str]:
        with self._lock:
            return {c.id: c.name for c in self._ws.channels.values() if not c.is_dm}
