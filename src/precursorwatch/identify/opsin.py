"""OPSIN, the systematic-name parser (the jar bundled by ``py2opsin``), in a JVM kept running.

Starting the JVM and loading OPSIN's grammar costs about 0.6 CPU-s; a name then takes well
under a millisecond. :class:`OpsinSession` therefore starts one JVM and keeps it: OPSIN's
command line reads a name per line and answers a SMILES line per name (an empty line when it
cannot parse the name), flushing each answer, so batch after batch go through one process.
Each batch ends with a control name whose answer is known; an answer out of step, a timeout
or a dead JVM ends the session (the next batch starts a fresh JVM) and raises
:class:`~precursorwatch.errors.ResolverError`, so a desynchronised stream never pairs a name
with another name's structure.

``py2opsin`` itself is not called: it writes a fixed temporary file in the working directory
(unsafe with concurrent workers), has no time limit and emits warnings.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from functools import cache
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from precursorwatch.errors import ResolverError
from precursorwatch.identify.normalise import clean_text

#: Morphemes of systematic nomenclature; a name without any is not sent to OPSIN.
_SYSTEMATIC = re.compile(
    r"\d|yl\b|yl[\s(-]|ane\b|ene\b|yne\b|one\b|ol\b|al\b|oic|oate|amide|amine|nitrile|"
    r"oxirane|oxolane|dioxol|benzo|phenyl|pyr|piperid|carbox|anhydride|ketone|ether|acid",
    re.IGNORECASE,
)

#: A deep stack for long names; the client compiler only and the serial collector, which
#: start the JVM and parse a batch of about 2,000 names in half the CPU time of the defaults
#: (0.8 s wall, 1.2 CPU-s instead of 1.4 s, 2.5 CPU-s on the development machine).
_JVM_OPTIONS = ("-Xss8m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

#: The control name that closes every batch, and OPSIN's answer for it.
_CONTROL_NAME, _CONTROL_SMILES = "propan-2-one", "CC(C)=O"


def looks_systematic(name: str) -> bool:
    """True when ``name`` could be a systematic (IUPAC/CAS index) name worth sending to OPSIN."""
    return 4 <= len(name) <= 300 and bool(_SYSTEMATIC.search(name))


@cache
def _opsin_jar() -> Path:
    return Path(str(resources.files("py2opsin") / "opsin-cli-2.9.0-jar-with-dependencies.jar"))


def java_available() -> bool:
    """True when a ``java`` executable is on PATH (OPSIN needs it)."""
    return shutil.which("java") is not None


def _batch_lock() -> Any:
    """The lock a batch holds from its first name written to its last answer read.

    Where processes are forked it is a semaphore the forked workers share with the parent,
    which any of them can release: several worker processes then use one JVM, a batch at a
    time (a lock held by a parent's thread at a fork is released by that thread, for the
    workers too). Elsewhere, a thread lock.
    """
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork").Lock()
    return threading.Lock()


class OpsinSession:
    """One OPSIN JVM, started on first use (or ahead of it with :meth:`start`) and kept.

    Forked worker processes may share a session the parent started (its pipes are
    inherited): :meth:`parse` is safe from several processes and threads, one batch at a time.
    :meth:`close` ends the JVM; so does the end of the process, since the JVM exits when its
    input closes.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = 0  # the process that started the JVM (forked workers only use it)
        #: Ends the JVM once, in the process that started it: called by :meth:`close`, or
        #: when the session is dropped without it.
        self._end_jvm: Callable[[], object] = lambda: None
        self._lock = _batch_lock()

    def start(self) -> None:
        """Start the JVM now, without waiting for it (it loads OPSIN while the caller works).

        Raises :class:`ResolverError` when Java is missing or the JVM cannot start.
        """
        if self._alive():
            return
        self.close()  # a JVM that has ended: reaped
        if not java_available():
            raise ResolverError(
                "OPSIN needs Java: install a JRE (e.g. apt-get install "
                "default-jre-headless); systematic names were not parsed"
            )
        try:
            self._proc = subprocess.Popen(
                ["java", *_JVM_OPTIONS, "-jar", str(_opsin_jar()), "-osmi"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # OPSIN's reasons for each name it cannot parse
            )
        except OSError as exc:
            raise ResolverError(f"OPSIN could not start: {exc}") from exc
        self._owner = os.getpid()
        self._end_jvm = weakref.finalize(self, _end, self._proc, self._owner)

    def close(self) -> None:
        """End the JVM (nothing happens when none runs; a forked worker only lets go of it)."""
        if self._proc is not None:
            self._proc = None
            self._end_jvm()

    def __enter__(self) -> OpsinSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def parse(self, names: list[str], *, timeout_s: float = 60.0) -> dict[str, str]:
        """Parse systematic names; name -> SMILES for those that parse.

        Names OPSIN cannot interpret are absent from the result. Raises
        :class:`ResolverError` (and ends the JVM) when Java is missing, the JVM dies, the
        batch exceeds ``timeout_s`` or the answers are out of step with the names.
        """
        unique = list(dict.fromkeys(n for n in (clean_text(x) for x in names) if n))
        if not unique:
            return {}
        # a timeout, not a wait without end: a worker that died in a batch never releases it
        if not self._lock.acquire(timeout=timeout_s):
            raise ResolverError(
                f"OPSIN was busy with other names for {timeout_s:g} s; systematic names "
                "were not parsed"
            )
        try:
            self.start()
            answers = self._exchange([*unique, _CONTROL_NAME], timeout_s)
        except BaseException:
            self._kill()
            raise
        finally:
            self._lock.release()
        if answers[-1] != _CONTROL_SMILES:
            self._kill()
            raise ResolverError(
                f"OPSIN's answers were out of step with the {len(unique)} names sent; "
                "systematic names were not parsed"
            )
        return {name: smi for name, smi in zip(unique, answers, strict=False) if smi}

    def _alive(self) -> bool:
        """True unless the JVM is known to have ended. Only the process that started it can
        tell (``poll`` in a forked worker reports any process not its own child as ended); a
        worker finds out by reading the end of its output."""
        proc = self._proc
        if proc is None:
            return False
        return os.getpid() != self._owner or proc.poll() is None

    def _kill(self) -> None:
        """End this session's JVM, also from a forked worker (the parent reaps it there)."""
        if self._proc is not None and os.getpid() != self._owner:
            with suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGKILL)
        self.close()

    def _exchange(self, lines: list[str], timeout_s: float) -> list[str]:
        """Write ``lines`` (from a thread: the pipes are finite) and read one answer each."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        data = ("\n".join(lines) + "\n").encode("utf-8", "replace")
        failed: list[BaseException] = []

        def write() -> None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(data)
                proc.stdin.flush()
            except OSError as exc:  # the JVM died: the reader sees the end of its output
                failed.append(exc)

        writer = threading.Thread(target=write, name="opsin-writer", daemon=True)
        writer.start()
        deadline = time.monotonic() + timeout_s
        fd = proc.stdout.fileno()
        buf = bytearray()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while buf.count(b"\n") < len(lines):
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise ResolverError(
                        f"OPSIN took longer than {timeout_s:g} s for {len(lines) - 1} names; "
                        "systematic names were not parsed"
                    )
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise ResolverError(
                        f"OPSIN stopped while parsing {len(lines) - 1} names"
                        + (f" ({failed[0]})" if failed else "")
                        + "; systematic names were not parsed"
                    )
                buf += chunk
        writer.join()
        answers = buf.decode("utf-8", "replace").split("\n")
        if len(answers) != len(lines) + 1 or answers[-1]:
            raise ResolverError("OPSIN answered more lines than names; names were not parsed")
        return [a.strip() for a in answers[: len(lines)]]


def _end(proc: subprocess.Popen[bytes], owner: int) -> None:
    """Kill and reap a JVM and close its pipes, in the process that started it (elsewhere a
    forked copy of the session only lets go of it)."""
    if os.getpid() != owner:
        return
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def opsin_batch(names: list[str], *, timeout_s: float = 60.0) -> dict[str, str]:
    """Parse systematic names with OPSIN in ONE JVM started for them; name -> SMILES.

    For a single batch (``explain``, tests). Names OPSIN cannot interpret are absent from
    the result. Raises :class:`ResolverError` as :meth:`OpsinSession.parse` does.
    """
    with OpsinSession() as session:
        return session.parse(names, timeout_s=timeout_s)


_T = TypeVar("_T")


def in_background(fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
    """``fn(*args, **kwargs)`` in a thread of its own: an OPSIN batch the caller asks for
    later, while it judges what does not wait for OPSIN."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opsin")
    try:
        return pool.submit(fn, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)
