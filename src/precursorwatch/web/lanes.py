"""Fair screening: no key's big job can stall another key's small one.

Two lanes, each a set of slots handed out fairly (:class:`FairSlots`: round robin over the keys
waiting, one running job per key in a lane):

* **interactive** (``POST /v1/screen``), in this process: two slots with a screener each,
  one at a time per key, and a request is screened in slices (a few lines first, more while
  slices stay quick), giving the slot back between slices, so a batch of costly structures
  from one key is interleaved with the other keys' requests instead of holding them for its
  whole length;
* **bulk** (manifest uploads, re-screening), in worker processes (``screen_workers``, spawned
  on first use and kept warm; :mod:`precursorwatch.web.worker`): a 200,000-line upload neither
  holds this process's interpreter nor its memory, and is ended with the process at shutdown.
  With ``screen_workers = 0`` bulk jobs run in this process's threads instead.

Waiting for a slot costs no thread, so queued uploads never starve the server's thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from precursorwatch.errors import PrecursorWatchError, StoreError
from precursorwatch.web.worker import WorkerFailure, run_job, worker_main

if TYPE_CHECKING:
    import pandas as pd

    from precursorwatch.models import LineResult
    from precursorwatch.run.progress import ScreeningProgress
    from precursorwatch.run.screener import Screener
    from precursorwatch.web.state import AppState

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Lines of the first slice of an interactive request; a slice done within
#: :data:`SLICE_TARGET_S` is followed by one twice as big (at most :data:`MAX_SLICE`), a
#: slower one by one half as big.
FIRST_SLICE = 4
MAX_SLICE = 2_000
SLICE_TARGET_S = 0.25
#: Interactive slots (each with a screener of its own; RDKit's searches release the
#: interpreter, so two keys' slices run side by side).
INTERACTIVE_SLOTS = 2


class FairSlots:
    """``slots`` places handed out fairly among keys: a key runs at most ``per_key`` jobs at
    once, and a freed place goes to the waiting key served least recently."""

    def __init__(self, slots: int, per_key: int = 1) -> None:
        self.free = slots
        self.per_key = per_key
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turn: dict[str, int] = {}
        self._served = 0

    def waiting(self) -> int:
        """Jobs waiting for a place."""
        return sum(len(q) for q in self._waiting.values())

    def _dispatch(self) -> None:
        while self.free > 0:
            ready = [
                k for k, q in self._waiting.items() if q and self._running.get(k, 0) < self.per_key
            ]
            if not ready:
                return
            key = min(ready, key=lambda k: self._turn.get(k, -1))
            fut = self._waiting[key].popleft()
            if not self._waiting[key]:
                del self._waiting[key]
            if fut.done():  # cancelled while waiting
                continue
            self.free -= 1
            self._running[key] = self._running.get(key, 0) + 1
            self._served += 1
            self._turn[key] = self._served
            fut.set_result(None)

    def _release(self, key: str) -> None:
        self.free += 1
        self._running[key] -= 1
        if not self._running[key]:
            del self._running[key]
        self._dispatch()

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold a place for ``key`` during the block (waiting for one first)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(fut)
        self._dispatch()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release(key)  # granted just as the waiter gave up
            raise
        try:
            yield
        finally:
            self._release(key)


class _Worker:
    """One spawned worker process and the pipe to it; restarted when it dies."""

    def __init__(self, settings_json: str) -> None:
        self.settings_json = settings_json
        self._ctx = multiprocessing.get_context("spawn")
        self.process: Any = None
        self.conn: Any = None
        self.cancel: Any = None  # set: the job under way stops (it reports progress)
        self._lock = threading.Lock()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self.cancel = self._ctx.Event()
        process = self._ctx.Process(
            target=worker_main,
            args=(child, self.settings_json, self.cancel),
            daemon=True,
            name="pw-screen",
        )
        process.start()
        child.close()
        self.process, self.conn = process, parent

    def call(
        self, job: tuple[str, dict[str, Any]], progress: ScreeningProgress | None = None
    ) -> Any:
        """Run ``job`` in the process (started first when needed); its result, or the
        library error it raised; StoreError when the process died on the way. With
        ``progress``, the job's counts are copied into it as they come, and its
        :meth:`~ScreeningProgress.cancel` stops the job."""
        with self._lock:
            if self.process is None or not self.process.is_alive():
                self._start()
            kind, args = job
            try:
                self.cancel.clear()
                if progress is not None:
                    args = {**args, "progress": True}
                    progress.on_cancel = self.cancel.set
                    if progress.cancelled:
                        self.cancel.set()
                self.conn.send((kind, args))
                status, value = self.conn.recv()
                while status == "progress":
                    if progress is not None:
                        _copy_counts(value, progress)
                    status, value = self.conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                self.stop()
                raise StoreError(
                    "the screening worker stopped (out of memory or killed): retry; if it "
                    "happens again, split the file"
                ) from None
            finally:
                if progress is not None:  # a later cancel must not reach the next job
                    progress.on_cancel = None
        if status == "error":
            assert isinstance(value, WorkerFailure)
            raise value.rebuilt()
        return value

    def stop(self, wait: float = 2.0) -> None:
        process, self.process = self.process, None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if process is not None and process.is_alive():
            process.terminate()
            process.join(wait)
            if process.is_alive():
                process.kill()
                process.join(1)


def _copy_counts(counts: dict[str, Any], progress: ScreeningProgress) -> None:
    """A worker's progress answer into this process's ``progress``."""
    progress.read = int(counts["lines_read"])
    progress.judged = int(counts["lines_judged"])
    progress.total = counts["total"]


class _ScreenerPool:
    """One screener per interactive slot, each rebuilt when a list version changed (the
    first is the app's own)."""

    def __init__(self, state: AppState, size: int) -> None:
        self.state = state
        self._free_cv = threading.Condition()
        self._free: deque[int] = deque(range(size))
        self._own: dict[int, tuple[tuple[object, ...], Screener]] = {}

    @contextmanager
    def take(self, wanted: int | None = None) -> Iterator[Screener]:
        """A free screener (``wanted``: that slot's), held for the block."""
        with self._free_cv:
            if wanted is None:
                self._free_cv.wait_for(lambda: bool(self._free))
                slot = self._free.popleft()
            else:
                self._free_cv.wait_for(lambda: wanted in self._free)
                self._free.remove(wanted)
                slot = wanted
        try:
            yield self.current(slot)
        finally:
            with self._free_cv:
                self._free.append(slot)
                self._free_cv.notify_all()

    def current(self, slot: int) -> Screener:
        """The screener of ``slot``, up to date with the lists (slot 0: the app's)."""
        if slot == 0:
            return self.state.screener()
        from precursorwatch.run.service import make_screener

        key = (self.state.list_versions_key(), date.today())  # today's law of today's lists
        held = self._own.get(slot)
        if held is None or held[0] != key:
            screener = make_screener(
                self.state.store, opsin_timeout_s=self.state.settings.opsin_timeout_s, as_of=key[1]
            )
            self._own[slot] = held = (key, screener)
        return held[1]


class Lanes:
    """The interactive and bulk lanes of one app."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.interactive = FairSlots(INTERACTIVE_SLOTS)
        workers = max(0, state.settings.screen_workers)
        self.bulk = FairSlots(max(1, workers))
        self._workers = [_Worker(state.settings.model_dump_json()) for _ in range(workers)]
        self._idle: deque[_Worker] = deque(self._workers)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pw-bulk")
        self._local_lock = threading.Lock()
        self._screeners = _ScreenerPool(state, INTERACTIVE_SLOTS)
        self._warm_lock = threading.Lock()
        self._warmed = False

    # --- interactive -------------------------------------------------------------------------

    async def screen_frame(
        self, key_id: str, frame: pd.DataFrame, as_of: date | None = None
    ) -> list[LineResult]:
        """Screen ``frame`` in the interactive lane, in slices, fairly among keys, against the
        lists as they apply on ``as_of`` (default today)."""
        import pandas as pd

        from precursorwatch.run.results import results_from_frame

        n = len(frame)
        if n == 0:
            return []
        size, at = FIRST_SLICE, 0
        outs: list[pd.DataFrame] = []
        while at < n:
            part = frame.iloc[at : at + size]
            async with self.interactive.slot(key_id):
                started = time.monotonic()
                outs.append(await anyio.to_thread.run_sync(self._screen_part, part, as_of))
                took = time.monotonic() - started
            at += size
            size = min(MAX_SLICE, size * 2) if took < SLICE_TARGET_S else max(1, size // 2)
        return results_from_frame(pd.concat(outs, ignore_index=True))

    def _screen_part(self, part: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
        if as_of is not None and as_of != date.today():  # another day's law: its screener
            with self.state.dated_screener(as_of) as dated:
                return dated.screen_frame(part)
        with self._screeners.take() as screener:
            return screener.screen_frame(part)

    # --- bulk ----------------------------------------------------------------------------------

    async def run(
        self, who: str, kind: str, progress: ScreeningProgress | None = None, **args: Any
    ) -> Any:
        """Run a bulk job (:mod:`~precursorwatch.web.worker`'s ``kind``) for key id ``who``,
        fairly among keys. An upload counts into ``progress`` as it goes and stops, raising
        ScreeningCancelled, once ``progress`` is cancelled (also while it waits its turn)."""
        async with self.bulk.slot(who):
            if progress is not None:
                progress.check()
            if not self._workers:
                return await anyio.to_thread.run_sync(self._run_here, kind, args, progress)
            worker = self._idle.popleft()
            try:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._pool, worker.call, (kind, args), progress)
            finally:
                self._idle.append(worker)

    def _run_here(self, kind: str, args: dict[str, Any], progress: ScreeningProgress | None) -> Any:
        day = date.fromisoformat(args["as_of"]) if args.get("as_of") else date.today()
        with self._local_lock:  # a screener of its own, apart from the interactive ones
            if day != date.today():  # an upload as of another day: that day's screener
                with self.state.dated_screener(day) as dated:
                    return run_job(self.state.store, dated, kind, args, progress)
            screener = self._screeners.current(INTERACTIVE_SLOTS)
            return run_job(self.state.store, screener, kind, args, progress)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a thread (for the routes' store work)."""
        return await anyio.to_thread.run_sync(fn, *args)

    def warm_interactive(self) -> None:
        """Screen one line with each interactive screener (loads what a first screening
        loads: look-up indexes, the OPSIN JVM)."""
        from precursorwatch.manifest.read import frame_from_records

        with self._warm_lock:
            if self._warmed:
                return
            self._warmed = True
        frame = frame_from_records([{"description": "acetone", "cas": "67-64-1"}])
        for slot in range(INTERACTIVE_SLOTS):  # one at a time: requests get the others
            with self._screeners.take(slot) as screener:
                screener.warm_up()
                screener.screen_frame(frame)

    def warm(self) -> None:
        """Start the worker processes now (they load while the server takes requests)."""
        for w in self._workers:
            with w._lock:
                if w.process is None:
                    w._start()

    def close(self) -> None:
        """Stop every worker process (within a few seconds)."""
        for w in self._workers:
            try:
                w.stop()
            except (OSError, PrecursorWatchError):  # already gone
                log.debug("worker already stopped")
        self._pool.shutdown(wait=False, cancel_futures=True)
