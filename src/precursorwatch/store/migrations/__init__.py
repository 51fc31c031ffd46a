"""Alembic migrations of the store, run by :func:`precursorwatch.store.engine.migrate`."""
