"""Judge many new distinct declarations in forked worker processes (``--workers N``).

The parent :class:`~precursorwatch.screen.Screener` is shared with the workers by ``fork``
(the list index, the PubChem table and the memos are not copied or pickled); each worker
identifies its share of the new descriptions and judges their declarations with
:meth:`Screener.identify_and_judge`, and sends back what it made in the JSON form of
:class:`~precursorwatch.judged.Judged`. Workers never touch the store: the parent writes the
cache. POSIX only (:func:`can_fork`); elsewhere the screener judges in its own process.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from precursorwatch.judged import Judged, template_from_json
from precursorwatch.resolve import load_pubchem

if TYPE_CHECKING:
    from precursorwatch.screen import Screener

#: The screener whose work forked workers share (set just before a pool forks).
_FORKED: Screener | None = None


def can_fork() -> bool:
    """True where worker processes can be forked (POSIX)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _judge_part(
    keys: Sequence[tuple[str, str, str, str]], todo: Sequence[str], slot: int
) -> tuple[Judged, dict[str, float]]:
    """In a forked worker: identify ``todo`` (this part's new descriptions, one OPSIN batch
    in the parent's JVM number ``slot``, which no other part uses) and judge ``keys`` with
    the parent's screener; what it made (templates only in their JSON form) and seconds per
    stage."""
    screener = _FORKED
    assert screener is not None, "worker started without a screener"
    screener.timings = {}
    screener.opsin_slot = slot
    judged = screener.identify_and_judge(keys, todo, recall=False)
    judged.templates = []
    return judged, screener.timings


def judge_forked(
    screener: Screener, keys: Sequence[tuple[str, str, str, str]], todo: set[str]
) -> Judged:
    """Judge ``keys`` in ``screener.workers`` forked processes, identifying the descriptions
    of ``todo`` there; what they made, templates in ``keys`` order.

    Declarations are grouped by description (lines with and without a CAS number share their
    identification and structure work) into one part per worker: each part is identified in
    one OPSIN batch (a JVM start each), and 10,000 distinct descriptions balance well.
    ``screener.timings`` gets the wall time, shared in the workers' proportions per stage.
    """
    global _FORKED
    load_pubchem()  # once here, shared by the forked workers, instead of once in each
    n_parts = screener.workers
    parts: list[list[int]] = [[] for _ in range(n_parts)]
    for i, key in enumerate(keys):
        parts[zlib.crc32(key[0].encode()) % n_parts].append(i)
    parts = [p for p in parts if p]
    out: list[dict[str, Any]] = [{} for _ in keys]
    whole = Judged([], [], {}, {})
    part_todo = [list(dict.fromkeys(keys[i][0] for i in p if keys[i][0] in todo)) for p in parts]
    _FORKED = screener
    t0 = time.perf_counter()
    spent: dict[str, float] = {}
    # What lives now lives on (the lists, the index, the memos): out of the collector's reach,
    # so neither the workers' collections (which would also copy the pages they walk) nor
    # the parent's walk it again. Garbage is collected first, so none is kept.
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            max_workers=screener.workers, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            done = pool.map(
                _judge_part, [[keys[i] for i in p] for p in parts], part_todo, range(len(parts))
            )
            for part, (judged, timings) in zip(parts, done, strict=True):
                for stage, seconds in timings.items():
                    spent[stage] = spent.get(stage, 0.0) + seconds
                for i, data in zip(part, judged.json, strict=True):
                    out[i] = data
                whole.structures.update(judged.structures)
                whole.descriptions.update(judged.descriptions)
    finally:
        _FORKED = None
    wall, cpu = time.perf_counter() - t0, sum(spent.values()) or 1.0
    for stage, seconds in spent.items():
        screener.timings[stage] = screener.timings.get(stage, 0.0) + wall * seconds / cpu
    whole.json = out
    whole.templates = [template_from_json(data) for data in out]
    return whole
