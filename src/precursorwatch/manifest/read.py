"""Read a customs manifest (CSV, TSV, XLSX) into a DataFrame of canonical string columns.

Headers are recognised by name (see :data:`HEADER_NAMES`), encoding and delimiter are detected,
and the file is streamed in chunks so memory does not grow with its size. Bad lines never sink
the file: every line gets a row, with per-line ``warnings`` saying what was repaired (ragged
rows, NUL bytes, invisible characters, over-long fields, repeated line ids). A file that cannot
be read at all raises one :class:`~precursorwatch.errors.ManifestError` naming file, line and
field and saying what to do.

CSV goes through a pre-scan of the raw bytes (encoding check, quote-aware field counts with
numpy) and then pandas' C parser; only files with ragged rows take the slower ``csv`` module
path. XLSX is streamed with openpyxl in read-only mode after a zip-bomb check.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

try:  # Arrow's CSV reader, where it reads a file as pandas' C parser does (Layout.strict)
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - pyarrow comes with pandas' Arrow strings
    pa = pa_csv = None

from precursorwatch.errors import ManifestError
from precursorwatch.identify.normalise import CONTROL_CHARS
from precursorwatch.manifest.clean import MAX_FIELD_CHARS, Finisher, empty_frame, text_frame
from precursorwatch.manifest.headers import (
    CANONICAL_COLUMNS,
    FIELDS,
    HEADER_NAMES,
    IDENTIFIER_FIELDS,
    Layout,
    ManifestInfo,
    cell_text,
    check_mapping,
    clean_header,
    header_key,
    header_row,
    parse_mapping,
    recognise,
)

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

MAX_XLSX_UNCOMPRESSED = 500_000_000
MAX_XLSX_RATIO = 200
_SAMPLE_BYTES = 1 << 16
_BLOCK_BYTES = 1 << 22
#: Arrow's CSV blocks: larger ones read no faster and hold more memory (a row longer than
#: this makes Arrow stop, and pandas reads on).
_ARROW_BLOCK_BYTES = 1 << 20
_HEADER_SEARCH_ROWS = 30

# fmt: off
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\x7fELF", b"\x1f\x8b", b"BZh",
                 b"7z\xbc\xaf", b"Rar!")
# fmt: on


# --- text files: encoding, delimiter, header ------------------------------------------------


def _detect_encoding(sample: bytes, whole: bool) -> tuple[str, int]:
    """``(codec for the body, BOM length)`` from the first bytes of a text file."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16-le" if sample.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"), 2
    head = sample[:4096]
    if len(head) >= 8:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.4 * len(head) / 2 and even < 0.05 * len(head) / 2:
            return "utf-16-le", 0
        if even > 0.4 * len(head) / 2 and odd < 0.05 * len(head) / 2:
            return "utf-16-be", 0
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=whole)
            return encoding, 0
        except UnicodeDecodeError:
            continue
    return "latin-1", 0


def _check_text(sample: bytes, where: str) -> None:
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise ManifestError(
            "is an old Excel .xls or a password-protected workbook; save it as "
            ".xlsx (without password) or CSV and upload that",
            path=where,
        )
    head = sample[:8192]
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if sample.startswith(_BINARY_MAGIC) or controls > 0.05 * len(head):
        raise ManifestError(
            "not a text file (it looks like binary data); export the manifest as CSV, TSV or XLSX",
            path=where,
        )


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    best, best_score = ",", (0, 0)
    for delim in (",", ";", "\t", "|"):
        counts = [ln.count(delim) for ln in lines if ln.count(delim)]
        if counts:
            mode = max(set(counts), key=counts.count)
            score = (counts.count(mode), mode)
            if score > best_score:
                best, best_score = delim, score
    return best


def _records_with_ends(text: str, delimiter: str) -> Iterator[tuple[list[str], int]]:
    """csv records of ``text`` with the character offset just after each."""
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    try:
        for record in csv.reader(lines(), delimiter=delimiter):
            yield record, consumed
    except csv.Error:
        return


def _layout_text(path: Path, where: str, mapping: dict[str, str], tab: bool) -> Layout:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        whole = len(sample) < _SAMPLE_BYTES or not fh.read(1)
    encoding, bom = _detect_encoding(sample, whole)
    if not encoding.startswith("utf-16"):
        _check_text(sample, where)
    fallbacks = ("cp1252", "latin-1") if not encoding.startswith("utf-16") else ()
    for attempt in dict.fromkeys((encoding, *fallbacks)):
        layout = _layout_for_encoding(path, where, mapping, tab, sample, whole, attempt, bom)
        if layout is not None:
            return layout
    raise ManifestError(
        f"is not valid {encoding.upper()} text; save it again as UTF-8 CSV", path=where
    )


def _layout_for_encoding(
    path: Path,
    where: str,
    mapping: dict[str, str],
    tab: bool,
    sample: bytes,
    whole: bool,
    encoding: str,
    bom: int,
) -> Layout | None:
    """The layout when the whole file decodes as ``encoding``, else ``None``."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample[bom:], final=whole)
    except UnicodeDecodeError:
        return None
    if not text.strip():
        raise ManifestError(
            "the file is empty; export the manifest again with a header row and one line per item",
            path=where,
        )
    if not whole:  # ignore a record cut by the end of the sample
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    delimiter = "\t" if tab else _sniff_delimiter(text)
    rows = [
        ([clean_header(h) for h in record], end, n + 1)
        for n, (record, end) in enumerate(
            itertools.islice(_records_with_ends(text, delimiter), _HEADER_SEARCH_ROWS)
        )
    ]
    at = header_row([headers for headers, _, _ in rows], mapping)
    if at is None:
        raise ManifestError(
            "no header row found in the first lines; export the manifest with one header row",
            path=where,
        )
    headers, end, line = rows[at]
    indices, columns, ignored, hint = recognise(headers, mapping, where, line)
    offset = bom + len(text[:end].encode(encoding))
    scan = _scan_body(path, offset, encoding, delimiter, len(headers))
    if scan is None:
        return None
    # pandas reads a first data row with one field too many as an index column (with a
    # warning, not an error), so that row is checked here
    first = next(
        (r for r, _ in _records_with_ends(text[end:], delimiter) if "".join(r).strip()), None
    )
    if first is not None and len(first) != len(headers):
        scan = scan._replace(ragged=True)
    shown = "utf-8-sig" if encoding == "utf-8" and bom else encoding
    fmt = "tsv" if delimiter == "\t" else "csv"
    info = ManifestInfo(where, fmt, shown, delimiter, columns, ignored)
    return Layout(
        info, indices, len(headers), hint, offset, encoding, header_line=line, **scan._asdict()
    )


class _Scan(NamedTuple):
    """What the pre-scan of the data lines found (see :class:`Layout`)."""

    ragged: bool
    dirty: bool
    long_lines: bool
    blank_rows: bool
    strict: bool


def _scan_body(path: Path, offset: int, encoding: str, delimiter: str, width: int) -> _Scan | None:
    """Pre-scan the data lines (ragged, dirty, long lines, blank rows, strict quoting); ``None``
    if the text does not decode.

    Field counts are quote-aware: a delimiter or newline counts only where an even number of
    quote characters precede it on its line (RFC 4180 doubled quotes keep the parity). The
    unfinished last line of a block is carried into the next one.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    ragged = dirty = long_lines = blank_rows = False
    strict = width > 1
    carry = b""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while True:
            block = fh.read(_BLOCK_BYTES)
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return None
            if not dirty:
                raw = None
                if encoding == "utf-8":  # the text's own bytes: no need to encode it again
                    raw = held + block
                    raw = raw[: len(raw) - len(decoder.getstate()[0])]
                dirty = _has_controls(text, raw)
            if ragged and long_lines:
                if not block:
                    break
                continue
            buf = carry + (block if encoding == "utf-8" else text.encode())
            if not buf:
                break
            if not block:  # the last line has no newline: count it as if it had one
                buf += b"\n"
                # a quote left open at the end: pandas and csv disagree, the row path decides
                ragged = ragged or bool(buf.count(b'"') % 2)
            lines = _BlockLines(buf, delimiter)
            carry = lines.rest
            long_lines = long_lines or len(carry) > MAX_FIELD_CHARS
            if len(lines.ends):
                long_lines = long_lines or int(lines.lengths.max()) > MAX_FIELD_CHARS
                counts = lines.delimiters()
                odd = np.flatnonzero(counts != width - 1)
                # a line of delimiters only (an empty spreadsheet row) is dropped later
                blank_rows = blank_rows or bool(np.any(lines.lengths <= counts + 1))
                # lines of only whitespace are skipped by both parsers, not ragged
                texts = [lines.text(int(i)) for i in odd[:101]]
                ragged = ragged or len(odd) > 100 or any(t.strip() for t in texts)
                strict = strict and all(t in (b"", b"\r") for t in texts) and lines.strict()
            if len(carry) > 16 * MAX_FIELD_CHARS:  # no line ends in sight: the row path decides
                ragged, carry = True, b""
            if not block:
                break
    return _Scan(ragged, dirty, long_lines, blank_rows, strict)


class _BlockLines:
    """The complete lines of a block of bytes (it starts at a line start), quote-aware.

    Works on the positions of quotes, newlines and delimiters only: whether a position is
    inside quotes is the parity of the number of quotes before it (a binary search), so the
    cost follows the number of those characters rather than of bytes.
    """

    def __init__(self, buf: bytes, delimiter: str) -> None:
        self.buf = buf
        data = np.frombuffer(buf, np.uint8)
        self.quotes = np.flatnonzero(data == 34)
        self.ends = self._outside(np.flatnonzero(data == 10))
        self.starts = np.concatenate(([0], self.ends[:-1] + 1)).astype(np.int64)
        self.lengths = self.ends - self.starts
        self.rest = buf[self.ends[-1] + 1 :] if len(self.ends) else buf
        self._data, self._delimiter = data, ord(delimiter)

    def _outside(self, at: np.ndarray) -> np.ndarray:
        """The positions of ``at`` (none of them a quote) outside quotes."""
        if not len(self.quotes):
            return at
        outside: np.ndarray = at[np.searchsorted(self.quotes, at) % 2 == 0]
        return outside

    def delimiters(self) -> np.ndarray:
        """Delimiters outside quotes on each line: all of them, less those inside the quoted
        stretches (from an odd-numbered quote to the next one) of that line."""
        found = np.flatnonzero(self._data[: self.ends[-1]] == self._delimiter)
        counts: np.ndarray = np.diff(np.searchsorted(found, self.ends), prepend=0)
        opens, closes = self.quotes[0::2], self.quotes[1::2]
        opens = opens[opens < self.ends[-1]]
        if len(opens):
            closes = np.append(closes, self.ends[-1])[: len(opens)]
            inside = np.searchsorted(found, closes) - np.searchsorted(found, opens)
            line = np.searchsorted(self.ends, opens)
            counts = counts - np.bincount(line, weights=inside, minlength=len(counts)).astype(
                counts.dtype
            )
        return counts

    def text(self, i: int) -> bytes:
        return self.buf[self.starts[i] : self.ends[i]]

    def strict(self) -> bool:
        """Whether the complete lines are quoted as RFC 4180 says (every parser reads them
        alike): each quote opens a field, closes one or is doubled inside one, and every CR
        is part of a CRLF."""
        body = self.buf[: self.ends[-1] + 1]
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            return False
        quotes = self.quotes[self.quotes < self.ends[-1]]
        opens, closes = quotes[0::2], quotes[1::2]
        if not len(opens):
            return True
        field_ends = np.array([self._delimiter, 10, 13], dtype=np.uint8)
        before = self._data[np.maximum(opens - 1, 0)]
        after = self._data[closes + 1]
        doubled = np.append(closes[: len(opens) - 1] + 1 == opens[1:], False)
        opening = (opens == 0) | np.isin(before, field_ends[:2]) | np.append(False, doubled[:-1])
        closing = np.isin(after, field_ends) | doubled[: len(closes)]
        return bool(opening.all() and closing.all())


#: The UTF-8 bytes that can begin a character of CONTROL_CHARS: its ASCII controls, and the
#: lead bytes of its other characters (U+0080-U+00BF, U+034F, U+061C, U+1xxx, U+2xxx,
#: U+Fxxx, U+E00xx; tests check the list against the pattern). The others are deleted to see
#: whether any is left.
_ASCII_CONTROLS = bytes(b for b in range(128) if CONTROL_CHARS.match(chr(b)))
_CONTROL_LEADS = b"\xc2\xcd\xd8\xe1\xe2\xef\xf3"
_NOT_CONTROL_START = bytes(b for b in range(256) if b not in _ASCII_CONTROLS + _CONTROL_LEADS)
#: Candidate characters checked one by one before the regex runs on the whole text instead.
_MAX_CANDIDATES = 10_000


def _has_controls(text: str, raw: bytes | None = None) -> bool:
    """``CONTROL_CHARS.search(text) is not None``, several times faster on long text.

    On the UTF-8 bytes (``raw``, when the caller has them) every such character is an ASCII
    control byte or starts with one of a few lead bytes; only the characters starting with
    those go through the regex.
    """
    if raw is None:
        raw = text.encode("utf-8", "surrogatepass")
    starts = raw.translate(None, _NOT_CONTROL_START)
    if not starts:
        return False
    if starts.translate(None, _CONTROL_LEADS):  # an ASCII control character
        return True
    return _lead_is_control(raw, text)


def _lead_is_control(raw: bytes, text: str) -> bool:
    """Whether a character of ``raw`` (``text`` encoded) that begins with a lead byte of
    :data:`_CONTROL_LEADS` is in CONTROL_CHARS; many candidates: the regex on ``text``."""
    seen = 0
    for lead in _CONTROL_LEADS:
        at = raw.find(lead)
        while at >= 0:
            if CONTROL_CHARS.match(raw[at : at + 4].decode("utf-8", "ignore")):
                return True
            seen += 1
            if seen > _MAX_CANDIDATES:
                return CONTROL_CHARS.search(text) is not None
            at = raw.find(lead, at + 1)
    return False


# --- XLSX ---------------------------------------------------------------------------------


def _check_zip(path: Path, where: str) -> None:
    """Refuse what is not a zip, and zip bombs, before openpyxl unpacks anything."""
    invalid = "not a valid .xlsx file ({}); save it again from Excel or export it as CSV"
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ManifestError(invalid.format("it is not a zip archive"), path=where) from None
    unpacked = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if unpacked > MAX_XLSX_UNCOMPRESSED or (
        unpacked > 1_000_000 and unpacked > MAX_XLSX_RATIO * packed
    ):
        raise ManifestError(
            f"refused: it would unpack to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB "
            f"(limits {MAX_XLSX_UNCOMPRESSED // 1_000_000} MB, ratio {MAX_XLSX_RATIO}); "
            "export the manifest as CSV instead",
            path=where,
        )


def _xlsx_rows(path: Path, where: str) -> Iterator[list[str]]:
    """The first sheet's rows as text, streamed (openpyxl read-only; its warnings silenced)."""
    import openpyxl

    _check_zip(path, where)
    invalid = "not a valid .xlsx file ({}); save it again from Excel or export it as CSV"
    # a handle rather than the path, so openpyxl does not insist on an .xlsx file name
    with open(path, "rb") as handle:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
            raise ManifestError(invalid.format(type(exc).__name__), path=where) from None
        try:
            if not book.worksheets:
                raise ManifestError(invalid.format("it has no worksheet"), path=where)
            sheet = book.worksheets[0]
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some writers record a wrong sheet size
            rows = sheet.iter_rows(values_only=True)
            while True:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        batch = list(itertools.islice(rows, 1000))
                except Exception as exc:  # a damaged sheet part
                    raise ManifestError(invalid.format(type(exc).__name__), path=where) from None
                if not batch:
                    return
                for values in batch:
                    yield [cell_text(v) for v in values]
        finally:
            book.close()


def _layout_xlsx(
    path: Path, where: str, mapping: dict[str, str]
) -> tuple[Layout, Iterator[list[str]]]:
    """Find the header row (title rows above it are skipped); return the layout and data rows."""
    rows = _xlsx_rows(path, where)
    head = list(itertools.islice(rows, _HEADER_SEARCH_ROWS))
    cleaned = [[clean_header(v) for v in row] for row in head]
    at = header_row(cleaned, mapping)
    if at is None:
        raise ManifestError(
            "the first sheet is empty; put the manifest on the first sheet with one header row",
            path=where,
        )
    headers = cleaned[at]
    while headers and not headers[-1]:
        headers.pop()
    indices, columns, ignored, hint = recognise(headers, mapping, where, at + 1)
    info = ManifestInfo(where, "xlsx", "", "", columns, ignored)
    layout = Layout(info, indices, len(headers), hint, ragged=False, dirty=True, long_lines=True)
    return layout, itertools.chain(head[at + 1 :], rows)


# --- streaming ------------------------------------------------------------------------------


def _csv_fast(path: Path, layout: Layout, fin: Finisher, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Arrow's CSV reader where it reads the same cells as pandas' C parser (strictly quoted,
    clean UTF-8 lines of ordinary length: see ``Layout.strict``), else pandas' C parser."""
    if (
        pa_csv is not None
        and layout.strict
        and layout.body_encoding == "utf-8"
        and not (layout.dirty or layout.long_lines)
    ):
        return _csv_arrow(path, layout, fin, chunk_rows)
    return _csv_pandas(path, layout, fin, chunk_rows)


def _csv_arrow(
    path: Path, layout: Layout, fin: Finisher, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Arrow's reader: several times faster than pandas', and its strings need no conversion.
    If it stops on something, pandas' parser continues after the rows already given."""
    done = 0
    chunks = _arrow_chunks(path, layout, chunk_rows)
    while True:
        try:
            raw = next(chunks, None)
        except pa.ArrowException:
            yield from _csv_pandas(path, layout, fin, chunk_rows, skip=done)
            return
        if raw is None:
            return
        done += len(raw)
        yield fin.finish(raw, None, clean=False, long=False)


def _arrow_chunks(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The data lines as raw text frames of ``chunk_rows`` rows (columns ``0..width-1``, the
    same "str" dtype as pandas' ``dtype=str``), read by Arrow block by block."""
    names = [str(i) for i in range(layout.width)]
    with open(path, "rb") as fh:
        fh.seek(layout.offset)
        reader = pa_csv.open_csv(
            fh,
            read_options=pa_csv.ReadOptions(
                column_names=names, use_threads=False, block_size=_ARROW_BLOCK_BYTES
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=layout.info.delimiter, newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending: list[Any] = []
        size = 0
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            while size >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield _text_frame(table.slice(0, chunk_rows))
                rest = table.slice(chunk_rows)
                pending, size = rest.to_batches(), rest.num_rows
        if size:
            yield _text_frame(pa.Table.from_batches(pending))


def _text_frame(table: Any) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas()
    frame.columns = pd.RangeIndex(len(frame.columns))
    return frame


def _csv_pandas(
    path: Path, layout: Layout, fin: Finisher, chunk_rows: int, skip: int = 0
) -> Iterator[pd.DataFrame]:
    """pandas' C parser (``skip``: data rows already given); if it meets a row the pre-scan
    missed, the row path takes over."""
    done, given = 0, skip
    try:
        with open(path, "rb") as fh:
            fh.seek(layout.offset)
            with pd.read_csv(
                fh,
                sep=layout.info.delimiter,
                header=None,
                names=range(layout.width),
                index_col=False,
                dtype=str,
                na_filter=False,
                encoding=layout.body_encoding,
                chunksize=chunk_rows,
                engine="c",
                skip_blank_lines=True,
            ) as reader:
                for raw in reader:
                    done += len(raw)
                    if skip >= len(raw):
                        skip -= len(raw)
                        continue
                    raw, skip = raw.iloc[skip:], 0
                    yield fin.finish(raw, None, clean=layout.dirty, long=layout.long_lines)
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError:
        yield from _csv_rows(path, layout, fin, chunk_rows, skip=max(done, given))


def _csv_rows(
    path: Path, layout: Layout, fin: Finisher, chunk_rows: int, skip: int = 0
) -> Iterator[pd.DataFrame]:
    """The row path (``csv`` module) for files with ragged rows: every line is kept."""
    # the csv module refuses fields over 128 KiB: lift that so a field of several MB is read
    # and then cut to MAX_FIELD_CHARS with a warning (the limit is process-wide; only raised)
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    width, batch, counts, notes = layout.width, [], [], []
    pad, flags = [""] * width, {"clean": layout.dirty, "long": layout.long_lines}
    with open(path, "rb") as fh:
        fh.seek(layout.offset)
        text = io.TextIOWrapper(fh, encoding=layout.body_encoding, newline="")
        reader = csv.reader(text, delimiter=layout.info.delimiter)
        try:
            first = 1
            for record in reader:
                start, first = first, reader.line_num + 1
                n = len(record)
                if n != width or width == 1:
                    if n <= 1 and not "".join(record).strip():
                        continue  # a blank line, as pandas skips it
                    record = (record + pad)[:width]
                if skip:
                    skip -= 1
                    continue
                counts.append(n)
                batch.append(record)
                # in a ragged file a record over several lines is most likely a stray quote
                last = reader.line_num
                notes.append(
                    f"a quoted field runs from file line {layout.header_line + start} to "
                    f"{layout.header_line + last}; check the quotes"
                    if last > start and any("\n" in f or "\r" in f for f in record)
                    else ""
                )
                if len(batch) >= chunk_rows:
                    yield fin.finish(
                        text_frame(batch, width),
                        np.array(counts),
                        **flags,
                        notes=np.array(notes, dtype=object),
                    )
                    batch, counts, notes = [], [], []
        except csv.Error as exc:
            raise ManifestError(
                f"cannot be split into fields ({exc}); check the quotes on that line",
                path=layout.info.path,
                line=layout.header_line + reader.line_num,
            ) from None
    if batch:
        yield fin.finish(
            text_frame(batch, width),
            np.array(counts),
            **flags,
            notes=np.array(notes, dtype=object),
        )


def _xlsx_chunks(
    rows: Iterable[list[str]], layout: Layout, fin: Finisher, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    width, batch = layout.width, []
    for values in rows:
        batch.append((values + [""] * width)[:width])
        if len(batch) >= chunk_rows:
            yield fin.finish(text_frame(batch, width), None, clean=True, long=True)
            batch = []
    if batch:
        yield fin.finish(text_frame(batch, width), None, clean=True, long=True)


def _open(
    path: Path, where: str, mapping: Mapping[str, str] | None
) -> tuple[Layout, Iterator[list[str]] | None]:
    checked = check_mapping(mapping)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ManifestError(
            f"cannot be opened ({exc.strerror}); check the path", path=where
        ) from None
    suffix = Path(where).suffix.lower()
    if suffix in (".xlsx", ".xlsm") or magic == b"PK\x03\x04":
        return _layout_xlsx(path, where, checked)
    return _layout_text(path, where, checked, tab=suffix in (".tsv", ".tab")), None


def sniff_manifest(path: Path, *, mapping: Mapping[str, str] | None = None) -> ManifestInfo:
    """Detect format, encoding, delimiter and columns without reading the lines into memory.

    Raises ManifestError when the file cannot be read or has no identifier column.
    """
    layout, rows = _open(Path(path), str(path), mapping)
    if rows is not None and hasattr(rows, "close"):
        rows.close()
    return layout.info


def _stream(
    path: Path, where: str, mapping: Mapping[str, str] | None, chunk_rows: int
) -> tuple[ManifestInfo, Iterator[pd.DataFrame]]:
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    layout, rows = _open(path, where, mapping)
    if layout.ragged:  # the pre-scan may have stopped early: check every row for emptiness
        layout = dataclasses.replace(layout, blank_rows=True)
    fin = Finisher(layout)
    if rows is not None:
        chunks = _xlsx_chunks(rows, layout, fin, chunk_rows)
    elif layout.ragged:
        chunks = _csv_rows(path, layout, fin, chunk_rows)
    else:
        chunks = _csv_fast(path, layout, fin, chunk_rows)

    def nonempty() -> Iterator[pd.DataFrame]:
        produced = False
        for chunk in chunks:
            if len(chunk):
                produced = True
                yield chunk
        if not produced:
            yield empty_frame()

    return layout.info, nonempty()


def open_manifest(
    path: Path, *, mapping: Mapping[str, str] | None = None, chunk_rows: int = 200_000
) -> tuple[ManifestInfo, Iterator[pd.DataFrame]]:
    """What :func:`sniff_manifest` detects and the chunks of :func:`iter_manifest`, from one
    detection pass (the pre-scan of a large CSV is not repeated)."""
    return _stream(Path(path), str(path), mapping, chunk_rows)


def iter_manifest(
    path: Path, *, mapping: Mapping[str, str] | None = None, chunk_rows: int = 200_000
) -> Iterator[pd.DataFrame]:
    """Stream a manifest as canonical frames of at most ``chunk_rows`` rows, in input order.

    ``row`` is the 1-based number of the data line (blank lines are skipped and not counted),
    continuing across chunks; every other column is text ('' when absent; ``quantity`` is the
    raw text), ``warnings`` the '; '-joined repairs made to that line. At least one (possibly
    empty) frame is yielded. Detection runs before this returns, so a ManifestError (unreadable
    file, no identifier column, a mapped header that is missing) is raised by the call itself.
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
    named in errors and in the returned ManifestInfo."""
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
    # every record gets a row, even an empty one: the API answers line for line
    layout = Layout(info, {f: i for i, f in enumerate(FIELDS)}, len(FIELDS), blank_rows=False)
    frame = Finisher(layout).finish(text_frame(rows, len(FIELDS)), None, clean=True, long=True)
    return frame if len(frame) else empty_frame()
