"""Permalinks to messages, asked of Slack once per message and remembered.

    links = Permalinks(client)
    found = links.resolve([(channel, ts), ...])     # {(channel, ts): "https://…"}
    lookup = links.lookup([(channel, ts), ...])     # .links, and .complete: False if Slack
                                                    # was busy (429, 5xx) for some of them

A permalink never changes, so a process keeps them (up to ``size``); a message Slack cannot
link (deleted, or an error) is simply left out and shown without a link.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


class Permalinks:
    def __init__(self, client: WebClient, *, size: int = 5000) -> None:
        self._client = client
        self._size = size
        self._known: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, messages: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
        return self.lookup(messages).links

    def lookup(self, messages: Iterable[tuple[str, str | None]]) -> "Lookup":
        found: dict[tuple[str, str], str] = {}
        complete = True
        for channel, ts in messages:
            if not ts:
                continue
            try:
                link = self.of(channel, ts, raise_when_busy=True)
            except SlackApiError:
                complete = False
                continue
            if link:
                found[(channel, ts)] = link
        return Lookup(found, complete)

    def of(self, channel: str, ts: str, *, raise_when_busy: bool = False) -> str | None:
        """The message's permalink, or None if Slack cannot link it. ``raise_when_busy``:
        a 429 or 5xx raises (the caller tries again later) instead of giving None."""
        key = (channel, ts)
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return self._known[key]
        try:
            link = self._client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError as error:
            if raise_when_busy and busy(error):
                raise
            return None
        if isinstance(link, str):
            with self._lock:
                self._known[key] = link
                while len(self._known) > self._size:
                    self._known.popitem(last=False)
            return link
        return None


@dataclass(frozen=True)
class Lookup:
    links: dict[tuple[str, str], str]
    complete: bool  # False: Slack was busy for some messages; asking again later may link them


def busy(error: SlackApiError) -> bool:
    """Slack is rate limiting or failing for now (not refusing for good)."""
    status = error.response.status_code
    return status == 429 or status >= 500


_BY_CLIENT: "weakref.WeakKeyDictionary[WebClient, Permalinks]" = weakref.WeakKeyDictionary()
_BY_CLIENT_LOCK = threading.Lock()


def permalinks_for(client: WebClient) -> Permalinks:
    """The one cache of a client (per app or job), so listeners and jobs share what they know."""
    with _BY_CLIENT_LOCK:
        found = _BY_CLIENT.get(client)
        if found is None:
            found = _BY_CLIENT[client] = Permalinks(client)
        return found
