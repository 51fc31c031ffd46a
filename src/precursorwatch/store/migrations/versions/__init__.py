"""Alembic revision scripts, oldest first (alembic skips this file)."""
