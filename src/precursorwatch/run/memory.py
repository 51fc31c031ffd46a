"""The memory of a long screening: what keeps a file of ten million lines at the peak of one.

Three process-wide settings and habits :func:`~precursorwatch.run.streaming.stream_screen`
uses: Arrow's buffers from an allocator that gives freed pages back
(:func:`use_returning_arrow_pool`), glibc's freed heap given back after each chunk
(:func:`release_freed_memory`), and no full garbage collection while a file is screened
(:func:`full_collections_paused`).
"""

from __future__ import annotations

import ctypes
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa  # type: ignore[import-untyped]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (macOS, musl, Windows)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_paused_lock = threading.Lock()
_paused_depth = 0
_paused_thresholds: tuple[int, int, int] = (0, 0, 0)


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """No full (oldest-generation) garbage collection until the last screening under way in
    this process ends; the young generations are collected as before.

    A full collection walks every object alive: the modules, the lists' index, the
    screener's memos (about 0.1 s each, half a second of a warm million-line screening) and
    finds next to nothing, as a screening's objects die by their reference counts. A cycle
    made while a chunk is screened is still freed by the young collections; one that
    outlives them waits until the screening ends. Screenings in several threads (the web's
    jobs) share one pause: the collector's settings are restored when the last one ends.
    """
    global _paused_depth, _paused_thresholds
    with _paused_lock:
        if _paused_depth == 0:
            _paused_thresholds = gc.get_threshold()
            young, middle, _ = _paused_thresholds
            gc.set_threshold(young, middle, 1 << 30)
        _paused_depth += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused_depth -= 1
            if _paused_depth == 0:
                gc.set_threshold(*_paused_thresholds)


#: How long Arrow's jemalloc keeps freed pages before giving them back (its default: 1 s).
ARROW_DECAY_MS = 100


@cache
def use_returning_arrow_pool() -> None:
    """Allocate Arrow's buffers (the chunks' text columns, the result frames, the CSV text)
    from jemalloc giving freed pages back after :data:`ARROW_DECAY_MS`, once per process.

    Arrow's default pool, mimalloc, keeps what each thread freed for its own later use; with
    the sinks' thread beside the main one, each holds about a chunk's worth, and the peak of
    a long file climbs well above a short one's. A decay of 0 gives pages back at every free,
    which costs more time than it saves memory (bench/README.md has both measured). Where
    Arrow was built without jemalloc, the default pool is kept. Process-wide: buffers
    allocated before stay in the pool they came from."""
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(ARROW_DECAY_MS)
    except NotImplementedError:
        return
    pa.set_memory_pool(pool)


def release_freed_memory() -> None:
    """Give the heap pages freed by a chunk back to the system. Each chunk's frames leave
    holes in glibc's heap that later chunks do not fill exactly, so without this the peak
    grows with the file; with it, it stays flat."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
