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
- :class:`TableSink`: what the terminal table shows (the first lines of each risk tier, and
  the counts);
- :class:`StoreSink`: the screening saved in the store, its lines committed chunk by chunk and
  the screening marked complete only at the end (:mod:`precursorwatch.store.stream`).
"""

from __future__ import annotations

import ctypes
import importlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

from precursorwatch.manifest.quantities import parse_quantity
from precursorwatch.manifest.read import ManifestInfo, open_manifest
from precursorwatch.models import Watchlist
from precursorwatch.report.writers import RISK_ORDER, CsvReport, print_results

#: Lines per chunk: the peak memory depends on it, not on the file's size.
CHUNK_ROWS = 200_000
_PLAIN_NUMBER = re.compile(r"^[0-9]{1,12}$")
_TEXT_FIELDS = (
    "line_id",
    "description",
    "cas",
    "hs_code",
    "smiles",
    "origin",
    "destination",
    "consignor",
    "consignee",
)
_PLAIN_TEXT = re.compile(r'^[^"\\\x00-\x1f\x7f-\U0010ffff]*$')


class PendingResult(Protocol):
    """A frame being screened (:meth:`Screener.begin_frame`)."""

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
) -> StreamResult:
    """Screen ``path`` chunk by chunk, giving every chunk to each sink in order.

    Raises :class:`~precursorwatch.errors.ManifestError` when the file cannot be read (before
    any sink is called when detection fails; a sink may have seen earlier chunks when a later
    part of the file is unreadable). ``seconds`` holds ``read``, ``identify``, ``match``,
    ``score``, ``broadcast`` and one entry per sink class (``CsvSink`` ...).
    """
    info, chunks = open_manifest(Path(path), mapping=mapping, chunk_rows=chunk_rows)
    result = StreamResult(info)
    seconds: dict[str, float] = {}
    before = dict(screener.timings)

    def read() -> pd.DataFrame | None:
        t0 = time.perf_counter()
        try:
            return next(chunks, None)
        finally:
            seconds["read"] = seconds.get("read", 0.0) + time.perf_counter() - t0

    chunk = read()
    pending = screener.begin_frame(chunk) if chunk is not None else None
    following: PendingResult | None = None
    failure: Exception | None = None
    try:
        while chunk is not None and pending is not None:
            try:  # the next chunk is read while this one is judged
                ahead = read()
            except Exception as exc:  # raised once this chunk is in the sinks: nothing lost
                ahead, failure = None, exc
            pending.wait()
            following = screener.begin_frame(ahead) if ahead is not None else None
            # this chunk's results are broadcast and written while the next one is judged
            out = pending.result()
            for sink in sinks:
                t0 = time.perf_counter()
                sink(chunk, out)
                name = type(sink).__name__
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
            result.lines += len(out)
            if len(out):
                result.flagged += int(out["flagged"].sum())
                result.by_risk.update(_risk_counts(out["risk"]))
            if on_chunk is not None:
                on_chunk(len(chunk))
            del out
            chunk, pending, following = ahead, following, None
            _release_freed_memory()
    finally:  # a sink or the reader failed: stop what is still being judged
        for begun in (pending, following):
            if begun is not None:
                begun.cancel()
    if failure is not None:
        raise failure
    for stage, total in screener.timings.items():
        seconds[stage] = seconds.get(stage, 0.0) + total - before.get(stage, 0.0)
    result.seconds = dict(seconds)
    return result


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (macOS, musl, Windows)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _release_freed_memory() -> None:
    """Give the heap pages freed by a chunk back to the system. Each chunk's frames leave
    holes in glibc's heap that later chunks do not fill exactly, so without this the peak
    grows with the file; with it, it stays flat."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


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

    def __init__(self, address: str, watchlist: Watchlist, *, use_opsin: bool = True) -> None:
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
            screen_dataframe(ddf, self.watchlist, use_opsin=self.use_opsin)
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


# --- terminal table --------------------------------------------------------------------------


class TableSink:
    """Keeps what the terminal table shows: the first ``limit`` lines of each risk tier."""

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self.kept: dict[str, list[pd.DataFrame]] = {}
        self._count: Counter[str] = Counter()
        self.lines = 0
        self.flagged = 0

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Count the chunk's lines and keep its first lines of tiers not yet full."""
        self.lines += len(out)
        self.flagged += int(out["flagged"].sum()) if len(out) else 0
        for risk, part in out.groupby("risk", sort=False):
            room = self.limit - self._count[str(risk)]
            if room > 0:
                self.kept.setdefault(str(risk), []).append(part.head(room))
                self._count[str(risk)] += min(room, len(part))

    def print(self, console: Any) -> None:
        """Print the table as :func:`~precursorwatch.report.writers.print_table` does for all."""
        frames = [
            f
            for risk in sorted(self.kept, key=lambda r: RISK_ORDER.get(r, 4))
            for f in self.kept[risk]
        ]
        rows = pd.concat(frames).to_dict("records") if frames else []
        print_results(console, rows, lines=self.lines, flagged=self.flagged, limit=self.limit)


# --- the store -------------------------------------------------------------------------------


def _json_texts(values: np.ndarray) -> list[str]:
    """JSON string literals of ``values`` (plain ASCII text is quoted without json.dumps)."""
    plain = _PLAIN_TEXT.match
    return [f'"{v}"' if plain(v) else json.dumps(v) for v in map(str, values)]


def _warning_lists(values: np.ndarray) -> list[str]:
    return ["[]" if not v else json.dumps([w for w in str(v).split("; ") if w]) for v in values]


class StoreSink:
    """Saves the screening in the store chunk by chunk; :meth:`finish` marks it complete.

    Each line is stored as :func:`precursorwatch.store.save_screening` stores it (the same
    columns and the same result JSON), so readers cannot tell the two paths apart.
    """

    def __init__(
        self,
        store: Any,
        *,
        actor: str,
        input_name: str,
        input_hash: str,
        list_versions: Mapping[str, str],
    ) -> None:
        self.store = store
        self.actor, self.input_name, self.input_hash = actor, input_name, input_hash
        self.list_versions = dict(list_versions)
        self.screening_id = ""
        self.position = 0
        self.flagged = 0
        self.by_risk: Counter[str] = Counter()
        self._heads: dict[tuple[str, str], str] = {}
        self._quantities: dict[tuple[str, str], tuple[float | None, str]] = {}

    def _begin(self) -> None:
        """Insert the (incomplete) screening row, once, when the first chunk arrives."""
        from precursorwatch.store.stream import begin_screening

        if self.screening_id:
            return
        with self.store.session() as session:
            self.screening_id = begin_screening(
                session=session,
                actor=self.actor,
                input_name=self.input_name,
                input_hash=self.input_hash,
                list_versions=self.list_versions,
            )

    def _quantity(self, text: str, unit: str) -> tuple[float | None, str]:
        """``parse_quantity``'s value and unit symbol (the manifest's unit when it gives none).

        A plain whole number is its own value; its unit is looked up once per unit text.
        """
        key = ("1", unit) if _PLAIN_NUMBER.match(text) else (text, unit)
        hit = self._quantities.get(key)
        if hit is None:
            if len(self._quantities) > 100_000:
                self._quantities.clear()
            value, symbol, _ = parse_quantity(key[0], unit)
            hit = self._quantities[key] = (value, symbol or unit)
        return (float(text), hit[1]) if key[0] != text else hit

    def _head(self, out: pd.DataFrame, i: int) -> str:
        """The result JSON of row ``i`` without its per-line fields (line id, reason, warnings),
        shared by every line with the same evidence and risk."""
        evidence = str(out["evidence"].iat[i] or "[]")
        key = (evidence, str(out["risk"].iat[i]))
        head = self._heads.get(key)
        if head is None:
            fields = {
                "flagged": bool(out["flagged"].iat[i]),
                "risk": out["risk"].iat[i],
                "matched_key": out["matched_key"].iat[i],
                "matched_name": out["matched_name"].iat[i],
                "matched_cas": out["matched_cas"].iat[i],
                "lists": [c for c in str(out["lists"].iat[i]).split(";") if c],
                "match_type": out["match_type"].iat[i],
                "score": float(out["score"].to_numpy(dtype=float)[i]),
            }
            if len(self._heads) > 200_000:
                self._heads.clear()
            head = self._heads[key] = json.dumps(fields)[1:-1] + ', "evidence": ' + evidence
        return head

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Insert the chunk's lines and commit them (still invisible to readers)."""
        from precursorwatch.store.stream import add_screening_lines

        self._begin()
        n = len(out)
        if not n:
            return

        def col(name: str) -> list[str]:
            if name not in chunk.columns:
                return [""] * n
            return ["" if v is None else str(v) for v in chunk[name].to_numpy(dtype=object)]

        rows_no = chunk["row"].to_numpy() if "row" in chunk.columns else np.arange(1, n + 1)
        parsed = [
            self._quantity(" ".join(q.split()), u)
            for q, u in zip(col("quantity"), col("unit"), strict=True)
        ]
        evidence = out["evidence"].to_numpy(dtype=object)
        risk = out["risk"].to_numpy(dtype=object)
        heads: list[str] = []
        seen: dict[tuple[str, str], str] = {}
        for i in range(n):
            key = (str(evidence[i] or "[]"), str(risk[i]))
            head = seen.get(key)
            if head is None:
                head = seen[key] = self._head(out, i)
            heads.append(head)
        warn_json = _warning_lists(out["warnings"].to_numpy(dtype=object))
        line_ids = _json_texts(out["line_id"].to_numpy(dtype=object))
        reasons = _json_texts(out["reason"].to_numpy(dtype=object))
        others = {name: col(name) for name in _TEXT_FIELDS}
        flagged = out["flagged"].to_numpy(dtype=bool)
        matched = out["matched_key"].to_numpy(dtype=object)
        match_type = out["match_type"].to_numpy(dtype=object)
        score = out["score"].to_numpy(dtype=float)
        rows = []
        for i in range(n):
            value, symbol = parsed[i]
            rows.append(
                {
                    "screening_id": self.screening_id,
                    "position": self.position + i,
                    "row": int(rows_no[i]),
                    **{name: values[i] for name, values in others.items()},
                    "quantity": value,
                    "unit": symbol,
                    "warnings": warn_json[i],
                    "risk": risk[i],
                    "flagged": bool(flagged[i]),
                    "matched_key": matched[i],
                    "match_type": match_type[i],
                    "score": float(score[i]),
                    "result": (
                        f'{{"line_id": {line_ids[i]}, {heads[i]}, '
                        f'"reason": {reasons[i]}, "warnings": {warn_json[i]}}}'
                    ),
                }
            )
        with self.store.session() as session:
            add_screening_lines(session=session, rows=rows)
        self.position += n
        self.flagged += int(flagged.sum())
        self.by_risk.update(_risk_counts(out["risk"]))

    def finish(self) -> str:
        """Mark the screening complete (counts, audit event); returns its id."""
        from precursorwatch.store.stream import finish_screening

        self._begin()
        with self.store.session() as session:
            finish_screening(
                session=session,
                screening_id=self.screening_id,
                line_count=self.position,
                flagged=self.flagged,
                by_risk=dict(self.by_risk),
                actor=self.actor,
                input_name=self.input_name,
                input_hash=self.input_hash,
                list_versions=self.list_versions,
            )
        return self.screening_id
