"""saved precedents, and full-text indexes over precedents, explanations and settlement notes

The ``precedent`` table (one per settled sample). Full-text search, store by store, over the
same three sources ``bot.services.search`` queries:

- SQLite: FTS5 tables with external content (``grade_fts`` over grade.category and
  grade.explanation, ``settlement_fts`` over dispute_settlement.note, ``precedent_fts`` over
  precedent.category, ruling and rationale), tokenized ``porter unicode61 remove_diacritics 2``,
  kept current by triggers on insert, update and delete of the source rows, and rebuilt here
  from the rows already stored. (A later batch migration that recreates one of the source
  tables drops its triggers with it: it has to create them again.)
- PostgreSQL: a generated, stored ``search_vector tsvector`` column on each source table
  (``to_tsvector('english', …)`` of the same columns; PostgreSQL computes it for the existing
  rows here and keeps it current on every write) with a GIN index on it. Stored, so that
  ranking with ``ts_rank`` reads the vectors instead of parsing every matching text again.
  The column is not on the SQLModel models (SQLite has no such column; nothing writes it).

Revision ID: 0014_precedent_search
Revises: 0013_trainer_disputes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_precedent_search"
down_revision: str | Sequence[str] | None = "0013_trainer_disputes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (source table, index name, indexed columns)
SOURCES = (
    ("grade", "grade_fts", ("category", "explanation")),
    ("dispute_settlement", "settlement_fts", ("note",)),
    ("precedent", "precedent_fts", ("category", "ruling", "rationale")),
)
TOKENIZE = "porter unicode61 remove_diacritics 2"


def upgrade() -> None:
    op.create_table(
        "precedent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("task_type", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("ruling", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["sample.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id"),
    )
    op.create_index(op.f("ix_precedent_task_type"), "precedent", ["task_type"])
    if op.get_bind().dialect.name == "sqlite":
        for table, fts, columns in SOURCES:
            _sqlite_index(table, fts, columns)
    else:
        for table, fts, columns in SOURCES:
            op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
                       f"GENERATED ALWAYS AS ({_vector(columns)}) STORED")
            op.execute(f"CREATE INDEX ix_{fts} ON {table} USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for _table, fts, _columns in SOURCES:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for table, fts, _columns in SOURCES:
            op.execute(f"DROP INDEX IF EXISTS ix_{fts}")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
    op.drop_index(op.f("ix_precedent_task_type"), table_name="precedent")
    op.drop_table("precedent")


def _vector(columns: Sequence[str]) -> str:
    """The document PostgreSQL indexes: the columns, English stems."""
    text = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
    return f"to_tsvector('english'::regconfig, {text})"


def _sqlite_index(table: str, fts: str, columns: Sequence[str]) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
               f"content_rowid='id', tokenize='{TOKENIZE}')")
    op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
