"""Per-channel pacing of posts, so the outbox keeps to Slack's limit instead of hitting 429s.

Usage::

    pacer = ChannelPacer(engine, Pace(per_second=1.0, burst=3))
    waits = pacer.ready_in(["C0CLINICAL", "C0LEGAL"])  # seconds until each may post (0: now)
    if pacer.take("C0CLINICAL") == 0.0:                # a slot is ours: post now
        client.chat_postMessage(...)

Slack allows about one ``chat.postMessage`` per second per channel *per app*, with short
bursts, and answers 429 with ``Retry-After`` beyond that. The pace lives in the store
(``bot.services.channel_pace``), so replicas draining one outbox share it: together they post
to a channel no faster than one process would. A 429 still holds the channel in the store.
"""

import time
from collections.abc import Callable, Iterable

from sqlalchemy import Engine
from sqlmodel import Session

from bot.db import session_scope
from bot.services import channel_pace
from bot.services.channel_pace import SLACK_PACE, Pace

__all__ = ["SLACK_PACE", "ChannelPacer", "Pace"]


class ChannelPacer:
    def __init__(self, engine: Engine, pace: Pace = SLACK_PACE, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.pace = pace
        self._engine = engine
        self._clock = clock  # wall-clock seconds: every replica must read the same time

    def ready_in(self, channels: Iterable[str]) -> dict[str, float]:
        """Seconds until a post to each channel may go out (0.0: now)."""
        with Session(self._engine) as session:
            return channel_pace.ready_in(session, channels, now=self._clock(), pace=self.pace)

    def take(self, channel: str) -> float:
        """Claims a post to ``channel``: 0.0 if it may go now, else the seconds to wait."""
        with session_scope(self._engine) as session:
            return channel_pace.try_take(session, channel, now=self._clock(), pace=self.pace)
