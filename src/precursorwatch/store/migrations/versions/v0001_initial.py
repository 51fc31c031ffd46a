"""Initial schema: lists and versions, substances, screenings, audit, API keys, cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

The audit log is append-only: triggers refuse UPDATE and DELETE on ``audit_event``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END""",
)

_POSTGRES_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
    END
    $$""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
)


def upgrade() -> None:
    """Create every table, index and the audit triggers."""
    op.create_table(
        "list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_list"),
        sa.UniqueConstraint("code", name="uq_list_code"),
    )
    op.create_table(
        "list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("effective_date", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("imported_at", _TS, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("entries_count", sa.Integer(), nullable=False),
        sa.Column("substances_count", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["list.id"], name="fk_list_version_list_id_list"),
        sa.PrimaryKeyConstraint("id", name="pk_list_version"),
        sa.UniqueConstraint("list_id", "version", name="uq_list_version_list_id_version"),
    )
    op.create_index("ix_list_version_list_id_is_current", "list_version", ["list_id", "is_current"])
    op.create_table(
        "substance",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cas", sa.String(32), nullable=False),
        sa.Column("smiles", sa.Text(), nullable=False),
        sa.Column("inchikey", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_substance"),
    )
    op.create_table(
        "substance_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_key", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_folded", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["substance_key"], ["substance.key"], name="fk_substance_name_substance_key_substance"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_substance_name"),
    )
    op.create_index("ix_substance_name_name_folded", "substance_name", ["name_folded"])
    op.create_index("ix_substance_name_substance_key", "substance_name", ["substance_key"])
    op.create_table(
        "substance_cas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("substance_key", sa.String(200), nullable=False),
        sa.Column("cas", sa.String(32), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["substance_key"], ["substance.key"], name="fk_substance_cas_substance_key_substance"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_substance_cas"),
    )
    op.create_index("ix_substance_cas_cas", "substance_cas", ["cas"])
    op.create_index("ix_substance_cas_substance_key", "substance_cas", ["substance_key"])
    op.create_table(
        "listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_version_id", sa.Integer(), nullable=False),
        sa.Column("substance_key", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("family_smarts", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_version_id"],
            ["list_version.id"],
            name="fk_listing_list_version_id_list_version",
        ),
        sa.ForeignKeyConstraint(
            ["substance_key"], ["substance.key"], name="fk_listing_substance_key_substance"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_listing"),
    )
    op.create_index("ix_listing_list_version_id", "listing", ["list_version_id"])
    op.create_index("ix_listing_substance_key", "listing", ["substance_key"])
    op.create_table(
        "screening",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("input_name", sa.Text(), nullable=False),
        sa.Column("input_hash", sa.String(128), nullable=False),
        sa.Column("list_versions", sa.JSON(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("flagged_count", sa.Integer(), nullable=False),
        sa.Column("by_risk", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_screening"),
    )
    op.create_index("ix_screening_created_at", "screening", ["created_at"])
    op.create_table(
        "screening_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cas", sa.Text(), nullable=False),
        sa.Column("hs_code", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("smiles", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("consignor", sa.Text(), nullable=False),
        sa.Column("consignee", sa.Text(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("matched_key", sa.String(200), nullable=False),
        sa.Column("match_type", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name="fk_screening_line_screening_id_screening"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_screening_line"),
    )
    op.create_index("ix_screening_line_screening_id", "screening_line", ["screening_id"])
    op.create_index("ix_screening_line_matched_key", "screening_line", ["matched_key"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_table(
        "api_key",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
    )
    op.create_index("ix_api_key_prefix", "api_key", ["prefix"])
    op.create_table(
        "resolver_cache",
        sa.Column("resolver_version", sa.String(64), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("resolver_version", "key", name="pk_resolver_cache"),
    )
    dialect = op.get_bind().dialect.name
    triggers = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}.get(dialect, ())
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TABLE IF EXISTS audit_event CASCADE")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    for table in (
        "resolver_cache",
        "api_key",
        "audit_event",
        "screening_line",
        "screening",
        "listing",
        "substance_cas",
        "substance_name",
        "substance",
        "list_version",
        "list",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table}")
