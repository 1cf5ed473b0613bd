"""trainer fields: a record's item, label and reasoning; reviewers' clarity ratings

``trainer_output`` gains the trainer's side of a record (optional): ``item`` (shared by the
outputs that answer the same task), ``label`` (their verdict) and ``reasoning``; an index
on (task_type, item) and one on (task_type, created_at) serve the scorecard's reads (the
outputs on given items; a task type's outputs of the window). ``clarity_rating`` holds one rating of
a sample's reasoning per reviewer (unique), latest wins. ``disagreement`` holds the items
the trainers disagreed on, posted once each (unique per task type and item) for a reviewer
to adjudicate.

Revision ID: 0012_trainer_fields
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_trainer_fields"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trainer_output") as batch:
        batch.add_column(sa.Column("item", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("label", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reasoning", sa.Text(), nullable=True))
    op.create_index("ix_output_task_item", "trainer_output", ["task_type", "item"])
    op.create_index("ix_output_task_created", "trainer_output", ["task_type", "created_at"])
    op.create_table(
        "clarity_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating IN ('clear', 'unclear')", name="ck_clarity_rating"),
        sa.ForeignKeyConstraint(["sample_id"], ["sample.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id", "reviewer", name="uq_clarity_reviewer"),
    )
    op.create_index("ix_clarity_rating_sample_id", "clarity_rating", ["sample_id"])
    op.create_table(
        "disagreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("iso_week", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("disagreement", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("ruled_by", sa.String(length=32), nullable=True),
        sa.Column("ruling_label", sa.String(length=64), nullable=True),
        sa.Column("ruling_reason", sa.Text(), nullable=True),
        sa.Column("ruled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_type", "item", name="uq_disagreement_item"),
    )


def downgrade() -> None:
    op.drop_table("disagreement")
    op.drop_index("ix_clarity_rating_sample_id", table_name="clarity_rating")
    op.drop_table("clarity_rating")
    op.drop_index("ix_output_task_created", table_name="trainer_output")
    op.drop_index("ix_output_task_item", table_name="trainer_output")
    with op.batch_alter_table("trainer_output") as batch:
        batch.drop_column("reasoning")
        batch.drop_column("label")
        batch.drop_column("item")
