"""Per-channel pacing of posts in the store, so several replicas keep to Slack's pace together.

Usage::

    wait = try_take(session, "C0CLINICAL", now=time.time(), pace=SLACK_PACE)
    if wait == 0.0:
        ...                     # this replica may post to the channel now
    waits = ready_in(session, ["C0CLINICAL", "C0LEGAL"], now=time.time(), pace=SLACK_PACE)

The rule is the generic cell rate algorithm (GCRA), a token bucket kept as one timestamp per
channel: with ``interval = 1 / per_second`` and ``tolerance = (burst - 1) * interval``, a post
is allowed when ``tat <= now + tolerance`` and then sets ``tat = max(tat, now) + interval``.
`gcra` is the rule in Python; `try_take` is the same rule as one conditional UPDATE, so two
replicas cannot both take the last slot. ``now`` is wall-clock time (``time.time()``): every
replica must read the same clock.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models_pacing import ChannelPace


@dataclass(frozen=True)
class Pace:
    """Posts per second per channel, and how many may go at once after a quiet spell."""

    per_second: float = 1.0
    burst: int = 3

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("Pace needs per_second > 0 and burst >= 1")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


# Slack's documented limit for posts to one channel: one a second, short bursts allowed.
SLACK_PACE = Pace(per_second=1.0, burst=3)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tat: float  # the channel's arrival time after the decision
    wait: float  # seconds until a post would be allowed (0.0 when it is)


def gcra(tat: float | None, now: float, pace: Pace) -> Decision:
    """The rule for one post to a channel whose arrival time is ``tat`` (None: never used)."""
    current = now if tat is None else tat
    if current <= now + pace.tolerance:
        return Decision(True, max(current, now) + pace.interval, 0.0)
    return Decision(False, current, current - pace.tolerance - now)


def try_take(session: Session, channel: str, *, now: float, pace: Pace) -> float:
    """Takes a slot for one post to ``channel`` if the pace allows: 0.0, or the seconds to
    wait (nothing taken). Commits nothing; the caller's transaction does."""
    _ensure_row(session, channel, now)
    row = col(ChannelPace.tat)
    taken = session.execute(
        update(ChannelPace)
        .where(col(ChannelPace.channel) == channel, row <= now + pace.tolerance)
        .values(tat=case((row > now, row), else_=now) + pace.interval))
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return 0.0
    tat = session.exec(select(ChannelPace.tat).where(ChannelPace.channel == channel)).one()
    return gcra(tat, now, pace).wait


def ready_in(session: Session, channels: Iterable[str], *, now: float,
             pace: Pace) -> dict[str, float]:
    """Seconds until each channel may take a post (0.0: now), in one read."""
    wanted = set(channels)
    if not wanted:
        return {}
    rows = session.exec(select(ChannelPace.channel, ChannelPace.tat)
                        .where(col(ChannelPace.channel).in_(wanted))).all()
    tats = dict(rows)
    return {channel: gcra(tats.get(channel), now, pace).wait for channel in wanted}


def _ensure_row(session: Session, channel: str, now: float) -> None:
    if session.get(ChannelPace, channel) is not None:
        return
    try:
        with session.begin_nested():  # another replica may insert it at the same moment
            session.execute(insert(ChannelPace).values(channel=channel, tat=now))
    except IntegrityError:
        pass
