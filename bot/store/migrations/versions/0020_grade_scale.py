"""the grade scale in the store: a CHECK that every grade column holds one of its keys

``grade.grade``, ``grade_event.grade``, ``dispute_settlement.grade``, ``trainer_dispute.grade``
and ``trainer_output.gold_grade`` (the last two nullable: NULL passes a CHECK) may only hold
the default scale's keys (``bot.common.grades.DEFAULT_SCALE``): pass, minor, major. The keys are
written out here, not imported: a migration describes the store as of its revision.

SQLite cannot add a constraint in place, so the tables are recreated (batch mode). Recreating
``grade`` and ``dispute_settlement`` drops the full-text triggers of migration 0014 on them:
they are created again here, and their indexes rebuilt from the rows.

Revision ID: 0020_grade_scale
Revises: 0019_loop
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_grade_scale"
down_revision: str | Sequence[str] | None = "0019_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = "('pass', 'minor', 'major')"
# (table, column, constraint name)
CHECKS = (
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
    for table, column, name in CHECKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(name, f"{column} IN {KEYS}")
    _retrigger()


def downgrade() -> None:
    for table, _column, name in reversed(CHECKS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="check")
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
