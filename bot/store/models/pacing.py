"""The pace of posts per channel, shared by every replica (see ``bot.slack.channel_pace``).

One row per channel that has had a post: ``tat``, the *theoretical arrival time* of the
generic cell rate algorithm, in seconds since the epoch. A post may go when ``tat`` is at most
a burst's worth of intervals ahead of now; taking it moves ``tat`` one interval on. Because
the check and the move are one conditional UPDATE, replicas never post to one channel
faster together than Slack allows one app.
"""

from sqlmodel import Field, SQLModel


class ChannelPace(SQLModel, table=True):
    __tablename__ = "channel_pace"

    channel: str = Field(primary_key=True, max_length=32)
    tat: float
