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
    )

    id: int | None = Field(default=None, primary_key=True)
    trainer: str = Field(max_length=32)
    task_type: str = Field(max_length=64)
    iso_week: str = Field(max_length=10)
    kind: str = Field(max_length=100)  # sorted grades joined by "+"; "" ungraded
    samples: int = 0
