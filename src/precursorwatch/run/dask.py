"""Screening beyond one machine: the same library call mapped over Dask partitions.

``screen_dataframe(ddf, watchlist)`` maps :meth:`Screener.screen_frame` over the partitions
of a Dask DataFrame of canonical manifest columns. Each worker process builds the list index
once (keyed by the lists' versions) and keeps its resolutions across partitions.

Under Spark the same function serves ``mapInPandas``::

    screener_lists = load_bundled()
    def screen_batches(batches):
        screener = Screener(screener_lists)
        for pdf in batches:
            yield screener.screen_frame(pdf)[list(OUTPUT_COLUMNS)]
    spark_df.mapInPandas(screen_batches, schema=...)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from precursorwatch.models import Watchlist
from precursorwatch.run.results import empty_result
from precursorwatch.run.screener import Screener

_SCREENERS: dict[str, Screener] = {}


def _worker_screener(watchlist: Watchlist, use_opsin: bool, as_of: date | None) -> Screener:
    """The screener of this worker process for ``watchlist`` as of that day (built once per
    process)."""
    key = f"{sorted(watchlist.versions().items())}:{use_opsin}:{as_of}"
    screener = _SCREENERS.get(key)
    if screener is None:
        screener = Screener(watchlist, use_opsin=use_opsin, as_of=as_of)
        _SCREENERS.clear()
        _SCREENERS[key] = screener
    return screener


def _screen_partition(
    part: pd.DataFrame, watchlist: Watchlist, use_opsin: bool, as_of: date | None = None
) -> pd.DataFrame:
    screener = _worker_screener(watchlist, use_opsin, as_of)
    out = screener.screen_frame(part.reset_index(drop=True))
    out.index = part.index
    return out


def output_meta() -> pd.DataFrame:
    """An empty frame with the output's columns and dtypes (Dask's ``meta``)."""
    return empty_result()


def screen_dataframe(
    ddf: Any, watchlist: Watchlist, *, use_opsin: bool = True, as_of: date | None = None
) -> Any:
    """Screen a Dask DataFrame of canonical columns against the lists as they apply on
    ``as_of`` (default: today on the workers); returns a Dask DataFrame of results.

    Rows keep their partition and index, so ``result.compute()`` lines up with
    ``ddf.compute()``. ``row`` numbers should be set before partitioning (otherwise each
    partition numbers its rows from 1 and lines without a line_id get partition-local ids).
    """
    return ddf.map_partitions(_screen_partition, watchlist, use_opsin, as_of, meta=output_meta())
