"""Key ids: which key made each screening, which key did each audited act, one key per name.

Revision ID: 0004_key_ids
Revises: 0003_lean_record
Create Date: 2026-12-07

Screenings were authorised by the key's *name*, which need not have been unique: an operator
key named like an officer's read that officer's screenings. ``screening_owner`` records the
key id of each screening; screenings made before are given the key whose name they carry when
exactly one key has that name (others stay readable by officers and admins only).
``audit_event.actor_key_id`` records the key of each event ('' for the CLI and the system).
Then later keys sharing a name get their id's first 8 characters appended (the oldest keeps
it) and ``api_key.name`` becomes unique.

``audit_event`` gets its column by ``ALTER TABLE ... ADD COLUMN`` (no table copy), so the
triggers that keep it append-only stay in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_key_ids"
down_revision: str | None = "0003_lean_record"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Screenings whose actor name belongs to exactly one key get that key as owner.
_BACKFILL_OWNERS = """
INSERT INTO screening_owner (screening_id, key_id, key_name)
SELECT s.id, k.id, k.name FROM screening s JOIN api_key k ON k.name = s.actor
WHERE (SELECT count(*) FROM api_key k2 WHERE k2.name = s.actor) = 1
"""
#: Every key but the oldest of a name gets its id's first 8 characters appended.
_RENAME_DUPLICATES = """
UPDATE api_key SET name = name || ' #' || substr(id, 1, 8)
WHERE EXISTS (
    SELECT 1 FROM api_key older WHERE older.name = api_key.name
    AND (older.created_at < api_key.created_at
         OR (older.created_at = api_key.created_at AND older.id < api_key.id))
)
"""


def upgrade() -> None:
    """Add the owner table and the audit column, backfill owners, make key names unique."""
    op.add_column(
        "audit_event",
        sa.Column("actor_key_id", sa.String(32), nullable=False, server_default=""),
    )
    op.create_table(
        "screening_owner",
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("key_name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("screening_id", name="pk_screening_owner"),
    )
    op.create_index("ix_screening_owner_key_id", "screening_owner", ["key_id"])
    op.execute(_BACKFILL_OWNERS)
    op.execute(_RENAME_DUPLICATES)
    op.create_index("ix_api_key_name_unique", "api_key", ["name"], unique=True)


def downgrade() -> None:
    """Undo (renamed duplicate key names keep their new names)."""
    op.drop_index("ix_api_key_name_unique", table_name="api_key")
    op.drop_index("ix_screening_owner_key_id", table_name="screening_owner")
    op.drop_table("screening_owner")
    with op.batch_alter_table("audit_event", recreate="never") as batch:
        batch.drop_column("actor_key_id")
