"""XLSX manifests: the first sheet, streamed once, after a zip-bomb check.

:func:`sheet_layout` refuses what is not a zip or would unpack too far, finds the header row
among the sheet's first rows and gives the layout with the rows after the header still to be
read; :func:`xlsx_chunks` turns those rows into raw chunks. Cells become text as
:func:`~precursorwatch.manifest.headers.cell_text` writes them ("200.0" -> "200", dates as ISO).
openpyxl's read-only mode keeps memory flat; its warnings (styles, data validation) are
silenced, and anything it raises on a damaged workbook becomes one ManifestError.
"""

from __future__ import annotations

import itertools
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from precursorwatch.errors import ManifestError
from precursorwatch.manifest.headers import (
    HEADER_SEARCH_ROWS,
    cell_text,
    clean_header,
    header_row,
    recognise,
)
from precursorwatch.manifest.model import Layout, ManifestInfo, RawChunk, text_frame

#: Largest total unpacked size of a workbook's parts, in bytes.
MAX_XLSX_UNCOMPRESSED = 500_000_000
#: Largest ratio of unpacked to packed size (above 1 MB unpacked): more is a zip bomb.
MAX_XLSX_RATIO = 200

_INVALID = "not a valid .xlsx file ({}); save it again from Excel or export it as CSV"


def _check_zip(path: Path, where: str) -> None:
    """Refuse what is not a zip, and zip bombs, before openpyxl unpacks anything.

    Raises ManifestError naming ``where``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ManifestError(_INVALID.format("it is not a zip archive"), path=where) from None
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


def _sheet_rows(path: Path, where: str) -> Iterator[list[str]]:
    """The first sheet's rows as text, streamed.

    Raises ManifestError (naming ``where``) on a zip bomb, a workbook openpyxl cannot open, no
    worksheet, or a damaged sheet part met while streaming.
    """
    import openpyxl

    _check_zip(path, where)
    # a handle rather than the path, so openpyxl does not insist on an .xlsx file name
    with open(path, "rb") as handle:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
            raise ManifestError(_INVALID.format(type(exc).__name__), path=where) from None
        try:
            if not book.worksheets:
                raise ManifestError(_INVALID.format("it has no worksheet"), path=where)
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
                    raise ManifestError(_INVALID.format(type(exc).__name__), path=where) from None
                if not batch:
                    return
                for values in batch:
                    yield [cell_text(v) for v in values]
        finally:
            book.close()


def sheet_layout(
    path: Path, where: str, mapping: dict[str, str]
) -> tuple[Layout, Iterator[list[str]]]:
    """The layout of the first sheet, and its data rows (the rows below the header, unread).

    Title rows above the header are skipped. Raises ManifestError (naming ``where``) when the
    file is refused or unreadable, the sheet is empty, or no identifier column is recognised.
    """
    rows = _sheet_rows(path, where)
    head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
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
    # cells are not pre-scanned: every one is checked for control characters and length
    layout = Layout(info, indices, len(headers), hint, ragged=False, dirty=True, long_lines=True)
    return layout, itertools.chain(head[at + 1 :], rows)


def xlsx_chunks(rows: Iterable[list[str]], width: int, chunk_rows: int) -> Iterator[RawChunk]:
    """Raw chunks of ``chunk_rows`` sheet rows, each padded or cut to ``width`` cells.

    Raises ManifestError while iterating when the sheet turns out damaged.
    """
    batch: list[list[str]] = []
    for values in rows:
        batch.append((values + [""] * width)[:width])
        if len(batch) >= chunk_rows:
            yield RawChunk(text_frame(batch, width))
            batch = []
    if batch:
        yield RawChunk(text_frame(batch, width))
