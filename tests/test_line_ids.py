"""Repeated line ids are found exactly as a set of every id would find them, while numbered
lines are kept as intervals (memory that does not grow with the file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from precursorwatch.manifest.line_ids import SeenIds
from precursorwatch.run.results import TEXT


def _expected(chunks: list[list[str]]) -> list[list[bool]]:
    seen: set[str] = set()
    out = []
    for chunk in chunks:
        marks = []
        for i in chunk:
            marks.append(i in seen)
            seen.add(i)
        out.append(marks)
    return out


def _found(chunks: list[list[str]]) -> tuple[list[list[bool]], SeenIds]:
    seen = SeenIds()
    return [list(seen.repeats(np.array(c, dtype=object))) for c in chunks], seen


def _found_in_columns(chunks: list[list[str]]) -> tuple[list[list[bool]], SeenIds]:
    """As the reader gives them: Arrow-backed text columns, some of them slices."""
    seen = SeenIds()
    out = []
    for c in chunks:
        column = pd.Series(["0", *c], dtype=TEXT).iloc[1:]  # an offset into its buffers
        out.append(list(seen.repeats(column)))
    return out, seen


def test_numbered_chunks_are_kept_as_one_interval() -> None:
    chunks = [[str(n) for n in range(lo, lo + 1000)] for lo in range(1, 100_000, 1000)]
    for find in (_found, _found_in_columns):
        found, seen = find(chunks)
        assert not any(any(c) for c in found)
        assert seen.runs == [(1, 100_000)] and len(seen.hashes) == 0


def test_numbered_columns_are_read_off_their_buffers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No id of an Arrow-backed column of numbered lines is made a Python string."""
    made: list[int] = []
    real = pd.Series.to_numpy

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(len(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "to_numpy", counted)
    seen = SeenIds()
    first = seen.repeats(pd.Series([str(n) for n in range(1, 200_001)], dtype=TEXT))
    again = seen.repeats(pd.Series([str(n) for n in range(199_999, 200_003)], dtype=TEXT))
    assert not first.any() and list(again) == [True, True, False, False]
    assert made == [] and seen.runs == [(1, 200_002)]


def test_repeats_across_intervals_and_hashes() -> None:
    chunks = [
        ["1", "2", "3", "4"],  # a run
        ["A", "3", "007", "7", "A"],  # hashed: 3 repeats the run, A repeats itself
        ["5", "6", "7", "8"],  # a run: 7 was hashed before
        ["4", "5", "9", "x", "007"],  # numbers inside the runs, and a hashed repeat
    ]
    found, seen = _found(chunks)
    assert found == _expected(chunks)
    assert seen.runs == [(1, 8)]  # 1-4 and 5-8 are adjacent: one interval


ids = st.one_of(
    st.integers(0, 60).map(str),
    st.sampled_from(["007", "A", "b-1", "-3", "1.0", " 2", "+4", "18446744073709551616"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(ids, min_size=1, max_size=12),
            st.tuples(st.integers(0, 50), st.integers(1, 15)).map(
                lambda t: [str(n) for n in range(t[0], t[0] + t[1])]
            ),
        ),
        max_size=8,
    )
)
def test_the_same_repeats_as_a_set(chunks: list[list[str]]) -> None:
    assert _found(chunks)[0] == _expected(chunks)
    assert _found_in_columns(chunks)[0] == _expected(chunks)
