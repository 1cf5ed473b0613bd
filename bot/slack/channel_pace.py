"""Per-channel pacing of posts in the store, so several replicas keep to Slack's pace together.

Usage::

    slot = try_take(session, "C0CLINICAL", now=time.time(), pace=SLACK_PACE)
    if slot.wait == 0.0:
        ...                     # this replica may post to the channel now
    gcra(slot.tat, later, SLACK_PACE).wait   # what the channel's next post must wait, locally
    give_back(session, "C0CLINICAL", now=time.time(), pace=SLACK_PACE)  # Slack refused it (429)

The rule is the generic cell rate algorithm (GCRA), a token bucket kept as one timestamp per
channel: with ``interval = 1 / per_second`` and ``tolerance = (burst - 1) * interval``, a post
is allowed when ``tat <= now + tolerance`` and then sets ``tat = max(tat, now) + interval``.
`gcra` is the rule in Python; `try_take` is the same rule as one conditional UPDATE, so two
replicas cannot both take the last slot. ``now`` is wall-clock time (``time.time()``): every
replica must read the same clock.

Slack's limit is what is paced, so this sits on the Slack side (beside ``bot.slack.pacing``,
which keeps a local copy of each channel's pace); the domain never sees it.
"""

from dataclasses import dataclass

from sqlalchemy import Update, case, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.store.models.pacing import ChannelPace


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
# The burst is kept one post inside what Slack tolerates: a slot is taken a moment before
# the request reaches Slack, and with no post of margin that jitter alone draws 429s once
# the channel runs at its rate (the outbox delivery tests and bench row 3 measure it).
SLACK_PACE = Pace(per_second=1.0, burst=2)


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


@dataclass(frozen=True)
class Slot:
    """The answer to one ask: ``wait`` 0.0 when the post may go (the slot is taken), else the
    seconds until one may; ``tat`` the channel's arrival time after the ask."""

    wait: float
    tat: float


def try_take(session: Session, channel: str, *, now: float, pace: Pace) -> Slot:
    """Takes a slot for one post to ``channel`` if the pace allows (see `Slot`). One
    conditional UPDATE in the common case; commits nothing (the caller's transaction does)."""
    row = col(ChannelPace.tat)
    take = (update(ChannelPace)
            .where(col(ChannelPace.channel) == channel, row <= now + pace.tolerance)
            .values(tat=case((row > now, row), else_=now) + pace.interval))
    tat: float | None = None
    for _ in range(3):
        taken = _taken_tat(session, take, channel)
        if taken is not None:
            return Slot(0.0, taken)
        tat = session.exec(select(ChannelPace.tat).where(ChannelPace.channel == channel)).first()
        if tat is not None:
            decision = gcra(tat, now, pace)
            if not decision.allowed:
                return Slot(decision.wait, tat)
            continue  # the row was committed after the UPDATE looked: take from it now
        try:  # the channel's first post: another replica may be inserting it right now
            with session.begin_nested():
                session.execute(insert(ChannelPace).values(channel=channel,
                                                           tat=now + pace.interval))
            return Slot(0.0, now + pace.interval)
        except IntegrityError:
            continue  # it was: take from its row
    # Replicas kept racing for this very slot: let them have it and come back after a beat.
    return Slot(pace.interval, now if tat is None else tat)


def give_back(session: Session, channel: str, *, now: float, pace: Pace) -> float | None:
    """Returns a slot taken for a post that Slack refused with 429: a refused post does not
    count against the channel's limit at Slack, so keeping its slot would leave the channel
    one post behind for every 429. Slack's ``Retry-After`` is honoured apart (the outbox
    holds the channel's next write until then). The arrival time moves back one interval,
    never before ``now`` (a full bucket stays full). Returns the channel's arrival time after
    (None: the channel never posted). Commits nothing."""
    row = col(ChannelPace.tat)
    back = update(ChannelPace).where(col(ChannelPace.channel) == channel).values(
        tat=case((row - pace.interval > now, row - pace.interval), else_=now))
    session.execute(back)
    return session.exec(select(ChannelPace.tat).where(ChannelPace.channel == channel)).first()


def _taken_tat(session: Session, take: Update, channel: str) -> float | None:
    if session.get_bind().dialect.update_returning:
        return session.execute(take.returning(col(ChannelPace.tat))).scalar_one_or_none()
    if session.execute(take).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.exec(select(ChannelPace.tat).where(ChannelPace.channel == channel)).one()
