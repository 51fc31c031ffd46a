"""Dated list entries: the date an entry applies from and until, and the acts, on ``listing``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

The full entry (thresholds and their dates included) is in ``list_version.payload`` already;
these columns keep the normalised ``listing`` copy complete. Rows of versions imported before
have no dates: ''.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("applies_from", sa.String(10)),
    ("applies_until", sa.String(10)),
    ("act", sa.Text()),
    ("removed_by", sa.Text()),
)


def upgrade() -> None:
    """Add the date and act columns to ``listing`` ('' for the rows already there)."""
    with op.batch_alter_table("listing") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade() -> None:
    """Undo: drop the date and act columns of ``listing``."""
    with op.batch_alter_table("listing") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
