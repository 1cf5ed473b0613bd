"""trainer-week tallies: an index covering each trainer's scores of a task type's weeks

The team's score (`/audit status`, the Home) and the weekly digest (who is below, the
movers) let the store score every trainer-week of a task type's window from the tallies
(``bot.services.standings.trainer_week_scores``), grouped by trainer. With the trainer in
the index beside the task type and week, that read is an index-only scan in group order
instead of a lookup of every tally row.

Revision ID: 0027_perf2
Revises: 0026_scale_levels
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027_perf2"
down_revision: str | Sequence[str] | None = "0026_scale_levels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tally_task_week_trainer", "trainer_week_tally",
                    ["task_type", "iso_week", "trainer", "kind", "samples"])


def downgrade() -> None:
    op.drop_index("ix_tally_task_week_trainer", table_name="trainer_week_tally")
