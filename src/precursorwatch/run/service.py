"""Workflows the CLI and the API share: the store ready with lists, a manifest screened and kept.

Each function is one use case; the edges only parse arguments, call one of these and print or
serialise what it returns.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from precursorwatch.lists.load import bundled_lists_dir, load_bundled, load_list_file
from precursorwatch.manifest.read import ManifestInfo
from precursorwatch.models import DeclarationLine, LineResult, Watchlist
from precursorwatch.run.progress import ScreeningProgress
from precursorwatch.run.record import StoreSink
from precursorwatch.run.results import results_from_frame
from precursorwatch.run.screener import Screener
from precursorwatch.run.streaming import CHUNK_ROWS, FrameScreener, Sink, stream_screen
from precursorwatch.settings import Settings
from precursorwatch.store import (
    ImportOutcome,
    Store,
    cache_get_many,
    cache_has_any,
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
    """Validate and import a user's list file (YAML or CSV); refused whole when invalid.

    ``confidential``: True hides the list from operators, False makes it public, None keeps
    what the file says. A new version of a confidential list stays confidential unless the
    importer said explicitly that it is public (``confidential=False``, or the YAML's own
    ``confidential: false``); the audit records which happened.
    """
    with store.session() as session:
        known = dict(current_watchlist(session=session).substances)
    listdef, inline = load_list_file(path, known, code=code, confidential=confidential)
    said_public = confidential is False or (confidential is None and stated_flag(path) is False)
    with store.session() as session:
        outcomes = import_lists(
            session=session,
            lists=[listdef],
            substances={**known, **inline},
            source_file=str(path),
            actor=actor,
            made_public={listdef.code} if said_public else (),
        )
    return outcomes[0]


def stated_flag(path: Path) -> bool | None:
    """The ``confidential:`` a YAML list file states itself (None when it says nothing, and
    for CSV lists, which cannot say)."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return None
    import yaml

    try:
        with path.open(encoding="utf-8-sig") as fh:
            data = yaml.safe_load(fh)
    except (OSError, UnicodeError, yaml.YAMLError):
        return None  # not read as stated: the safe reading is "said nothing"
    flag = data.get("confidential") if isinstance(data, dict) else None
    return flag if isinstance(flag, bool) else None


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

    def has_any(self, namespace: str) -> bool:
        """Whether anything is cached under ``namespace``."""
        with self.store.session() as session:
            return cache_has_any(session=session, resolver_version=namespace)

    def put_all(self, batches: Mapping[str, Mapping[str, dict[str, Any]]]) -> None:
        """Keep resolutions for the next run: every namespace's in one transaction (one
        commit, hence one sync of the SQLite journal, per judged part)."""
        with self.store.session() as session:
            for namespace, values in batches.items():
                cache_put_many(session=session, resolver_version=namespace, values=values)


def default_workers() -> int:
    """The cores this process may run on (its CPU affinity where the system says, else the
    machine's count): the default number of processes judging new declarations of a file."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this system (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def make_screener(
    store: Store,
    *,
    use_opsin: bool = True,
    opsin_timeout_s: float = 60.0,
    workers: int = 1,
    as_of: date | None = None,
) -> Screener:
    """A screener over the store's current lists as they apply on ``as_of`` (default today),
    caching resolutions in the store.

    ``workers`` > 1 judges new distinct declarations in that many processes (the command
    line and :func:`screen_file` use :func:`default_workers`; the API keeps one).
    """
    return Screener(
        watchlist_of(store),
        use_opsin=use_opsin,
        opsin_timeout_s=opsin_timeout_s,
        cache=StoreResolutionCache(store),
        workers=workers,
        as_of=as_of,
    )


def law_day(screener: FrameScreener) -> str:
    """The day whose law ``screener`` applies, YYYY-MM-DD ('' when it does not say: today)."""
    day = getattr(screener, "as_of", None)
    return day.isoformat() if isinstance(day, date) else ""


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
                inchi=str(r.get("inchi") or ""),
                inchikey=str(r.get("inchikey") or ""),
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


#: Size of a manifest from which OPSIN's JVMs are started before it is read, when nothing was
#: ever judged under the screener's lists and engine (about 14,000 lines of the bench's files).
EARLY_JVM_BYTES = 1 << 20


def _worth_early_jvms(screener: Screener, path: Path) -> bool:
    """Whether ``path`` is a file of :data:`EARLY_JVM_BYTES` or more whose every description
    is new to ``screener`` (nothing judged under its lists and engine yet).

    OPSIN's JVMs start when a chunk has new descriptions (``Screener._judge_many``), so a
    file judged before starts none; for such a file they are started before it is read
    instead, on the core the reading leaves idle, and are loaded when the workers' first
    batches come. A small file waits for the JVM it needs, if any; an unreadable one is left
    to the reader to report."""
    try:
        big = path.stat().st_size >= EARLY_JVM_BYTES
    except OSError:
        return False
    return big and screener.judged_nothing_yet()


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
    progress: ScreeningProgress | None = None,
    screening_id: str = "",
) -> ScreenedFile:
    """Read, screen and (with ``record``) store a manifest file, chunk by chunk.

    Each chunk's results go to ``sinks`` (e.g. :class:`~precursorwatch.run.streaming.CsvSink`)
    and, with ``record``, into the store as they come; the screening is marked complete only
    when the last chunk is in. With ``keep_results=False`` nothing per line is kept in memory.
    Raises :class:`~precursorwatch.errors.ManifestError` when the file cannot be read; nothing
    is stored then (a file unreadable half way leaves an incomplete screening no reader lists).
    Without ``screener``, one over the store's lists judges in :func:`default_workers`
    processes. ``progress`` counts the lines read and judged as they go, and can cancel
    (:class:`~precursorwatch.run.progress.ScreeningProgress`). ``screening_id`` is the id the
    recorded screening takes (default: a new one), for a caller that answered with it already.
    """
    screener = screener or make_screener(store, workers=default_workers())
    if isinstance(screener, Screener) and _worth_early_jvms(screener, path):
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
            screening_id=screening_id,
            as_of=law_day(screener),
        )
    everyone: list[Sink] = [*sinks, *(s for s in (keep, recorder) if s is not None)]
    try:
        done = stream_screen(
            path,
            screener,
            sinks=everyone,
            mapping=dict(mapping) if mapping else None,
            chunk_rows=chunk_rows,
            on_chunk=on_chunk,
            progress=progress,
        )
    except BaseException:
        if recorder is not None:
            recorder.close()  # its thread; what it wrote stays invisible (incomplete)
        raise
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
