"""Reports: CSV, JSON, XLSX and terminal tables from one screening result frame.

The one serialiser: the CLI and the API's ``report.csv`` both come through :func:`write_csv`,
so the two are byte-identical for the same file. Cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return; OWASP CSV injection)
are prefixed with a single quote in CSV and XLSX; the store keeps the original text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.screen import OUTPUT_COLUMNS, evidence_to_dict

#: Columns of the CSV report: the contract's, then the per-line warnings.
CSV_COLUMNS: tuple[str, ...] = (*OUTPUT_COLUMNS, "warnings")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json", "xlsx", "table")


def defuse(value: str) -> str:
    """Prefix a cell that a spreadsheet would evaluate as a formula with a single quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def results_frame(results: Sequence[LineResult]) -> pd.DataFrame:
    """The output frame (as :meth:`Screener.screen_frame` returns) of stored results."""
    return pd.DataFrame(
        {
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
        columns=[*CSV_COLUMNS, "evidence"],
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


class CsvReport:
    """A CSV report written as chunks arrive (header once), for files of any size.

    The one CSV writer: the CLI's ``-o`` stream and the API's ``report.csv`` both use it, so
    the two are byte-identical.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of one output frame."""
        self._writer.writerows(_csv_rows(frame))


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


def write_xlsx(
    frame: pd.DataFrame,
    target: Path | IO[bytes],
    declarations: Sequence[DeclarationLine] | None = None,
) -> None:
    """An XLSX report: one sheet of results (flagged first keeps input order within tiers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Screening"
    header = list(CSV_COLUMNS)
    if declarations is not None:
        header = ["description", "cas", "hs_code", *header]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fills = {"high": "F8D7DA", "medium": "FFF3CD", "low": "E2E3E5"}
    for i, row in enumerate(_csv_rows(frame)):
        if declarations is not None:
            d = declarations[i]
            row = [defuse(d.description), defuse(d.cas), defuse(d.hs_code), *row]
        ws.append([_xlsx_text(value) for value in row])
        risk = row[header.index("risk")]
        if risk in fills:
            for cell in ws[ws.max_row]:
                cell.fill = PatternFill("solid", fgColor=fills[risk])
    ws.freeze_panes = "A2"
    wb.save(target)


def _xlsx_text(value: str) -> str:
    """A cell as XLSX can hold it: control characters it refuses (openpyxl raises on them) are
    removed; a cell that then starts a formula is defused again."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value if cleaned == value else defuse(cleaned)


RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
_RISK_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "none": "dim"}


def results_table(rows: Sequence[Mapping[Any, Any]]) -> Any:
    """A rich table of result rows (already ordered and cut), one style per risk tier."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold")
    for col in ("line", "risk", "match", "substance", "CAS", "lists", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        values = (
            str(r["line_id"]),
            str(r["risk"]),
            str(r["match_type"]),
            str(r["matched_name"]),
            str(r["matched_cas"]),
            str(r["lists"]).replace(";", " "),
            str(r["reason"]),
        )
        # Text, not str: user text such as "[/]" or "[link=...]" is not rich markup
        table.add_row(*(Text(v) for v in values), style=_RISK_STYLES.get(str(r["risk"]), ""))
    return table


def print_results(
    console: Any, rows: Sequence[Mapping[Any, Any]], *, lines: int, flagged: int, limit: int
) -> None:
    """Print the table of ``rows`` (at most ``limit``), what was left out, and the counts."""
    console.print(results_table(rows[:limit]))
    if lines > len(rows[:limit]):
        console.print(f"… {lines - len(rows[:limit])} more lines (use -o FILE for the full report)")
    console.print(f"{lines} lines screened, {flagged} flagged")


def print_table(frame: pd.DataFrame, *, console: Any = None, limit: int = 200) -> None:
    """A rich table, flagged lines first (high, medium, low, none), with their reason."""
    from rich.console import Console

    rows = sorted(frame.to_dict("records"), key=lambda r: RISK_ORDER.get(str(r["risk"]), 4))
    flagged = int(frame["flagged"].sum()) if len(frame) else 0
    print_results(console or Console(), rows, lines=len(frame), flagged=flagged, limit=limit)
