"""Read a CSV/TSV manifest's data lines as raw chunks: one fast reader, one row reader.

- **Arrow's CSV reader** reads the files the pre-scan found regular and strictly quoted
  (``Layout.strict``: RFC 4180 quoting, every line as many fields as the header), in any of
  the detected codecs. Such lines are split alike by every CSV parser. The gate matters:
  on other files Arrow accepts what the row reader reports, e.g. a stray quote that leaves
  the last field open to the end of the file.
- **The row reader** (the ``csv`` module) reads everything else: ragged rows, stray quotes
  ("Pipe 2" steel"), lone CRs, lines of blanks, one-column files. Every line keeps its row;
  in a ragged file it reports each line's field count and the records that run over several
  lines (most likely a stray quote). It also takes over, without losing or repeating a row,
  where Arrow stops (a line longer than its block, a row the pre-scan misjudged).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]

from precursorwatch.errors import ManifestError
from precursorwatch.manifest.model import Layout, RawChunk

#: Arrow's CSV blocks: larger ones hold more memory and read no faster. A row longer than a
#: block makes Arrow stop, and the row reader reads on.
_ARROW_BLOCK_BYTES = 1 << 20


def csv_chunks(path: Path, layout: Layout, chunk_rows: int) -> Iterator[RawChunk]:
    """The data lines from ``layout.offset`` on, as raw chunks of ``chunk_rows`` rows (blank
    lines skipped and not counted), in file order.

    Raises ManifestError while iterating when a line cannot be split at all (the csv module
    refuses it), naming the file line.
    """
    if layout.ragged or not layout.strict:
        yield from _row_chunks(path, layout, chunk_rows)
        return
    done = 0
    chunks = _arrow_chunks(path, layout, chunk_rows)
    while True:
        try:
            cells = next(chunks, None)
        except pa.ArrowException:
            yield from _row_chunks(path, layout, chunk_rows, skip=done)
            return
        if cells is None:
            return
        done += len(cells)
        yield RawChunk(cells)


def _arrow_chunks(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The data lines as raw text frames of ``chunk_rows`` rows (columns ``0..width-1``),
    read by Arrow block by block (decoded from ``layout.body_encoding``).

    Raises ``pyarrow.ArrowException`` where Arrow cannot go on: an empty body, a row with
    another number of fields than the header, a row longer than a block.
    """
    names = [str(i) for i in range(layout.width)]
    with open(path, "rb") as fh:
        fh.seek(layout.offset)
        reader = pa_csv.open_csv(
            fh,
            read_options=pa_csv.ReadOptions(
                column_names=names,
                use_threads=False,
                block_size=_ARROW_BLOCK_BYTES,
                encoding=layout.body_encoding,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=layout.info.delimiter, newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending: list[Any] = []
        size = 0
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            while size >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield _table_frame(table.slice(0, chunk_rows))
                rest = table.slice(chunk_rows)
                pending, size = rest.to_batches(), rest.num_rows
        if size:
            yield _table_frame(pa.Table.from_batches(pending))


def _table_frame(table: Any) -> pd.DataFrame:
    """An Arrow table of text columns as a raw text frame (columns ``0..width-1``)."""
    frame: pd.DataFrame = table.to_pandas()
    frame.columns = pd.RangeIndex(len(frame.columns))
    return frame


def _row_chunks(path: Path, layout: Layout, chunk_rows: int, skip: int = 0) -> Iterator[RawChunk]:
    """The row reader: every record of the csv module, padded or cut to the header's width
    (``skip``: data rows already given by the fast reader).

    In a ragged file every line's field count and every record over several lines are
    reported. A file the pre-scan found regular is reported on likewise from the chunk where
    the pre-scan is found to have misjudged a stray quote: the chunk holding the first row with
    more fields than the header (its last fields are lost), or the end of the file reached
    inside a quoted field. Before that, a row with fewer fields is padded without a warning, as
    nothing of it is lost. Raises ManifestError where the csv module refuses a line; the
    chunks before it have been given.
    """
    # the csv module refuses fields over 128 KiB: lift that so a field of several MB is read
    # and then cut to MAX_FIELD_CHARS with a warning (the limit is process-wide; only raised)
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reporting = layout.ragged
    with open(path, "rb") as fh:
        fh.seek(layout.offset)
        records = _Records(io.TextIOWrapper(fh, encoding=layout.body_encoding, newline=""), layout)
        while True:
            # the records are lists, one per line, alive until the chunk is made of them
            with _gc_paused():
                chunk, skip = _next_chunk(records, chunk_rows, skip, reporting)
            if chunk is None:
                return
            reporting = chunk.field_counts is not None
            yield chunk


def _next_chunk(
    records: _Records, chunk_rows: int, skip: int, reporting: bool
) -> tuple[RawChunk | None, int]:
    """The next raw chunk of the row reader (``None`` at the end of the file), with the
    number of rows still to skip. Reads no more records than the chunk needs, so that the
    chunks before a line the csv module refuses are given."""
    rows: list[list[str]] = []
    counts: list[np.ndarray] = []
    notes: dict[int, str] = {}
    while len(rows) < chunk_rows:
        got = records.read(chunk_rows - len(rows))
        if got is None:
            break
        new, new_counts, new_notes = got
        if skip:
            taken = min(skip, len(new))
            new, new_counts, skip = new[taken:], new_counts[taken:], skip - taken
            new_notes = {i - taken: t for i, t in new_notes.items() if i >= taken}
        notes.update({len(rows) + i: t for i, t in new_notes.items()})
        rows += new
        counts.append(new_counts)
    if not rows:
        return None, skip
    reporting = reporting or records.open_at_end
    layout = records.layout
    return _row_chunk(rows, np.concatenate(counts), notes, layout, reporting), skip


class _Records:
    """The csv module's records of a text body, read a chunk at a time.

    Also tells whether the file ended inside a quoted field (``open_at_end``): the csv module
    then gives the record cut short without a word, and it is noticed here as the one record
    given after the lines ran out.
    """

    def __init__(self, text: io.TextIOWrapper, layout: Layout) -> None:
        self.layout = layout
        self.open_at_end = False
        self._ran_out = False
        self._reader = csv.reader(self._lines(text), delimiter=layout.info.delimiter)
        self._records = self._watched()

    def _lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        yield from text
        self._ran_out = True

    def _watched(self) -> Iterator[list[str]]:
        for record in self._reader:
            self.open_at_end = self._ran_out
            yield record

    def read(self, want: int) -> tuple[list[list[str]], np.ndarray, dict[int, str]] | None:
        """Up to ``want`` records as data rows; ``None`` at the end of the file.

        Gives the rows (blank lines dropped, the others padded or cut to the header's width),
        the number of fields each had, and a note for each row that ran over several file lines
        with a line break inside one of its fields (most likely a stray quote, in a ragged
        file). Raises ManifestError, naming the file line, where the csv module refuses one.
        """
        before = self._reader.line_num
        try:
            records: list[list[str]] = list(itertools.islice(self._records, want))
        except csv.Error as exc:
            raise ManifestError(
                f"cannot be split into fields ({exc}); check the quotes on that line",
                path=self.layout.info.path,
                line=self.layout.header_line + self._reader.line_num,
            ) from None
        if not records:
            return None
        width = self.layout.width
        counts = np.fromiter(map(len, records), np.int64, len(records))
        notes = {}
        if self._reader.line_num - before != len(records):  # a record ran over several lines
            notes = _span_notes(records, before, self._reader.line_num, self.layout)
        odd = np.flatnonzero(counts != width) if width > 1 else np.arange(len(records))
        pad = [""] * width
        blank = []
        for i in odd.tolist():
            record = records[i]
            if len(record) <= 1 and not "".join(record).strip():
                blank.append(i)  # a blank line: no row
            else:
                records[i] = (record + pad)[:width]
        if blank:
            keep = np.ones(len(records), dtype=bool)
            keep[blank] = False
            dropped = np.cumsum(~keep)
            records = list(itertools.compress(records, keep.tolist()))
            counts = counts[keep]
            notes = {i - int(dropped[i]): t for i, t in notes.items() if keep[i]}
        return records, counts, notes


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (unless the caller already has).

    The csv module makes one list per record, and the collections their allocation sets off
    walk every list still alive, again and again while a chunk is read; none of them can be
    part of a cycle, so pausing collections until the chunk is made loses nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _span_notes(
    records: list[list[str]], before: int, after: int, layout: Layout
) -> dict[int, str]:
    """Notes for the records (body lines ``before + 1`` to ``after``) that ran over several
    file lines with a line break in one of their first ``width`` fields, naming those lines.

    A record takes one file line more for each line break inside its fields (CR LF is one),
    but for a quote left open at the end of the file, whose field also holds the last line
    break.
    """
    joined = ["\x00".join(r) for r in records]
    breaks = np.fromiter(
        (t.count("\n") + t.count("\r") - t.count("\r\n") for t in joined), np.int64, len(joined)
    )
    ends = before + np.cumsum(breaks + 1)
    first, last = ends - breaks, np.minimum(ends, after)
    base, notes = layout.header_line, {}
    for i in np.flatnonzero(last > first).tolist():
        if any("\n" in f or "\r" in f for f in records[i][: layout.width]):
            notes[i] = (
                f"a quoted field runs from file line {base + int(first[i])} to "
                f"{base + int(last[i])}; check the quotes"
            )
    return notes


def _row_chunk(
    rows: list[list[str]],
    counts: np.ndarray,
    notes: dict[int, str],
    layout: Layout,
    reporting: bool,
) -> RawChunk:
    """A raw chunk of the row reader's rows. Field counts and notes go with it when
    ``reporting`` or when a row has more fields than the header."""
    width = layout.width
    flat = pa.array(list(itertools.chain.from_iterable(rows)), type=pa.large_string())
    columns = {str(i): flat.take(np.arange(i, len(flat), width)) for i in range(width)}
    cells = _table_frame(pa.table(columns))
    if not (reporting or bool(np.any(counts > width))):
        return RawChunk(cells)
    written = np.full(len(rows), "", dtype=object)
    for at, note in notes.items():
        written[at] = note
    return RawChunk(cells, counts, written)
