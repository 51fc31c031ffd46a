"""Screeners for a day other than today (``as_of`` of ``POST /v1/screen`` and of uploads).

The app and each worker process keep their screeners of today's law as before; a request for
another day uses one of :class:`DatedScreeners`: one screener per (lists' versions, day), built
on first use and kept for the next request of that day, at most :data:`KEPT_DAYS` at once (the
least recently used is dropped, and with it the OPSIN JVM it may have started). A screener is
used by one thread at a time, so each is held for the block that screens with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from precursorwatch.run.screener import Screener

#: (code, version, content hash) of every current list: a new value means new lists.
VersionsKey = tuple[tuple[str, int, str], ...]
#: Days other than today whose screeners a process keeps at once. A screener is cheap to build
#: (its list index: about 50 ms and under 1 MB, measured December 2026) but grows with its
#: memos and may start an OPSIN JVM for systematic names: a few are kept, not one per day.
KEPT_DAYS = 3


class DatedScreeners:
    """Screeners of the lists as they applied on given days, a few kept (thread-safe).

    ``make(day)`` builds a screener of the store's current lists as of ``day``.
    """

    def __init__(self, make: Callable[[date], Screener], size: int = KEPT_DAYS) -> None:
        self._make = make
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._held: OrderedDict[tuple[VersionsKey, date], tuple[Screener, threading.Lock]] = (
            OrderedDict()
        )

    def days(self) -> list[date]:
        """The days whose screeners are kept, least recently used first."""
        with self._lock:
            return [day for _, day in self._held]

    def _entry(self, versions: VersionsKey, day: date) -> tuple[Screener, threading.Lock]:
        with self._lock:
            for stale in [k for k in self._held if k[0] != versions]:  # the lists changed
                del self._held[stale]
            key = (versions, day)
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = (self._make(day), threading.Lock())
            self._held.move_to_end(key)
            while len(self._held) > self.size:
                self._held.popitem(last=False)
            return held

    def get(self, versions: VersionsKey, day: date) -> Screener:
        """The screener of ``versions``' lists as of ``day``, not held: for a process that
        screens one job at a time (a worker)."""
        return self._entry(versions, day)[0]

    @contextmanager
    def use(self, versions: VersionsKey, day: date) -> Iterator[Screener]:
        """The screener of ``versions``' lists as of ``day``, held by this thread for the
        block (another request for the same day waits for it)."""
        screener, lock = self._entry(versions, day)
        with lock:
            yield screener
