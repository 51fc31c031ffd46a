"""Ending the command's process: as ``sys.exit`` does, less the interpreter's teardown.

After a large screening the process holds millions of objects (the memos of what was judged,
the lists' index, the last frames). The interpreter's teardown frees them one by one, a
measurable part of a screening's time (bench/README.md), for memory the system takes back
at once when the process ends. :func:`exit_now` does what the teardown does that matters and
skips the rest, as :mod:`multiprocessing` ends its forked children: threads are waited for,
the exit handlers run (worker pools and OPSIN's JVMs stopped, logs flushed), the stores'
connections are closed and the standard streams flushed; then the process ends.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from contextlib import suppress
from typing import NoReturn


def exit_now(code: object = 0) -> NoReturn:
    """End the process with ``code`` read as ``sys.exit`` reads it (None: 0; an int: itself;
    anything else is printed to standard error and gives 1), without the teardown.

    The stores' pooled connections are closed first (a SQLite store then writes its log
    into its file, as when they are collected at a normal exit)."""
    status = _status(code)
    # what the interpreter does first at exit: wait for the threads that are not daemons
    # (after stopping the idle threads of thread pools), then run the exit handlers
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    engines = sys.modules.get("precursorwatch.store.engine")  # not loaded: no store opened
    if engines is not None:
        with suppress(Exception):  # the command's answer is given: closing cannot change it
            engines.close_engines()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(status)


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with suppress(Exception):
        print(code, file=sys.stderr)
    return 1
