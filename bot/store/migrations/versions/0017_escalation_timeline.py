"""Escalation timeline, snooze, working hours and repeat: an append-only table of every
state change (who and when); on escalations the snooze (until, by, reason), the moment a
level's notices wait for (its working hours), the path's repeats and its end, the
confidence test of the decision that opened it (window, bounds, weeks); on notices
the repeat (cycle) they belong to, part of their unique key

Revision ID: 0017_escalation_timeline
Revises: 0014_precedent_search
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_escalation_timeline"
down_revision: str | Sequence[str] | None = "0014_precedent_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_escalation_event_escalation_id", "escalation_event",
                    ["escalation_id"])
    with op.batch_alter_table("escalation") as batch:
        batch.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("snoozed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("snooze_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("notify_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("repeats", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("tested_through", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("tested_lower", sa.Float(), nullable=True))
        batch.add_column(sa.Column("tested_upper", sa.Float(), nullable=True))
        batch.add_column(sa.Column("tested_weeks", sa.Text(), nullable=True))
    with op.batch_alter_table("escalation_notice") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_notice_target", type_="unique")
        batch.create_unique_constraint("uq_notice_target",
                                       ["escalation_id", "target", "round", "cycle"])


def downgrade() -> None:
    with op.batch_alter_table("escalation_notice") as batch:
        batch.drop_constraint("uq_notice_target", type_="unique")
        batch.create_unique_constraint("uq_notice_target", ["escalation_id", "target", "round"])
        batch.drop_column("cycle")
    with op.batch_alter_table("escalation") as batch:
        for column in ("tested_weeks", "tested_upper", "tested_lower", "tested_through",
                       "stopped_at", "repeats", "notify_at", "reminded_at", "resumed_at",
                       "snooze_reason", "snoozed_by", "snoozed_until"):
            batch.drop_column(column)
    op.drop_index("ix_escalation_event_escalation_id", table_name="escalation_event")
    op.drop_table("escalation_event")
