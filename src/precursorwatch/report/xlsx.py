"""The XLSX report, written as chunks arrive: linear in lines, in bounded memory.

A workbook is a zip of XML parts; the sheet's rows are streamed into the zip as each chunk of
results comes, each distinct cell text escaped once (result columns repeat a few values a
million times). openpyxl was quadratic (``ws[ws.max_row]`` scans the sheet: 5,000 lines took
38 s) and its write-only mode takes ~90 s for 200,000 lines; this takes a few seconds.

The cells are the CSV report's (formula starts defused), after three columns of what the line
declared; a row is coloured by its risk, the header is bold and stays in view.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from precursorwatch.models import DeclarationLine

#: Control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Style index of a row by risk (see :data:`_STYLES`); 1 is the bold header.
_RISK_STYLE = {"high": 2, "medium": 3, "low": 4}

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Screening" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)


def _fill(rgb: str) -> str:
    return f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/></patternFill></fill>'


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
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
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def xlsx_text(value: str) -> str:
    """A cell as XLSX can hold it: control characters it refuses are removed; a cell that
    then starts a formula is defused again."""
    cleaned = _ILLEGAL.sub("", value)
    if cleaned != value and cleaned.startswith(_FORMULA_START):
        return "'" + cleaned
    return cleaned


def _cell_xml(value: str, style: int) -> str:
    text = xlsx_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    s = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{s}><is><t{space}>{escape(text)}</t></is></c>'


class XlsxReport:
    """An XLSX report written chunk by chunk; :meth:`close` finishes the file."""

    def __init__(self, target: Path | IO[bytes], header: Sequence[str]) -> None:
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            self._zip.writestr(name, text)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_HEAD.encode())
        self.header = list(header)
        self._risk = self.header.index("risk") if "risk" in self.header else -1
        self.rows = 1
        self._write_rows([self.header], [1])

    def _write_rows(self, rows: Sequence[Sequence[str]], styles: Sequence[int]) -> None:
        parts = []
        for row, style in zip(rows, styles, strict=True):
            self.rows += 0 if row is self.header else 1
            cells = "".join(_cell_xml(v, style) for v in row)
            parts.append(f'<row r="{self.rows}">{cells}</row>')
        self._sheet.write("".join(parts).encode("utf-8"))

    def write_columns(self, columns: Sequence[Sequence[str]]) -> None:
        """Append rows given column by column (each column's distinct cells made once)."""
        if not columns or not len(columns[0]):
            return
        n = len(columns[0])
        risk_col = columns[self._risk] if self._risk >= 0 else [""] * n
        styles = [_RISK_STYLE.get(r, 0) for r in risk_col]
        made: list[list[str]] = []
        for col in columns:
            codes, uniques = pd.factorize(np.asarray(col, dtype=object), use_na_sentinel=False)
            texts = {style: [_cell_xml(str(u), style) for u in uniques] for style in set(styles)}
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

    def close(self) -> None:
        """Finish the sheet and the zip."""
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()
        self._zip.close()


def declared_columns(declarations: Sequence[DeclarationLine]) -> list[list[str]]:
    """The three columns of what each line declared (description, CAS, HS code), defused."""

    def defused(v: str) -> str:
        return "'" + v if v.startswith(_FORMULA_START) else v

    return [
        [defused(d.description) for d in declarations],
        [defused(d.cas) for d in declarations],
        [defused(d.hs_code) for d in declarations],
    ]
