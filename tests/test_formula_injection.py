"""Formula injection (OWASP CSV injection) through the real CLI: no report cell starts a formula.

A manifest whose description, line id and consignee cells start with ``=``, ``+``, ``-``, ``@``,
tab or carriage return is screened to CSV and to XLSX; every such cell comes out prefixed with
a single quote, and the stored screening keeps the original text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from precursorwatch.report.writers import defuse
from precursorwatch.settings import get_settings
from precursorwatch.store import get_screening, list_screenings, open_store

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "@SUM(1+1)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=acetone",
]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """Each payload as description, line id and consignee; one more line is acetic anhydride."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["line_id", "description", "cas", "consignee", "hs_code"])
    for i, payload in enumerate(PAYLOADS):
        # a bare CR inside a line id is a row-framing question for the CSV writer (see
        # test_csv_text_keeps_one_row_per_line_with_carriage_returns); here it leads the cell
        writer.writerow([payload.replace("\r=", "=") + str(i), payload, "", payload, payload])
    writer.writerow(["=A1", "=acetic anhydride", "108-24-7", "@evil", "-2915"])
    path = tmp_path / "inject.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _safe(value: object) -> bool:
    text = "" if value is None else str(value)
    return not text.startswith(FORMULA_START)


def test_defuse_prefixes_every_formula_start() -> None:
    for start in FORMULA_START:
        assert defuse(start + "1+1") == "'" + start + "1+1"
    assert defuse("acetone") == "acetone" and defuse("") == ""


def test_csv_report_has_no_formula_cell(run, manifest: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.csv"
    code, output = run("screen", str(manifest), "-o", str(out), "--no-opsin")
    assert code == 1, output
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert len(rows) == 1 + len(PAYLOADS) + 1
    cells = [cell for row in rows for cell in row]
    assert all(_safe(c) for c in cells), [c for c in cells if not _safe(c)]
    ids = [row[0] for row in rows[1:]]
    assert ids[4] == "'\t=1+14"
    assert ids[0] == "'" + PAYLOADS[0] + "0" and ids[-1] == "'=A1"
    assert rows[-1][3] == "acetic-anhydride"  # the defused description still screens


def test_xlsx_report_has_no_formula_cell(run, manifest: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.xlsx"
    code, output = run("screen", str(manifest), "-o", str(out), "--format", "xlsx", "--no-opsin")
    assert code == 1, output
    wb = load_workbook(out)  # not data_only: a formula would come back as "=..."
    ws = wb.active
    values = [cell.value for row in ws.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert all(_safe(v) for v in values), [v for v in values if not _safe(v)]
    header = [c.value for c in ws[1]]
    descriptions = [row[header.index("description")].value for row in ws.iter_rows(min_row=2)]
    assert descriptions[0] == "'" + PAYLOADS[0]
    assert ws.max_row == 1 + len(PAYLOADS) + 1


def test_stored_screening_keeps_the_original_text(run, manifest: Path) -> None:  # type: ignore[no-untyped-def]
    code, _ = run("screen", str(manifest), "--format", "csv", "--no-opsin")
    assert code == 1
    store = open_store(get_settings().resolved_database_url())
    with store.session() as session:
        (summary,) = list_screenings(session=session)
        record = get_screening(session=session, screening_id=summary.screening_id)
    lines = [line for line, _ in record.lines]
    assert [line.consignee for line in lines[:-1]] == [p for p in PAYLOADS]
    assert [line.description for line in lines[:-1]] == PAYLOADS
    assert [line.line_id for line in lines[:-1]] == [
        p.replace("\r=", "=") + str(i) for i, p in enumerate(PAYLOADS)
    ]
    assert lines[-1].line_id == "=A1" and lines[-1].consignee == "@evil"


def test_csv_text_keeps_one_row_per_line_with_carriage_returns() -> None:
    """The API's report.csv (report.csv_text): a cell led by CR is defused and stays one cell."""
    from precursorwatch.models import LineResult
    from precursorwatch.report.writers import csv_text, results_frame

    results = [
        LineResult(p, False, "none", "", "", "", (), "", 0.0, "x\ry", (), ()) for p in PAYLOADS
    ]
    rows = list(csv.reader(io.StringIO(csv_text(results_frame(results)), newline="")))
    assert len(rows) == 1 + len(PAYLOADS)
    assert all(_safe(c) for row in rows for c in row)
    assert rows[6][0] == "'\n=1+1" and rows[1][9] == "x\ny"
