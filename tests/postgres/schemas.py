"""One PostgreSQL schema per test, so tests never see each other's rows.

Usage::

    with postgres_schema("postgresql+psycopg://postgres@127.0.0.1:5432/test") as url:
        engine = make_engine(url)     # every connection of it works in the new schema
        upgrade(engine)               # tables and alembic_version land there too

The schema travels in the URL (libpq ``options=-csearch_path=…``), not in code, so a
subprocess given ``DATABASE_URL=url`` (a replica, a job process) works in the same schema.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

POSTGRES_ENV = "AUDITBOT_TEST_POSTGRES_URL"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on ``base_url``'s database; dropped (CASCADE) afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # Only the test's schema on the search path: unqualified names (the tables, Alembic's
    # version table) resolve there and nowhere else. application_name finds stray sessions.
    url = make_url(base_url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # A killed replica or a thread a test left behind may still hold a session with
            # locks in the schema; end them so the DROP cannot wait on them.
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": schema})
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
