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
import datetime as dt
import io
import itertools
import re
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from precursorwatch.errors import ManifestError

# fmt: off
CANONICAL_COLUMNS = ("row", "line_id", "description", "cas", "hs_code", "quantity", "unit",
                     "smiles", "origin", "destination", "consignor", "consignee", "warnings")
# fmt: on
#: Fields a header can be mapped to (``--map field=Header``).
FIELDS: tuple[str, ...] = CANONICAL_COLUMNS[1:-1]
#: Fields of which at least one must be present for a line to be screenable.
IDENTIFIER_FIELDS = ("description", "cas", "smiles")
MAX_FIELD_CHARS = 100_000
MAX_XLSX_UNCOMPRESSED = 500_000_000
MAX_XLSX_RATIO = 200
_SAMPLE_BYTES = 1 << 16
_BLOCK_BYTES = 1 << 22
_HEADER_SEARCH_ROWS = 30

#: Header spellings per field, best first; compared after :func:`header_key` folding.
# fmt: off
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "line_id": ("line_id", "line", "line no", "line number", "line nr", "item no", "item nr",
                "item number", "#", "no", "nr", "pos", "position", "id", "lfd nr", "n°"),
    "description": ("description", "goods description", "description of goods", "item description",
                    "product description", "chemical name", "product name", "substance name",
                    "product", "commodity", "commodity description", "goods", "name", "chemical",
                    "substance", "material", "material description", "article", "designation",
                    "warenbezeichnung", "bezeichnung", "beschreibung", "produkt", "désignation",
                    "description des marchandises", "descripción", "producto", "mercancía",
                    "omschrijving", "descrizione", "prodotto"),
    "cas": ("cas", "cas no", "cas no.", "cas number", "cas rn", "cas nr", "cas-nr", "cas-nummer",
            "cas registry number", "cas #", "casrn", "cas n°", "cas no#", "cas id", "numéro cas",
            "número cas"),
    "hs_code": ("hs code", "hs", "hs no", "hs number", "hs-code", "tariff code", "cn code",
                "commodity code", "customs code", "tariff number", "tariff", "taric", "taric code",
                "hts", "hts code", "harmonized code", "harmonised code", "cn", "zolltarifnummer",
                "warennummer", "code sh", "código arancelario"),
    "quantity": ("quantity", "qty", "net weight", "net mass", "net quantity", "net qty", "net wt",
                 "amount", "weight", "mass", "volume", "gross weight", "menge", "nettogewicht",
                 "nettomasse", "gewicht", "quantité", "poids net", "cantidad", "peso neto",
                 "hoeveelheid", "quantità"),
    "unit": ("unit", "uom", "unit of measure", "unit of measurement", "units", "measure unit",
             "qty unit", "quantity unit", "weight unit", "einheit", "mengeneinheit", "unité",
             "unidad", "eenheid", "unità"),
    "smiles": ("smiles", "canonical smiles", "isomeric smiles", "structure"),
    "origin": ("country of origin", "origin", "origin country", "coo", "country of export",
               "export country", "country of dispatch", "dispatch country", "from country",
               "ursprungsland", "ursprung", "pays d'origine", "país de origen"),
    "destination": ("destination", "country of destination", "destination country",
                    "country of import", "import country", "to country", "bestimmungsland",
                    "pays de destination", "país de destino"),
    "consignor": ("consignor", "shipper", "exporter", "sender", "supplier", "seller",
                  "consignor name", "shipper name", "exporter name", "versender", "ausführer",
                  "expéditeur", "exportateur", "remitente", "exportador"),
    "consignee": ("consignee", "importer", "buyer", "receiver", "recipient", "customer",
                  "consignee name", "importer name", "buyer name", "empfänger", "einführer",
                  "destinataire", "importateur", "consignatario", "importador"),
}
# fmt: on

# Invisible and control characters removed from text: C0/C1 controls except tab and line
# breaks, soft hyphen, zero-width and bidirectional controls, BOMs inside text, tag characters.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_UNIT_HINT = re.compile(r"^(.*?)\s*(?:[(\[]\s*(?:in\s+)?([^)\]]+?)\s*[)\]]|\s+in\s+(\S+))\s*$")
# fmt: off
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\x7fELF", b"\x1f\x8b", b"BZh",
                 b"7z\xbc\xaf", b"Rar!")
# fmt: on


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
class _Layout:
    """Everything needed to stream the data lines of one manifest."""

    info: ManifestInfo
    indices: dict[str, int]
    width: int
    unit_hint: str = ""
    offset: int = 0
    body_encoding: str = ""
    ragged: bool = False
    dirty: bool = False
    long_lines: bool = False
    blank_rows: bool = True
    header_line: int = 0


def header_key(header: str) -> str:
    """Fold a header for comparison: accents, case, spacing and punctuation are ignored."""
    text = unicodedata.normalize("NFKD", _CONTROL.sub("", str(header)))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\W_]+", "", text) or text.strip()


_KEY_TO_FIELD: dict[str, tuple[str, int]] = {}
for _field, _names in HEADER_NAMES.items():
    for _rank, _name in enumerate(_names):
        _KEY_TO_FIELD.setdefault(header_key(_name), (_field, _rank))


def _recognise_one(header: str) -> tuple[str, int, str] | None:
    """``(field, rank, unit hint)`` for a header, also read without a trailing "(kg)"."""
    if len(header) > 200:  # no header is that long; keeps the regex below linear
        return None
    hit = _KEY_TO_FIELD.get(header_key(header))
    if hit is not None:
        return hit[0], hit[1], ""
    m = _UNIT_HINT.match(header)
    if m is not None and (hit := _KEY_TO_FIELD.get(header_key(m.group(1)))) is not None:
        return hit[0], hit[1] + 1000, (m.group(2) or m.group(3) or "").strip()
    return None


def _normalise_field(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().casefold())


def _check_mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, header in (mapping or {}).items():
        key = _normalise_field(field)
        if key not in FIELDS:
            raise ManifestError(
                f"--map names unknown field {field!r}; the fields are: {', '.join(FIELDS)}"
            )
        if not str(header).strip():
            raise ManifestError(f"--map {key}= needs a header name after '='")
        out[key] = str(header).strip()
    return out


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``["description=Goods"]`` into ``{"description": "Goods"}``.

    Raises ManifestError on a pair without '=' or an unknown field name.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip():
            raise ManifestError(f"--map expects field=Header, got {pair!r}")
        out.update(_check_mapping({field: header}))
    return out


def _clean_header(value: object) -> str:
    return " ".join(_CONTROL.sub("", _cell_text(value)).split())


def _find_mapped(header: str, headers: Sequence[str]) -> int | None:
    for i, h in enumerate(headers):
        if h == header:
            return i
    key = header_key(header)
    return next((i for i, h in enumerate(headers) if h and header_key(h) == key), None)


def _header_row(rows: Sequence[Sequence[str]], mapping: Mapping[str, str]) -> int | None:
    """Index of the header among the first rows: the first naming a mapped header or an
    identifier field, else the first naming any field, else the first non-empty row."""

    def fields(row: Sequence[str]) -> set[str]:
        found = {f for f, h in mapping.items() if _find_mapped(h, row) is not None}
        return found | {hit[0] for h in row if h and (hit := _recognise_one(h))}

    named = [fields(row) for row in rows]
    wanted = {*mapping, *IDENTIFIER_FIELDS}
    for at in (
        next((i for i, got in enumerate(named) if got & wanted), None),
        next((i for i, got in enumerate(named) if got), None),
    ):
        if at is not None:
            return at
    return next((i for i, row in enumerate(rows) if any(row)), None)


def _recognise(
    headers: Sequence[str], mapping: Mapping[str, str], where: str, line: int
) -> tuple[dict[str, int], dict[str, str], tuple[str, ...], str]:
    """Map fields to column indices: ``(indices, field -> header, ignored headers, unit hint)``."""
    shown = ", ".join(repr(h) for h in headers if h) or "(none)"
    indices: dict[str, int] = {}
    for field, header in mapping.items():
        idx = _find_mapped(header, headers)
        if idx is None:
            raise ManifestError(
                f"--map {field}={header!r}: there is no such column; the headers are: {shown}",
                path=where,
                line=line,
                field=field,
            )
        indices[field] = idx
    candidates = sorted(
        (hit[1], i, hit[0], hit[2])
        for i, h in enumerate(headers)
        if h and i not in indices.values() and (hit := _recognise_one(h)) is not None
    )
    unit_hint = ""
    for _rank, i, field, hint in candidates:
        if field not in indices and i not in indices.values():
            indices[field] = i
            unit_hint = hint if field == "quantity" else unit_hint
    if not any(f in indices for f in IDENTIFIER_FIELDS):
        raise ManifestError(
            "no column for the goods description, CAS number or SMILES was recognised; the "
            f"headers found are: {shown}. Name the column with --map description=<header> "
            "(or cas=<header>)",
            path=where,
            line=line,
        )
    columns = {f: headers[i] for f, i in sorted(indices.items(), key=lambda kv: kv[1])}
    used = set(indices.values())
    ignored = tuple(h for i, h in enumerate(headers) if h and i not in used)
    return indices, columns, ignored, unit_hint


def _cell_text(value: object) -> str:
    """An XLSX cell (or a JSON value) as text: integral floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


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


def _layout_text(path: Path, where: str, mapping: dict[str, str], tab: bool) -> _Layout:
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
) -> _Layout | None:
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
        ([_clean_header(h) for h in record], end, n + 1)
        for n, (record, end) in enumerate(
            itertools.islice(_records_with_ends(text, delimiter), _HEADER_SEARCH_ROWS)
        )
    ]
    at = _header_row([headers for headers, _, _ in rows], mapping)
    if at is None:
        raise ManifestError(
            "no header row found in the first lines; export the manifest with one header row",
            path=where,
        )
    headers, end, line = rows[at]
    indices, columns, ignored, hint = _recognise(headers, mapping, where, line)
    offset = bom + len(text[:end].encode(encoding))
    scan = _scan_body(path, offset, encoding, delimiter, len(headers))
    if scan is None:
        return None
    # pandas reads a first data row with one field too many as an index column (with a
    # warning, not an error), so that row is checked here
    first = next(
        (r for r, _ in _records_with_ends(text[end:], delimiter) if "".join(r).strip()), None
    )
    scan = (scan[0] or (first is not None and len(first) != len(headers)), *scan[1:])
    shown = "utf-8-sig" if encoding == "utf-8" and bom else encoding
    fmt = "tsv" if delimiter == "\t" else "csv"
    info = ManifestInfo(where, fmt, shown, delimiter, columns, ignored)
    return _Layout(info, indices, len(headers), hint, offset, encoding, *scan, line)


def _scan_body(
    path: Path, offset: int, encoding: str, delimiter: str, width: int
) -> tuple[bool, bool, bool, bool] | None:
    """Pre-scan the data lines: ``(ragged, dirty, long lines, blank rows)``; ``None`` if the
    text does not decode.

    Field counts are quote-aware: a delimiter or newline counts only where an even number of
    quote characters precede it on its line (RFC 4180 doubled quotes keep the parity). The
    unfinished last line of a block is carried into the next one.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    ragged = dirty = long_lines = blank_rows = False
    carry = b""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while True:
            block = fh.read(_BLOCK_BYTES)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return None
            dirty = dirty or _CONTROL.search(text) is not None
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
            data = np.frombuffer(buf, np.uint8)
            outside = np.bitwise_xor.accumulate((data == 34).view(np.uint8)) == 0
            newlines = np.flatnonzero((data == 10) & outside)
            carry = buf[newlines[-1] + 1 :] if len(newlines) else buf
            long_lines = long_lines or len(carry) > MAX_FIELD_CHARS
            if len(newlines):
                starts = np.concatenate(([0], newlines[:-1] + 1))
                long_lines = long_lines or int((newlines - starts).max()) > MAX_FIELD_CHARS
                ends = np.cumsum((data == ord(delimiter)) & outside, dtype=np.int32)[newlines]
                counts = np.diff(ends, prepend=0)
                odd = np.flatnonzero(counts != width - 1)
                # a line of delimiters only (an empty spreadsheet row) is dropped later
                blank_rows = blank_rows or bool(np.any(newlines - starts <= counts + 1))
                # lines of only whitespace are skipped by both parsers, not ragged
                ragged = (
                    ragged
                    or len(odd) > 100
                    or any(buf[starts[i] : newlines[i]].strip() for i in odd)
                )
            if len(carry) > 16 * MAX_FIELD_CHARS:  # no line ends in sight: the row path decides
                ragged, carry = True, b""
            if not block:
                break
    return ragged, dirty, long_lines, blank_rows


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
                    yield [_cell_text(v) for v in values]
        finally:
            book.close()


def _layout_xlsx(
    path: Path, where: str, mapping: dict[str, str]
) -> tuple[_Layout, Iterator[list[str]]]:
    """Find the header row (title rows above it are skipped); return the layout and data rows."""
    rows = _xlsx_rows(path, where)
    head = list(itertools.islice(rows, _HEADER_SEARCH_ROWS))
    cleaned = [[_clean_header(v) for v in row] for row in head]
    at = _header_row(cleaned, mapping)
    if at is None:
        raise ManifestError(
            "the first sheet is empty; put the manifest on the first sheet with one header row",
            path=where,
        )
    headers = cleaned[at]
    while headers and not headers[-1]:
        headers.pop()
    indices, columns, ignored, hint = _recognise(headers, mapping, where, at + 1)
    info = ManifestInfo(where, "xlsx", "", "", columns, ignored)
    layout = _Layout(info, indices, len(headers), hint, ragged=False, dirty=True, long_lines=True)
    return layout, itertools.chain(head[at + 1 :], rows)


# --- canonical frames -----------------------------------------------------------------------


def _add_warning(warns: np.ndarray, where: np.ndarray, message: str | np.ndarray) -> None:
    """Append ``message`` to the warnings of the rows ``where`` (bool mask or indices)."""
    current = warns[where]
    warns[where] = np.where(current == "", message, current + "; " + message)


def _text_frame(rows: list[list[str]], width: int) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=range(width), dtype=str)


class _Finisher:
    """Turns raw chunks (text columns ``0..width-1``) into canonical frames, numbering rows."""

    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.next_row = 1
        self.seen_ids = np.empty(0, dtype=np.uint64)

    def finish(
        self,
        raw: pd.DataFrame,
        field_counts: np.ndarray | None,
        *,
        clean: bool,
        long: bool,
        notes: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Drop all-empty rows, then repair and warn per line; only vectorised work.

        ``notes`` (one text per row of ``raw``, '' for none) are warnings found while reading.
        """
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
        """Warn on line ids seen before; remembers 8 bytes (a hash) per distinct id."""
        present = (ids != "").to_numpy(dtype=bool)
        if not present.any():
            return
        hashes = pd.util.hash_pandas_object(ids[present], index=False).to_numpy(np.uint64)
        repeated = pd.Series(hashes).duplicated().to_numpy()
        if len(self.seen_ids):
            order = np.argsort(hashes)  # sorted needles search ~4x faster
            at = np.searchsorted(self.seen_ids, hashes[order])
            found = np.empty(len(hashes), dtype=bool)
            found[order] = self.seen_ids[np.minimum(at, len(self.seen_ids) - 1)] == hashes[order]
            repeated = repeated | found
        if repeated.any():
            where = np.flatnonzero(present)[repeated]
            message = [f"line_id {i!r} repeats an earlier line" for i in ids.to_numpy()[where]]
            _add_warning(warns, where, np.array(message, dtype=object))
        self.seen_ids = np.sort(np.concatenate((self.seen_ids, hashes[~repeated])))


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
    unit), with :func:`~precursorwatch.quantities.parse_quantity`'s words; each distinct
    (quantity, unit) is parsed once, plain numbers only have their unit checked."""
    from precursorwatch.quantities import normalise_unit, parse_quantity

    given = (qty != "").to_numpy(dtype=bool)
    if not given.any():
        return
    plain = qty.str.fullmatch(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
    messages = np.full(len(qty), "", dtype=object)
    units = unit.to_numpy(dtype=object)
    texts = qty.to_numpy(dtype=object)
    unit_notes = {u: normalise_unit(str(u))[1] for u in pd.unique(unit[given & plain])}
    for i in np.flatnonzero(given & plain):
        messages[i] = unit_notes[units[i]]
    pair_notes: dict[tuple[str, str], str] = {}
    for i in np.flatnonzero(given & ~plain):
        pair = (str(texts[i]), str(units[i]))
        if pair not in pair_notes:
            pair_notes[pair] = parse_quantity(*pair)[2]
        messages[i] = pair_notes[pair]
    where = np.flatnonzero(messages != "")
    if len(where):
        _add_warning(warns, where, messages[where])


def _warn_cas(cas: pd.Series, warns: np.ndarray) -> None:
    """Warn on lines whose CAS field holds no CAS-like number at all (the screen then goes by
    name and structure); a number with a wrong check digit is reported in the result's reason."""
    from precursorwatch.normalise import read_cas

    given = cas[cas != ""]
    if given.empty:
        return
    unread = {v for v in pd.unique(given) if not read_cas(str(v))}
    if not unread:
        return
    where = np.flatnonzero(cas.isin(unread).to_numpy(dtype=bool))
    message = [
        f"cas {v[:40]!r} is not a CAS number (write it as 108-24-7); screened by name"
        for v in cas.to_numpy(dtype=object)[where]
    ]
    _add_warning(warns, where, np.array(message, dtype=object))


def _strip_controls(col: pd.Series, field: str, warns: np.ndarray) -> pd.Series:
    hit = col.str.contains(_CONTROL).to_numpy(dtype=bool)
    if not hit.any():
        return col
    found = col[hit]
    nul = found.str.contains("\x00", regex=False).to_numpy(dtype=bool)
    other = found.str.replace("\x00", "", regex=False).str.contains(_CONTROL)
    col = col.copy()
    col[hit] = found.str.replace(_CONTROL, "", regex=True)
    rows = np.flatnonzero(hit)
    _add_warning(warns, rows[nul], f"NUL bytes removed from {field}")
    _add_warning(
        warns,
        rows[other.to_numpy(dtype=bool)],
        f"invisible or control characters removed from {field}",
    )
    return col


def _truncate(col: pd.Series, field: str, warns: np.ndarray) -> pd.Series:
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


# --- streaming ------------------------------------------------------------------------------


def _csv_fast(
    path: Path, layout: _Layout, fin: _Finisher, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """pandas' C parser; if it meets a row the pre-scan missed, the row path takes over."""
    done = 0
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
                    yield fin.finish(raw, None, clean=layout.dirty, long=layout.long_lines)
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError:
        yield from _csv_rows(path, layout, fin, chunk_rows, skip=done)


def _csv_rows(
    path: Path, layout: _Layout, fin: _Finisher, chunk_rows: int, skip: int = 0
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
                        _text_frame(batch, width),
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
            _text_frame(batch, width),
            np.array(counts),
            **flags,
            notes=np.array(notes, dtype=object),
        )


def _xlsx_chunks(
    rows: Iterable[list[str]], layout: _Layout, fin: _Finisher, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    width, batch = layout.width, []
    for values in rows:
        batch.append((values + [""] * width)[:width])
        if len(batch) >= chunk_rows:
            yield fin.finish(_text_frame(batch, width), None, clean=True, long=True)
            batch = []
    if batch:
        yield fin.finish(_text_frame(batch, width), None, clean=True, long=True)


def _open(
    path: Path, where: str, mapping: Mapping[str, str] | None
) -> tuple[_Layout, Iterator[list[str]] | None]:
    checked = _check_mapping(mapping)
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
    fin = _Finisher(layout)
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
    rows = [[_cell_text(rec.get(f)) for f in FIELDS] for rec in records]
    info = ManifestInfo("<records>", "records", "", "", {f: f for f in FIELDS}, ())
    # every record gets a row, even an empty one: the API answers line for line
    layout = _Layout(info, {f: i for i, f in enumerate(FIELDS)}, len(FIELDS), blank_rows=False)
    frame = _Finisher(layout).finish(_text_frame(rows, len(FIELDS)), None, clean=True, long=True)
    return frame if len(frame) else empty_frame()
