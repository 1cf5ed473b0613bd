"""Tables for people's time and the App Home: who is away, who is paused, whose Home to
refresh.

* ``away_period`` — one row per person (unique): ``/audit away @person until DATE`` writes
  it (again: the latest wins). The config's ``[[away]]`` tables count as well.
* ``trainer_pause`` — one row per trainer (unique): ``/audit pause`` and ``resume`` flip it.
* ``home_viewer`` — one row per person who opened the bot's Home (unique): only they need
  a refresh, and ``dirty_since`` marks whose Home is out of date (coalesced: one mark per
  person, however many changes). ``pages_json`` keeps the pages they browsed to.
  Which changes the refresher has read is a flag on each outbox row (``home_feed_read``).
"""

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class AwayPeriod(SQLModel, table=True):
    """Someone away from ``starts`` through ``until`` (inclusive, workspace dates)."""

    __tablename__ = "away_period"

    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=32, unique=True)
    starts: date
    until: date
    set_by: str = Field(max_length=32)
    set_at: datetime


class TrainerPause(SQLModel, table=True):
    """A trainer a manager paused: the weekly audit skips them until resumed."""

    __tablename__ = "trainer_pause"

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32, unique=True)
    paused: bool
    changed_by: str = Field(max_length=32)
    changed_at: datetime


class HomeViewer(SQLModel, table=True):
    """Someone who opened the App Home; ``dirty_since`` set when it needs a refresh.

    ``dirty_marks`` counts the marks: the refresher clears the mark only if no new one came
    while it was building and publishing (then that change may be missing from what it
    published).
    """

    __tablename__ = "home_viewer"

    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=32, unique=True)
    opened_at: datetime
    published_at: datetime | None = None
    dirty_since: datetime | None = None
    dirty_marks: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0009's
    pages_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
