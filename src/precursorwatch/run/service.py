"""Workflows the CLI and the API share: the store ready with lists, a manifest screened and kept.

Each function is one use case; the edges only parse arguments, call one of these and print or
serialise what it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from precursorwatch.lists.load import bundled_lists_dir, load_bundled, load_list_file
from precursorwatch.manifest.read import ManifestInfo
from precursorwatch.models import DeclarationLine, LineResult, Watchlist
from precursorwatch.run.results import results_from_frame
from precursorwatch.run.screener import Screener
from precursorwatch.run.streaming import CHUNK_ROWS, FrameScreener, Sink, StoreSink, stream_screen
from precursorwatch.settings import Settings
from precursorwatch.store import (
    ImportOutcome,
    Store,
    cache_get_many,
    cache_put_many,
    current_watchlist,
    import_lists,
    open_store,
    store_is_empty,
)
from precursorwatch.store.stream import purge_incomplete_screenings

#: An incomplete screening older than this was left by a stopped run (a running one of any
#: realistic size ends well before).
STALE_SCREENING_AGE = timedelta(hours=6)


def open_ready_store(settings: Settings) -> Store:
    """Open (create, migrate) the configured store; load the bundled lists when it is empty.

    Screenings a killed run left incomplete for over :data:`STALE_SCREENING_AGE` are removed.
    """
    store = open_store(settings.resolved_database_url())
    with store.session() as session:
        empty = store_is_empty(session=session)
        purge_incomplete_screenings(session=session, older_than=STALE_SCREENING_AGE)
    if empty:
        load_bundled_lists(store, settings.lists_dir)
    return store


def load_bundled_lists(
    store: Store, lists_dir: Path | None = None, actor: str = "system"
) -> list[ImportOutcome]:
    """Import the bundled lists; unchanged lists stay at their version (a no-op)."""
    directory = lists_dir or bundled_lists_dir()
    watchlist = load_bundled(directory)
    with store.session() as session:
        return import_lists(
            session=session,
            lists=list(watchlist.lists.values()),
            substances=watchlist.substances,
            source_file=str(directory),
            actor=actor,
        )


def import_list_file(
    store: Store,
    path: Path,
    *,
    code: str | None = None,
    confidential: bool | None = None,
    actor: str = "system",
) -> ImportOutcome:
    """Validate and import a user's list file (YAML or CSV); refused whole when invalid."""
    with store.session() as session:
        known = dict(current_watchlist(session=session).substances)
    listdef, inline = load_list_file(path, known, code=code, confidential=confidential)
    with store.session() as session:
        outcomes = import_lists(
            session=session,
            lists=[listdef],
            substances={**known, **inline},
            source_file=str(path),
            actor=actor,
        )
    return outcomes[0]


def watchlist_of(store: Store) -> Watchlist:
    """The current version of every list in the store."""
    with store.session() as session:
        return current_watchlist(session=session)


class StoreResolutionCache:
    """The store's resolver_cache table as the engine's :class:`ResolutionCache`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached resolutions of ``keys`` under ``namespace``."""
        with self.store.session() as session:
            return cache_get_many(session=session, resolver_version=namespace, keys=keys)

    def put_all(self, batches: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        """Keep resolutions for the next run: every namespace's in one transaction (one
        commit, hence one sync of the SQLite journal, per judged part)."""
        with self.store.session() as session:
            for namespace, values in batches.items():
                cache_put_many(session=session, resolver_version=namespace, values=values)


def make_screener(
    store: Store, *, use_opsin: bool = True, opsin_timeout_s: float = 60.0, workers: int = 1
) -> Screener:
    """A screener over the store's current lists, caching resolutions in the store.

    ``workers`` > 1 judges new distinct declarations in that many processes.
    """
    return Screener(
        watchlist_of(store),
        use_opsin=use_opsin,
        opsin_timeout_s=opsin_timeout_s,
        cache=StoreResolutionCache(store),
        workers=workers,
    )


def declarations_from_frame(frame: pd.DataFrame) -> list[DeclarationLine]:
    """DeclarationLines of a canonical manifest frame (quantities parsed, text kept)."""
    from precursorwatch.manifest.quantities import parse_quantity

    lines = []
    for r in frame.to_dict("records"):
        value, unit, _ = parse_quantity(str(r.get("quantity", "") or ""), str(r.get("unit") or ""))
        lines.append(
            DeclarationLine(
                row=int(r.get("row", 0) or 0),
                line_id=str(r.get("line_id") or ""),
                description=str(r.get("description") or ""),
                cas=str(r.get("cas") or ""),
                hs_code=str(r.get("hs_code") or ""),
                quantity=value,
                unit=unit or str(r.get("unit") or ""),
                smiles=str(r.get("smiles") or ""),
                origin=str(r.get("origin") or ""),
                destination=str(r.get("destination") or ""),
                consignor=str(r.get("consignor") or ""),
                consignee=str(r.get("consignee") or ""),
                warnings=tuple(w for w in str(r.get("warnings") or "").split("; ") if w),
            )
        )
    return lines


@dataclass(frozen=True)
class ScreenedFile:
    """A screened manifest: what was detected, each line with its result, the record id.

    ``lines``, ``results`` and ``frame`` are empty when the caller did not keep the results
    (``keep_results=False``: a file of any size); the counts are always there.
    """

    info: ManifestInfo | None
    lines: list[DeclarationLine]
    results: list[LineResult]
    frame: pd.DataFrame
    screening_id: str = ""
    line_count: int = 0
    flagged_count: int = 0
    seconds: Mapping[str, float] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (the screening record keeps it)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Keep:
    """A sink that keeps every chunk (the caller asked for the results)."""

    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []
        self.outs: list[pd.DataFrame] = []

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        self.frames.append(chunk)
        self.outs.append(out)


def screen_file(
    path: Path,
    *,
    store: Store,
    screener: FrameScreener | None = None,
    mapping: Mapping[str, str] | None = None,
    actor: str = "cli",
    record: bool = True,
    input_name: str | None = None,
    on_chunk: Callable[[int], None] | None = None,
    keep_results: bool = True,
    sinks: Sequence[Sink] = (),
    chunk_rows: int = CHUNK_ROWS,
) -> ScreenedFile:
    """Read, screen and (with ``record``) store a manifest file, chunk by chunk.

    Each chunk's results go to ``sinks`` (e.g. :class:`~precursorwatch.run.streaming.CsvSink`)
    and, with ``record``, into the store as they come; the screening is marked complete only
    when the last chunk is in. With ``keep_results=False`` nothing per line is kept in memory.
    Raises :class:`~precursorwatch.errors.ManifestError` when the file cannot be read; nothing
    is stored then (a file unreadable half way leaves an incomplete screening no reader lists).
    """
    screener = screener or make_screener(store)
    if isinstance(screener, Screener):
        screener.warm_up()
    keep = _Keep() if keep_results else None
    recorder = None
    if record:
        recorder = StoreSink(
            store,
            actor=actor,
            input_name=input_name or path.name,
            input_hash=file_sha256(path),
            list_versions=screener.watchlist.versions(),
        )
    everyone: list[Sink] = [*sinks, *(s for s in (keep, recorder) if s is not None)]
    done = stream_screen(
        path,
        screener,
        sinks=everyone,
        mapping=dict(mapping) if mapping else None,
        chunk_rows=chunk_rows,
        on_chunk=on_chunk,
    )
    screening_id = recorder.finish() if recorder is not None else ""
    lines: list[DeclarationLine] = []
    results: list[LineResult] = []
    out = pd.DataFrame()
    if keep is not None:
        frame = pd.concat(keep.frames, ignore_index=True) if keep.frames else pd.DataFrame()
        out = (
            pd.concat(keep.outs, ignore_index=True)
            if keep.outs
            else screener.screen_frame(pd.DataFrame())
        )
        lines = declarations_from_frame(frame)
        results = results_from_frame(out)
    return ScreenedFile(
        done.info, lines, results, out, screening_id, done.lines, done.flagged, done.seconds
    )
