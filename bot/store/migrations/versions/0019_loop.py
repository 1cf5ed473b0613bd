"""the ISO week (workspace time zone) of a disagreement's ruling: where the adjudicated item
counts in each involved trainer's precision (``bot.services.disagreements``)

Revision ID: 0019_loop
Revises: 0018_trainer_outlier
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_loop"
down_revision: str | Sequence[str] | None = "0018_trainer_outlier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("disagreement", sa.Column("ruled_week", sa.String(length=10), nullable=True))


def downgrade() -> None:
    op.drop_column("disagreement", "ruled_week")  # SQLite 3.35+ drops a column in place
