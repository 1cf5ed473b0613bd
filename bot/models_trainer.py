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
