"""Running a screening over a frame or a file: memos, persistent caches, workers, streaming,
Dask."""
