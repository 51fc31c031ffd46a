"""Screen a manifest of any size in bounded memory: chunks in, results out as they come.

:func:`stream_screen` reads a manifest chunk by chunk (``manifest.open_manifest``),
screens each chunk with one :class:`~precursorwatch.run.screener.Screener` (distinct declarations
are judged once per run, or once ever with the store's cache) and hands the chunk and its
results to *sinks*, then forgets them. Peak memory depends on the chunk size and on the number
of distinct declarations, not on the number of lines. While one chunk's new declarations are
judged (in forked workers, or on a Dask cluster), the next chunk is read and the previous
chunk's results go to the sinks, so neither waits for the other. The sinks here:

- :class:`CsvSink`: the CSV report, byte for byte what
  :class:`~precursorwatch.report.writers.CsvReport` writes, but column-wise;
- :class:`~precursorwatch.report.terminal.TableSink`: what the terminal table shows (the
  first lines of each flagged risk tier, and the counts);
- :class:`~precursorwatch.run.record.StoreSink`: the screening saved in the store, a block of
  lines committed per chunk and the screening marked complete only at the end.

A :class:`~precursorwatch.run.progress.ScreeningProgress` given to :func:`stream_screen` counts
the lines read and judged, and can stop the screening between chunks.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

import pandas as pd

from precursorwatch.manifest.read import ManifestInfo, open_manifest
from precursorwatch.models import Watchlist
from precursorwatch.report.writers import CsvReport
from precursorwatch.run.memory import (
    full_collections_paused,
    release_freed_memory,
    use_returning_arrow_pool,
)
from precursorwatch.run.progress import ScreeningCancelled, ScreeningProgress
from precursorwatch.run.record import StoreSink

__all__ = [
    "CHUNK_ROWS",
    "CsvSink",
    "DaskScreener",
    "FrameScreener",
    "PendingResult",
    "ScreeningProgress",
    "Sink",
    "SinkLane",
    "StoreSink",
    "StreamResult",
    "stream_screen",
]

#: Lines per chunk: the peak memory depends on it, not on the file's size.
CHUNK_ROWS = 200_000


class PendingResult(Protocol):
    """A frame being screened (:meth:`Screener.begin_frame`)."""

    def judged_elsewhere(self) -> bool:
        """Whether other processes judge it while the caller goes on (until waited for)."""

    def wait(self) -> None:
        """Until its judging is done (the screener can begin the next frame then)."""

    def result(self) -> pd.DataFrame:
        """The result frame, one row per input row."""

    def cancel(self) -> None:
        """Stop the judging: the result is not wanted."""


class FrameScreener(Protocol):
    """What :func:`stream_screen` needs of a screener (:class:`Screener` or a Dask one)."""

    @property
    def watchlist(self) -> Watchlist: ...

    @property
    def timings(self) -> dict[str, float]: ...

    def screen_frame(self, df: pd.DataFrame, /) -> pd.DataFrame: ...

    def begin_frame(self, df: pd.DataFrame, /) -> PendingResult: ...


class Sink(Protocol):
    """Receives each screened chunk: the canonical input frame and its result frame."""

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame, /) -> None: ...


@dataclass
class StreamResult:
    """What a streamed screening saw: counts, what was detected, seconds per stage."""

    info: ManifestInfo
    lines: int = 0
    flagged: int = 0
    by_risk: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


def stream_screen(
    path: Path,
    screener: FrameScreener,
    *,
    sinks: Sequence[Sink] = (),
    mapping: dict[str, str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: Callable[[int], None] | None = None,
    progress: ScreeningProgress | None = None,
) -> StreamResult:
    """Screen ``path`` chunk by chunk, giving every chunk to each sink in order.

    Raises :class:`~precursorwatch.errors.ManifestError` when the file cannot be read (before
    any sink is called when detection fails; a sink may have seen earlier chunks when a later
    part of the file is unreadable). ``seconds`` holds ``read``, ``identify``, ``match``,
    ``score``, ``broadcast`` and one entry per sink class (``CsvSink`` ...). ``progress``
    counts the lines read and judged; cancelled, the screening stops when it next reads a
    chunk (the judging under way is stopped; the chunks written before stay in the sinks) and
    raises :class:`~precursorwatch.run.progress.ScreeningCancelled`.
    """
    info, chunks = open_manifest(Path(path), mapping=mapping, chunk_rows=chunk_rows)
    result = StreamResult(info)
    seconds: dict[str, float] = {}
    before = dict(screener.timings)

    def read() -> pd.DataFrame | None:
        if progress is not None:
            progress.check()
        t0 = time.perf_counter()
        try:
            got = next(chunks, None)
        finally:
            seconds["read"] = seconds.get("read", 0.0) + time.perf_counter() - t0
        if got is not None and progress is not None:
            progress.add_read(len(got))
        return got

    use_returning_arrow_pool()
    with full_collections_paused():
        _screen_chunks(screener, read, SinkLane(sinks, seconds), result, on_chunk, progress)
    _flush(sinks)
    if progress is not None:
        progress.finish()
    for stage, total in screener.timings.items():
        seconds[stage] = seconds.get(stage, 0.0) + total - before.get(stage, 0.0)
    result.seconds = dict(seconds)
    return result


def _screen_chunks(
    screener: FrameScreener,
    read: Callable[[], pd.DataFrame | None],
    lane: SinkLane,
    result: StreamResult,
    on_chunk: Callable[[int], None] | None,
    progress: ScreeningProgress | None,
) -> None:
    """:func:`stream_screen`'s pipeline; counts into ``result``.

    While other processes judge a chunk (forked workers, a cluster), the next chunk is read,
    and begun as soon as this one is judged, so that its judging overlaps this one's
    broadcast. A chunk judged in this process, or known already, is broadcast and handed to
    the sinks' lane first, and the next chunk read after: the sinks write one chunk while the
    next is read and broadcast either way, but the pipeline then holds one chunk less (a long
    file's peak memory stays near a short one's, whose chunks are mostly judged elsewhere).
    """
    if hasattr(screener, "before_fork"):  # no sink's thread runs while workers are forked
        screener.before_fork = lane.quiesce
    chunk = read()
    pending = screener.begin_frame(chunk) if chunk is not None else None
    following: PendingResult | None = None
    failure: Exception | None = None

    def read_next() -> pd.DataFrame | None:
        nonlocal failure
        try:
            return read()
        except ScreeningCancelled:
            raise  # at once: what is being judged is not wanted
        except Exception as exc:  # raised once this chunk is in the sinks: nothing lost
            failure = exc
            return None

    try:
        while chunk is not None and pending is not None:
            early = pending.judged_elsewhere()
            ahead = read_next() if early else None
            pending.wait()
            if ahead is not None:
                following = screener.begin_frame(ahead)
            out = pending.result()
            lane.put(chunk, out)
            result.lines += len(out)
            if len(out):
                result.flagged += int(out["flagged"].sum())
                result.by_risk.update(_risk_counts(out["risk"]))
            if on_chunk is not None:
                on_chunk(len(chunk))
            if progress is not None:
                progress.add_judged(len(out))
            del out
            if not early and failure is None:
                ahead = read_next()
                following = screener.begin_frame(ahead) if ahead is not None else None
            chunk, pending, following = ahead, following, None
            release_freed_memory()
        lane.wait()
    finally:  # a sink or the reader failed: stop what is still being judged
        for begun in (pending, following):
            if begun is not None:
                begun.cancel()
        if hasattr(screener, "before_fork"):
            screener.before_fork = None
        lane.close()
    if failure is not None:
        raise failure


def _flush(sinks: Sequence[Sink]) -> None:
    """Wait for the sinks that write in a thread of their own (a ``flush`` method)."""
    for sink in sinks:
        flush = getattr(sink, "flush", None)
        if flush is not None:
            flush()


class SinkLane:
    """The sinks of a streamed screening, called in a thread of their own.

    Each screened chunk is handed to every sink in order, one chunk at a time, while the
    screening reads and broadcasts the next one: on two cores, writing the report and the
    record overlaps with reading and broadcasting instead of following them. At most one
    chunk is in the sinks, so the pipeline holds one chunk more than without the lane. What a
    sink raises is raised by the next :meth:`put` or by :meth:`wait`.
    """

    def __init__(self, sinks: Sequence[Sink], seconds: dict[str, float]) -> None:
        self._sinks = tuple(sinks)
        self._seconds = seconds
        self._thread: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None

    def put(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Hand ``chunk`` and its results to the sinks, once the chunk before is in them."""
        if not self._sinks:
            return
        self.wait()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sinks")
        self._writing = self._thread.submit(self._write, chunk, out)

    def _write(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        for sink in self._sinks:
            t0 = time.perf_counter()
            sink(chunk, out)
            name = type(sink).__name__
            self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - t0

    def wait(self) -> None:
        """Until the chunks handed over are in every sink; raise what a sink raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def quiesce(self) -> None:
        """Until no thread of the lane or of a sink is working (before workers are forked)."""
        self.wait()
        _flush(self._sinks)

    def close(self) -> None:
        """Wait for the chunk in the sinks (its error is not raised: the screening is failing
        already, or :meth:`wait` raised it) and end the thread."""
        with suppress(Exception):
            self.wait()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True)


def _risk_counts(risk: pd.Series) -> dict[str, int]:
    """Lines per risk tier, counted in C."""
    return {
        str(tier): int(count) for tier, count in risk.value_counts(sort=False, dropna=False).items()
    }


class DaskScreener:
    """Screens each chunk on a Dask cluster (:func:`precursorwatch.run.dask.screen_dataframe`).

    Every worker process builds the list index once and keeps its resolutions; the chunk is
    split in one partition per worker thread. Raises :class:`~precursorwatch.errors.
    PrecursorWatchError` when the scheduler cannot be reached.
    """

    def __init__(
        self,
        address: str,
        watchlist: Watchlist,
        *,
        use_opsin: bool = True,
        as_of: date | None = None,
    ) -> None:
        from precursorwatch.errors import PrecursorWatchError

        try:
            distributed: Any = importlib.import_module("dask.distributed")
            self.client: Any = distributed.Client(address, timeout=20)
        except (ImportError, OSError) as exc:
            raise PrecursorWatchError(
                f"cannot use the Dask scheduler {address!r}: {exc}; install the 'dask' extra "
                "and check the address (e.g. tcp://host:8786)"
            ) from exc
        self.watchlist = watchlist
        self.use_opsin = use_opsin
        #: The day whose law the cluster applies (recorded with the screening).
        self.as_of = as_of or date.today()
        self.timings: dict[str, float] = {}
        self.partitions = max(1, sum(self.client.nthreads().values()))

    def screen_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The result frame of ``df``, computed on the cluster, rows in input order."""
        return self.begin_frame(df).result()

    def begin_frame(self, df: pd.DataFrame) -> _ClusterFrame:
        """Send ``df`` to the cluster; the cluster screens it while the caller goes on."""
        from precursorwatch.run.dask import screen_dataframe

        dd: Any = importlib.import_module("dask.dataframe")
        ddf = dd.from_pandas(df.reset_index(drop=True), npartitions=self.partitions, sort=False)
        future = self.client.compute(
            screen_dataframe(ddf, self.watchlist, use_opsin=self.use_opsin, as_of=self.as_of)
        )
        return _ClusterFrame(future, self.timings)

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()


class _ClusterFrame:
    """A frame being screened on a Dask cluster (a ``distributed`` future)."""

    def __init__(self, future: Any, timings: dict[str, float]) -> None:
        self._future = future
        self._timings = timings
        self._t0 = time.perf_counter()
        self._out: pd.DataFrame | None = None

    def judged_elsewhere(self) -> bool:
        """True until the cluster's result is in."""
        return self._out is None

    def wait(self) -> None:
        """Until the cluster has the result (``cluster`` seconds counted from the start)."""
        if self._out is None:
            out: pd.DataFrame = self._future.result()
            self._out = out.reset_index(drop=True)
            spent = time.perf_counter() - self._t0
            self._timings["cluster"] = self._timings.get("cluster", 0.0) + spent

    def result(self) -> pd.DataFrame:
        """The result frame, rows in input order."""
        self.wait()
        assert self._out is not None
        return self._out

    def cancel(self) -> None:
        """Drop the computation on the cluster."""
        if self._out is None:
            self._future.cancel()


# --- CSV -------------------------------------------------------------------------------------


class CsvSink:
    """The CSV report as a sink: :class:`~precursorwatch.report.writers.CsvReport`, header with the
    first chunk."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._report: CsvReport | None = None

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Append the rows of one result frame (the header first, with the first chunk)."""
        if self._report is None:
            self._report = CsvReport(self._stream)
        self._report.write(out)
