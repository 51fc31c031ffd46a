"""Read a customs manifest (CSV, TSV, XLSX) into frames of canonical string columns.

The public entry points of the package. Reading flows one way, in three stages:

1. :func:`~precursorwatch.manifest.layout.detect_layout`: format, encoding, delimiter, header
   row, which column is which field, and a pre-scan of the data lines -> a ``Layout``;
2. a reader turns the data lines into raw chunks: :func:`~precursorwatch.manifest.csv.
   csv_chunks` for text files, :func:`~precursorwatch.manifest.xlsx.xlsx_chunks` for XLSX;
3. :class:`~precursorwatch.manifest.clean.Finisher` cleans each chunk into canonical columns.

The file is streamed in chunks, so memory does not grow with its size. Bad lines never sink
the file: every line gets a row, with per-line ``warnings`` saying what was repaired. A file
that cannot be read at all raises one :class:`~precursorwatch.errors.ManifestError` naming
file, line and field and saying what to do.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

from precursorwatch.manifest.clean import Finisher, empty_frame
from precursorwatch.manifest.csv import csv_chunks
from precursorwatch.manifest.headers import (
    CANONICAL_COLUMNS,
    FIELDS,
    HEADER_NAMES,
    IDENTIFIER_FIELDS,
    cell_text,
    header_key,
    parse_mapping,
)
from precursorwatch.manifest.layout import detect_layout
from precursorwatch.manifest.model import (
    MAX_FIELD_CHARS,
    Layout,
    ManifestInfo,
    RawChunk,
    text_frame,
)
from precursorwatch.manifest.xlsx import MAX_XLSX_RATIO, MAX_XLSX_UNCOMPRESSED, xlsx_chunks

__all__ = [
    "CANONICAL_COLUMNS",
    "FIELDS",
    "HEADER_NAMES",
    "IDENTIFIER_FIELDS",
    "MAX_FIELD_CHARS",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNCOMPRESSED",
    "ManifestInfo",
    "empty_frame",
    "frame_from_records",
    "header_key",
    "iter_manifest",
    "open_manifest",
    "parse_mapping",
    "read_manifest",
    "read_manifest_bytes",
    "sniff_manifest",
]


def sniff_manifest(path: Path, *, mapping: Mapping[str, str] | None = None) -> ManifestInfo:
    """Detect format, encoding, delimiter and columns without reading the lines into memory.

    Raises ManifestError when the file cannot be read or has no identifier column.
    """
    layout, rows = detect_layout(Path(path), str(path), mapping)
    if rows is not None and hasattr(rows, "close"):
        rows.close()
    return layout.info


def _stream(
    path: Path, where: str, mapping: Mapping[str, str] | None, chunk_rows: int
) -> tuple[ManifestInfo, Iterator[pd.DataFrame]]:
    """Detect the layout now (so that a ManifestError is raised by the call), and return the
    info with the canonical frames still to be read: at least one, possibly empty."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    layout, rows = detect_layout(path, where, mapping)
    if rows is None:
        chunks = csv_chunks(path, layout, chunk_rows)
    else:
        chunks = xlsx_chunks(rows, layout.width, chunk_rows)
    finisher = Finisher(layout)

    def frames() -> Iterator[pd.DataFrame]:
        produced = False
        for chunk in chunks:
            frame = finisher.finish(chunk)
            if len(frame):
                produced = True
                yield frame
        if not produced:
            yield empty_frame()

    return layout.info, frames()


def open_manifest(
    path: Path, *, mapping: Mapping[str, str] | None = None, chunk_rows: int = 200_000
) -> tuple[ManifestInfo, Iterator[pd.DataFrame]]:
    """What :func:`sniff_manifest` detects and the chunks of :func:`iter_manifest`, from one
    detection pass (the pre-scan of a large CSV is not repeated).

    Raises ManifestError as :func:`iter_manifest` does.
    """
    return _stream(Path(path), str(path), mapping, chunk_rows)


def iter_manifest(
    path: Path, *, mapping: Mapping[str, str] | None = None, chunk_rows: int = 200_000
) -> Iterator[pd.DataFrame]:
    """Stream a manifest as canonical frames of at most ``chunk_rows`` rows, in input order.

    ``row`` is the 1-based number of the data line (blank lines are skipped and not counted),
    continuing across chunks; every other column is text ('' when absent; ``quantity`` is the
    raw text), ``warnings`` the '; '-joined repairs made to that line. At least one (possibly
    empty) frame is yielded. Detection runs before this returns, so a ManifestError (unreadable
    file, no identifier column, a mapped header that is missing) is raised by the call itself;
    a line that cannot be split at all, or a damaged XLSX sheet part, raises it while iterating.
    """
    return _stream(Path(path), str(path), mapping, chunk_rows)[1]


def read_manifest(
    path: Path, *, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, ManifestInfo]:
    """The whole manifest as one canonical frame, with what was detected.

    Raises ManifestError as :func:`iter_manifest` does; a header-only file gives an empty frame.
    """
    info, chunks = _stream(Path(path), str(path), mapping, 200_000)
    return pd.concat(list(chunks), ignore_index=True), info


def read_manifest_bytes(
    data: bytes, filename: str, *, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, ManifestInfo]:
    """Read an uploaded manifest; ``filename`` (its extension) guides detection and is the path
    named in errors and in the returned ManifestInfo.

    The bytes are written to a temporary file, which is removed before this returns. Raises
    ManifestError as :func:`read_manifest` does.
    """
    suffix = Path(filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ".csv"
    with tempfile.TemporaryDirectory(prefix="precursorwatch-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        info, chunks = _stream(path, filename, mapping, 200_000)
        return pd.concat(list(chunks), ignore_index=True), info


def frame_from_records(records: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Canonical frame from JSON-style lines keyed by field name (e.g. the API's ``lines``).

    Unknown keys are ignored, ``None`` becomes '', other values their text (``200.0`` ->
    ``"200"``); lines are cleaned and warned about as file lines are. Never raises on values.
    """
    rows = [[cell_text(rec.get(f)) for f in FIELDS] for rec in records]
    info = ManifestInfo("<records>", "records", "", "", {f: f for f in FIELDS}, ())
    # every record gets a row, even an empty one: the API answers line for line; values are
    # not pre-scanned, so every one is checked for control characters and length
    layout = Layout(
        info,
        {f: i for i, f in enumerate(FIELDS)},
        len(FIELDS),
        dirty=True,
        long_lines=True,
        blank_rows=False,
    )
    frame = Finisher(layout).finish(RawChunk(text_frame(rows, len(FIELDS))))
    return frame if len(frame) else empty_frame()
