"""consistency checks: dispute settlements

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispute_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("trainer", sa.String(length=32), nullable=False),
        sa.Column("settled_by", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviews_json", sa.Text(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["sample.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id"),
    )
    with op.batch_alter_table("dispute_settlement") as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_settlement_task_type"), ["task_type"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dispute_settlement") as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_settlement_task_type"))
    op.drop_table("dispute_settlement")
