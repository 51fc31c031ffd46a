"""The CSV report's fast writer (rows joined by Arrow) against the csv module, byte for byte.

``report.csv_block`` must write exactly what ``csv.writer`` (QUOTE_MINIMAL, line terminator
LF) writes for the cells of ``report.csv_columns``: formula starts defused, line breaks made
LF, quoting where a cell holds a comma, a quote or a line feed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precursorwatch.report import writers as report
from precursorwatch.report.writers import CSV_COLUMNS, CsvReport, csv_block, csv_columns, csv_text
from precursorwatch.run.results import TEXT

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Cells made of what the writer treats specially, mixed with plain and non-ASCII text.
CELL = st.lists(
    st.sampled_from(["a", " ", ",", '"', "\n", "\r", "\r\n", "=", "+", "-", "@", "\t", "'", "é"])
    | st.text(max_size=3),
    max_size=6,
).map("".join)


def _csv_module(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(*csv_columns(frame), strict=True))
    return buf.getvalue()


def _frame(
    cells: list[list[str]], flags: list[bool], scores: list[float], dtype: object = object
) -> pd.DataFrame:
    n = min(len(flags), len(scores), *(len(c) for c in cells))
    data: dict[str, object] = {
        name: pd.Series(values[:n], dtype=dtype)
        for name, values in zip(
            [c for c in CSV_COLUMNS if c not in ("flagged", "score")], cells, strict=False
        )
    }
    data["flagged"] = flags[:n]
    data["score"] = scores[:n]
    return pd.DataFrame(data)


@FUZZ
@given(
    st.lists(st.lists(CELL, min_size=1, max_size=12), min_size=9, max_size=9),
    st.lists(st.booleans(), min_size=1, max_size=12),
    st.lists(st.sampled_from([0.0, 1 / 3, 0.9995, 1.0, float("nan")]), min_size=1, max_size=12),
)
def test_fast_rows_are_the_csv_modules_rows(
    cells: list[list[str]], flags: list[bool], scores: list[float]
) -> None:
    frame = _frame(cells, flags, scores)
    assert csv_block(frame) == _csv_module(frame)
    # the screener's own text columns (Arrow-backed), whole and as a slice of a bigger frame
    arrow = _frame(cells, flags, scores, dtype=TEXT)
    assert csv_block(arrow) == _csv_module(frame)
    stacked = pd.concat([arrow, arrow], ignore_index=True)
    assert csv_block(stacked.iloc[len(arrow) :]) == _csv_module(frame)


def test_repeated_values_and_distinct_line_ids_come_out_as_the_csv_module_writes() -> None:
    n = 5000
    reasons = np.array(["No listed substance found.", 'Listed, "quoted"', "=SUM(1)"], dtype=object)
    frame = pd.DataFrame(
        {
            "line_id": pd.Series([f"-{i}" if i % 7 else f"{i}" for i in range(n)], dtype=object),
            "flagged": np.arange(n) % 3 == 0,
            "reason": pd.Series(reasons[np.arange(n) % 3], dtype=object),
            "score": np.arange(n) % 5 / 4,
        }
    )
    assert csv_block(frame) == _csv_module(frame)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, 2], dtype=object),
        pd.Series(["a", None], dtype=object),
        pd.Series(["a", "\ud800"], dtype=object),
    ],
)
def test_cells_that_are_not_plain_text_go_through_the_csv_module(column: pd.Series) -> None:
    frame = pd.DataFrame({"line_id": column, "flagged": [True, False], "score": [0.5, 0.0]})
    assert csv_block(frame) is None
    buf = io.StringIO()
    CsvReport(buf).write(frame)
    assert buf.getvalue().split("\n", 1)[1] == _csv_module(frame)


def test_without_arrow_the_csv_module_writes_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _frame([["a,b", "=1", "x\ry"]] * 9, [True, False, True], [0.25, 1.0, 0.0])
    fast = csv_text(frame)
    monkeypatch.setattr(report, "pa", None)
    assert csv_block(frame) is None
    assert csv_text(frame) == fast


def test_a_utf8_file_gets_the_same_bytes_as_a_text_buffer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rows go to a UTF-8 file's binary layer as Arrow's bytes, between rows the csv module
    # wrote through the text layer (the header, a slice with a cell that is not text)
    monkeypatch.setattr(report, "_WRITE_ROWS", 2)
    frame = _frame([["a,b", "é", "=1", "x\ry", "ok"]] * 9, [True] * 5, [0.5] * 5)
    frame.loc[2, "reason"] = None  # this slice goes through the csv module
    text = io.StringIO()
    CsvReport(text).write(frame)
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        report_ = CsvReport(fh)
        assert report_._raw is not None
        report_.write(frame)
        report_.write(frame.iloc[:1])
    with path.open("r", encoding="utf-8", newline="") as fh:
        assert fh.read() == text.getvalue() + text.getvalue().split("\n", 2)[1] + "\n"
