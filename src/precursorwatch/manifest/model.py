"""The values passed between the stages of reading a manifest.

Reading flows one way: detection (:mod:`~precursorwatch.manifest.layout`) gives a
:class:`Layout`; a reader (:mod:`~precursorwatch.manifest.csv` or
:mod:`~precursorwatch.manifest.xlsx`) turns the data lines into :class:`RawChunk` values;
:mod:`~precursorwatch.manifest.clean` turns each chunk into a frame of canonical columns.
:class:`ManifestInfo` is what callers are told was detected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

#: Longest field kept: longer ones are cut, with a warning on their line. A line longer than
#: this marks the layout ``long_lines``, so that the cleaner looks for such fields.
MAX_FIELD_CHARS = 100_000


@dataclass(frozen=True)
class ManifestInfo:
    """What was detected in a manifest: format, encoding, delimiter and the header per field.

    ``encoding`` and ``delimiter`` are '' for XLSX.
    """

    path: str
    format: str
    encoding: str
    delimiter: str
    columns: dict[str, str]
    ignored_headers: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Everything needed to read and clean the data lines of one manifest.

    The flags after ``header_line`` come from the pre-scan of a text file's data lines
    (:mod:`~precursorwatch.manifest.scan`); they choose the reader and what the cleaner checks.
    """

    info: ManifestInfo
    #: Field -> column index of the raw cells.
    indices: dict[str, int]
    #: Number of columns in the header row (the raw chunks' width).
    width: int
    #: A unit named in the quantity header ("Net mass (kg)"): the unit of lines that give none.
    unit_hint: str = ""
    #: Byte offset of the first data line (text files).
    offset: int = 0
    #: Codec of the data lines (text files): utf-8, utf-16-le/-be, cp1252 or latin-1.
    body_encoding: str = ""
    #: 1-based line number of the header row, to name file lines in messages.
    header_line: int = 0
    #: Some line has another number of fields than the header (or its quotes are unbalanced):
    #: the row reader reads the file, and says so on each such line.
    ragged: bool = False
    #: Some line holds control or invisible characters: the cleaner removes them.
    dirty: bool = False
    #: Some line is longer than :data:`MAX_FIELD_CHARS`: the cleaner cuts over-long fields.
    long_lines: bool = False
    #: Some line may be all empty fields: the cleaner drops such rows.
    blank_rows: bool = True
    #: Every quote is where RFC 4180 puts one, no CR outside CRLF, no line of whitespace:
    #: every CSV parser reads the lines alike, so the fast reader may be used.
    strict: bool = False


class RawChunk(NamedTuple):
    """Consecutive data rows as a reader found them, before cleaning."""

    #: Text columns ``0..width-1``, one row per data line ('' for a missing field).
    cells: pd.DataFrame
    #: Fields each line had, where the reader reports ragged lines (else ``None``).
    field_counts: np.ndarray | None = None
    #: A warning per row found while reading ('' for none), or ``None``.
    notes: np.ndarray | None = None


def text_frame(rows: list[list[str]], width: int) -> pd.DataFrame:
    """Raw cells from rows of exactly ``width`` texts."""
    return pd.DataFrame(rows, columns=range(width), dtype=str)
