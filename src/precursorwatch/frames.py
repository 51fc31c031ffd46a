"""Vectorised helpers over pandas columns (no Python loop per row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]


def distinct_rows(columns: Sequence[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Number each row by its combination of values in ``columns`` (equal length), in order
    of first appearance; returns those numbers and the first row of each.

    The columns are factorised one by one (Arrow's dictionary encoding for Arrow strings) and
    their codes combined pairwise, so the combined code never overflows.
    """
    groups = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, distinct = pd.factorize(col, use_na_sentinel=False)
        groups = pd.factorize(groups * len(distinct) + codes)[0]
    first: np.ndarray = np.unique(groups, return_index=True)[1]
    return groups, first


def arrow_backed(column: pd.Series) -> bool:
    """Whether ``column`` is Arrow-backed text with no missing value."""
    dtype = column.dtype
    return (
        isinstance(dtype, pd.StringDtype)
        and dtype.storage == "pyarrow"
        and not bool(column.isna().any())
    )


def text_array(column: pd.Series) -> Any:
    """An Arrow-backed text column's values as one ``large_string`` Arrow array (no copy of
    the text when it is one already; a sliced or stacked frame's chunks are joined)."""
    arr = pa.array(column).cast(pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
