"""Tables of the trainer's scorecard: reviewers' ratings of a trainer's written reasoning.

One rating per reviewer and sample (unique): a reviewer's later click replaces their earlier
rating (the latest counts), and a doubled or replayed click changes nothing.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ClarityRating(SQLModel, table=True):
    """A reviewer's rating of the reasoning on a sample: ``clear`` or ``unclear`` (with why)."""

    __tablename__ = "clarity_rating"
    __table_args__ = (UniqueConstraint("sample_id", "reviewer", name="uq_clarity_reviewer"),
                      CheckConstraint("rating IN ('clear', 'unclear')", name="ck_clarity_rating"))

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", index=True)
    reviewer: str = Field(max_length=32)
    rating: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime


class Disagreement(SQLModel, table=True):
    """An item on which a task type's trainers disagreed, posted once to the review channel
    (unique per task type and item) for a reviewer to adjudicate: which label is right, and
    why. ``labels_json`` keeps what each trainer said when it was posted."""

    __tablename__ = "disagreement"
    __table_args__ = (UniqueConstraint("task_type", "item", name="uq_disagreement_item"),)

    id: int | None = Field(default=None, primary_key=True)
    task_type: str = Field(max_length=64)
    item: str = Field(max_length=200)
    iso_week: str = Field(max_length=10)
    channel: str = Field(max_length=32)
    # [{"trainer", "label", "reasoning", "output_id"}, ...] in the order shown
    labels_json: str = Field(sa_column=Column(Text, nullable=False))
    disagreement: float  # the share of the trainers' pairs whose labels differ
    created_at: datetime
    message_ts: str | None = Field(default=None, max_length=32)
    ruled_by: str | None = Field(default=None, max_length=32)
    ruling_label: str | None = Field(default=None, max_length=64)
    ruling_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ruled_at: datetime | None = None
    # The ISO week of ``ruled_at`` in the workspace's time zone: where the item counts in
    # each involved trainer's precision (``bot.services.disagreements``).
    ruled_week: str | None = Field(default=None, max_length=10)
