"""What users run, through the real command line: every core by default, the screening recorded
and read back exactly (reports, history, rescreen), progress only on a terminal, pruning."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from precursorwatch.cli import app
from precursorwatch.cli.screening import ProgressBar
from precursorwatch.lists.load import bundled_lists_dir, load_bundled
from precursorwatch.manifest.read import read_manifest
from precursorwatch.report.writers import csv_text, results_frame
from precursorwatch.run.progress import ScreeningCancelled, ScreeningProgress
from precursorwatch.run.rescreen import rescreen
from precursorwatch.run.results import results_from_frame
from precursorwatch.run.screener import Screener
from precursorwatch.run.service import (
    declarations_from_frame,
    default_workers,
    make_screener,
    open_ready_store,
)
from precursorwatch.run.streaming import stream_screen
from precursorwatch.settings import get_settings
from precursorwatch.store import (
    get_screening,
    list_audit,
    list_screenings,
    screening_sizes,
    substance_history,
)

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from generate import generate

SAMPLES = Path(__file__).parent.parent / "sample_shipments"
BIN = Path(sys.executable).parent / "precursorwatch"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_workers_default_to_the_cores_this_process_may_use(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_workers() == len(os.sched_getaffinity(0)) >= 1
    asked: list[int] = []
    import precursorwatch.run.service as service

    real = service.make_screener

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "make_screener", spy)
    manifest = SAMPLES / "customs_import_declaration.csv"
    assert _cli("screen", str(manifest), "-o", str(tmp_path / "a.csv"), "--db", db).exit_code == 1
    assert (
        _cli("screen", str(manifest), "--format", "csv", "--workers", "1", "--db", db).exit_code
        == 1
    )
    assert asked == [default_workers(), 1]
    with open_ready_store(get_settings(database_url=db)).session() as session:
        assert len(list_screenings(session=session)) == 2  # recording stays on by default


@pytest.fixture(scope="module")
def three_chunks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "manifest.csv"
    generate(path, 3_000, seed=5, distinct=300)
    return path


def test_progress_counts_lines_read_and_judged_and_the_total(three_chunks: Path) -> None:
    seen: list[tuple[int, int]] = []
    progress = ScreeningProgress(on_change=lambda p: seen.append((p.read, p.judged)))
    thread = progress.count_lines_of(three_chunks)
    assert thread is not None
    thread.join(timeout=30)
    assert progress.total == 3_000 and progress.fraction == 0.0
    screener = Screener(load_bundled(bundled_lists_dir()), use_opsin=False)
    done = stream_screen(three_chunks, screener, chunk_rows=1_000, progress=progress)
    assert done.lines == 3_000 and progress.done and progress.fraction == 1.0
    assert seen[0] == (1_000, 0) and seen[-1] == (3_000, 3_000)
    reads = [r for r, _ in seen]
    judged = [j for _, j in seen]
    assert reads == sorted(reads) and judged == sorted(judged)
    assert all(j <= r for r, j in seen)
    assert progress.snapshot() == {
        "lines_read": 3_000, "lines_judged": 3_000, "total": 3_000, "done": True,
        "fraction": 1.0,
    }  # fmt: skip
    assert ScreeningProgress().count_lines_of(SAMPLES / "broker_file.xlsx") is None


def test_a_cancelled_screening_stops_before_the_next_chunk(
    three_chunks: Path, tmp_path: Path
) -> None:
    screener = Screener(load_bundled(bundled_lists_dir()), use_opsin=False)
    progress = ScreeningProgress()
    written: list[int] = []

    def sink(chunk: Any, out: Any) -> None:
        written.append(len(out))
        progress.cancel()

    with pytest.raises(ScreeningCancelled):
        stream_screen(three_chunks, screener, sinks=[sink], chunk_rows=1_000, progress=progress)
    assert written == [1_000] and not progress.done


def test_the_progress_bar_appears_only_after_its_delay() -> None:
    progress = ScreeningProgress(total=3_000)
    progress.add_read(2_000)
    progress.add_judged(1_000)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    quiet = ProgressBar(console, "screening m.csv", progress, delay=3_600)
    assert not quiet.shown() and list(quiet.display.get_renderables()) == []
    bar = ProgressBar(console, "screening m.csv", progress, delay=0)
    assert bar.shown() and bar.counts() == "2,000/3,000 lines read, 1,000 screened"
    console.print(*bar.display.get_renderables())
    assert "screening m.csv" in buf.getvalue() and "2,000/3,000 lines read" in buf.getvalue()
    progress.finish()
    assert not bar.shown()


def test_piped_output_has_no_progress(three_chunks: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PRECURSORWATCH_DATA_DIR": str(tmp_path / "data")}
    env.pop("PRECURSORWATCH_DATABASE_URL", None)
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [str(BIN), "screen", str(three_chunks), "-o", str(out), "--no-opsin"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert done.stderr.splitlines() == [f"3000 lines screened, {_flagged(out)} flagged -> {out}"]
    assert "\x1b" not in done.stderr and "\r" not in done.stderr


def _flagged(report: Path) -> int:
    return sum(1 for line in report.read_text(encoding="utf-8").splitlines() if ",true," in line)


def test_prune_through_the_cli_is_audited_and_history_shows_the_store(
    db: str, tmp_path: Path
) -> None:
    manifest = SAMPLES / "customs_import_declaration.csv"
    assert _cli("screen", str(manifest), "-o", str(tmp_path / "a.csv"), "--db", db).exit_code == 1
    listed = _cli("history", "--db", db)
    assert listed.exit_code == 0, listed.output
    assert "customs_import_declaration.csv" in listed.output
    assert "what the store keeps" in listed.output
    assert "1 screenings" in listed.output
    before = _cli("history", "acetone", "--db", db)
    assert before.exit_code == 0 and "history of Acetone" in before.output
    bad = _cli("prune", "--before", "last year", "--db", db)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    kept = _cli("prune", "--before", "2000-01-01", "--db", db)
    assert kept.exit_code == 0 and "pruned 0 screenings" in kept.output
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    pruned = _cli("prune", "--before", tomorrow, "--vacuum", "--db", db)
    assert pruned.exit_code == 0, pruned.output
    assert "pruned 1 screenings" in pruned.output and "60 lines" in pruned.output
    after = _cli("history", "--db", db)
    assert "pruned " in after.output
    store = open_ready_store(get_settings(database_url=db))
    with store.session(write=False) as session:
        (summary,) = list_screenings(session=session)
        assert summary.lines == 60 and summary.pruned_at is not None
        assert get_screening(session=session, screening_id=summary.screening_id).lines == ()
        event = list_audit(session=session, limit=1)[0]
        assert event.action == "screening.pruned" and event.actor == "cli"
        assert event.detail["screenings"] == [summary.screening_id]
    store.dispose()


@pytest.fixture(scope="module")
def stored_100k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """The bench generator's 100,000-line manifest (seed 7), screened by the default command."""
    tmp = tmp_path_factory.mktemp("m100k")
    manifest, out = tmp / "m100k.csv", tmp / "out.csv"
    generate(manifest, 100_000, seed=7)
    db = f"sqlite:///{tmp / 'store.sqlite'}"
    result = _cli("screen", str(manifest), "-o", str(out), "--no-opsin", "--db", db)
    assert result.exit_code == 1, result.output
    yield manifest, db, out


@pytest.mark.slow
def test_a_stored_100000_line_screening_reads_back_as_screened(
    stored_100k: tuple[Path, str, Path],
) -> None:
    manifest, db, out = stored_100k
    store = open_ready_store(get_settings(database_url=db))
    screener = make_screener(store, use_opsin=False)  # the store's cache: what was judged
    frame, _ = read_manifest(manifest)
    whole = screener.screen_frame(frame)
    # what the store kept before (each line with its declaration and whole result)
    expected = list(zip(declarations_from_frame(frame), results_from_frame(whole), strict=True))
    with store.session(write=False) as session:
        (summary,) = list_screenings(session=session)
        record = get_screening(session=session, screening_id=summary.screening_id)
        (size,) = screening_sizes(session=session)
        histories = {
            key: substance_history(session=session, key=key)
            for key in ("acetone", "toluene", "safrole", "1-phenyl-2-propanone")
        }
    assert list(record.lines) == expected
    report = csv_text(results_frame([r for _, r in record.lines], [d for d, _ in record.lines]))
    assert report == out.read_text(encoding="utf-8")  # byte for byte the CLI's report
    for key, rows in histories.items():
        wanted = [
            (d.line_id, d.consignee, d.destination, r.risk, d.description)
            for d, r in expected
            if r.matched_key == key
        ]
        got = [(h.line_id, h.consignee, h.destination, h.risk, h.description) for h in rows]
        assert got == wanted, key
    assert sum(len(rows) for rows in histories.values()) > 0
    # growth per line bounded: at most 100 bytes a line, 100 MB per million
    assert size.lines_stored == 100_000 and size.bytes < 100 * 100_000, size.bytes
    # rescreen --since with the same lists: every line checked, no risk went up
    again = rescreen(store, since=date.today() - timedelta(days=1), screener=screener)
    assert again.lines_checked == 100_000 and again.increases == []
    store.dispose()
