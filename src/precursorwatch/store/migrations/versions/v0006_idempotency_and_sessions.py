"""Idempotency keys and page sessions kept in the store.

Revision ID: 0006_idempotency_and_sessions
Revises: 0005_as_of_and_decisions
Create Date: 2026-12-07

``idempotency`` keeps, per API key and ``Idempotency-Key`` header, the hash of the first
request and its answer (compressed), so a retried POST is answered the same by any worker
and after a restart, without screening or storing twice. ``page_session`` keeps the signed-in
browsers (the hash of the cookie token, never the token nor the key's secret), so a restart
or a second worker keeps them signed in and a sign-out ends them everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_idempotency_and_sessions"
down_revision: str | None = "0005_as_of_and_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``idempotency`` and ``page_session``."""
    op.create_table(
        "idempotency",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("idem_key", sa.String(255), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("screening_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "idem_key", name="pk_idempotency"),
    )
    op.create_index("ix_idempotency_created_at", "idempotency", ["created_at"])
    op.create_index("ix_idempotency_screening_id", "idempotency", ["screening_id"])
    op.create_table(
        "page_session",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_page_session"),
    )
    op.create_index("ix_page_session_seen_at", "page_session", ["seen_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_page_session_seen_at", table_name="page_session")
    op.drop_table("page_session")
    op.drop_index("ix_idempotency_screening_id", table_name="idempotency")
    op.drop_index("ix_idempotency_created_at", table_name="idempotency")
    op.drop_table("idempotency")
