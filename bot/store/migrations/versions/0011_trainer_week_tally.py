"""trainer-week tallies: what each trainer's samples count as, per ISO week, kept with grades

Reads of `/audit status`, the Home and the digest take a trainer's window from these rows
instead of every grade. The backfill counts every existing sample by the one rule
(``bot.services.tallies.recount``). Also indexes for the window-bounded reads: audit
threads by week and task type, trainer states by task type.

Revision ID: 0011
Revises: 0010_notice_shown
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.services.tallies import recount

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010_notice_shown"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trainer_week_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainer", sa.String(length=32), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("iso_week", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trainer", "task_type", "iso_week", "kind", name="uq_tally_kind"),
    )
    op.create_index("ix_tally_task_week", "trainer_week_tally",
                    ["task_type", "iso_week", "kind", "samples"])
    op.create_index("ix_thread_week_task", "audit_thread", ["iso_week", "task_type"])
    op.create_index("ix_state_task_type", "trainer_state", ["task_type"])
    recount(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_state_task_type", table_name="trainer_state")
    op.drop_index("ix_thread_week_task", table_name="audit_thread")
    op.drop_index("ix_tally_task_week", table_name="trainer_week_tally")
    op.drop_table("trainer_week_tally")
