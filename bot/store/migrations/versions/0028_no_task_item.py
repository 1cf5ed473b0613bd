"""trainer_output: no index on (task type, item)

No read looks outputs up by item alone: the scorecard's consistency and team alpha and the
disagreement threads ask for a task type's labelled outputs of a window, which
``ix_output_labelled`` (task type, creation time; labelled outputs only) or
``ix_output_task_created`` serve. EXPLAIN on both stores shows none of them using this one
(``tests/services/test_output_plans.py`` checks that they stay on an index without it). It
still took an entry for every output, item or not, written with every ingested record.

Revision ID: 0028_no_task_item
Revises: 0027_perf2
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_no_task_item"
down_revision: str | Sequence[str] | None = "0027_perf2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_output_task_item", table_name="trainer_output")


def downgrade() -> None:
    op.create_index("ix_output_task_item", "trainer_output", ["task_type", "item"])
