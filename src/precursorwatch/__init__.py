"""precursorwatch: screen shipment declarations against drug-precursor watch lists.

The public library API; the CLI and the HTTP API are thin shells over :func:`screen_frame`.
"""

from __future__ import annotations

from precursorwatch.errors import (
    InputError,
    ListFileError,
    ManifestError,
    PrecursorWatchError,
    QueryError,
    ResolverError,
    StoreError,
    TooLargeError,
)
from precursorwatch.lists.load import load_bundled
from precursorwatch.models import (
    DeclarationLine,
    Evidence,
    LineResult,
    ListDef,
    ListEntry,
    Substance,
    Watchlist,
)
from precursorwatch.run.screener import Screener, screen_frame

__all__ = [
    "DeclarationLine",
    "Evidence",
    "InputError",
    "LineResult",
    "ListDef",
    "ListEntry",
    "ListFileError",
    "ManifestError",
    "PrecursorWatchError",
    "QueryError",
    "ResolverError",
    "Screener",
    "StoreError",
    "Substance",
    "TooLargeError",
    "Watchlist",
    "load_bundled",
    "screen_frame",
]
