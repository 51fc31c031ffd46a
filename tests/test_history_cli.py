"""``precursorwatch history`` with --since, --until, --consignee and --limit, the same file
screened twice shown once with its count (issue 21), through the real command line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from _finder_data import stored
from precursorwatch.cli import app
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'h.sqlite'}"
    store = open_ready_store(get_settings(database_url=url))
    # the same file twice (same input hash), in May and June; another file in July
    stored(store, 120, name="may.csv", input_hash="same",
           created_at=datetime(2026, 5, 4, 10, tzinfo=UTC))  # fmt: skip
    stored(store, 120, name="june.csv", input_hash="same",
           created_at=datetime(2026, 6, 4, 10, tzinfo=UTC))  # fmt: skip
    stored(store, 60, name="july.csv", prefix="J",
           created_at=datetime(2026, 7, 4, 10, tzinfo=UTC))  # fmt: skip
    store.dispose()
    yield url


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["history", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _rows(output: str) -> list[list[str]]:
    """The cells of the first table's body rows (rich box drawing)."""
    rows = []
    for line in output.splitlines():
        if line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
    return rows


def test_a_substances_history_shows_a_file_once_with_its_count(db: str) -> None:
    code, out = _run("BMK", "--db", db)
    assert code == 0, out
    assert "history of" in out
    rows = [r for r in _rows(out) if r and r[0].startswith("2026-")]
    lines = [r for r in rows if r[4].startswith(("L", "J"))]
    # July's 2 BMK lines, then the file of May and June once (its newest screening), twice
    assert [(r[2], r[3], r[4]) for r in lines] == [
        ("july.csv", "1", "J1"), ("july.csv", "1", "J51"),
        ("june.csv", "2", "L1"), ("june.csv", "2", "L51"), ("june.csv", "2", "L101"),
    ]  # fmt: skip
    assert "may.csv" not in out.split("what the store keeps")[0]
    assert "5 lines, newest screening first; a file screened more than once is shown once" in out


def test_history_options_since_until_consignee_and_limit(db: str) -> None:
    code, out = _run("BMK", "--since", "2026-05-01", "--until", "2026-05-31", "--db", db)
    assert code == 0, out
    table = out.split("what the store keeps")[0]
    assert "may.csv" in table and "june.csv" not in table and "july.csv" not in table
    code, out = _run("acetone", "--consignee", "FIRM 3", "--db", db)
    assert code == 0, out
    rows = [
        r for r in _rows(out.split("what the store keeps")[0]) if r and r[0].startswith("2026-")
    ]
    assert rows and {r[5] for r in rows} == {"Firm 3"}
    code, out = _run("acetone", "--limit", "2", "--db", db)
    assert code == 0 and "2 lines" in out and "more lines match" in out
    code, out = _run("--consignee", "firm 12", "--since", "2026-07-01", "--db", db)
    assert code == 0 and "lines of consignee 'firm 12'" in out
    rows = [
        r for r in _rows(out.split("what the store keeps")[0]) if r and r[0].startswith("2026-")
    ]
    assert rows and {r[2] for r in rows} == {"july.csv"} and {r[5] for r in rows} == {"Firm 12"}
    code, out = _run("--since", "June 1", "--db", db)
    assert code == 2 and "--since 'June 1' is not a date" in out


def test_the_screenings_record_shows_a_file_once(db: str) -> None:
    code, out = _run("--db", db)
    assert code == 0, out
    rows = [r for r in _rows(out) if r and r[0].startswith("2026-")]
    assert [(r[2], r[3]) for r in rows] == [("july.csv", "1"), ("june.csv", "2")]
    code, out = _run("--limit", "1", "--db", db)
    assert [r[2] for r in _rows(out) if r and r[0].startswith("2026-")] == ["july.csv"]
    code, out = _run("--until", "2026-05-31", "--db", db)
    rows = [r for r in _rows(out) if r and r[0].startswith("2026-")]
    assert [(r[2], r[3]) for r in rows] == [("may.csv", "1")]
