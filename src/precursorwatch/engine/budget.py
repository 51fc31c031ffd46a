"""How long one declaration's structure comparisons may take.

The derivative and similarity matchers compare each declared structure with the lists: a
few milliseconds for most structures, up to about a second for a large one close to a listed
alkaloid (three common-substructure searches of at most 0.25 s each). A declaration can name
many structures (a description of forty InChI strings of ergotamine look-alikes took 7 s),
so a line gets a budget: once it is spent, the remaining structures are not compared and the
line is judged by its CAS numbers, its names, the identity of its structures and the
comparisons done so far, and its reason says so (:data:`STOPPED_NOTE`).

The engine keeps no clock of its own: whoever judges passes a budget with a clock
(:class:`StructureBudget`), and a judgement without one is never stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: Seconds of derivative and similarity comparison one declaration may use. A line already
#: comparing when the budget runs out finishes that structure (at most about a second more).
STRUCTURE_SECONDS_PER_LINE = 2.0

#: The start of the note a stopped line's reason carries: a result carrying it depends on the
#: machine's speed, so it is not kept in the persistent cache (:func:`was_stopped`).
STOPPED_NOTE = "The comparison of structures with the lists stopped at its time limit"


@dataclass
class StructureBudget:
    """Seconds of structure comparison for one declaration, on ``clock`` (seconds).

    :meth:`allows` is asked before each structure is compared; it counts the structures it
    refuses, which :meth:`note` then reports.
    """

    seconds: float
    clock: Callable[[], float]
    skipped: int = 0
    _deadline: float | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the clock (again: a budget serves one declaration at a time)."""
        self._deadline = self.clock() + self.seconds
        self.skipped = 0

    def allows(self) -> bool:
        """Whether one more structure may be compared; False (and counted) once spent."""
        if self._deadline is None:
            self.start()
        if self.clock() < (self._deadline or 0.0):
            return True
        self.skipped += 1
        return False

    @property
    def stopped(self) -> bool:
        """Whether any comparison was left out."""
        return self.skipped > 0

    def note(self) -> str:
        """The sentence a stopped line's reason carries ('' when nothing was left out)."""
        if not self.stopped:
            return ""
        return (
            f"{STOPPED_NOTE} ({self.seconds:g} s for one line): {self.skipped} comparison(s) "
            "of the declared structures were not made, so a designer precursor or a close "
            "relative of a listed substance may have been missed; the line was judged by its "
            "CAS numbers, names and the structures compared in time"
        )


def was_stopped(reason: str) -> bool:
    """Whether a result's ``reason`` says its structure comparison was stopped."""
    return STOPPED_NOTE in reason
