"""The fast paths of reading a CSV manifest give what the slower ones give.

- the pre-scan's control-character check (bytes first) answers as ``CONTROL_CHARS.search``;
- a file the pre-scan calls strictly quoted reads the same through Arrow as through the row
  reader (the csv module) and pandas' C parser, in every detected codec, and the Arrow reader
  hands over to the row reader without losing or doubling a row;
- the row reader, which reads a chunk of records at a time, names the same file lines and
  reports the same lines as reading record by record does.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import io
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precursorwatch.identify.normalise import CONTROL_CHARS
from precursorwatch.manifest import csv as manifest_csv
from precursorwatch.manifest import scan
from precursorwatch.manifest.clean import Finisher
from precursorwatch.manifest.csv import csv_chunks
from precursorwatch.manifest.layout import detect_layout
from precursorwatch.manifest.model import Layout, ManifestInfo
from precursorwatch.manifest.read import read_manifest
from precursorwatch.manifest.scan import scan_body

DATA = Path(__file__).parent / "data"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Pieces that make CSV hard: quotes, delimiters, line breaks, blanks, non-ASCII.
PIECES = ["a", " ", ",", ";", '"', '""', "\n", "\r\n", "\r", "\t", "é", '","', ',"x"', "\n\n"]


def test_every_control_character_starts_with_a_byte_the_check_looks_for() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or not CONTROL_CHARS.match(chr(code)):
            continue
        first = chr(code).encode("utf-8")[:1]
        assert first in scan._ASCII_CONTROLS + scan._CONTROL_LEADS, hex(code)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "\u2013", "\u200b", "\x00", "\xad", "\u2066"])))
def test_control_check_answers_as_the_regex(parts: list[str]) -> None:
    text = "".join(parts)
    assert scan._has_controls(text) == (CONTROL_CHARS.search(text) is not None)


def test_many_candidate_characters_fall_back_to_the_regex() -> None:
    text = "\u2013" * (scan._MAX_CANDIDATES + 5)
    assert not scan._has_controls(text)
    assert scan._has_controls(text + "\u200b")


@pytest.mark.parametrize("shift", [0, 1, 2, 3])
def test_a_control_character_across_a_block_boundary_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shift: int
) -> None:
    # the scan checks each block's own UTF-8 bytes: a zero-width space (3 bytes) that a block
    # boundary cuts must still make the file dirty, and "é" cut the same way must not
    monkeypatch.setattr(scan, "_BLOCK_BYTES", 64)
    for char, dirty in (("\u200b", True), ("é", False)):
        line = "a" * (64 - 4 + shift) + char + ",b\n"
        path = tmp_path / f"cut{shift}{dirty}.csv"
        path.write_bytes((line + "c,d\n" * 40).encode("utf-8"))
        found = scan_body(path, 0, "utf-8", ",", 2)
        assert found is not None and found.dirty is dirty, (char, shift)


def _pandas_rows(body: bytes, width: int, encoding: str = "utf-8") -> list[list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            frame = pd.read_csv(
                io.BytesIO(body),
                header=None,
                names=range(width),
                index_col=False,
                dtype=str,
                na_filter=False,
                encoding=encoding,
                engine="c",
            )
        except pd.errors.EmptyDataError:
            return []
    return [list(r) for r in frame.itertuples(index=False)]


def _body_layout(path: Path, width: int, encoding: str) -> Layout | None:
    """The layout of a header-less body at ``path``, or ``None`` when the pre-scan does not
    call it regular and strictly quoted (it then never reaches the Arrow reader)."""
    found = scan_body(path, 0, encoding, ",", width)
    assert found is not None
    if found.ragged or not found.strict:
        return None
    layout, _ = detect_layout(DATA / "manifests" / "basic.csv", "basic.csv", None)
    return dataclasses.replace(
        layout, width=width, offset=0, body_encoding=encoding, **found._asdict()
    )


def _cells(frames: list[pd.DataFrame]) -> list[list[str]]:
    return [list(r) for f in frames for r in f.itertuples(index=False)]


#: Pieces of text with quotes, dirt and characters each codec writes differently.
CODEC_PIECES = [*PIECES, '2"', '"a"b', "€", "\x00", "\u200b", "\xa0"]


@FUZZ
@given(
    st.lists(st.sampled_from([*PIECES, '2"', '"a"b']), max_size=30),
    st.sampled_from([2, 3]),
)
def test_a_strictly_quoted_file_reads_alike_in_arrow_the_row_reader_and_pandas(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], width: int
) -> None:
    path = tmp_path_factory.mktemp("strict") / "body.csv"
    body = "".join(pieces).encode()
    path.write_bytes(body)
    layout = _body_layout(path, width, "utf-8")
    if layout is None:
        return
    try:
        got = _cells(list(manifest_csv._arrow_chunks(path, layout, 7)))
    except manifest_csv.pa.ArrowException:  # an empty body, or a line Arrow stops at
        return
    assert got == _cells([c.cells for c in manifest_csv._row_chunks(path, layout, 7)])
    assert got == _pandas_rows(body, width)


@FUZZ
@given(
    st.lists(st.sampled_from(CODEC_PIECES), max_size=30),
    st.sampled_from([2, 3]),
    st.sampled_from(["utf-8", "cp1252", "utf-16-le", "latin-1"]),
)
def test_every_codec_reads_alike_in_arrow_and_the_row_reader(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], width: int, encoding: str
) -> None:
    path = tmp_path_factory.mktemp("codec") / "body.csv"
    text = "".join(pieces)
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:
        return
    path.write_bytes(body)
    layout = _body_layout(path, width, encoding)
    if layout is None:
        return
    try:
        got = _cells(list(manifest_csv._arrow_chunks(path, layout, 7)))
    except manifest_csv.pa.ArrowException:
        return
    assert got == _cells([c.cells for c in manifest_csv._row_chunks(path, layout, 7)])
    assert got == _pandas_rows(body, width, encoding)


def test_arrow_hands_over_to_the_row_reader_without_losing_a_row() -> None:
    path = DATA / "manifests" / "ragged.csv"
    layout, _ = detect_layout(path, "ragged.csv", None)
    lying = dataclasses.replace(layout, ragged=False, blank_rows=True)
    finisher = Finisher(lying)
    df = pd.concat([finisher.finish(c) for c in csv_chunks(path, lying, chunk_rows=1)])
    assert list(df["row"]) == [1, 2, 3, 4]
    assert list(df["description"])[2:] == ["Methyl ethyl ketone", "Sulphuric acid"]


def test_strict_files_take_arrow_and_others_the_row_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = tmp_path / "strict.csv"
    strict.write_text('description,cas\r\n"Acetone, pure",67-64-1\r\n\r\nToluene,108-88-3\r\n')
    loose = tmp_path / "loose.csv"
    loose.write_text('description,cas\nAcetone "pure",67-64-1\n   \nToluene,108-88-3\n')
    assert detect_layout(strict, "strict.csv", None)[0].strict
    assert not detect_layout(loose, "loose.csv", None)[0].strict
    handed: list[int] = []
    row_chunks = manifest_csv._row_chunks

    def spied(path: Path, layout: Layout, chunk_rows: int, skip: int = 0):  # type: ignore[no-untyped-def]
        handed.append(skip)
        return row_chunks(path, layout, chunk_rows, skip)

    monkeypatch.setattr(manifest_csv, "_row_chunks", spied)
    for path, readers in ((strict, []), (loose, [0])):
        df, _ = read_manifest(path)
        assert list(df["cas"]) == ["67-64-1", "108-88-3"]
        assert handed == readers
        handed.clear()


def test_a_file_ending_inside_a_stray_quote_is_reported_on(tmp_path: Path) -> None:
    # the stray quote of line 4 opens a field that the end of the file closes: Arrow would read
    # that without a word, so such a file is not strict, and the row reader reports its chunk
    path = tmp_path / "open.csv"
    path.write_text('description,cas\n"Acetone\ndrums",67-64-1\nPipe 2",",\n')
    layout, _ = detect_layout(path, "open.csv", None)
    assert not layout.ragged and not layout.strict
    df, _ = read_manifest(path)
    assert df.loc[0, "warnings"] == "a quoted field runs from file line 2 to 3; check the quotes"


def _reference_rows(path: Path, layout: Layout) -> tuple[list[list[str]], list[str]]:
    """Rows and multi-line notes read record by record, with the csv module's line numbers."""
    rows, notes, first = [], [], 1
    with open(path, encoding=layout.body_encoding, newline="") as text:
        text.seek(layout.offset)
        reader = csv.reader(text, delimiter=layout.info.delimiter)
        for record in reader:
            start, first = first, reader.line_num + 1
            if len(record) <= 1 and not "".join(record).strip():
                continue
            cut = (record + [""] * layout.width)[: layout.width]
            rows.append(cut)
            spans = first - 1 > start and any("\n" in f or "\r" in f for f in cut)
            notes.append(
                f"a quoted field runs from file line {layout.header_line + start} to "
                f"{layout.header_line + first - 1}; check the quotes"
                if spans
                else ""
            )
    return rows, notes


@FUZZ
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([1, 2, 3, 5]))
def test_the_row_reader_names_the_lines_record_by_record_reading_names(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], chunk_rows: int
) -> None:
    path = tmp_path_factory.mktemp("rows") / "ragged.csv"
    header = b"line,description,cas\n"
    path.write_bytes(header + "".join(pieces).encode())
    info = ManifestInfo(str(path), "csv", "utf-8", ",", {}, ())
    indices = {"line_id": 0, "description": 1, "cas": 2}
    layout = Layout(
        info, indices, 3, offset=len(header), body_encoding="utf-8", header_line=1, ragged=True
    )
    chunks = list(manifest_csv._row_chunks(path, layout, chunk_rows))
    rows, notes = _reference_rows(path, layout)
    assert _cells([c.cells for c in chunks]) == rows
    assert [n for c in chunks for n in (c.notes if c.notes is not None else [])] == notes
    assert all(0 < len(c.cells) <= chunk_rows for c in chunks)
    assert gc.isenabled()


def test_a_regular_file_is_reported_on_from_where_a_quote_proves_it_ragged(
    tmp_path: Path,
) -> None:
    # a short row is padded without a word; from the chunk of a row with a field too many,
    # or of a quote left open at the end of the file, lines are reported
    path = tmp_path / "quotes.csv"
    path.write_text('description,cas,qty\nA,1\nB,2,3\nC,"x\ny",3,4\nD,5,6\n')
    layout, _ = detect_layout(path, "quotes.csv", None)
    regular = dataclasses.replace(layout, ragged=False)
    chunks = list(csv_chunks(path, regular, 2))
    assert [c.field_counts is not None for c in chunks] == [False, True]
    assert list(chunks[1].field_counts) == [4, 3]
    assert list(chunks[1].notes) == [
        "a quoted field runs from file line 4 to 5; check the quotes",
        "",
    ]
    open_end = tmp_path / "open.csv"
    open_end.write_text('description,cas,qty\nA,1\nB,2,3\n"C,4,5\n')
    layout, _ = detect_layout(open_end, "open.csv", None)
    regular = dataclasses.replace(layout, ragged=False)
    chunks = list(csv_chunks(open_end, regular, 2))
    assert [c.field_counts is not None for c in chunks] == [False, True]
    assert list(chunks[1].field_counts) == [1]
