"""Escalation notices remember what they show, so an update showing the same is not sent;
trainer states remember the standing last seen, so a check that changes nothing owes none

Revision ID: 0010_notice_shown
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_notice_shown"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalation_notice") as batch:
        batch.add_column(sa.Column("shown", sa.String(length=64), nullable=True))
    with op.batch_alter_table("trainer_state") as batch:
        batch.add_column(sa.Column("shown", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trainer_state") as batch:
        batch.drop_column("shown")
    with op.batch_alter_table("escalation_notice") as batch:
        batch.drop_column("shown")
