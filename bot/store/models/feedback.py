"""Tables of the trainer's side: the feedback they were given, and their disputes.

Both carry the unique key that makes them happen once whatever retries or replicas do:
one feedback row per trainer-week (``week:<audit thread id>``) or per sample sent on its
own (``item:<sample id>``), each owing its DM in the same transaction; one trainer dispute
per sample. A trainer dispute is *not* a double-review disagreement (``DisputeSettlement``,
settled by managers): the trainer pushes back on a grade, and a second reviewer decides.
"""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class TrainerFeedback(SQLModel, table=True):
    """A feedback DM owed to a trainer: a week's summary, or one non-pass grade."""

    __tablename__ = "trainer_feedback"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # week:<thread id> | item:<sample id>
    thread_id: int = Field(foreign_key="audit_thread.id", index=True)
    sample_id: int | None = Field(default=None, foreign_key="sample.id")
    trainer: str = Field(max_length=32)
    given_at: datetime


class TrainerDispute(SQLModel, table=True):
    """A trainer's dispute of a non-pass grade, decided blind by a second reviewer.

    ``status``: open (waiting; the sample counts nowhere), upheld (the grade stands) or
    overturned (the sample counts with ``grade``). ``second_reviewer`` is ``None`` when no
    eligible reviewer exists: the dispute stays open, listed for managers.
    """

    __tablename__ = "trainer_dispute"
    __table_args__ = (Index("ix_trainer_dispute_status", "status", "task_type"),)

    id: int | None = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="sample.id", unique=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)
    reasoning: str = Field(sa_column=Column(Text, nullable=False))
    # The grades disputed, as given: [{"reviewer": ..., "grade": ...}, ...] (or a settlement).
    first_json: str = Field(sa_column=Column(Text, nullable=False))
    second_reviewer: str | None = Field(default=None, max_length=32)
    status: str = Field(default="open", max_length=16)  # open | upheld | overturned
    grade: str | None = Field(default=None, max_length=16,  # the corrected grade
                              foreign_key="grade_level.key")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    opened_at: datetime
    decided_at: datetime | None = None
