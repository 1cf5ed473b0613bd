"""Per-channel pacing of posts, so the outbox keeps to Slack's limit instead of hitting 429s.

Usage::

    pacer = ChannelPacer(engine, Pace(per_second=1.0, burst=3))
    if pacer.ready_in("C0CLINICAL") == 0.0:      # worth trying? (no store read)
        if pacer.take("C0CLINICAL") == 0.0:      # a slot is ours, for every replica: post now
            client.chat_postMessage(...)

Slack allows about one ``chat.postMessage`` per second per channel *per app*, with short
bursts, and answers 429 with ``Retry-After`` beyond that. The pace lives in the store
(``bot.slack.channel_pace``), so replicas draining one outbox share it: together they post
to a channel no faster than one process would. A 429 still holds the channel in the store.
"""

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from bot.slack import channel_pace
from bot.slack.channel_pace import SLACK_PACE, Pace
from bot.store.db import session_scope

__all__ = ["SLACK_PACE", "ChannelPacer", "Pace"]


class ChannelPacer:
    def __init__(self, engine: Engine, pace: Pace = SLACK_PACE, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.pace = pace
        self._engine = engine
        self._clock = clock  # wall-clock seconds: every replica must read the same time
        self._known: dict[str, float] = {}  # channel -> arrival time as last seen in the store
        self._lock = threading.Lock()

    def ready_in(self, channel: str) -> float:
        """Seconds until a post to ``channel`` may go out (0.0: now), as far as this process
        knows without asking the store: other replicas can only make the real wait longer,
        which `take` then finds out."""
        with self._lock:
            tat = self._known.get(channel)
        return channel_pace.gcra(tat, self._clock(), self.pace).wait

    def take(self, channel: str) -> float:
        """Claims a post to ``channel`` in the store: 0.0 if it may go now, else the seconds
        to wait (nothing claimed)."""
        with session_scope(self._engine) as session:
            # Begin first (on SQLite that waits for the write lock), then read the time: a
            # slot stamped before a wait would let posts bunch up at Slack.
            session.connection()
            slot = channel_pace.try_take(session, channel, now=self._clock(), pace=self.pace)
        with self._lock:
            self._known[channel] = slot.tat
        return slot.wait

    def give_back(self, channel: str) -> None:
        """Returns the slot of a post Slack answered 429 (see ``channel_pace.give_back``)."""
        with session_scope(self._engine) as session:
            session.connection()
            tat = channel_pace.give_back(session, channel, now=self._clock(), pace=self.pace)
        if tat is not None:
            with self._lock:
                self._known[channel] = tat
