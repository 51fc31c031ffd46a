"""Judge many new distinct declarations in forked worker processes (``--workers N``).

The parent :class:`~precursorwatch.run.screener.Screener` is shared with the workers by ``fork``
(the list index, the PubChem table and the memos are not copied or pickled); each worker
identifies its share of the new descriptions and judges their declarations with
:meth:`Screener.identify_and_judge`, and sends back what it made in the JSON form of
:class:`~precursorwatch.run.judged.Judged`. Workers never touch the store: the parent writes the
cache. POSIX only (:func:`can_fork`); elsewhere the screener judges in its own process.
"""

from __future__ import annotations

import gc
import multiprocessing
import re
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from itertools import islice
from typing import TYPE_CHECKING, Any

from precursorwatch.identify.resolve import load_pubchem
from precursorwatch.run.judged import Judged, JudgedParts, template_from_json

if TYPE_CHECKING:
    from precursorwatch.run.screener import Screener

#: The screener whose work forked workers share (set just before a pool forks).
_FORKED: Screener | None = None


def can_fork() -> bool:
    """True where worker processes can be forked (POSIX)."""
    return "fork" in multiprocessing.get_all_start_methods()


#: Forked workers that share one OPSIN JVM. A JVM costs most of a CPU-second to start and
#: about a hundred MB, while parsing the names of a worker's part takes it a small share of
#: the time the worker spends judging the part (bench/README.md): two workers keep one JVM
#: busy far less than half the time.
WORKERS_PER_JVM = 2


def jvms_for(workers: int) -> int:
    """OPSIN JVMs that judging many new declarations with ``workers`` processes uses: one
    per :data:`WORKERS_PER_JVM` forked workers, one where they are judged in this process."""
    return -(-workers // WORKERS_PER_JVM) if workers > 1 and can_fork() else 1


#: Fewest new declarations worth forking workers for, in a screener's first frame.
FORK_MIN = 200
#: Fewest new declarations worth forking for once the screener holds judged declarations (it
#: judged a frame before, or the persistent cache gave it some of this one's): a later
#: frame's declarations are cheaper to judge here (most of their names and structures are
#: known), while forking mid-file first waits for the sinks' thread to finish writing the
#: chunk before (no thread may run while a process forks) and copies the parent's pages it
#: then writes to. The cut-off was measured on the bench's million-line file (bench/README.md).
LATER_FORK_MIN = 2_000


#: This worker process's number, which picks its OPSIN JVM among the parent's (_take_slot).
_SLOT = 0

#: Descriptions are hashed into this many buckets per worker process; a part is a run of
#: buckets (see :func:`part_sizes`).
BUCKETS_PER_WORKER = 64


def part_sizes(n_buckets: int, workers: int) -> list[int]:
    """Buckets per part, largest first (guided self-scheduling): each part takes
    ``1 / (2 * workers)`` of the buckets left. The last parts are small, so the workers end
    within a small part of each other, and the parent takes in each part while the others
    run."""
    sizes = []
    left = n_buckets
    while left:
        size = max(1, -(-left // (2 * workers)))
        sizes.append(size)
        left -= size
    return sizes


#: Where a description's packaging or grade words start: after a comma, bracket or
#: semicolon, or a quantity ("Acetone, in 200 L drums", "acetone 99 %", "Acetone 25 kg bags").
_DECORATION = re.compile(r"[,(;]|\s\d[\d.,]*\s*(?:%|kg|g|l|ml|t|mt|lbs?|gal)(?![a-z])")


def group_key(description: str) -> str:
    """What decides a description's part: its case-folded text before any packaging or grade
    words (the whole text when that leaves under three characters). The variants of one
    chemical ("Acetone", "acetone 99 %", "ACETONE, in drums") name one structure; in one
    part it is parsed and judged once, not once in each worker."""
    text = description.casefold()
    head = _DECORATION.split(text, 1)[0].strip()
    return head if len(head) >= 3 else text


def _take_slot(counter: Any) -> None:
    """Pool initializer: give this worker process the next free OPSIN session number, and
    switch its cyclic garbage collector off: judging makes no reference cycles (none are
    left after bench declarations judged with it off), so it would only walk the worker's
    new objects; a worker lives for one chunk."""
    global _SLOT
    gc.disable()
    with counter.get_lock():
        _SLOT = int(counter.value)
        counter.value += 1


def _judge_part(
    keys: Sequence[tuple[str, str, str, str]], todo: Sequence[str]
) -> tuple[Judged, dict[str, float]]:
    """In a forked worker: identify ``todo`` (this part's new descriptions, one OPSIN batch
    in this worker's JVM of the parent's) and judge ``keys`` with the parent's screener;
    what it made (templates only in their JSON form, the structures it identified with
    their keys but not their molecules) and seconds per stage."""
    screener = _FORKED
    assert screener is not None, "worker started without a screener"
    screener.timings = {}
    screener.opsin_slot = _SLOT
    known = len(screener.structures)  # the memo only grows here: new entries come last
    judged = screener.identify_and_judge(keys, todo, recall=False)
    judged.templates = []
    judged.identified = dict(islice(screener.structures.items(), known, None))
    return judged, screener.timings


def judge_forked(
    screener: Screener, keys: Sequence[tuple[str, str, str, str]], todo: set[str]
) -> JudgedParts:
    """Judge ``keys`` in ``screener.workers`` forked processes, identifying the descriptions
    of ``todo`` there. The workers are forked and every part submitted before this returns,
    so they run while the caller goes on (reading the next chunk, writing the last one); the
    returned parts come as they finish: the positions in ``keys`` of a part's declarations
    and what judging them made (templates in the same order). Stopping them before the end
    cancels the parts not started and waits for the running ones.

    Declarations are grouped by :func:`group_key` of their description (lines with and
    without a CAS number, and the packaging variants of a name, share their identification and
    structure work) into parts of decreasing size (:func:`part_sizes`),
    submitted largest first; each part is identified in one OPSIN batch, in its worker's
    JVM. The caller takes in a part while the workers go on with the others.
    ``screener.timings`` gets the wall time, shared in the workers' proportions per stage.
    """
    global _FORKED
    load_pubchem()  # once here, shared by the forked workers, instead of once in each
    n_buckets = screener.workers * BUCKETS_PER_WORKER
    buckets: list[list[int]] = [[] for _ in range(n_buckets)]
    for i, key in enumerate(keys):
        buckets[zlib.crc32(group_key(key[0]).encode()) % n_buckets].append(i)
    parts: list[list[int]] = []
    start = 0
    for size in part_sizes(n_buckets, screener.workers):
        parts.append([i for bucket in buckets[start : start + size] for i in bucket])
        start += size
    parts = [p for p in parts if p]
    part_todo = [list(dict.fromkeys(keys[i][0] for i in p if keys[i][0] in todo)) for p in parts]
    context = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    # What lives now lives on (the lists, the index, the memos): out of the collector's reach,
    # so neither the workers' collections (which would also copy the pages they walk) nor
    # the parent's walk it again. Garbage is collected first, so none is kept.
    gc.collect()
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=screener.workers,
        mp_context=context,
        initializer=_take_slot,
        initargs=(context.Value("i", 0),),
    )
    _FORKED = screener
    try:
        # every worker is forked at the first submit (the fork start method launches them
        # all at once), so each has its copy of the screener before this returns
        running = {
            pool.submit(_judge_part, [keys[i] for i in part], part_todo[n]): part
            for n, part in enumerate(parts)
        }
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        _FORKED = None

    def stop() -> None:
        pool.shutdown(wait=True, cancel_futures=True)

    return JudgedParts(_parts_in(screener, running, t0), stop, elsewhere=True)


def _parts_in(
    screener: Screener,
    running: dict[Future[tuple[Judged, dict[str, float]]], list[int]],
    t0: float,
) -> Iterator[tuple[list[int], Judged]]:
    """The parts of :func:`judge_forked` as they finish (the caller's ``stop`` shuts the
    pool down, after the last part or early)."""
    spent: dict[str, float] = {}
    for future in as_completed(running):
        judged, timings = future.result()
        for stage, seconds in timings.items():
            spent[stage] = spent.get(stage, 0.0) + seconds
        judged.templates = [template_from_json(data) for data in judged.json]
        for key, structure in judged.identified.items():  # not parsed again in later chunks
            screener.structures.setdefault(key, structure)
        yield running[future], judged
    wall, cpu = time.perf_counter() - t0, sum(spent.values()) or 1.0
    for stage, seconds in spent.items():
        screener.timings[stage] = screener.timings.get(stage, 0.0) + wall * seconds / cpu
