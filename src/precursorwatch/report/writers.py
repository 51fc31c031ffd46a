"""Reports: CSV, JSON and XLSX from one screening result frame (the terminal table is
:mod:`precursorwatch.report.terminal`'s, the HTML report :mod:`precursorwatch.report.html`'s).

The one serialiser: the CLI and the API's ``report.csv`` both come through :func:`write_csv`,
so the two are byte-identical for the same file. Cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return; OWASP CSV injection)
are prefixed with a single quote in CSV and XLSX; the store keeps the original text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

try:  # Arrow joins the CSV rows in C; without it the csv module writes them (slower)
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - pyarrow comes with pandas' Arrow strings
    pa = pc = None

from precursorwatch.frames import arrow_backed, text_array
from precursorwatch.models import OUTPUT_COLUMNS, DeclarationLine, LineResult
from precursorwatch.serial import evidence_to_dict

#: Columns after the contract's: what the line declared (description, quantity as read, its
#: unit, consignee) and the officer's decision on it ('' until one is recorded).
LINE_COLUMNS: tuple[str, ...] = ("description", "quantity", "unit", "consignee", "decision")
#: Columns of the CSV report: the contract's, the line's, then the per-line warnings.
CSV_COLUMNS: tuple[str, ...] = (*OUTPUT_COLUMNS, *LINE_COLUMNS, "warnings")
#: Columns of the XLSX report: the CSV's, with the CAS number and HS code the line declared
#: before the warnings (the contract's first, in their order).
XLSX_COLUMNS: tuple[str, ...] = (*OUTPUT_COLUMNS, *LINE_COLUMNS, "cas", "hs_code", "warnings")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json", "xlsx", "html", "table")


def defuse(value: str) -> str:
    """Prefix a cell that a spreadsheet would evaluate as a formula with a single quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def quantity_cell(value: float | None) -> str:
    """A quantity as the reports write it: '1200.5', '16000' ('' when none was read)."""
    if value is None or not np.isfinite(value):
        return ""
    return str(np.format_float_positional(value, trim="-"))


def results_frame(
    results: Sequence[LineResult],
    lines: Sequence[DeclarationLine] | None = None,
    decisions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The output frame (as :meth:`Screener.screen_frame` returns) of stored results, with
    the declared ``lines``' description, quantity, unit and consignee when given, and each
    line's recorded decision ('' for none) when ``decisions`` are given."""
    declared: dict[str, list[str]] = {}
    if lines is not None:
        declared = {
            "description": [d.description for d in lines],
            "quantity": [quantity_cell(d.quantity) for d in lines],
            "unit": [d.unit for d in lines],
            "consignee": [d.consignee for d in lines],
        }
    if decisions is not None:
        declared["decision"] = list(decisions)
    return pd.DataFrame(
        {
            **declared,
            "line_id": [r.line_id for r in results],
            "flagged": [r.flagged for r in results],
            "risk": [r.risk for r in results],
            "matched_key": [r.matched_key for r in results],
            "matched_name": [r.matched_name for r in results],
            "matched_cas": [r.matched_cas for r in results],
            "lists": [";".join(r.lists) for r in results],
            "match_type": [r.match_type for r in results],
            "score": [r.score for r in results],
            "reason": [r.reason for r in results],
            "evidence": [json.dumps([evidence_to_dict(e) for e in r.evidence]) for r in results],
            "warnings": ["; ".join(r.warnings) for r in results],
        },
        columns=[c for c in (*CSV_COLUMNS, "evidence") if c in declared or c not in LINE_COLUMNS],
    )


def _cell(value: object) -> str:
    """One text cell: a formula start defused, line breaks made single-line-safe."""
    text = str(value)
    return _one_cell("'" + text if text.startswith(_FORMULA_START) else text)


def _cells(values: np.ndarray) -> list[str]:
    """Text cells of one column, each distinct value converted once.

    Result columns repeat a few values a million times (reasons, names, list codes), so the
    per-value work runs on the distinct values only.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    fixed = np.asarray([_cell(v) for v in uniques], dtype=object)
    cells: list[str] = fixed[codes].tolist()
    return cells


def csv_columns(frame: pd.DataFrame) -> list[Sequence[str]]:
    """The CSV report's cells of ``frame``, column by column (vectorised where it can be)."""
    n = len(frame)
    cols: list[Sequence[str]] = []
    for name in CSV_COLUMNS:
        if name not in frame.columns:
            cols.append([""] * n)
        elif name == "flagged":
            cols.append(np.where(frame["flagged"].to_numpy(dtype=bool), "true", "false").tolist())
        elif name == "score":
            codes, uniques = pd.factorize(
                frame["score"].to_numpy(dtype=float), use_na_sentinel=False
            )
            texts = np.asarray([f"{v:.3f}" for v in uniques], dtype=object)
            cols.append(texts[codes].tolist())
        else:
            cols.append(_cells(frame[name].to_numpy(dtype=object)))
    return cols


def _csv_rows(frame: pd.DataFrame) -> Iterable[Sequence[str]]:
    return zip(*csv_columns(frame), strict=True)


def _one_cell(text: str) -> str:
    """Line breaks inside a cell as ``\\n``: the csv writer (line terminator ``\\n``) quotes a
    field with ``\\n`` but not one with a bare ``\\r``, which readers take as a row break."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


#: Bytes for which a cell needs more than its text: quoting (``,`` ``"`` LF) or a line break
#: repaired (CR); and (a lookup table) the ASCII bytes that start a formula.
_NEEDS_WORK = tuple(b',"\n\r')
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[[ord(c) for c in _FORMULA_START]] = True
#: Values of a column looked at to guess whether it repeats a few values.
_SAMPLE = 1000
#: Rows joined into one text before it is written.
_WRITE_ROWS = 1 << 15


def _csv_field(value: object) -> str:
    """One cell exactly as ``csv.writer`` (QUOTE_MINIMAL, line terminator LF) writes the
    :func:`_cell` of ``value``: quoted when it holds a comma, a quote or a line feed."""
    text = _cell(value)
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _arrow_offsets(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, bytes)`` of a large_string Arrow array without nulls, as numpy views."""
    _, offsets, data = arr.buffers()
    at = np.frombuffer(offsets, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    return at, raw


def _formula_rows(at: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Indices of the non-empty cells whose first byte starts a formula."""
    starts = at[:-1][at[1:] > at[:-1]]
    rows: np.ndarray = np.searchsorted(at, starts[_FORMULA_BYTE[raw[starts]]], side="right") - 1
    return rows


def _plain(arr: Any) -> bool:
    """Whether every cell of ``arr`` is written as it stands (the common case, checked with
    one ``bytes.find`` per byte value and one look at the first bytes)."""
    at, raw = _arrow_offsets(arr)
    whole = raw[at[0] : at[-1]].tobytes()
    return all(whole.find(b) < 0 for b in _NEEDS_WORK) and not len(_formula_rows(at, raw))


def _rows_needing_work(arr: Any) -> np.ndarray:
    """Indices of the cells of ``arr`` that are not written as they stand: a formula start,
    a quote, comma or line break anywhere. Found on the UTF-8 bytes (these are all ASCII)."""
    at, raw = _arrow_offsets(arr)
    text = raw[at[0] : at[-1]]
    found = text == _NEEDS_WORK[0]
    for byte in _NEEDS_WORK[1:]:
        found |= text == byte
    quoted = np.searchsorted(at, np.flatnonzero(found) + at[0], side="right") - 1
    return np.union1d(quoted, _formula_rows(at, raw))


def _fixed(arr: Any, values: np.ndarray) -> Any:
    """``arr`` (the Arrow array of ``values``) with the cells that need work replaced by
    their CSV text, converted in Python once per distinct value."""
    rows = _rows_needing_work(arr)
    if not len(rows):
        return arr
    odd = values[rows]
    field_of = {v: _csv_field(v) for v in set(odd)}
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    fixed = pa.array([field_of[v] for v in odd], type=pa.large_string())
    return pc.replace_with_mask(arr, mask, fixed)


def _arrow_text(column: pd.Series) -> Any:
    """The CSV cells of one text column as an Arrow array, or ``None`` when a value is not
    text (``str()`` of other objects is left to the csv module path).

    The cells are converted in C; only those that need work (a formula start, quoting, a line
    break) go through Python. A column that repeats a few values (every result column: one
    value per distinct declaration) is checked per distinct value; one of mostly distinct
    values (line ids), as a sample of its first values shows, cell by cell. A column of
    Arrow-backed text without missing values (what the screener gives) is read as it is.
    """
    if arrow_backed(column):
        arr = text_array(column)
        if _plain(arr):
            return arr
        values = arr.to_numpy(zero_copy_only=False)
    else:
        values = column.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=False) != "string":
            return None
        arr = pa.array(values, type=pa.large_string())
        if _plain(arr):
            return arr
    sample = values[:_SAMPLE]
    if len(set(sample)) > len(sample) // 2:
        return _fixed(arr, values)
    encoded = arr.dictionary_encode()
    distinct = encoded.dictionary
    return _fixed(distinct, distinct.to_numpy(zero_copy_only=False)).take(encoded.indices)


def _arrow_take(texts: list[str], codes: np.ndarray) -> Any:
    return pa.array(texts, type=pa.large_string()).take(pa.array(codes))


def _arrow_columns(frame: pd.DataFrame) -> list[Any] | None:
    """The CSV report's cells of ``frame`` as Arrow arrays, column by column; ``None`` when a
    column holds values that are not text."""
    n = len(frame)
    cols: list[Any] = []
    for name in CSV_COLUMNS:
        if name not in frame.columns:
            cols.append(_arrow_take([""], np.zeros(n, dtype=np.int64)))
        elif name == "flagged":
            flags = frame["flagged"].to_numpy(dtype=bool).astype(np.int8)
            cols.append(_arrow_take(["false", "true"], flags))
        elif name == "score":
            codes, uniques = pd.factorize(
                frame["score"].to_numpy(dtype=float), use_na_sentinel=False
            )
            cols.append(_arrow_take([f"{v:.3f}" for v in uniques], codes))
        else:
            col = _arrow_text(frame[name])
            if col is None:
                return None
            cols.append(col)
    return cols


def csv_block(frame: pd.DataFrame) -> str | None:
    """The CSV rows of ``frame`` (no header) as one text, joined in C by Arrow; byte for byte
    what ``csv.writer`` writes for :func:`csv_columns`. ``None`` when Arrow is not installed or
    a cell is not text (surrogates, other objects): the caller then writes with the csv module.
    """
    raw = csv_block_utf8(frame)
    return None if raw is None else raw.decode("utf-8")


def csv_block_utf8(frame: pd.DataFrame) -> bytes | None:
    """:func:`csv_block` as the UTF-8 bytes Arrow made (``None`` in the same cases)."""
    if pa is None:
        return None
    if not len(frame):
        return b""
    try:
        cols = _arrow_columns(frame)
        if cols is None:
            return None
        empty, newline, comma = (pa.scalar(c, pa.large_string()) for c in ("", "\n", ","))
        # the line terminator goes on the last cell: far fewer bytes than on the joined rows
        cols[-1] = pc.binary_join_element_wise(cols[-1], empty, newline)
        lines = pc.binary_join_element_wise(*cols, comma)
    except (pa.ArrowException, UnicodeError):
        return None
    at, raw = _arrow_offsets(lines)
    block: bytes = raw[at[0] : at[-1]].tobytes()
    return block


class CsvReport:
    """A CSV report written as chunks arrive (header once), for files of any size.

    The one CSV writer: the CLI's ``-o`` stream and the API's ``report.csv`` both use it, so
    the two are byte-identical. Rows are joined by :func:`csv_block` (the ``csv`` module
    writes them only when it cannot), which is much faster on large reports.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)
        #: The binary file under a UTF-8 text stream that writes "\n" as it is (POSIX): rows
        #: go there as the bytes Arrow made, not decoded to text and encoded again.
        self._raw: IO[bytes] | None = None
        if (
            isinstance(stream, io.TextIOWrapper)
            and codecs.lookup(stream.encoding).name == "utf-8"
            and os.linesep == "\n"
        ):
            self._raw = stream.buffer

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of one output frame, a slice of rows at a time (the text of a
        whole chunk at once would hold a hundred MB)."""
        for start in range(0, len(frame), _WRITE_ROWS):
            part = frame.iloc[start : start + _WRITE_ROWS]
            block = csv_block_utf8(part)
            if block is None:
                self._writer.writerows(_csv_rows(part))
            elif self._raw is not None:
                self._stream.flush()  # what went through the text layer goes first
                self._raw.write(block)
            else:
                self._stream.write(block.decode("utf-8"))


def csv_text(frame: pd.DataFrame) -> str:
    """The whole CSV report of ``frame`` as text."""
    buf = io.StringIO()
    CsvReport(buf).write(frame)
    return buf.getvalue()


def json_lines(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The API's line objects: ``flagged`` boolean, ``lists`` an array, evidence included."""
    out = []
    for r in frame.to_dict("records"):
        out.append(
            {
                "line_id": str(r["line_id"]),
                "flagged": bool(r["flagged"]),
                "risk": r["risk"],
                "matched_key": r["matched_key"],
                "matched_name": r["matched_name"],
                "matched_cas": r["matched_cas"],
                "lists": [c for c in str(r["lists"]).split(";") if c],
                "match_type": r["match_type"],
                "score": float(r["score"]),
                "reason": r["reason"],
                "evidence": json.loads(r.get("evidence") or "[]"),
                "warnings": [w for w in str(r.get("warnings") or "").split("; ") if w],
            }
        )
    return out


def xlsx_columns(
    frame: pd.DataFrame, declarations: Sequence[DeclarationLine] | None = None
) -> list[Sequence[str]]:
    """The XLSX report's cells of ``frame`` column by column (:data:`XLSX_COLUMNS`): the CSV
    report's, with the declared CAS numbers and HS codes of ``declarations`` ('' without)."""
    from precursorwatch.report.xlsx import declared_columns

    by_name = dict(zip(CSV_COLUMNS, csv_columns(frame), strict=True))
    if declarations is not None:
        by_name["cas"], by_name["hs_code"] = declared_columns(declarations)
    else:
        by_name["cas"] = by_name["hs_code"] = [""] * len(frame)
    return [by_name[name] for name in XLSX_COLUMNS]


def write_xlsx(
    frame: pd.DataFrame,
    target: Path | IO[bytes],
    declarations: Sequence[DeclarationLine] | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> None:
    """An XLSX report: a sheet of results in input order (typed cells, rows coloured by
    risk, header frozen and filtered) and a summary sheet headed by ``about``; written in one
    pass (:mod:`precursorwatch.report.xlsx`), linear in lines."""
    from precursorwatch.report.xlsx import XlsxReport

    report = XlsxReport(target, XLSX_COLUMNS, about)
    step = 50_000
    for start in range(0, len(frame), step):
        part = declarations[start : start + step] if declarations is not None else None
        report.write_columns(xlsx_columns(frame.iloc[start : start + step], part))
    report.close()
