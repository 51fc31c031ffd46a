"""The Dask path gives, line by line, the single-process result (2 worker processes)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precursorwatch.lists.load import load_bundled
from precursorwatch.models import OUTPUT_COLUMNS
from precursorwatch.run.screener import Screener
from precursorwatch.run.streaming import CsvSink, DaskScreener, stream_screen

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_local_cluster_matches_single_process() -> None:
    from precursorwatch.run.dask import screen_dataframe

    names = [
        "acetone",
        "Essigsäureanhydrid",
        "sodium chloride",
        "piperonal",
        "norepinephrine",
        "toluene",
        "cotton shirts",
        "ephedrine hydrochloride",
        "potassium permangante",
        "ethyl acetate",
    ]
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(names), 400)
    df = pd.DataFrame(
        {
            "row": np.arange(1, 401),
            "line_id": [f"L{i}" for i in range(400)],
            "description": [names[i] for i in picks],
            "cas": ["108-24-7" if i % 37 == 0 else "" for i in range(400)],
        }
    )
    watchlist = load_bundled()
    single = Screener(watchlist, use_opsin=False).screen_frame(df)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dd.from_pandas(df, npartitions=4)
        result = screen_dataframe(ddf, watchlist, use_opsin=False).compute()
    result = result.sort_index().reset_index(drop=True)
    assert len(result) == len(single) == 400
    for col in OUTPUT_COLUMNS:
        assert list(result[col]) == list(single[col]), col
    assert result["flagged"].sum() > 50


@pytest.mark.slow
def test_screen_on_a_cluster_streams_the_single_process_report() -> None:
    """What ``screen --dask ADDRESS`` does: chunks sent to the cluster one after another
    (the next read while the cluster screens one), the same report bytes as one process."""
    manifest = Path(__file__).parent.parent / "sample_shipments" / "customs_import_declaration.csv"
    watchlist = load_bundled()
    single = io.StringIO()
    stream_screen(manifest, Screener(watchlist, use_opsin=False), sinks=[CsvSink(single)])
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        screener = DaskScreener(cluster.scheduler_address, watchlist, use_opsin=False)
        try:
            clustered = io.StringIO()
            done = stream_screen(manifest, screener, sinks=[CsvSink(clustered)], chunk_rows=16)
        finally:
            screener.close()
    assert clustered.getvalue() == single.getvalue()
    assert done.lines == 60 and done.seconds["cluster"] > 0
