"""The bulk lane's jobs, and the loop a worker process runs them in.

A worker process (spawned by :class:`~precursorwatch.web.lanes.Lanes`) opens the store from
the app's settings, keeps one screener (rebuilt when a list changes) and answers jobs sent
over a pipe one at a time: ``(kind, args) -> ("ok", value) | ("error", WorkerFailure)``.
A job whose args ask for ``progress`` is answered ``("progress", counts)`` as it goes (at most
every :data:`PROGRESS_EVERY_S`) before its last answer, and stops when the process's cancel
event is set (a web job's Cancel). The same :func:`run_job` runs them in the server's own
process when ``screen_workers`` is 0.

Every job is done as the key that asked for it (:func:`~precursorwatch.store.audit.acting_as`),
so its audit events carry the key's id and name; an upload records that key as the
screening's owner.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.run.progress import ScreeningProgress
from precursorwatch.run.screener import Screener
from precursorwatch.store import Store

#: Lines read, screened and written per step of an upload: a 200,000-line upload stays well
#: under the server's memory budget (bench: 0.54 GB at 200,000-line chunks), and each write
#: holds the store's write lock only briefly (a small screening waits for it on SQLite).
UPLOAD_CHUNK_ROWS = 10_000
#: Scheduling priority of a worker process (and the OPSIN JVM it starts): the server's
#: interactive work goes first when the cores are busy.
WORKER_NICE = 10
#: Shortest interval between two progress answers of a job.
PROGRESS_EVERY_S = 0.2


@dataclass(frozen=True)
class WorkerFailure:
    """A library error raised in a worker, in a form that crosses the pipe."""

    module: str
    name: str
    message: str

    def rebuilt(self) -> PrecursorWatchError:
        """The error again, as its own class when that can be made from a message alone."""
        import importlib

        try:
            cls = getattr(importlib.import_module(self.module), self.name)
            exc = cls.__new__(cls)
            Exception.__init__(exc, self.message)
            if isinstance(exc, PrecursorWatchError):
                return exc
        except (ImportError, AttributeError, TypeError):
            pass
        return PrecursorWatchError(self.message)


@contextmanager
def named_as(path: Path, shown: str) -> Iterator[None]:
    """Re-raise library errors about the server's temporary ``path`` naming ``shown`` (the
    uploaded file's name) instead, so no answer reveals the server's directories."""
    try:
        yield
    except PrecursorWatchError as exc:
        text = str(exc)
        for hidden in (str(path), str(path.parent)):
            text = text.replace(hidden, shown if hidden == str(path) else ".")
        exc.args = (text,)
        raise


def _upload(
    store: Store, screener: Screener, args: dict[str, Any], progress: ScreeningProgress | None
) -> str:
    from precursorwatch.run.service import screen_file
    from precursorwatch.store.access import record_owner
    from precursorwatch.store.stream import discard_incomplete_screening

    path = Path(args["path"])
    given = str(args.get("screening_id") or "")
    if progress is not None:
        progress.count_lines_of(path)
    try:
        with named_as(path, args["name"]):
            done = screen_file(
                path,
                store=store,
                screener=screener,
                mapping=args.get("mapping") or None,
                actor=args["key_name"],
                input_name=args["name"],
                keep_results=False,
                chunk_rows=UPLOAD_CHUNK_ROWS,
                progress=progress,
                screening_id=given,
            )
    except PrecursorWatchError:
        if given:  # a cancelled or failed job leaves nothing half-done behind
            with store.session() as session:
                discard_incomplete_screening(session=session, screening_id=given)
        raise
    with store.session() as session:
        record_owner(
            session=session,
            screening_id=done.screening_id,
            key_id=args["key_id"],
            key_name=args["key_name"],
        )
    return done.screening_id


def _rescreen(
    store: Store, screener: Screener, args: dict[str, Any], progress: ScreeningProgress | None
) -> Any:
    from precursorwatch.run.rescreen import rescreen

    return rescreen(store, since=args["since"], screener=screener, actor=args["key_name"])


_JOBS = {"upload": _upload, "rescreen": _rescreen}


def run_job(
    store: Store,
    screener: Screener,
    kind: str,
    args: dict[str, Any],
    progress: ScreeningProgress | None = None,
) -> Any:
    """Run job ``kind`` as the key named in ``args`` (``key_id``, ``key_name``); an upload
    counts into ``progress`` and stops (ScreeningCancelled) when it is cancelled."""
    from precursorwatch.store.audit import acting_as

    with acting_as(args["key_id"], args["key_name"]):
        return _JOBS[kind](store, screener, args, progress)


def _reporter(conn: Any, cancel: Any) -> ScreeningProgress:
    """A progress whose counts are sent over ``conn`` as they change (throttled), and which
    is cancelled as soon as it changes after ``cancel`` (the process's event) was set."""
    import time

    last = [0.0]

    def changed(progress: ScreeningProgress) -> None:
        if cancel is not None and cancel.is_set() and not progress.cancelled:
            progress.cancel()
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or progress.done:
            last[0] = now
            conn.send(("progress", progress.snapshot()))

    return ScreeningProgress(on_change=changed)


class _Screeners:
    """The worker's screener of today's law, rebuilt when a list version changed or a new day
    began, and a few of other days' (:mod:`~precursorwatch.web.screeners`)."""

    def __init__(self, store: Store, opsin_timeout_s: float) -> None:
        from precursorwatch.web.screeners import DatedScreeners

        self.store, self.opsin_timeout_s = store, opsin_timeout_s
        self.key: tuple[object, ...] = ()
        self.screener: Screener | None = None
        self.dated = DatedScreeners(self._make)

    def _make(self, day: date) -> Screener:
        from precursorwatch.run.service import make_screener

        return make_screener(self.store, opsin_timeout_s=self.opsin_timeout_s, as_of=day)

    def current(self, as_of: str = "") -> Screener:
        """The screener of today's law, or of the law of ``as_of`` (YYYY-MM-DD, a job's)."""
        from precursorwatch.store import list_summaries

        with self.store.session(write=False) as session:
            versions = tuple(
                (s.code, s.version, s.content_hash) for s in list_summaries(session=session)
            )
        today = date.today()
        day = date.fromisoformat(as_of) if as_of else today
        if day != today:
            return self.dated.get(versions, day)
        key = (versions, today)
        if self.screener is None or key != self.key:
            self.screener = self._make(today)
            self.key = key
        return self.screener


def worker_main(conn: Any, settings_json: str, cancel: Any = None) -> None:
    """A worker process: answer jobs from ``conn`` until it closes or sends None; ``cancel``
    (a multiprocessing event) stops the job under way that reports progress."""
    import logging

    from precursorwatch.settings import Settings
    from precursorwatch.store import open_store

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops workers itself
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    log = logging.getLogger("precursorwatch.web.worker")
    settings = Settings.model_validate_json(settings_json)
    store = open_store(settings.resolved_database_url())
    screeners = _Screeners(store, settings.opsin_timeout_s)
    try:
        screeners.current()  # warm: the first job does not wait for the lists
    except PrecursorWatchError:
        log.exception("the worker could not read the lists yet")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        kind, args = job
        progress = _reporter(conn, cancel) if args.get("progress") else None
        try:
            screener = screeners.current(str(args.get("as_of") or ""))
            value: Any = ("ok", run_job(store, screener, kind, args, progress))
        except PrecursorWatchError as exc:
            failure = WorkerFailure(type(exc).__module__, type(exc).__qualname__, str(exc))
            value = ("error", failure)
        except Exception as exc:  # an unexpected failure: logged here, a library error there
            log.exception("bulk job %s failed", kind)
            value = (
                "error",
                WorkerFailure("precursorwatch.errors", "PrecursorWatchError", _bug(exc)),
            )
        try:
            conn.send(value)
        except (OSError, BrokenPipeError):
            break
    store.dispose()


def _bug(exc: BaseException) -> str:
    return f"internal error in the screening worker ({type(exc).__name__}): the server logged it"
