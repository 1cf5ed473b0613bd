"""double review slots: at most two reviewers per double-reviewed sample, in the store

Each grade of a double-reviewed sample takes slot 1 or 2, unique per sample: two people
grading at once cannot both become the second reviewer. Existing grades of double-reviewed
samples get their slots in the order they came in; any beyond the second (from before this
constraint) keep no slot. Merges the 0005 and 0006 branches.

Revision ID: 0007
Revises: 0005, 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0005", "0006")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How many grades of the same sample came in before this one (ties by id): its slot - 1.
BACKFILL = """
UPDATE grade SET slot = (
    SELECT COUNT(*) + 1 FROM grade AS earlier
    WHERE earlier.sample_id = grade.sample_id
      AND (earlier.created_at < grade.created_at
           OR (earlier.created_at = grade.created_at AND earlier.id < grade.id)))
WHERE sample_id IN (SELECT id FROM sample WHERE needs_double_review = :yes)
"""


def upgrade() -> None:
    with op.batch_alter_table("grade") as batch_op:
        batch_op.add_column(sa.Column("slot", sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text(BACKFILL), {"yes": True})
    op.execute("UPDATE grade SET slot = NULL WHERE slot > 2")
    with op.batch_alter_table("grade") as batch_op:
        batch_op.create_unique_constraint("uq_grade_slot", ["sample_id", "slot"])
        batch_op.create_check_constraint("ck_grade_slot", "slot IN (1, 2)")


def downgrade() -> None:
    with op.batch_alter_table("grade") as batch_op:
        batch_op.drop_constraint("ck_grade_slot", type_="check")
        batch_op.drop_constraint("uq_grade_slot", type_="unique")
        batch_op.drop_column("slot")
