"""a precedent may belong to an adjudicated disagreement between trainers instead of a sample

``precedent.sample_id`` becomes nullable and ``precedent.disagreement_id`` (a foreign key to
``disagreement``, unique) is added, with a CHECK that exactly one of the two is set.

On SQLite the batch operation recreates the ``precedent`` table, which drops the triggers
that keep the external-content FTS5 table ``precedent_fts`` current (migration
0014_precedent_search): they are created again here, and the index rebuilt from the rows (the
copy keeps every row's id, which is the FTS5 rowid). On PostgreSQL the columns are altered in
place; the generated ``search_vector`` column and its GIN index are untouched.

Revision ID: 0021_disagreement_precedent
Revises: 0020_grade_scale
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_disagreement_precedent"
down_revision: str | Sequence[str] | None = "0020_grade_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS = "precedent_fts"
COLUMNS = ("category", "ruling", "rationale")  # as migration 0014 indexed them
ONE_SUBJECT = "(sample_id IS NULL) <> (disagreement_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("precedent") as batch:
        batch.alter_column("sample_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("disagreement_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("precedent_disagreement_id_fkey", "disagreement",
                                 ["disagreement_id"], ["id"])
        batch.create_unique_constraint("precedent_disagreement_id_key", ["disagreement_id"])
        batch.create_check_constraint("ck_precedent_one_subject", ONE_SUBJECT)
    _sqlite_triggers()


def downgrade() -> None:
    op.execute("DELETE FROM precedent WHERE disagreement_id IS NOT NULL")
    with op.batch_alter_table("precedent") as batch:
        batch.drop_constraint("ck_precedent_one_subject", type_="check")
        batch.drop_constraint("precedent_disagreement_id_key", type_="unique")
        batch.drop_constraint("precedent_disagreement_id_fkey", type_="foreignkey")
        batch.drop_column("disagreement_id")
        batch.alter_column("sample_id", existing_type=sa.Integer(), nullable=False)
    _sqlite_triggers()


def _sqlite_triggers() -> None:
    """SQLite: the FTS5 triggers on ``precedent`` again (the recreated table lost them), and
    the index rebuilt from its rows."""
    if op.get_bind().dialect.name != "sqlite":
        return
    names = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
    op.execute(f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON precedent BEGIN "
               f"INSERT INTO {FTS}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON precedent BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER {FTS}_au AFTER UPDATE OF {names} ON precedent BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {FTS}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
