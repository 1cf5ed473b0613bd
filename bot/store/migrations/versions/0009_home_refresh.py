"""App Home refresh: a read flag per outbox row, and a count of each viewer's marks

The refresher used to keep one read position (the last outbox id read). On PostgreSQL ids are
handed out before commit, so a row committed after a newer one had been read fell behind the
position and its Home was never refreshed. Now each row carries its own flag.

A Home marked again while the refresher was publishing it lost that mark (the first mark's
time was the only record). ``home_viewer.dirty_marks`` counts marks, and the refresher
clears only the mark it saw.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("home_feed_read", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    # Rows up to the old read position were read already.
    op.execute("UPDATE outbox SET home_feed_read = TRUE WHERE id <= "
               "COALESCE((SELECT MAX(last_outbox_id) FROM home_feed), 0)")
    op.create_index("ix_outbox_home_feed", "outbox", ["home_feed_read", "id"])
    op.drop_table("home_feed")
    with op.batch_alter_table("home_viewer") as batch:
        batch.add_column(sa.Column("dirty_marks", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("home_viewer") as batch:
        batch.drop_column("dirty_marks")
    op.create_table(
        "home_feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_outbox_id", sa.Integer(), nullable=False),
    )
    # The position just before the first unread row (rows read out of order are read again).
    op.execute("INSERT INTO home_feed (id, last_outbox_id) SELECT 1, COALESCE("
               "(SELECT MIN(id) - 1 FROM outbox WHERE NOT home_feed_read), "
               "(SELECT MAX(id) FROM outbox), 0)")
    op.drop_index("ix_outbox_home_feed", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("home_feed_read")
