"""Streaming screening: the same bytes and the same stored lines as the whole-file path,
whatever the chunk size; workers and caches do not change results; PostgreSQL through the CLI.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from precursorwatch.cli import app
from precursorwatch.errors import ManifestError
from precursorwatch.lists.load import bundled_lists_dir, load_bundled
from precursorwatch.manifest.read import read_manifest
from precursorwatch.report.terminal import TableSink, print_table
from precursorwatch.report.writers import csv_text
from precursorwatch.run.screener import Screener
from precursorwatch.run.service import (
    StoreResolutionCache,
    declarations_from_frame,
    make_screener,
    open_ready_store,
    screen_file,
)
from precursorwatch.run.streaming import CsvSink, StoreSink, stream_screen
from precursorwatch.run.workers import FORK_MIN
from precursorwatch.settings import get_settings
from precursorwatch.store import get_screening, list_screenings, save_screening

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from generate import generate

SAMPLES = Path(__file__).parent.parent / "sample_shipments"
MANIFESTS = [
    SAMPLES / "customs_import_declaration.csv",
    SAMPLES / "distributor_orders.csv",
    SAMPLES / "broker_file.xlsx",
]


@pytest.fixture(scope="module")
def watchlist():  # type: ignore[no-untyped-def]
    return load_bundled(bundled_lists_dir())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "manifest.csv"
    generate(path, 1_500, seed=11, distinct=220)
    return path


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_streamed_csv_is_byte_identical_to_the_whole_file_report(watchlist, manifest: Path) -> None:  # type: ignore[no-untyped-def]
    frame, _ = read_manifest(manifest)
    expected = csv_text(Screener(watchlist, use_opsin=False).screen_frame(frame))
    buf = io.StringIO()
    done = stream_screen(
        manifest, Screener(watchlist, use_opsin=False), sinks=[CsvSink(buf)], chunk_rows=7
    )
    assert buf.getvalue() == expected
    assert done.lines == len(frame)


def test_chunk_size_does_not_change_results(watchlist, generated: Path) -> None:  # type: ignore[no-untyped-def]
    screener = Screener(watchlist, use_opsin=False)
    small, big = io.StringIO(), io.StringIO()
    stream_screen(generated, screener, sinks=[CsvSink(small)], chunk_rows=250)
    done = stream_screen(generated, Screener(watchlist, use_opsin=False), sinks=[CsvSink(big)])
    assert small.getvalue() == big.getvalue()
    assert done.lines == 1_500
    assert done.flagged == sum(done.by_risk[r] for r in ("high", "medium"))
    assert {"read", "identify", "match", "score", "CsvSink"} <= set(done.seconds)


def test_two_workers_give_the_same_results_as_one(watchlist, generated: Path) -> None:  # type: ignore[no-untyped-def]
    one, two = io.StringIO(), io.StringIO()
    stream_screen(generated, Screener(watchlist, use_opsin=False), sinks=[CsvSink(one)])
    stream_screen(generated, Screener(watchlist, use_opsin=False, workers=2), sinks=[CsvSink(two)])
    assert one.getvalue() == two.getvalue()


def test_store_caches_results_across_runs(tmp_db_url: str, generated: Path) -> None:
    store = open_ready_store(get_settings(database_url=tmp_db_url))
    cold, warm = io.StringIO(), io.StringIO()
    first = make_screener(store, use_opsin=False)
    stream_screen(generated, first, sinks=[CsvSink(cold)])
    assert first.timings.get("match", 0) > 0
    second = Screener(first.watchlist, use_opsin=False, cache=StoreResolutionCache(store))
    stream_screen(generated, second, sinks=[CsvSink(warm)])
    assert warm.getvalue() == cold.getvalue()
    assert "match" not in second.timings  # every distinct declaration came from the store


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_streamed_store_lines_equal_save_screening(tmp_db_url: str, manifest: Path) -> None:
    store = open_ready_store(get_settings(database_url=tmp_db_url))
    screener = make_screener(store, use_opsin=False)
    frame, _ = read_manifest(manifest)
    out = screener.screen_frame(frame)
    from precursorwatch.run.results import results_from_frame

    with store.session() as session:
        whole_id = save_screening(
            session=session,
            actor="t",
            input_name=manifest.name,
            input_hash="h",
            list_versions=screener.watchlist.versions(),
            lines=list(zip(declarations_from_frame(frame), results_from_frame(out), strict=True)),
        )
    sink = StoreSink(
        store,
        actor="t",
        input_name=manifest.name,
        input_hash="h",
        list_versions=screener.watchlist.versions(),
    )
    stream_screen(manifest, screener, sinks=[sink], chunk_rows=5)
    with store.session() as session:
        listed = {s.screening_id for s in list_screenings(session=session)}
    assert sink.screening_id not in listed  # not complete yet: invisible
    streamed_id = sink.finish()
    with store.session() as session:
        whole = get_screening(session=session, screening_id=whole_id)
        streamed = get_screening(session=session, screening_id=streamed_id)
    assert streamed.lines == whole.lines
    assert (streamed.summary.lines, streamed.summary.flagged, streamed.summary.by_risk) == (
        whole.summary.lines,
        whole.summary.flagged,
        whole.summary.by_risk,
    )


def test_screen_file_without_results_keeps_only_counts(tmp_db_url: str) -> None:
    store = open_ready_store(get_settings(database_url=tmp_db_url))
    manifest = MANIFESTS[0]
    kept = screen_file(manifest, store=store, screener=make_screener(store, use_opsin=False))
    lean = screen_file(
        manifest, store=store, screener=make_screener(store, use_opsin=False), keep_results=False
    )
    assert lean.lines == [] and lean.frame.empty
    assert (lean.line_count, lean.flagged_count) == (len(kept.results), kept.frame.flagged.sum())
    with store.session() as session:
        a = get_screening(session=session, screening_id=kept.screening_id)
        b = get_screening(session=session, screening_id=lean.screening_id)
    assert a.lines == b.lines


def test_table_sink_prints_what_print_table_prints(watchlist, generated: Path) -> None:  # type: ignore[no-untyped-def]
    frame, _ = read_manifest(generated)
    whole = io.StringIO()
    print_table(
        Screener(watchlist, use_opsin=False).screen_frame(frame),
        console=Console(file=whole, width=180),
    )
    sink = TableSink()
    stream_screen(generated, Screener(watchlist, use_opsin=False), sinks=[sink], chunk_rows=400)
    streamed = io.StringIO()
    sink.print(Console(file=streamed, width=180))
    assert streamed.getvalue() == whole.getvalue()


def test_cli_screens_into_postgresql_and_the_screening_reads_back(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRECURSORWATCH_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "report.csv"
    manifest = MANIFESTS[0]
    result = CliRunner().invoke(
        app, ["screen", str(manifest), "-o", str(out), "--db", postgres_url, "--no-opsin"]
    )
    assert result.exit_code == 1, result.output
    report = pd.read_csv(out, dtype=str, keep_default_na=False)
    store = open_ready_store(get_settings(database_url=postgres_url))
    with store.session() as session:
        (summary,) = list_screenings(session=session)
        saved = get_screening(session=session, screening_id=summary.screening_id)
    assert summary.input_name == manifest.name
    assert summary.lines == len(report) == len(saved.lines)
    assert summary.flagged == int((report["flagged"] == "true").sum()) > 0
    assert [r.risk for _, r in saved.lines] == list(report["risk"])
    assert [r.matched_key for _, r in saved.lines] == list(report["matched_key"])


@pytest.fixture(scope="module")
def three_chunks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three chunks of 1,000 lines, each with enough new declarations to fork workers."""
    path = tmp_path_factory.mktemp("pipe") / "manifest.csv"
    generate(path, 3_000, seed=5, distinct=1_500)
    return path


class _Recorder:
    """A sink that records what happened when each chunk reached it."""

    def __init__(self, events: list[str], fail_at: int = 0) -> None:
        self.events = events
        self.fail_at = fail_at
        self.seen = 0
        self.children_alive: list[int] = []

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        self.seen += 1
        self.events.append(f"sink {self.seen}")
        self.children_alive.append(len(multiprocessing.active_children()))
        if self.seen == self.fail_at:
            raise RuntimeError("disk full")


def _recorded_chunks(monkeypatch: pytest.MonkeyPatch, events: list[str], fail_after: int = 0):  # type: ignore[no-untyped-def]
    """Make stream_screen's reader log each chunk it reads (and fail after ``fail_after``)."""
    import precursorwatch.run.streaming as streaming

    real = streaming.open_manifest

    def logged(path, **kwargs):  # type: ignore[no-untyped-def]
        info, chunks = real(path, **kwargs)

        def each():  # type: ignore[no-untyped-def]
            for n, chunk in enumerate(chunks, 1):
                if n == fail_after + 1 and fail_after:
                    raise ManifestError("line 2001: cut short", path=str(path))
                events.append(f"read {n}")
                yield chunk

        return info, each()

    monkeypatch.setattr(streaming, "open_manifest", logged)


def test_next_chunk_is_read_and_last_written_while_workers_judge(
    watchlist, three_chunks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    serial = io.StringIO()
    stream_screen(three_chunks, Screener(watchlist, use_opsin=False), sinks=[CsvSink(serial)])
    events: list[str] = []
    _recorded_chunks(monkeypatch, events)
    screener = Screener(watchlist, use_opsin=False, workers=2, later_fork_min=FORK_MIN)
    real_begin = screener.begin_frame

    def begin(df):  # type: ignore[no-untyped-def]
        events.append("begin")
        return real_begin(df)

    monkeypatch.setattr(screener, "begin_frame", begin)
    piped, recorder = io.StringIO(), _Recorder(events)
    done = stream_screen(three_chunks, screener, sinks=[CsvSink(piped), recorder], chunk_rows=1_000)
    assert piped.getvalue() == serial.getvalue()
    assert done.lines == 3_000
    # chunk 2 is read while chunk 1 is judged; chunk 1 is written (in the sinks' thread) once
    # chunk 2 is being judged, and each chunk is written after the one before it
    main = [e for e in events if not e.startswith("sink")]
    assert main == ["read 1", "begin", "read 2", "begin", "read 3", "begin"]
    assert [e for e in events if e.startswith("sink")] == ["sink 1", "sink 2", "sink 3"]
    begins = [n for n, e in enumerate(events) if e == "begin"]
    assert begins[1] < events.index("sink 1") and begins[2] < events.index("sink 2")
    # the workers judging chunks 2 and 3 were alive while chunks 1 and 2 were written
    assert recorder.children_alive[0] >= 2 and recorder.children_alive[1] >= 2
    assert multiprocessing.active_children() == []


def test_a_failing_sink_stops_the_workers_judging_the_next_chunk(
    watchlist, three_chunks: Path
) -> None:  # type: ignore[no-untyped-def]
    recorder = _Recorder([], fail_at=1)
    screener = Screener(watchlist, use_opsin=False, workers=2, later_fork_min=FORK_MIN)
    with pytest.raises(RuntimeError, match="disk full"):
        stream_screen(three_chunks, screener, sinks=[recorder], chunk_rows=1_000)
    assert recorder.children_alive[0] >= 2  # chunk 2 was being judged when the sink failed
    assert multiprocessing.active_children() == []
    # the screener is usable again: the next file is judged in full
    assert len(screener.screen_frame(read_manifest(MANIFESTS[0])[0])) > 0
    stopped = screener.begin_frame(read_manifest(three_chunks)[0])
    stopped.cancel()
    with pytest.raises(RuntimeError, match="cancelled"):
        stopped.result()


def test_an_unreadable_later_chunk_comes_after_the_chunks_before_it(
    watchlist, three_chunks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    events: list[str] = []
    _recorded_chunks(monkeypatch, events, fail_after=2)
    recorder = _Recorder(events)
    screener = Screener(watchlist, use_opsin=False, workers=2, later_fork_min=FORK_MIN)
    with pytest.raises(ManifestError, match="line 2001"):
        stream_screen(three_chunks, screener, sinks=[recorder], chunk_rows=1_000)
    assert events == ["read 1", "read 2", "sink 1", "sink 2"]  # nothing read is lost
    assert multiprocessing.active_children() == []


def test_a_later_chunk_with_few_new_declarations_is_judged_here(
    watchlist, three_chunks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Once a chunk has been judged, a later chunk forks workers only for
    ``later_fork_min`` new declarations or more: fewer are judged in this process (no fork
    waiting for the sinks' thread), with the same results."""
    import precursorwatch.run.screener as screener_module

    serial = io.StringIO()
    stream_screen(three_chunks, Screener(watchlist, use_opsin=False), sinks=[CsvSink(serial)])
    forked: list[int] = []
    real = screener_module.judge_forked

    def counted(screener, keys, todo):  # type: ignore[no-untyped-def]
        forked.append(len(keys))
        return real(screener, keys, todo)

    monkeypatch.setattr(screener_module, "judge_forked", counted)
    recorder = _Recorder([])
    screener = Screener(watchlist, use_opsin=False, workers=2)
    assert screener.later_fork_min > 1_000  # more than a 1,000-line chunk can bring
    piped = io.StringIO()
    stream_screen(three_chunks, screener, sinks=[CsvSink(piped), recorder], chunk_rows=1_000)
    assert piped.getvalue() == serial.getvalue()
    # chunk 1 (nothing judged yet) was judged in workers; chunks 2 and 3, each with over
    # FORK_MIN new declarations of their own, here
    assert len(forked) == 1 and forked[0] >= FORK_MIN
    assert recorder.children_alive == [0, 0, 0]
    assert multiprocessing.active_children() == []


def test_a_chunk_judged_here_is_written_while_the_next_is_read(
    watchlist, three_chunks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Judged in this process, a chunk goes to the sinks' thread before the next chunk is read
    (the pipeline holds one chunk less than when workers judge), and is written while the next
    is read: chunk 1's sink waits until chunk 2 has been read, which could never happen if the
    sinks were called where the chunks are read."""
    import precursorwatch.run.streaming as streaming

    events: list[str] = []
    _recorded_chunks(monkeypatch, events)
    second_read = threading.Event()

    class Waiting(_Recorder):
        def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
            if self.seen == 0:
                self.waited = second_read.wait(timeout=30)
            super().__call__(chunk, out)

    sink = Waiting(events)
    screener = Screener(watchlist, use_opsin=False)
    original = screener.begin_frame

    def begin(df):  # type: ignore[no-untyped-def]
        if "read 2" in events:
            second_read.set()
        return original(df)

    real_put = streaming.SinkLane.put

    def put(lane, chunk, out):  # type: ignore[no-untyped-def]
        events.append("handed over")
        real_put(lane, chunk, out)

    monkeypatch.setattr(screener, "begin_frame", begin)
    monkeypatch.setattr(streaming.SinkLane, "put", put)
    done = stream_screen(three_chunks, screener, sinks=[sink], chunk_rows=1_000)
    assert sink.waited and done.lines == 3_000
    main = [e for e in events if not e.startswith("sink")]
    assert main == ["read 1", "handed over", "read 2", "handed over", "read 3", "handed over"]
    assert [e for e in events if e.startswith("sink")] == ["sink 1", "sink 2", "sink 3"]


def test_no_full_collection_while_a_file_is_screened(watchlist, three_chunks: Path) -> None:  # type: ignore[no-untyped-def]
    """Full collections walk every object alive and find next to nothing: paused while a file
    is screened (young ones go on), the collector's settings restored after, also on failure."""
    import gc

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    def sink(chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        seen.append(gc.get_threshold())

    stream_screen(
        three_chunks, Screener(watchlist, use_opsin=False), sinks=[sink], chunk_rows=1_000
    )
    assert len(seen) == 3
    assert all(t[:2] == before[:2] and t[2] > 1_000_000 for t in seen)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="disk full"):
        stream_screen(
            three_chunks,
            Screener(watchlist, use_opsin=False),
            sinks=[_Recorder([], 2)],
            chunk_rows=1_000,
        )
    assert gc.get_threshold() == before


def test_screenings_in_two_threads_share_the_pause() -> None:
    """The settings come back when the last screening ends, not the first (web jobs)."""
    import gc

    from precursorwatch.run.memory import full_collections_paused

    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    during: list[int] = []

    def first() -> None:
        with full_collections_paused():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with full_collections_paused():
            second_in.set()
            first_out.wait(10)
            during.append(gc.get_threshold()[2])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert during and during[0] > 1_000_000  # still paused after the first one ended
    assert gc.get_threshold() == before


def test_a_file_is_screened_with_arrow_buffers_from_a_pool_that_gives_pages_back(
    watchlist,  # type: ignore[no-untyped-def]
    three_chunks: Path,
) -> None:
    """Arrow's default pool (mimalloc) keeps each thread's freed pages; a screening switches
    the process to jemalloc, which gives them back, so a long file's peak stays near a short
    one's."""
    import pyarrow as pa

    from precursorwatch.run import memory

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this Arrow was built without jemalloc")
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    memory.use_returning_arrow_pool.cache_clear()
    pools: list[str] = []

    def sink(chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        pools.append(pa.default_memory_pool().backend_name)

    try:
        stream_screen(
            three_chunks, Screener(watchlist, use_opsin=False), sinks=[sink], chunk_rows=1_000
        )
    finally:
        pa.set_memory_pool(previous)
    assert pools == ["jemalloc"] * 3
