"""The header row of a manifest and what its columns were recognised as, without reading its
lines: for a caller that asks which column holds what before screening (the upload page).

The header row is found as the reader finds it (:func:`~precursorwatch.manifest.headers.
header_row` over the first rows, the same encoding and delimiter detection); only the first
64 KiB of a text file, or the first rows of a sheet, are read.
"""

from __future__ import annotations

import codecs
import itertools
from dataclasses import dataclass
from pathlib import Path

from precursorwatch.errors import ColumnsNotRecognised, ManifestError
from precursorwatch.manifest.headers import (
    HEADER_SEARCH_ROWS,
    clean_header,
    header_row,
    recognise,
)
from precursorwatch.manifest.layout import (
    _SAMPLE_BYTES,
    _check_text,
    _detect_encoding,
    _records_with_ends,
    _sniff_delimiter,
    is_xlsx,
)
from precursorwatch.manifest.xlsx import _sheet_rows


@dataclass(frozen=True)
class ColumnGuess:
    """A manifest's header row and what it was recognised as.

    ``columns``: field -> header, as the reader would map them; ``identified``: whether a
    column for the description, CAS, SMILES or InChI was among them (without one the reader
    refuses the file until a mapping names one).
    """

    headers: tuple[str, ...]
    columns: dict[str, str]
    identified: bool


def guess_columns(headers: tuple[str, ...]) -> ColumnGuess:
    """What the reader recognises in ``headers`` with no mapping."""
    try:
        _, columns, _, _ = recognise(headers, {}, "", 1)
    except ColumnsNotRecognised as exc:
        return ColumnGuess(headers, dict(exc.columns), False)
    return ColumnGuess(headers, columns, True)


def peek_columns(path: Path, where: str = "") -> ColumnGuess:
    """The header row of the manifest at ``path`` (``where`` names it in errors) and what it
    was recognised as. Raises ManifestError when the file cannot be read or has no header
    row (the messages the reader gives)."""
    where = where or str(path)
    headers = _sheet_header(path, where) if is_xlsx(path, where) else _text_header(path, where)
    if not any(headers):
        raise ManifestError(
            "no header row found in the first lines; export the manifest with one header row",
            path=where,
        )
    return guess_columns(headers)


def _sheet_header(path: Path, where: str) -> tuple[str, ...]:
    rows = _sheet_rows(path, where)
    try:
        head = [
            [clean_header(v) for v in row] for row in itertools.islice(rows, HEADER_SEARCH_ROWS)
        ]
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    at = _header_at(head)
    headers = list(head[at]) if at is not None else []
    while headers and not headers[-1]:
        headers.pop()
    return tuple(headers)


def _text_header(path: Path, where: str) -> tuple[str, ...]:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        whole = len(sample) < _SAMPLE_BYTES or not fh.read(1)
    encoding, bom = _detect_encoding(sample, whole)
    if not encoding.startswith("utf-16"):
        _check_text(sample, where)
    text = _decoded(sample[bom:], whole, encoding)
    if not text.strip():
        raise ManifestError(
            "the file is empty; export the manifest again with a header row and one line per item",
            path=where,
        )
    if not whole:  # a record cut by the end of the sample is left out
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    tab = Path(where).suffix.lower() in (".tsv", ".tab")
    delimiter = "\t" if tab else _sniff_delimiter(text)
    rows = [
        [clean_header(h) for h in record]
        for record, _ in itertools.islice(_records_with_ends(text, delimiter), HEADER_SEARCH_ROWS)
    ]
    at = _header_at(rows)
    return tuple(rows[at]) if at is not None else ()


def _header_at(rows: list[list[str]]) -> int | None:
    """The reader's header row when it names a field; else (nothing recognised: a title row
    may come first) the first of the widest rows, the likeliest header to offer a choice
    for. The reader finds that same row again once a mapping names its headers."""
    at = header_row(rows, {})
    if at is None or guess_columns(tuple(rows[at])).columns:
        return at
    widest = max(sum(1 for cell in row if cell) for row in rows)
    return next(i for i, row in enumerate(rows) if sum(1 for cell in row if cell) == widest)


def _decoded(sample: bytes, whole: bool, encoding: str) -> str:
    """``sample`` decoded as the reader decodes it: ``encoding``, else cp1252, else latin-1
    (which decodes anything), so the headers are spelt as the reader will see them."""
    fallbacks = ("cp1252", "latin-1") if not encoding.startswith("utf-16") else ()
    for attempt in dict.fromkeys((encoding, *fallbacks)):
        try:
            return str(codecs.getincrementaldecoder(attempt)().decode(sample, final=whole))
        except UnicodeDecodeError:
            continue
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return str(decoder.decode(sample, final=whole))
