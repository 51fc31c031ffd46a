"""Faults with real processes: SIGKILL while a screening or a list import is being saved leaves
the store consistent, the work can be re-run, and two writers at once both succeed (SQLite busy
timeout). Figures are printed (run with ``-s``) so they can be quoted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from precursorwatch.errors import QueryError
from precursorwatch.store import get_screening, list_screenings, list_summaries, open_store

BIN = Path(sys.executable).parent / "precursorwatch"
GOODS = [
    ("acetone", "67-64-1"),
    ("toluene", "108-88-3"),
    ("cotton shirts", ""),
    ("LED lamps", ""),
    ("safrole", "94-59-7"),
]

pytestmark = pytest.mark.skipif(
    not BIN.exists() or sys.platform == "win32", reason="needs the installed console script"
)


def _env(data: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PRECURSORWATCH_") or k == "PRECURSORWATCH_CACHE_DIR"
    }
    env["PRECURSORWATCH_DATA_DIR"] = str(data)
    return env


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=_env(data), capture_output=True, text=True, timeout=300, check=False
    )


def _manifest(path: Path, lines: int) -> Path:
    rows = ["line_id,description,cas,quantity,unit"]
    rows += [f"{i + 1},{GOODS[i % 5][0]},{GOODS[i % 5][1]},{i % 50 + 1},kg" for i in range(lines)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _store(data: Path):  # type: ignore[no-untyped-def]
    return open_store(f"sqlite:///{data / 'precursorwatch.sqlite'}")


def _kill_while_saving(cmd: list[str], data: Path, delay_after_wal: float) -> float:
    """Start ``cmd``; SIGKILL it ``delay_after_wal`` s after its write-ahead log first grows
    (the save has begun). Returns when it was killed (s after start), or -1 if it finished."""
    wal = data / "precursorwatch.sqlite-wal"
    base = wal.stat().st_size if wal.exists() else 0
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            if wal.exists() and wal.stat().st_size > base + 64 * 1024:
                time.sleep(delay_after_wal)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
                    return time.monotonic() - start
            time.sleep(0.01)
        return -1.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_sigkill_during_a_screening_save_leaves_no_half_screening(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli(data, "init").returncode == 0
    lines = 50_000
    manifest = _manifest(tmp_path / "big.csv", lines)
    cmd = [str(BIN), "screen", str(manifest), "--no-opsin", "-o", str(tmp_path / "out.csv")]
    kills = [t for t in (_kill_while_saving(cmd, data, d) for d in (0.0, 0.3, 0.8)) if t > 0]
    assert kills, "the screening always finished before it could be killed"
    store = _store(data)
    with store.session() as session:
        shown = list_screenings(session=session)
        hidden = session.execute(text("SELECT id FROM screening WHERE NOT complete")).scalars()
        hidden = list(hidden)
        for screening_id in hidden:  # a half-written screening is invisible to every reader
            with pytest.raises(QueryError):
                get_screening(session=session, screening_id=screening_id)
        leftover = session.execute(
            text(
                "SELECT coalesce(sum(line_count), 0) FROM screening_block WHERE screening_id "
                "NOT IN (SELECT id FROM screening WHERE complete)"
            )
        ).scalar_one()
    assert len(shown) + len(hidden) <= 3 and {s.screening_id for s in shown}.isdisjoint(hidden)
    assert all(s.lines == lines for s in shown)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    # the same command afterwards succeeds and stores a complete screening
    again = subprocess.run(cmd, env=_env(data), capture_output=True, text=True, timeout=300)
    assert again.returncode == 1, again.stderr
    with store.session() as session:
        after = list_screenings(session=session)
        stored_lines = session.execute(
            text("SELECT coalesce(sum(line_count), 0) FROM screening_block")
        ).scalar_one()
    assert len(after) == len(shown) + 1 and after[0].lines == lines
    assert stored_lines == lines * len(after) + leftover
    print(
        f"\nkill during screening: 4 runs of {lines:,} lines, {len(kills)} SIGKILLed after the "
        f"save began (at {', '.join(f'{k:.1f}' for k in kills)} s); {len(shown)} had committed "
        f"before the kill; screenings stored {len(after)} / submitted 4, all complete; "
        f"{len(hidden)} incomplete (hidden) with {leftover:,} invisible lines left; integrity ok"
    )


def _big_list(path: Path, entries: int, tag: str) -> Path:
    rows = ["key,name,cas,smiles,synonyms,category"]
    rows += [f"firm-{tag}-{i},Chemical {tag} {i},,,,watch" for i in range(entries)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_sigkill_during_a_list_import_keeps_the_previous_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _big_list(tmp_path / "v1.csv", 50, "a")
    done = _cli(data, "lists", "import", str(first), "--code", "FIRM-X")
    assert done.returncode == 0, done.stderr
    second = _big_list(tmp_path / "v2.csv", 4_000, "b")
    cmd = [str(BIN), "lists", "import", str(second), "--code", "FIRM-X"]
    kills = [t for t in (_kill_while_saving(cmd, data, d) for d in (0.0, 0.2)) if t > 0]
    store = _store(data)
    with store.session() as session:
        firm = [s for s in list_summaries(session=session) if s.code == "FIRM-X"]
    # killed before its commit: version 1 intact and current; after it: version 2 whole
    assert len(firm) == 1
    assert (firm[0].version, firm[0].entries) in ((1, 50), (2, 4_000))
    again = _cli(data, "lists", "import", str(second), "--code", "FIRM-X")
    assert again.returncode == 0, again.stderr
    with store.session() as session:
        firm_after = [s for s in list_summaries(session=session) if s.code == "FIRM-X"]
    assert len(firm_after) == 1 and firm_after[0].entries == 4_000
    print(
        f"\nkill during list import: {len(kills)} of 2 imports killed while saving; version "
        f"after kills {firm[0].version} ({firm[0].entries} entries), after re-run "
        f"{firm_after[0].version} ({firm_after[0].entries} entries)"
    )


def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli(data, "init").returncode == 0
    manifest = _manifest(tmp_path / "m.csv", 20_000)
    procs = [
        subprocess.Popen(
            [str(BIN), "screen", str(manifest), "--no-opsin", "-o", str(tmp_path / f"o{i}.csv")],
            env=_env(data),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    errors = [p.stderr.read() if p.stderr else "" for p in procs]
    assert codes == [1, 1], errors
    with _store(data).session() as session:
        shown = list_screenings(session=session)
    assert len(shown) == 2 and all(s.lines == 20_000 for s in shown)
    print(f"\nconcurrent writers: 2 submitted, {len(shown)} stored complete, exit codes {codes}")
