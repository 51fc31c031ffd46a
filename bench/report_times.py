"""Time the API's CSV and XLSX reports of one stored screening (issue 19: the XLSX of 200,000
lines within 10 times the CSV's time).

    python bench/report_times.py [--lines 200000] [--db sqlite:////tmp/pw-bench.sqlite]

Screens a generated manifest once (kept in the store given, so a second run only times the
reports), then writes both reports the way the routes do (``web/work.py``: a batch of lines at
a time from the store, as an officer sees them) and prints the seconds of each (wall clock and
this process's CPU, which a busy machine disturbs less) and their ratios.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import threading
import time
from pathlib import Path

from precursorwatch.run.service import open_ready_store, screen_file
from precursorwatch.settings import get_settings
from precursorwatch.store import ApiKeyInfo, list_screenings
from precursorwatch.store.tables import utcnow
from precursorwatch.web import work
from precursorwatch.web.state import AppState

ROWS = [
    ("Acetone tech grade", "67-64-1", "5", "L", "Alpha GmbH"),
    ("Sodium chloride", "7647-14-5", "1000", "kg", "Salt Co"),
    ("Acetic anhydride 99 %", "108-24-7", "400", "L", "Beta Trading"),
    ("=HYPERLINK(1)", "", "1", "kg", "Gamma"),
    ("garden hose", "", "3", "pcs", "Delta Ltd"),
]


def manifest(path: Path, lines: int) -> None:
    """A manifest of ``lines`` lines cycling through :data:`ROWS` (37 lots each)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["line_id", "description", "cas", "quantity", "unit", "consignee"])
        for i in range(lines):
            d, c, q, u, who = ROWS[i % len(ROWS)]
            w.writerow([i + 1, f"{d} lot {i % 37}", c, q, u, who])


def main() -> None:
    """Screen (once) and time both reports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--db", default="sqlite:////tmp/pw-bench-reports.sqlite")
    args = parser.parse_args()
    settings = get_settings(database_url=args.db)
    store = open_ready_store(settings)
    name = f"bench-{args.lines}.csv"
    with store.session(write=False) as session:
        known = [s for s in list_screenings(session=session) if s.input_name == name]
    if known:
        screening_id = known[0].screening_id
    else:
        tmp = Path(tempfile.mkdtemp())
        manifest(tmp / name, args.lines)
        t0 = time.perf_counter()
        done = screen_file(tmp / name, store=store, keep_results=False)
        print(f"screened {args.lines:,} lines in {time.perf_counter() - t0:.1f} s")
        screening_id = str(done.screening_id)
    state = AppState(settings, store)
    key = ApiKeyInfo("bench", "bench", "officer", "pw_bench", utcnow())
    t0, c0 = time.perf_counter(), time.process_time()
    size = sum(len(chunk) for chunk in work.csv_chunks(state, key, screening_id))
    t_csv, c_csv = time.perf_counter() - t0, time.process_time() - c0
    target = Path(tempfile.mkdtemp()) / "report.xlsx"
    t0, c0 = time.perf_counter(), time.process_time()
    work.write_xlsx_report(state, key, screening_id, target, threading.Event())
    t_xlsx, c_xlsx = time.perf_counter() - t0, time.process_time() - c0
    out = io.StringIO()
    print(f"{args.lines:,} lines: CSV {t_csv:.2f} s (CPU {c_csv:.2f} s, ", end="", file=out)
    print(f"{size / 1e6:.1f} MB), XLSX {t_xlsx:.2f} s (CPU {c_xlsx:.2f} s, ", end="", file=out)
    print(
        f"{target.stat().st_size / 1e6:.1f} MB), XLSX/CSV {t_xlsx / t_csv:.1f}x ", end="", file=out
    )
    print(f"(CPU {c_xlsx / c_csv:.1f}x)", file=out)
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
