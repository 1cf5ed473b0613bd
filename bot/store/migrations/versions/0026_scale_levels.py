"""the grade scale as data: a ``grade_level`` table that every grade column references

A workspace may define its own scale (``[[grade_scale]]`` in auditbot.toml, 2 to 5 levels),
so the fixed CHECKs of 0020 (``IN ('pass', 'minor', 'major')``) give way to a foreign key on
``grade_level.key``: ``grade.grade``, ``grade_event.grade``, ``dispute_settlement.grade``,
``trainer_dispute.grade`` and ``trainer_output.gold_grade`` (the last two nullable). The
table starts with the default scale's keys, the only ones 0020 allowed; the bot writes the
configured scale's keys at start (``bot.services.grade_levels``). A foreign key is enforced
alike by both stores (SQLite with ``PRAGMA foreign_keys=ON``, which ``bot.store.db`` sets), needs
no schema change when a workspace adds a level, and keeps a key that stored grades still
use from being deleted.

SQLite cannot change constraints in place, so the tables are recreated (batch mode), which
drops the full-text triggers of 0014 on ``grade`` and ``dispute_settlement``: they are
created again here and their indexes rebuilt from the rows, as 0020 did. (The keys and the
triggers are written out, not imported: a migration describes the store at its revision.)

Revision ID: 0026_scale_levels
Revises: 0021_disagreement_precedent
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_scale_levels"
down_revision: str | Sequence[str] | None = "0022_read_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_KEYS = ("pass", "minor", "major")
# (table, column, 0020's CHECK)
COLUMNS = (
    ("grade", "grade", "ck_grade_scale"),
    ("grade_event", "grade", "ck_grade_event_scale"),
    ("dispute_settlement", "grade", "ck_settlement_scale"),
    ("trainer_dispute", "grade", "ck_trainer_dispute_scale"),
    ("trainer_output", "gold_grade", "ck_output_gold_scale"),
)
# The full-text indexes of 0014 whose triggers sit on a table recreated here (SQLite).
FTS = {"grade": ("grade_fts", ("category", "explanation")),
       "dispute_settlement": ("settlement_fts", ("note",))}


def upgrade() -> None:
    levels = op.create_table("grade_level", sa.Column("key", sa.String(length=16),
                                                      primary_key=True))
    op.bulk_insert(levels, [{"key": key} for key in DEFAULT_KEYS])
    for table, column, check in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(check, type_="check")
            batch_op.create_foreign_key(f"{table}_{column}_fkey", "grade_level",
                                        [column], ["key"])
    _retrigger()


def downgrade() -> None:
    keys = ", ".join(f"'{key}'" for key in DEFAULT_KEYS)
    for table, column, check in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"{table}_{column}_fkey", type_="foreignkey")
            batch_op.create_check_constraint(check, f"{column} IN ({keys})")
    op.drop_table("grade_level")
    _retrigger()


def _retrigger() -> None:
    """SQLite: the triggers that keep the FTS5 indexes current, as 0014 made them."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, (fts, columns) in FTS.items():
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
                   "END")
        op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
