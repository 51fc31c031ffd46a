"""The store's tables, declared once as SQLAlchemy Core metadata (DESIGN.md §6).

The migrations in ``migrations/versions`` create exactly this schema; a test compares them.
Repository modules import the ``Table`` objects from here; nothing else does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

#: Constraint names follow one convention so migrations can refer to them on every database.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zones: values are stored as naive UTC and given ``UTC`` back on
    reading. A naive datetime handed in is refused (``ValueError``): its zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; naive for SQLite, aware elsewhere."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the database gave."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


list_table = Table(
    "list",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

list_version = Table(
    "list_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", Integer, ForeignKey("list.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("title", Text, nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("effective_date", String(32), nullable=False),
    Column("content_hash", String(128), nullable=False),
    Column("source_file", Text, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("entries_count", Integer, nullable=False),
    Column("substances_count", Integer, nullable=False),
    # {"list": <ListDef>, "substances": {key: <Substance>}}: the version, readable forever.
    Column("payload", JSON, nullable=False),
    UniqueConstraint("list_id", "version", name="uq_list_version_list_id_version"),
    Index("ix_list_version_list_id_is_current", "list_id", "is_current"),
)

substance = Table(
    "substance",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("cas", String(32), nullable=False),
    Column("smiles", Text, nullable=False),
    Column("inchikey", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

substance_name = Table(
    "substance_name",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("substance_key", String(200), ForeignKey("substance.key"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_folded", Text, nullable=False),
    # ISO 639-1 language, "" for the regulation name, "abbr" for abbreviations.
    Column("lang", String(8), nullable=False),
    Index("ix_substance_name_name_folded", "name_folded"),
    Index("ix_substance_name_substance_key", "substance_key"),
)

substance_cas = Table(
    "substance_cas",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("substance_key", String(200), ForeignKey("substance.key"), nullable=False),
    Column("cas", String(32), nullable=False),
    # "" for the parent CAS, else the labelled form ("hydrochloride", "(R)-isomer" ...).
    Column("form", Text, nullable=False),
    Index("ix_substance_cas_cas", "cas"),
    Index("ix_substance_cas_substance_key", "substance_key"),
)

listing = Table(
    "listing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_version_id", Integer, ForeignKey("list_version.id"), nullable=False),
    Column("substance_key", String(200), ForeignKey("substance.key"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("covers", JSON, nullable=False),
    Column("thresholds", JSON, nullable=False),
    Column("family_smarts", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    # The entry's dates as written (YYYY-MM-DD, '' = the list's default) and its acts (0002).
    Column("applies_from", String(10), nullable=False, server_default=""),
    Column("applies_until", String(10), nullable=False, server_default=""),
    Column("act", Text, nullable=False, server_default=""),
    Column("removed_by", Text, nullable=False, server_default=""),
    Index("ix_listing_list_version_id", "list_version_id"),
    Index("ix_listing_substance_key", "substance_key"),
)

screening = Table(
    "screening",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("input_name", Text, nullable=False),
    Column("input_hash", String(128), nullable=False),
    Column("list_versions", JSON, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("flagged_count", Integer, nullable=False),
    Column("by_risk", JSON, nullable=False),
    # Set true in the same transaction as the lines: readers only ever see complete ones.
    Column("complete", Boolean, nullable=False),
    # When ``prune`` removed its lines (the summary and the audit trail stay); NULL: kept.
    Column("pruned_at", UTCDateTime, nullable=True),
    # The day whose law the screening applied, YYYY-MM-DD (0005_as_of_and_decisions).
    Column("as_of", String(10), nullable=False, server_default=""),
    Index("ix_screening_created_at", "created_at"),
)

#: Officers' review decisions on screened lines, oldest first: the newest per line is its
#: decision, the others its history (0005_as_of_and_decisions).
line_decision = Table(
    "line_decision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("screening_id", String(32), ForeignKey("screening.id"), nullable=False),
    Column("line_id", Text, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("comment", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_key_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_line_decision_screening_line", "screening_id", "line_id"),
)

#: Each distinct judged result of a screening, once: the verdict without what is the line's
#: own (its id, warnings, and a reason with a quantity sentence). Lines refer to it by number.
screening_result = Table(
    "screening_result",
    metadata,
    Column("screening_id", String(32), ForeignKey("screening.id"), primary_key=True),
    Column("result_no", Integer, primary_key=True, autoincrement=False),
    Column("risk", String(16), nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("matched_key", String(200), nullable=False),
    Column("match_type", String(32), nullable=False),
    Column("score", Float, nullable=False),
    # JSON text of the LineResult without line_id and warnings (precursorwatch.store.blocks).
    Column("result", Text, nullable=False),
    Index("ix_screening_result_matched_key", "matched_key"),
)

#: A screening's lines, a block of consecutive lines per row: each line's own fields and the
#: number of its result, as compressed Arrow columns (``format``; precursorwatch.store.blocks).
screening_block = Table(
    "screening_block",
    metadata,
    Column("screening_id", String(32), ForeignKey("screening.id"), primary_key=True),
    Column("block_no", Integer, primary_key=True, autoincrement=False),
    Column("first_position", Integer, nullable=False),
    Column("line_count", Integer, nullable=False),
    # The results first numbered in this block (written with it), and the bytes of the
    # block's data and of those results' JSON: the store's size per screening, summed cheaply.
    Column("result_count", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("format", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("detail", JSON, nullable=False),
    # The API key the event was done with ('' for the CLI and the system) (0004_key_ids).
    Column("actor_key_id", String(32), nullable=False, server_default=""),
    Index("ix_audit_event_at", "at"),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_api_key_prefix", "prefix"),
    # A name says who uses a key, in the audit and on pages: one key per name (0004_key_ids).
    Index("ix_api_key_name_unique", "name", unique=True),
)

#: Which API key made a screening: operators read only their own key's screenings (the
#: name in ``screening.actor`` need not have been unique once) (0004_key_ids).
screening_owner = Table(
    "screening_owner",
    metadata,
    Column("screening_id", String(32), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("key_name", String(200), nullable=False),
    Index("ix_screening_owner_key_id", "key_id"),
)

resolver_cache = Table(
    "resolver_cache",
    metadata,
    Column("resolver_version", String(64), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The first answer to each (API key, ``Idempotency-Key``) pair: a retried POST is answered
#: from here, by any worker (0006_idempotency_and_sessions). ``status`` NULL: still running.
#: ``body`` is the zlib-compressed answer, NULL when too large to keep (the answer is then
#: rebuilt from ``screening_id``).
idempotency = Table(
    "idempotency",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("idem_key", String(255), primary_key=True),
    Column("request", Text, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("media_type", String(200), nullable=False),
    Column("body", LargeBinary, nullable=True),
    Column("screening_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_created_at", "created_at"),
    Index("ix_idempotency_screening_id", "screening_id"),
)

#: Signed-in browsers: the SHA-256 of the cookie token (never the token, never the key's
#: secret), the key signed in with, the form token (CSRF) (0006_idempotency_and_sessions).
page_session = Table(
    "page_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_page_session_seen_at", "seen_at"),
)
