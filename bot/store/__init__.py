"""The store: the tables (`models`, one module per part), the engine and sessions (`db`)
and the Alembic migrations (`migrations/`). Imports no service."""
