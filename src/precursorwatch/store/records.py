"""Frozen records the repository functions return (rows of the store, not domain objects)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from precursorwatch.models import DeclarationLine, LineResult

#: Roles an API key can have, least to most powerful.
ROLES: tuple[str, ...] = ("officer", "operator", "admin")


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What ``import_lists`` did with one list: "new", "updated" or "unchanged"."""

    code: str
    status: str
    version: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class ListSummary:
    """One stored version of a list, without its entries."""

    code: str
    title: str
    confidential: bool
    version: int
    entries: int
    substances: int
    effective_date: str
    imported_at: datetime
    content_hash: str
    source_file: str = ""
    is_current: bool = True


@dataclass(frozen=True, slots=True)
class ScreeningSummary:
    """A saved screening without its lines."""

    screening_id: str
    created_at: datetime
    actor: str
    input_name: str
    input_hash: str
    list_versions: Mapping[str, str]
    lines: int
    flagged: int
    by_risk: Mapping[str, int]
    #: When ``prune`` removed its lines (None: they are kept).
    pruned_at: datetime | None = None
    #: The day whose law the screening applied, YYYY-MM-DD.
    as_of: str = ""


@dataclass(frozen=True, slots=True)
class StoredSize:
    """What the store keeps of one screening: its lines, distinct results and their bytes
    (the compressed line blocks and the results' JSON text)."""

    summary: ScreeningSummary
    lines_stored: int
    results_stored: int
    bytes: int


@dataclass(frozen=True, slots=True)
class ScreeningRecord:
    """A saved screening with every line and its result, in input order."""

    summary: ScreeningSummary
    lines: tuple[tuple[DeclarationLine, LineResult], ...] = field(default=())

    @property
    def screening_id(self) -> str:
        """The screening's id (uuid4 hex)."""
        return self.summary.screening_id


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One earlier declaration line whose result matched a given substance."""

    screening_id: str
    created_at: datetime
    actor: str
    line_id: str
    description: str
    consignee: str
    destination: str
    risk: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as the store shows it: never the secret, only its display prefix."""

    key_id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        """True once the key was revoked."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One append-only audit record."""

    event_id: int
    at: datetime
    actor: str
    action: str
    detail: Mapping[str, object]
    #: The API key the event was done with ('' for the CLI and the system).
    actor_key_id: str = ""
