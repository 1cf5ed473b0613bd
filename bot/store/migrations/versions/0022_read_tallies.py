"""reviewer-week tallies: agreement and calibration counted with the grades

`/audit status`, `/audit disputes`, the Home and the consistency alerts read each task
type's blind pairs and calibration records from these rows instead of re-reading the
window's grade events on every read. The backfill counts every stored grade event by the
rule the grading transaction applies (``bot.services.reviewer_tallies.recount``). A partial
index of the labelled outputs serves the scorecard's window of them. Each audit thread keeps
how many of its samples have every grade they need (``work_counts``), for the week's counts
and the backlog.

Revision ID: 0022_read_tallies
Revises: 0021_disagreement_precedent
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.services.reviewer_tallies import recount
from bot.services.work_counts import recount_graded

revision: str = "0022_read_tallies"
down_revision: str | Sequence[str] | None = "0021_disagreement_precedent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewer_week_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("iso_week", sa.String(length=10), nullable=False),
        sa.Column("reviewer", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_type", "iso_week", "reviewer", "kind",
                            name="uq_reviewer_tally_kind"),
    )
    labelled = sa.text("item IS NOT NULL AND label IS NOT NULL")
    op.create_index("ix_output_labelled", "trainer_output", ["task_type", "created_at"],
                    sqlite_where=labelled, postgresql_where=labelled)
    with op.batch_alter_table("audit_thread") as batch:
        batch.add_column(sa.Column("graded_samples", sa.Integer(), nullable=False,
                                   server_default="0"))
    recount(op.get_bind())
    recount_graded(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("audit_thread") as batch:
        batch.drop_column("graded_samples")
    op.drop_index("ix_output_labelled", table_name="trainer_output")
    op.drop_table("reviewer_week_tally")
