"""The command's process ends without the interpreter's teardown (cli/exit.py), and still
as ``sys.exit`` ends it: the exit code, the files and the store are what they would be."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from precursorwatch.cli import app
from precursorwatch.cli.exit import _status

SAMPLE = Path(__file__).resolve().parents[1] / "sample_shipments" / "customs_import_declaration.csv"
MAIN = "from precursorwatch.cli import main; main()"


def _command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``precursorwatch ARGS`` in a process of its own, through the console script's entry."""
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_a_screening_ends_with_its_code_its_report_and_its_record(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    done = _command(
        "screen", str(SAMPLE), "-o", str(tmp_path / "out.csv"), "--db", url, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr  # screened, lines flagged (the contract's 1)
    assert "flagged" in done.stderr
    report = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert len(report) > 0 and (report["flagged"] == "true").any()
    # the store's log was written into its file as the connections closed: a copy of the
    # file alone holds the screening
    assert not Path(f"{db}-wal").exists()
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(db.read_bytes())
    with sqlite3.connect(copy) as conn:
        (n,) = conn.execute("SELECT count(*) FROM screening").fetchone()
    assert n == 1
    # and the same answer as the command run in this process
    again = CliRunner().invoke(
        app, ["screen", str(SAMPLE), "-o", str(tmp_path / "again.csv"), "--db", url]
    )
    assert again.exit_code == done.returncode
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "out.csv").read_text()


def test_an_input_error_still_ends_with_2_and_one_line(tmp_path: Path) -> None:
    done = _command("screen", str(tmp_path / "missing.csv"), cwd=tmp_path)
    assert done.returncode == 2
    assert "no such file" in done.stderr and "Traceback" not in done.stderr


def test_threads_and_exit_handlers_finish_before_the_process_ends(tmp_path: Path) -> None:
    marks = tmp_path / "marks.txt"
    program = f"""
import atexit, threading, time
from precursorwatch.cli.exit import exit_now
def write(text):
    with open({str(marks)!r}, "a") as f:
        f.write(text + "\\n")
def slow():
    time.sleep(0.3)
    write("thread")
threading.Thread(target=slow).start()
atexit.register(write, "handler")
print("said", end="")
exit_now(3)
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3
    assert done.stdout == "said"  # flushed although the line was not ended
    assert marks.read_text().splitlines() == ["thread", "handler"]


def test_exit_codes_are_read_as_sys_exit_reads_them(capsys) -> None:  # type: ignore[no-untyped-def]
    assert _status(None) == 0 and _status(0) == 0 and _status(2) == 2
    assert _status("cannot go on") == 1
    assert capsys.readouterr().err == "cannot go on\n"
