"""Per trainer-week tallies of what counts in a trainer's score, kept with the grades.

One row per trainer, task type, ISO week and *kind*: the sorted grades a sample counts
with (``"major+pass"``, ``"pass"``), ``""`` for a sample audited but not graded yet (or a
double review still blind). ``samples`` is how many of the week's samples are of that kind.
Calibration items and open disputes are in no row, exactly as ``window_samples`` leaves
them out; a settled dispute counts with its settled grade. The grading transaction moves a
sample from one kind to another (``bot.services.tallies``), so a read of the window touches
a few rows per trainer-week, never the grades.
"""

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class TrainerWeekTally(SQLModel, table=True):
    __tablename__ = "trainer_week_tally"
    __table_args__ = (
        UniqueConstraint("trainer", "task_type", "iso_week", "kind", name="uq_tally_kind"),
        Index("ix_tally_task_week", "task_type", "iso_week", "kind", "samples"),
        # Each trainer's scores of a task type's weeks (``standings.trainer_week_scores``):
        # an index-only read, grouped by trainer.
        Index("ix_tally_task_week_trainer", "task_type", "iso_week", "trainer", "kind",
              "samples"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)
    kind: str = Field(max_length=100)  # sorted grades joined by "+"; "" ungraded
    samples: int = 0


class ReviewerWeekTally(SQLModel, table=True):
    """Per reviewer, task type and ISO week (the audit thread's): how their reviews count in
    agreement and calibration, kept with the grades (``bot.services.reviewer_tallies``).

    ``kind`` is ``pair:<their blind grade>:<the other's blind grade>`` for a double review
    (counted once, when the second reviewer's first grade fixes the blind pair) and
    ``gold:<gold grade>:<their first grade>`` for a calibration item (counted once, at their
    first grade of it): both never change afterwards, so a row only ever grows.
    """

    __tablename__ = "reviewer_week_tally"
    __table_args__ = (
        UniqueConstraint("task_type", "iso_week", "reviewer", "kind",
                         name="uq_reviewer_tally_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)
    reviewer: str = Field(max_length=32)
    kind: str = Field(max_length=40)
    samples: int = 0
