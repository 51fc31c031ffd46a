"""Clean raw chunks into frames of the manifest's canonical columns, repaired and warned.

The last stage of reading: a :class:`~precursorwatch.manifest.model.RawChunk` (text columns as
a reader found them) becomes a frame of the ``CANONICAL_COLUMNS`` (``row`` int64, the others
text). Rows of empty fields are dropped; every other line keeps its row, numbered
across chunks, and what was repaired or could not be read (ragged rows, mixed encodings, NUL
bytes, invisible characters, over-long fields, repeated line ids, unreadable quantities, text
that is no CAS number) is said in that line's ``warnings``. Only vectorised work, and checks
the layout says are needed; nothing here raises on user text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from precursorwatch.frames import distinct_rows
from precursorwatch.identify.normalise import CONTROL_CHARS
from precursorwatch.manifest.headers import CANONICAL_COLUMNS, FIELDS
from precursorwatch.manifest.line_ids import SeenIds
from precursorwatch.manifest.model import MAX_FIELD_CHARS, Layout, RawChunk


def _add_warning(warns: np.ndarray, where: np.ndarray, message: str | np.ndarray) -> None:
    """Append ``message`` to the warnings of the rows ``where`` (bool mask or indices)."""
    current = warns[where]
    warns[where] = np.where(current == "", message, current + "; " + message)


class Finisher:
    """Turns the raw chunks of one manifest, in order, into canonical frames.

    It numbers rows across chunks and remembers line ids across chunks (for repeats), so one
    Finisher serves one pass over one file.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.next_row = 1
        self.seen_ids = SeenIds()

    def finish(self, chunk: RawChunk) -> pd.DataFrame:
        """The canonical frame of the next chunk: all-empty rows dropped (where the layout
        allows such rows), each line repaired and warned as the layout calls for, the
        chunk's field counts and reading notes turned into warnings."""
        raw, field_counts, notes = chunk
        clean, long = self.layout.dirty, self.layout.long_lines
        empty = np.full(len(raw), self.layout.blank_rows)
        for name in raw.columns if self.layout.blank_rows else ():
            empty &= (raw[name] == "").to_numpy(dtype=bool)
        if empty.any():
            raw = raw.loc[~empty]
            field_counts = None if field_counts is None else field_counts[~empty]
            notes = None if notes is None else notes[~empty]
        raw = raw.reset_index(drop=True)
        n = len(raw)
        warns = np.full(n, "", dtype=object) if notes is None else notes.astype(object)
        out: dict[str, Any] = {"row": np.arange(self.next_row, self.next_row + n, dtype=np.int64)}
        self.next_row += n
        if field_counts is not None:
            bad = np.flatnonzero(field_counts != self.layout.width)
            message = [
                f"line {out['row'][i]} has {field_counts[i]} fields, header has {self.layout.width}"
                for i in bad
            ]
            _add_warning(warns, bad, np.array(message, dtype=object))
        blank = pd.Series([""] * n, dtype=str)
        for field in FIELDS:
            index = self.layout.indices.get(field)
            col: pd.Series = blank if index is None else raw[index]
            if index is not None and self.layout.body_encoding in ("cp1252", "latin-1"):
                col = _repair_utf8(col, field, warns, self.layout.body_encoding)
            if index is not None and clean:
                col = _strip_controls(col, field, warns)
            if index is not None and long:
                col = _truncate(col, field, warns)
            if field == "unit" and self.layout.unit_hint:
                col = col.where(col != "", self.layout.unit_hint)
            out[field] = col
        if "line_id" in self.layout.indices:
            self._warn_repeats(out["line_id"], warns)
        _warn_quantities(out["quantity"], out["unit"], warns)
        _warn_cas(out["cas"], warns)
        out["warnings"] = pd.Series(warns, dtype=str)
        return pd.DataFrame(out, columns=list(CANONICAL_COLUMNS))

    def _warn_repeats(self, ids: pd.Series, warns: np.ndarray) -> None:
        """Warn on line ids seen before (:class:`~precursorwatch.manifest.line_ids.SeenIds`)."""
        present = (ids != "").to_numpy(dtype=bool)
        if not present.any():
            return
        repeated = self.seen_ids.repeats(ids if present.all() else ids[present])
        if repeated.any():
            where = np.flatnonzero(present)[repeated]
            message = [f"line_id {i!r} repeats an earlier line" for i in ids.to_numpy()[where]]
            _add_warning(warns, where, np.array(message, dtype=object))


#: Quantities written as a plain decimal number: they always read cleanly (only the unit can warn).
_PLAIN_NUMBER = r"\d{1,12}(?:\.\d{1,6})?"


# A UTF-8 lead byte then a continuation byte, as cp1252/latin-1 shows them ("Ã©" for "é").
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]"
)


def _repair_utf8(col: pd.Series, field: str, warns: np.ndarray, encoding: str) -> pd.Series:
    """Mixed encodings: in a file read as cp1252/latin-1 (some line was not UTF-8), cells that
    are valid UTF-8 are decoded as UTF-8 again, with a warning; other cells are left alone."""
    hit = np.flatnonzero(col.str.contains(_MOJIBAKE).to_numpy(dtype=bool))
    if not len(hit):
        return col
    values = col.to_numpy(dtype=object)
    fixed = []
    for i in hit:
        try:
            values[i] = str(values[i]).encode(encoding).decode("utf-8")
            fixed.append(i)
        except UnicodeError:
            continue
    if fixed:
        message = f"{field} was UTF-8 in a file read as {encoding}; decoded as UTF-8"
        _add_warning(warns, np.array(fixed, dtype=np.int64), message)
    return pd.Series(values, index=col.index, dtype=str)


def _warn_quantities(qty: pd.Series, unit: pd.Series, warns: np.ndarray) -> None:
    """Warn on lines whose quantity or unit cannot be read as written (absurd, NaN, unknown
    unit), with :func:`~precursorwatch.manifest.quantities.parse_quantity`'s words; each distinct
    (quantity, unit) is parsed once, plain numbers only have their unit checked."""
    from precursorwatch.manifest.quantities import normalise_unit, parse_quantity

    given = (qty != "").to_numpy(dtype=bool)
    if not given.any():
        return
    plain = qty.str.fullmatch(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
    messages = np.full(len(qty), "", dtype=object)
    rows = np.flatnonzero(given & plain)
    messages[rows] = _per_distinct(lambda u: normalise_unit(u)[1], unit.iloc[rows])
    rows = np.flatnonzero(given & ~plain)
    messages[rows] = _per_distinct(
        lambda q, u: parse_quantity(q, u)[2], qty.iloc[rows], unit.iloc[rows]
    )
    where = np.flatnonzero(messages != "")
    if len(where):
        _add_warning(warns, where, messages[where])


def _per_distinct(note: Callable[..., str], *columns: pd.Series) -> np.ndarray:
    """``note`` of the values (text) of each row of ``columns``, computed once per distinct
    combination of values."""
    groups, first = distinct_rows(columns)
    values = [col.iloc[first].to_numpy(dtype=object) for col in columns]
    notes = np.asarray([note(*map(str, v)) for v in zip(*values, strict=True)], dtype=object)
    taken: np.ndarray = notes[groups]
    return taken


#: A CAS number written the canonical way, whose reading is never empty (the first digit
#: is not 0, so 5 to 10 digits remain once leading zeros are stripped).
_CANONICAL_CAS = r"[1-9][0-9]{1,6}-[0-9]{2}-[0-9]"


def _warn_cas(cas: pd.Series, warns: np.ndarray) -> None:
    """Warn on lines whose CAS field holds no CAS-like number at all (the screen then goes by
    name and structure); a number with a wrong check digit is reported in the result's reason.
    Canonically written numbers are let through without reading them."""
    from precursorwatch.identify.normalise import read_cas

    odd = (cas != "").to_numpy(dtype=bool) & ~cas.str.fullmatch(_CANONICAL_CAS).to_numpy(dtype=bool)
    rows = np.flatnonzero(odd)
    if not len(rows):
        return
    values = cas.iloc[rows]
    unread = {v for v in pd.unique(values) if not read_cas(str(v))}
    if not unread:
        return
    where = rows[values.isin(unread).to_numpy(dtype=bool)]
    message = [
        f"cas {v[:40]!r} is not a CAS number (write it as 108-24-7); screened by name"
        for v in cas.to_numpy(dtype=object)[where]
    ]
    _add_warning(warns, where, np.array(message, dtype=object))


def _strip_controls(col: pd.Series, field: str, warns: np.ndarray) -> pd.Series:
    """``col`` without control and invisible characters, with a warning where any was."""
    hit = col.str.contains(CONTROL_CHARS).to_numpy(dtype=bool)
    if not hit.any():
        return col
    found = col[hit]
    nul = found.str.contains("\x00", regex=False).to_numpy(dtype=bool)
    other = found.str.replace("\x00", "", regex=False).str.contains(CONTROL_CHARS)
    col = col.copy()
    col[hit] = found.str.replace(CONTROL_CHARS, "", regex=True)
    rows = np.flatnonzero(hit)
    _add_warning(warns, rows[nul], f"NUL bytes removed from {field}")
    _add_warning(
        warns,
        rows[other.to_numpy(dtype=bool)],
        f"invisible or control characters removed from {field}",
    )
    return col


def _truncate(col: pd.Series, field: str, warns: np.ndarray) -> pd.Series:
    """``col`` with fields over :data:`MAX_FIELD_CHARS` cut, with a warning where one was."""
    lengths = col.str.len().to_numpy()
    over = lengths > MAX_FIELD_CHARS
    if not over.any():
        return col
    col = col.copy()
    col[over] = col[over].str.slice(0, MAX_FIELD_CHARS)
    message = [f"{field} cut from {n:,} to {MAX_FIELD_CHARS:,} characters" for n in lengths[over]]
    _add_warning(warns, over, np.array(message, dtype=object))
    return col


def empty_frame() -> pd.DataFrame:
    """A canonical frame with no rows (``row`` int64, every other column text)."""
    data: dict[str, Any] = {c: pd.Series([], dtype=str) for c in CANONICAL_COLUMNS}
    data["row"] = np.empty(0, dtype=np.int64)
    return pd.DataFrame(data, columns=list(CANONICAL_COLUMNS))
