"""How far a screening has got: lines read, lines judged, and the total when it is known.

:class:`ScreeningProgress` is handed to :func:`~precursorwatch.run.streaming.stream_screen`
(or :func:`~precursorwatch.run.service.screen_file`), which counts into it as chunks are read
and as their results reach every sink; another thread (a progress bar, a web job's status
page) reads it at any time, and may :meth:`~ScreeningProgress.cancel` the screening: it stops
before reading the next chunk, raising :class:`ScreeningCancelled`.

The total of a text manifest is estimated by counting its line breaks in a thread of its own
(:meth:`ScreeningProgress.count_lines_of`): exact unless fields hold line breaks or the file
has blank lines; an XLSX file's total stays unknown. When the screening ends, the total is the
number of lines read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from precursorwatch.errors import PrecursorWatchError

#: Bytes read at a time when counting line breaks.
_BLOCK = 1 << 20
#: Suffixes of manifests whose line breaks are counted (XLSX is a zip).
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})


class ScreeningCancelled(PrecursorWatchError):
    """The screening was cancelled through its progress (nothing more is read)."""


@dataclass
class ScreeningProgress:
    """Counts of a screening in progress, safe to read from another thread.

    ``on_change`` (optional) is called, in the screening's thread, after every change;
    ``on_cancel`` (optional) when :meth:`cancel` is called, in the caller's thread (a web job
    relays the cancel to the worker process screening it).
    """

    total: int | None = None
    read: int = 0
    judged: int = 0
    done: bool = False
    started: float = field(default_factory=time.monotonic)
    on_change: Callable[[ScreeningProgress], None] | None = None
    on_cancel: Callable[[], None] | None = None
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

    def add_read(self, lines: int) -> None:
        """``lines`` more lines were read."""
        self.read += lines
        if self.total is not None and self.total < self.read:
            self.total = None  # the estimate was short: unknown until the end
        self._changed()

    def add_judged(self, lines: int) -> None:
        """``lines`` more lines were screened and written to every sink."""
        self.judged += lines
        self._changed()

    def finish(self) -> None:
        """The screening ended: every line read was judged, and the total is known."""
        self.total = self.read
        self.done = True
        self._changed()

    def cancel(self) -> None:
        """Ask the screening to stop before it reads the next chunk."""
        self._cancelled.set()
        if self.on_cancel is not None:
            self.on_cancel()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise :class:`ScreeningCancelled` when the screening was cancelled."""
        if self._cancelled.is_set():
            raise ScreeningCancelled("the screening was cancelled")

    @property
    def fraction(self) -> float | None:
        """Lines judged of the total (0..1), None while the total is unknown."""
        if self.done:
            return 1.0
        if not self.total:
            return None
        return min(1.0, self.judged / self.total)

    @property
    def seconds(self) -> float:
        """Seconds since the screening started."""
        return time.monotonic() - self.started

    def snapshot(self) -> dict[str, Any]:
        """The counts as JSON-ready values (what a status answer shows)."""
        return {
            "lines_read": self.read,
            "lines_judged": self.judged,
            "total": self.total,
            "done": self.done,
            "fraction": self.fraction,
        }

    def count_lines_of(self, path: Path) -> threading.Thread | None:
        """Estimate ``total`` from the line breaks of a text manifest, in a daemon thread
        (returned, already started); None for other files (the total stays unknown)."""
        if Path(path).suffix.lower() not in TEXT_SUFFIXES:
            return None
        thread = threading.Thread(
            target=self._count, args=(Path(path),), name="count-lines", daemon=True
        )
        thread.start()
        return thread

    def _count(self, path: Path) -> None:
        breaks = 0
        last = b""
        try:
            with path.open("rb") as fh:
                while block := fh.read(_BLOCK):
                    breaks += block.count(b"\n")
                    last = block[-1:]
        except OSError:
            return
        lines = breaks + (1 if last and last != b"\n" else 0) - 1  # the header line
        if not self.done and lines >= self.read:
            self.total = max(lines, 0)
