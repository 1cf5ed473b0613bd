"""Tables of the consistency checks: how a manager settled a disputed sample.

Whether a sample is *disputed* is not stored: it follows from its reviewers' current grades
(they disagree by a whole step or more, see ``bot.services.disputes``), so it can never drift
from them. What is stored is the decision that ends a dispute: one settlement per sample
(unique, so a doubled submission or two managers at once settle it once). A settlement is
final: the sample then counts with the settled grade, whatever the reviewers change later.
"""

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class DisputeSettlement(SQLModel, table=True):
    """A manager's decision on a disputed sample: its grade, with a note for the reviewers."""

    __tablename__ = "dispute_settlement"
    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", unique=True)
    task_type: str = Field(max_length=64, index=True)
    trainer: str = Field(max_length=32)
    settled_by: str = Field(max_length=32)
    grade: str = Field(max_length=16, foreign_key="grade_level.key")
    note: str = Field(sa_column=Column(Text, nullable=False))
    # What the reviewers had said when it was settled, e.g. {"U0NURSE01": "pass", ...}.
    reviews_json: str = Field(sa_column=Column(Text, nullable=False))
    settled_at: datetime


class TrainerOutlier(SQLModel, table=True):
    """A trainer the last scheduled check found significantly below the rest of their task
    type (``bot.services.outliers``): one row per trainer and task type while it lasts."""

    __tablename__ = "trainer_outlier"
    __table_args__ = (UniqueConstraint("trainer", "task_type", name="uq_outlier_trainer"),
                      Index("ix_outlier_task_type", "task_type", "score"))

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)  # the week of the look that flagged it last
    score: float
    graded: int
    p_value: float
    since: datetime  # first flagged, in this run of flags


class DisagreementLapse(SQLModel, table=True):
    """A disagreement left unsettled past ``[policy] disagreement_deadline``: from then on
    the sample counts with the mean of its two grades (until a manager settles it)."""

    __tablename__ = "disagreement_lapse"

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", unique=True)
    lapsed_at: datetime
