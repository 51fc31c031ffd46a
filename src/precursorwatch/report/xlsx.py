"""The XLSX report, written as chunks arrive: linear in lines, in bounded memory.

A workbook is a zip of XML parts; the sheet's rows are streamed into the zip as each chunk of
results comes, each distinct cell escaped once (result columns repeat a few values a million
times). openpyxl was quadratic (``ws[ws.max_row]`` scans the sheet: 5,000 lines took 38 s) and
its write-only mode takes ~90 s for 200,000 lines; this takes a few seconds.

What a reader gets, for work in a spreadsheet program without rework:

* sheet "Screening": the contract's columns first, then what the line declared and the
  officer's decision (:data:`~precursorwatch.report.writers.XLSX_COLUMNS`); ``flagged`` is a
  boolean (TRUE/FALSE), ``score`` and ``quantity`` numbers, the rest text (formula starts
  defused); each row coloured by its risk; the header bold, frozen and filtered (autofilter
  over every column), the columns sized for what they hold;
* sheet "Summary": the file, when and by whom it was screened, the law's day when given, and
  the counts of lines, flagged lines, lines per risk and flagged lines per decision, counted
  as the rows were written.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from precursorwatch.models import DeclarationLine

#: Control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Style index of a row by risk (see :data:`_STYLES`); 1 is the bold header.
_RISK_STYLE = {"high": 2, "medium": 3, "low": 4}
_BOLD = 1
#: Columns written as booleans and as numbers (their cells are the CSV report's texts).
BOOLEAN_COLUMNS = frozenset({"flagged"})
NUMBER_COLUMNS = frozenset({"score", "quantity"})
#: Column widths (characters) by header; others get :data:`DEFAULT_WIDTH`.
WIDTHS: dict[str, float] = {
    "line_id": 10,
    "flagged": 9,
    "risk": 9,
    "matched_key": 24,
    "matched_name": 30,
    "matched_cas": 13,
    "lists": 20,
    "match_type": 18,
    "score": 8,
    "reason": 80,
    "description": 45,
    "quantity": 11,
    "unit": 7,
    "consignee": 30,
    "decision": 11,
    "cas": 13,
    "hs_code": 12,
    "warnings": 45,
}
DEFAULT_WIDTH = 14.0
#: Risk tiers and decisions the summary counts, in its order.
RISKS = ("high", "medium", "low", "none")
DECISIONS = ("cleared", "inspect", "detained", "referred")

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_TYPE}"/>'
    f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_SHEET_TYPE}"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{_DOC_REL}/styles" Target="styles.xml"/></Relationships>'
)


def _fill(rgb: str) -> str:
    return f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/></patternFill></fill>'


_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="5"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    f"{_fill('F8D7DA')}{_fill('FFF3CD')}{_fill('E2E3E5')}</fills>"
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="3" borderId="0" xfId="0" applyFill="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="4" borderId="0" xfId="0" applyFill="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_FROZEN_HEADER = (
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
)


def column_letter(number: int) -> str:
    """The spreadsheet letters of 1-based column ``number`` (1 -> A, 27 -> AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx_text(value: str) -> str:
    """A cell as XLSX can hold it: control characters it refuses are removed; a cell that
    then starts a formula is defused again."""
    cleaned = _ILLEGAL.sub("", value)
    if cleaned != value and cleaned.startswith(_FORMULA_START):
        return "'" + cleaned
    return cleaned


def _style(style: int) -> str:
    return f' s="{style}"' if style else ""


def _text_xml(value: str, style: int) -> str:
    text = xlsx_text(value)
    if not text:
        return _empty_xml(style)  # a blank, not an empty text: filters list it as (Blanks)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c t="inlineStr"{_style(style)}><is><t{space}>{escape(text)}</t></is></c>'


def _empty_xml(style: int) -> str:
    # kept even unstyled: cells carry no reference, so a reader places them by their order
    return f"<c{_style(style)}/>"


def _number_xml(value: str, style: int) -> str:
    """A number cell of the CSV text ``value`` (an empty cell when it is not a number)."""
    try:
        number = float(value)
    except ValueError:
        return _empty_xml(style) if not value else _text_xml(value, style)
    if not math.isfinite(number):
        return _empty_xml(style)
    return f"<c{_style(style)}><v>{value.strip()}</v></c>"


def _boolean_xml(value: str, style: int) -> str:
    if value not in ("true", "false"):
        return _text_xml(value, style)
    return f'<c t="b"{_style(style)}><v>{1 if value == "true" else 0}</v></c>'


def _cell_maker(name: str) -> Callable[[str, int], str]:
    if name in BOOLEAN_COLUMNS:
        return _boolean_xml
    if name in NUMBER_COLUMNS:
        return _number_xml
    return _text_xml


def _cols_xml(header: Sequence[str]) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{WIDTHS.get(name, DEFAULT_WIDTH)}" customWidth="1"/>'
        for i, name in enumerate(header, start=1)
    )
    return f"<cols>{cols}</cols>"


class XlsxReport:
    """An XLSX report written chunk by chunk; :meth:`close` finishes the file.

    ``header``: the column names of the rows given to :meth:`write_columns`. ``about``: the
    summary sheet's first rows, (label, value) — the file, when, who, the law's day; the
    counts follow them.
    """

    def __init__(
        self,
        target: Path | IO[bytes],
        header: Sequence[str],
        about: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            self._zip.writestr(name, text)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.header = list(header)
        self.about = list(about)
        self._makers = [_cell_maker(name) for name in self.header]
        head = "".join(_text_xml(name, _BOLD) for name in self.header)
        self._sheet.write(
            f'{_XML}<worksheet xmlns="{_MAIN}">{_FROZEN_HEADER}{_cols_xml(self.header)}'
            f'<sheetData><row r="1">{head}</row>'.encode()
        )
        self.rows = 1
        self.by_risk: Counter[str] = Counter()
        self.by_decision: Counter[str] = Counter()
        self.flagged = 0

    def _index(self, name: str) -> int:
        return self.header.index(name) if name in self.header else -1

    def _count(self, columns: Sequence[Sequence[str]]) -> None:
        risk, flagged, decision = (self._index(n) for n in ("risk", "flagged", "decision"))
        if risk >= 0:
            self.by_risk.update(columns[risk])
        if flagged >= 0:
            self.flagged += sum(1 for v in columns[flagged] if v == "true")
        if decision >= 0:
            self.by_decision.update(v for v in columns[decision] if v)

    def write_columns(self, columns: Sequence[Sequence[str]]) -> None:
        """Append rows given column by column, in :attr:`header`'s order, as the CSV report's
        texts (each column's distinct cells made once)."""
        if not columns or not len(columns[0]):
            return
        n = len(columns[0])
        risk = self._index("risk")
        styles = [_RISK_STYLE.get(r, 0) for r in columns[risk]] if risk >= 0 else [0] * n
        self._count(columns)
        made: list[list[str]] = []
        for col, maker in zip(columns, self._makers, strict=True):
            codes, uniques = pd.factorize(np.asarray(col, dtype=object), use_na_sentinel=False)
            texts = {style: [maker(str(u), style) for u in uniques] for style in set(styles)}
            made.append([texts[styles[i]][c] for i, c in enumerate(codes)])
        parts = []
        for i in range(n):
            self.rows += 1
            parts.append(f'<row r="{self.rows}">{"".join(col[i] for col in made)}</row>')
            if len(parts) >= 5_000:
                self._sheet.write("".join(parts).encode("utf-8"))
                parts = []
        if parts:
            self._sheet.write("".join(parts).encode("utf-8"))

    @property
    def filter_ref(self) -> str:
        """The autofilter's range: the header and every row written, all columns."""
        return f"A1:{column_letter(max(1, len(self.header)))}{self.rows}"

    def summary_rows(self) -> list[tuple[str, str | int]]:
        """The summary sheet's rows: :attr:`about`, then the counts (a label alone is a
        heading)."""
        lines = self.rows - 1
        decided = sum(self.by_decision.values())
        rows: list[tuple[str, str | int]] = [*self.about, ("Lines", lines)]
        rows += [("Flagged", self.flagged), ("", ""), ("Lines per risk", "")]
        rows += [(risk, self.by_risk.get(risk, 0)) for risk in RISKS]
        rows += [(risk, n) for risk, n in sorted(self.by_risk.items()) if risk not in RISKS]
        rows += [("", ""), ("Flagged lines per decision", "")]
        rows += [(d, self.by_decision.get(d, 0)) for d in DECISIONS]
        rows += [("open (no decision yet)", max(0, self.flagged - decided))]
        return rows

    def _summary_xml(self) -> str:
        out = []
        for number, (label, value) in enumerate(self.summary_rows(), start=1):
            heading = value == "" and bool(label)
            cells = _text_xml(label, _BOLD if heading else 0) if label else ""
            if isinstance(value, int):
                cells += f"<c><v>{value}</v></c>"
            elif value:
                cells += _text_xml(value, 0)
            out.append(f'<row r="{number}">{cells}</row>')
        cols = '<cols><col min="1" max="1" width="28" customWidth="1"/>'
        cols += '<col min="2" max="2" width="40" customWidth="1"/></cols>'
        rows = "".join(out)
        return f'{_XML}<worksheet xmlns="{_MAIN}">{cols}<sheetData>{rows}</sheetData></worksheet>'

    def close(self) -> None:
        """Finish the sheet (autofilter over the header), the summary sheet and the zip."""
        ref = self.filter_ref
        self._sheet.write(f'</sheetData><autoFilter ref="{ref}"/></worksheet>'.encode())
        self._sheet.close()
        self._zip.writestr("xl/worksheets/sheet2.xml", self._summary_xml())
        absolute = f"$A$1:${column_letter(max(1, len(self.header)))}${self.rows}"
        name = quoteattr("_xlnm._FilterDatabase")
        self._zip.writestr(
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_REL}"><sheets>'
            '<sheet name="Screening" sheetId="1" r:id="rId1"/>'
            '<sheet name="Summary" sheetId="2" r:id="rId2"/></sheets><definedNames>'
            f'<definedName name={name} localSheetId="0" hidden="1">'
            f"Screening!{absolute}</definedName></definedNames></workbook>",
        )
        self._zip.close()


def declared_columns(declarations: Sequence[DeclarationLine]) -> list[list[str]]:
    """The columns of what each line declared that the CSV report does not carry (CAS, HS
    code), defused."""

    def defused(v: str) -> str:
        return "'" + v if v.startswith(_FORMULA_START) else v

    return [[defused(d.cas) for d in declarations], [defused(d.hs_code) for d in declarations]]
