"""trainers flagged below the rest of their task type by the scheduled check (weighted score,
Benjamini–Hochberg), so status, the Home and the digest read a few rows

Revision ID: 0018_trainer_outlier
Revises: 0017_escalation_timeline
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_trainer_outlier"
down_revision: str | Sequence[str] | None = "0017_escalation_timeline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trainer_outlier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer", sa.String(length=32), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("iso_week", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trainer", "task_type", name="uq_outlier_trainer"),
    )
    op.create_index("ix_outlier_task_type", "trainer_outlier", ["task_type", "score"])


def downgrade() -> None:
    op.drop_index("ix_outlier_task_type", table_name="trainer_outlier")
    op.drop_table("trainer_outlier")
