"""The models and the migrations describe the same schema.

A fresh store upgraded to head (the `engine` fixture: SQLite, and PostgreSQL in a schema of
its own when AUDITBOT_TEST_POSTGRES_URL is set) is compared with ``SQLModel.metadata`` by
Alembic's autogenerate: tables, columns, types, nullability, server defaults, indexes,
unique constraints and foreign keys. Any difference is drift: a model changed without its
migration, or a migration that left the store other than the models say.
(Autogenerate does not compare CHECK constraints.)
"""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Index, MetaData, Table, Text
from sqlalchemy.sql.schema import Constraint
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers every table on SQLModel.metadata)


def test_the_migrations_build_the_schema_the_models_describe(engine: Engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True,
                              "include_name": not_search_index})
        differences = compare_metadata(context, SQLModel.metadata)
    assert not differences, (
        f"models and migrations disagree on {engine.dialect.name} "
        "(what a migration would do to bring the store to the models; modify_*: the "
        "store's value -> the models'):\n"
        + "\n".join(describe(difference) for difference in differences))


# The full-text search structures of migration 0014 (``bot.store.models.precedents``) live in the
# store only, by design: SQLite's FTS5 virtual tables and their shadow tables, and
# PostgreSQL's generated ``search_vector`` columns with their GIN indexes. The models do not
# describe them (an ORM column would be written to), so they are left out of the comparison.
FTS_TABLE_SUFFIXES = ("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")


def not_search_index(name: str | None, type_: str, _parents: Any) -> bool:
    if name is None:
        return True
    if type_ == "table":
        return not name.endswith(FTS_TABLE_SUFFIXES)
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return not name.endswith("_fts")
    return True


def test_a_difference_is_named_readably():
    """The failure message names the table and column, not an object's repr."""
    table = Table("grade", MetaData(), Column("explanation", Text))
    assert describe(("add_column", None, "grade", table.c.explanation)) == \
        "add_column grade.explanation"
    assert describe([("modify_nullable", None, "grade", "explanation",
                      {"existing_type": "TEXT"}, True, False)]) == \
        "modify_nullable grade.explanation: True -> False"


def describe(difference: Any) -> str:
    """One line per difference: what autogenerate would do, and to which table/column."""
    if isinstance(difference, list):  # modify_* come grouped per column
        return "\n".join(describe(item) for item in difference)
    operation, *details = difference
    if operation.startswith("modify_"):
        _schema, table, column, _existing, old, new = details
        return f"{operation} {table}.{column}: {_show(old)} -> {_show(new)}"
    if operation in ("add_column", "remove_column"):
        _schema, _table, column = details
        return f"{operation} {_show(column)}"
    return f"{operation} " + " ".join(_show(detail) for detail in details if detail is not None)


def _show(thing: Any) -> str:
    if isinstance(thing, Table):
        return thing.name
    if isinstance(thing, Column):
        return f"{thing.table.name}.{thing.name}" if thing.table is not None else str(thing.name)
    if isinstance(thing, Index | Constraint):
        table = thing.table.name if thing.table is not None else "?"
        columns = ", ".join(column.name for column in thing.columns)
        return f"{type(thing).__name__} {thing.name} on {table}({columns})"
    if hasattr(thing, "arg"):  # a server default
        text = getattr(thing.arg, "text", thing.arg)
        return f"default {text}"
    return repr(thing)
