"""The day a screening applied the lists, and officers' decisions on flagged lines.

Revision ID: 0005_as_of_and_decisions
Revises: 0004_key_ids
Create Date: 2026-12-07

``screening.as_of`` is the day whose law the screening applied (``YYYY-MM-DD``); screenings
made before this revision applied the law of the day they were made, so they get the date of
their ``created_at``. ``line_decision`` keeps every review decision on a screened line, oldest
first: the newest per line is the line's decision, the rest is its history (the audit trail
holds them too).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_as_of_and_decisions"
down_revision: str | None = "0004_key_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``screening.as_of`` (backfilled from ``created_at``) and the decisions table."""
    op.add_column("screening", sa.Column("as_of", sa.String(10), nullable=False, server_default=""))
    op.execute("UPDATE screening SET as_of = substr(CAST(created_at AS TEXT), 1, 10)")
    op.create_table(
        "line_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name="fk_line_decision_screening_id_screening"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_line_decision"),
    )
    op.create_index("ix_line_decision_screening_line", "line_decision", ["screening_id", "line_id"])


def downgrade() -> None:
    """Drop the decisions table and ``screening.as_of``."""
    op.drop_index("ix_line_decision_screening_line", table_name="line_decision")
    op.drop_table("line_decision")
    # ALTER TABLE ... DROP COLUMN in place: a recreated screening table would break the
    # foreign keys of its blocks, results and owner (SQLite enforces them here)
    with op.batch_alter_table("screening", recreate="never") as batch:
        batch.drop_column("as_of")
