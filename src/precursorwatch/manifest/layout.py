"""Detect how a manifest file is laid out, before any data line is read.

:func:`detect_layout` tells XLSX from text by name and magic bytes. For a text file it refuses
binary data, finds the encoding (BOM, UTF-16 without BOM, else UTF-8, cp1252, latin-1), the
delimiter (tab for .tsv/.tab, else the most regular of ``, ; TAB |``), the header row among the
first rows and which column is which field, then pre-scans the data lines
(:mod:`~precursorwatch.manifest.scan`). A codec that fails on a later line is replaced by the
next one. The result is one :class:`~precursorwatch.manifest.model.Layout`; a file that cannot
be read raises one ManifestError naming the file (and the line, where there is one).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

from precursorwatch.errors import ManifestError
from precursorwatch.manifest.headers import (
    HEADER_SEARCH_ROWS,
    check_mapping,
    clean_header,
    header_row,
    recognise,
)
from precursorwatch.manifest.model import Layout, ManifestInfo
from precursorwatch.manifest.scan import scan_body
from precursorwatch.manifest.xlsx import sheet_layout

#: Bytes read to detect the encoding, the delimiter and the header row.
_SAMPLE_BYTES = 1 << 16

# fmt: off
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\x7fELF", b"\x1f\x8b", b"BZh",
                 b"7z\xbc\xaf", b"Rar!")
# fmt: on


def detect_layout(
    path: Path, where: str, mapping: Mapping[str, str] | None
) -> tuple[Layout, Iterator[list[str]] | None]:
    """The layout of the manifest at ``path`` (``where`` names it in errors and in the info).

    For XLSX, also the sheet's rows below the header, not yet read (a sheet is streamed
    once); ``None`` for text files, whose data lines are read again from ``Layout.offset``.
    Raises ManifestError when the file cannot be opened or read, has no header row or no
    identifier column, or ``mapping`` names an unknown field or a missing header.
    """
    checked = check_mapping(mapping)
    if is_xlsx(path, where):
        return sheet_layout(path, where, checked)
    tab = Path(where).suffix.lower() in (".tsv", ".tab")
    return _text_layout(path, where, checked, tab=tab), None


def _detect_encoding(sample: bytes, whole: bool) -> tuple[str, int]:
    """``(codec for the body, BOM length)`` from the first bytes of a text file; latin-1,
    which decodes anything, when nothing else fits."""
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
    """Raise ManifestError when the first bytes are an old Excel file or binary data."""
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
    """The delimiter that splits the most lines of ``text`` into the same number of fields
    (then the one giving more fields); ',' when none splits any line."""
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
    """csv records of ``text`` with the character offset just after each; they stop at the
    first record the csv module cannot split."""
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


def _text_layout(path: Path, where: str, mapping: dict[str, str], tab: bool) -> Layout:
    """The layout of a CSV/TSV file: the detected codec, else cp1252, else latin-1, whichever
    first decodes every line. Raises ManifestError as :func:`detect_layout` says."""
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
    """The layout when the whole file decodes as ``encoding``, else ``None``.

    Raises ManifestError when the file is empty, has no header row or no identifier column.
    """
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
            itertools.islice(_records_with_ends(text, delimiter), HEADER_SEARCH_ROWS)
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
    scan = scan_body(path, offset, encoding, delimiter, len(headers))
    if scan is None:
        return None
    # a first data row with one field too many is read by some parsers as an index column,
    # so that row is checked here
    first = next(
        (r for r, _ in _records_with_ends(text[end:], delimiter) if "".join(r).strip()), None
    )
    if first is not None and len(first) != len(headers):
        scan = scan._replace(ragged=True)
    if scan.ragged:  # the pre-scan may have stopped early: check every row for emptiness
        scan = scan._replace(blank_rows=True)
    shown = "utf-8-sig" if encoding == "utf-8" and bom else encoding
    fmt = "tsv" if delimiter == "\t" else "csv"
    info = ManifestInfo(where, fmt, shown, delimiter, columns, ignored)
    return Layout(
        info,
        indices,
        len(headers),
        hint,
        offset=offset,
        body_encoding=encoding,
        header_line=line,
        **scan._asdict(),
    )


def is_xlsx(path: Path, where: str) -> bool:
    """Whether the manifest at ``path`` is a workbook (by its name ``where`` or its zip
    magic bytes). Raises ManifestError when it cannot be opened."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ManifestError(
            f"cannot be opened ({exc.strerror}); check the path", path=where
        ) from None
    return Path(where).suffix.lower() in (".xlsx", ".xlsm") or magic == b"PK\x03\x04"
