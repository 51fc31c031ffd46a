"""A frame being screened: its judging (perhaps in forked workers) and its result to come.

:meth:`Screener.begin_frame <precursorwatch.run.screener.Screener.begin_frame>` returns a
:class:`PendingFrame`; the caller reads the next chunk or writes the previous one's results
while the workers judge, then asks for :meth:`PendingFrame.result`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from precursorwatch.run.judged import JudgedParts, Template
from precursorwatch.run.results import broadcast, empty_result

if TYPE_CHECKING:
    from precursorwatch.run.screener import Screener


@dataclass
class Judging:
    """Templates of some keys, being judged (:meth:`Screener._start_judging`)."""

    screener: Screener
    tkeys: list[str]
    todo: list[tuple[str, str, str, str]]
    #: The judging still to take in (None once taken in or cancelled).
    pending: JudgedParts | None
    #: The templates in ``tkeys`` order, once waited for.
    done: list[Template] | None = None
    cancelled: bool = False

    def wait(self) -> list[Template]:
        """Take in every part (once) and give the templates; a failed part's error is raised
        here, the other parts stopped. Raises RuntimeError after :meth:`cancel`."""
        if self.cancelled:
            raise RuntimeError("this frame's judging was cancelled: begin the frame again")
        if self.done is None:
            judging, self.pending = self.pending, None
            if judging is not None:
                try:
                    for positions, judged in judging.parts:
                        self.screener._keep_templates(self.todo, positions, judged)
                finally:
                    judging.stop()
                    self._release()
            self.done = [self.screener._templates[t] for t in self.tkeys]
        return self.done

    def cancel(self) -> None:
        """Stop judging: parts not started are dropped, running ones waited for."""
        if self.done is None:
            self.cancelled = True
        judging, self.pending = self.pending, None
        if judging is not None:
            judging.stop()
        self._release()

    def _release(self) -> None:
        if self.screener._judging is self:
            self.screener._judging = None


@dataclass
class PendingFrame:
    """A frame being screened (:meth:`Screener.begin_frame`): :meth:`result` waits for its
    judging and gives the result frame; :meth:`cancel` stops the judging instead."""

    screener: Screener
    frame: pd.DataFrame
    groups: np.ndarray
    judging: Judging | None

    def judged_elsewhere(self) -> bool:
        """Whether forked workers are judging this frame's new declarations while the caller
        goes on (False when all were known, or when this process judges them as it waits)."""
        judging = self.judging
        return judging is not None and judging.pending is not None and judging.pending.elsewhere

    def wait(self) -> None:
        """Wait for the frame's declarations to be judged (the screener can then begin the
        next frame while this one's results are broadcast)."""
        if self.judging is not None:
            self.judging.wait()

    def result(self) -> pd.DataFrame:
        """The result frame: one row per input row, in order (see :meth:`Screener.
        screen_frame`)."""
        if self.judging is None:
            return empty_result()
        judged = self.judging.wait()
        screener = self.screener
        t0 = time.perf_counter()
        out = broadcast(self.frame, self.groups, judged, screener.index)
        screener._tick("broadcast", t0)
        return out

    def cancel(self) -> None:
        """Stop judging this frame (its result is not wanted)."""
        if self.judging is not None:
            self.judging.cancel()
