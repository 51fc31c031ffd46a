"""Line ids seen so far in a stream, to warn on repeats, in memory that does not grow with
numbered lines.

Most manifests number their lines ('1', '2', '3' …). A chunk whose ids are exactly the
consecutive numbers ``lo..hi`` is kept as that one interval; any other id as its 64-bit hash
(8 bytes). A file of ten million numbered lines thus keeps one interval, where hashes would
take 80 MB (and twice that while merging). Vectorised; never raises on user text.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from precursorwatch.frames import arrow_backed, text_array

#: A line number as the interval form keeps it: decimal, no sign, no leading zero ('007' is
#: another id than '7', so it is hashed).
_NUMBER = r"0|[1-9][0-9]{0,17}"


def _hashes(values: np.ndarray | pd.Series) -> np.ndarray:
    """64-bit hashes of text values: Python's own string hash (cached on each string, so
    several times faster than pandas' hashing); they only need to agree within one process."""
    found: np.ndarray = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
    return found.view(np.uint64)


def _run_start(ids: np.ndarray) -> int | None:
    """``lo`` when ``ids`` are exactly the numbers ``lo``, ``lo + 1`` … written plainly."""
    first = str(ids[0])
    if re.fullmatch(_NUMBER, first) is None:
        return None
    lo = int(first)
    try:
        # one comparison of two joined texts (several times faster than element-wise): an id
        # holding a newline would add one to the joined text, so equal texts mean equal ids
        plain = "\n".join(ids) == "\n".join(map(str, range(lo, lo + len(ids))))
    except TypeError:  # an id that is not text
        expected = np.arange(lo, lo + len(ids), dtype=np.int64).astype(str)
        plain = bool((ids.astype(str) == expected).all())
    return lo if plain else None


def _arrow_run_start(ids: pd.Series) -> int | None:
    """:func:`_run_start` of an Arrow-backed text column (:func:`~precursorwatch.frames.
    arrow_backed`), read off its buffers: the ids are ``lo``, ``lo + 1`` … exactly when its
    characters are those numbers written one after another and its offsets end each one where
    its digits end. No id becomes a Python string (making them is the costly part)."""
    arr = text_array(ids)
    first = arr[0].as_py()
    if re.fullmatch(_NUMBER, first) is None:
        return None
    lo, n = int(first), len(arr)
    numbers = np.arange(lo, lo + n, dtype=np.int64)
    digits = np.ones(n, dtype=np.int64)
    for k in range(1, len(str(lo + n))):
        digits += numbers >= 10**k
    _, offsets, data = arr.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    if not np.array_equal(ends[1:] - ends[0], np.cumsum(digits)):
        return None
    text = np.frombuffer(data, dtype=np.uint8)[ends[0] : ends[-1]]
    last = ends[1:] - ends[0] - 1  # where each number's units digit is
    for k in range(int(digits.max())):  # digit k (from the right) of each number
        has = digits > k
        expected = (numbers[has] // 10**k % 10 + 48).astype(np.uint8)
        if not np.array_equal(text[last[has] - k], expected):
            return None
    return lo


def _numbers(ids: np.ndarray | pd.Series) -> np.ndarray:
    """Each id as the line number it writes plainly, -1 when it is not one."""
    s = pd.Series(ids, dtype=object).astype(str)
    plain = s.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    out = np.full(len(ids), -1, dtype=np.int64)
    out[plain] = s[plain].astype(np.int64).to_numpy()
    return out


class SeenIds:
    """The line ids seen so far: disjoint intervals of line numbers, and sorted hashes."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        #: Sorted, disjoint, non-adjacent closed intervals of line numbers.
        self.runs: list[tuple[int, int]] = []

    def repeats(self, ids: np.ndarray | pd.Series) -> np.ndarray:
        """Mark each of ``ids`` (non-empty texts, in line order) seen before — in an earlier
        chunk or earlier in this one — and remember the others. The ids of an Arrow-backed
        column are made Python strings only when they are not numbered lines or hashed ids
        were seen before."""
        if isinstance(ids, pd.Series) and not arrow_backed(ids):
            ids = ids.to_numpy(dtype=object)
        if isinstance(ids, pd.Series):
            start = _arrow_run_start(ids) if len(ids) else None
            if start is None or len(self.hashes):  # to hash them, or read them as numbers
                ids = ids.to_numpy(dtype=object)
        else:
            start = _run_start(ids) if len(ids) else None
        # a run of consecutive numbers cannot repeat itself, nor needs hashing unless hashed
        # ids were seen before
        hashes = _hashes(ids) if start is None or len(self.hashes) else None
        repeated = np.zeros(len(ids), dtype=bool)
        if start is None:
            repeated = pd.Series(hashes).duplicated().to_numpy(copy=True)
        if hashes is not None and len(self.hashes):
            order = np.argsort(hashes)  # searchsorted is faster on sorted needles
            at = np.searchsorted(self.hashes, hashes[order])
            found = np.empty(len(hashes), dtype=bool)
            found[order] = self.hashes[np.minimum(at, len(self.hashes) - 1)] == hashes[order]
            repeated |= found
        if self.runs:
            if start is not None:
                numbers = np.arange(start, start + len(ids), dtype=np.int64)
            else:
                numbers = _numbers(ids)
            for lo, hi in self.runs:
                repeated |= (numbers >= lo) & (numbers <= hi)
        if start is not None:
            self._add_run(start, start + len(ids) - 1)
        elif hashes is not None:
            self._add_hashes(hashes[~repeated])
        return repeated

    def _add_run(self, lo: int, hi: int) -> None:
        runs = []
        for a, b in self.runs:
            if b + 1 < lo or hi + 1 < a:
                runs.append((a, b))
            else:  # overlapping or adjacent: one interval
                lo, hi = min(lo, a), max(hi, b)
        runs.append((lo, hi))
        self.runs = sorted(runs)

    def _add_hashes(self, fresh: np.ndarray) -> None:
        # two sorted runs: a stable sort merges them in linear time
        merged = np.concatenate((self.hashes, np.sort(fresh)))
        merged.sort(kind="stable")  # in place: one copy of every id seen, not two
        self.hashes = merged
