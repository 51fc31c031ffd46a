"""The fast paths of reading a CSV manifest give what the slower ones give.

- the pre-scan's control-character check (bytes first) answers as ``CONTROL_CHARS.search``;
- a file the pre-scan calls strictly quoted reads the same through Arrow as through pandas'
  C parser, and the Arrow path hands over to pandas without losing or doubling a row.
"""

from __future__ import annotations

import dataclasses
import io
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precursorwatch.identify.normalise import CONTROL_CHARS
from precursorwatch.manifest import read as manifest
from precursorwatch.manifest.clean import Finisher
from precursorwatch.manifest.read import _csv_fast, _open, _scan_body, read_manifest

DATA = Path(__file__).parent / "data"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Pieces that make CSV hard: quotes, delimiters, line breaks, blanks, non-ASCII.
PIECES = ["a", " ", ",", ";", '"', '""', "\n", "\r\n", "\r", "\t", "é", '","', ',"x"', "\n\n"]


def test_every_control_character_starts_with_a_byte_the_check_looks_for() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or not CONTROL_CHARS.match(chr(code)):
            continue
        first = chr(code).encode("utf-8")[:1]
        assert first in manifest._ASCII_CONTROLS + manifest._CONTROL_LEADS, hex(code)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "\u2013", "\u200b", "\x00", "\xad", "\u2066"])))
def test_control_check_answers_as_the_regex(parts: list[str]) -> None:
    text = "".join(parts)
    assert manifest._has_controls(text) == (CONTROL_CHARS.search(text) is not None)


def test_many_candidate_characters_fall_back_to_the_regex() -> None:
    text = "\u2013" * (manifest._MAX_CANDIDATES + 5)
    assert not manifest._has_controls(text)
    assert manifest._has_controls(text + "\u200b")


@pytest.mark.parametrize("shift", [0, 1, 2, 3])
def test_a_control_character_across_a_block_boundary_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shift: int
) -> None:
    # the scan checks each block's own UTF-8 bytes: a zero-width space (3 bytes) that a block
    # boundary cuts must still make the file dirty, and "é" cut the same way must not
    monkeypatch.setattr(manifest, "_BLOCK_BYTES", 64)
    for char, dirty in (("\u200b", True), ("é", False)):
        line = "a" * (64 - 4 + shift) + char + ",b\n"
        path = tmp_path / f"cut{shift}{dirty}.csv"
        path.write_bytes((line + "c,d\n" * 40).encode("utf-8"))
        scan = _scan_body(path, 0, "utf-8", ",", 2)
        assert scan is not None and scan.dirty is dirty, (char, shift)


def _pandas_rows(body: bytes, width: int) -> list[list[str]]:
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
                engine="c",
            )
        except pd.errors.EmptyDataError:
            return []
    return [list(r) for r in frame.itertuples(index=False)]


@FUZZ
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.sampled_from([2, 3]))
def test_a_strictly_quoted_file_reads_alike_in_arrow_and_pandas(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], width: int
) -> None:
    path = tmp_path_factory.mktemp("strict") / "body.csv"
    body = "".join(pieces).encode()
    path.write_bytes(body)
    scan = _scan_body(path, 0, "utf-8", ",", width)
    assert scan is not None
    if scan.ragged or scan.dirty or not scan.strict:
        return
    layout, _ = _open(DATA / "manifests" / "basic.csv", "basic.csv", None)
    layout = dataclasses.replace(layout, width=width, offset=0, **scan._asdict())
    try:
        got = pd.concat(list(manifest._arrow_chunks(path, layout, 7)) or [pd.DataFrame()])
    except manifest.pa.ArrowException:  # an empty body, or what Arrow refuses: pandas reads it
        return
    assert [list(r) for r in got.itertuples(index=False)] == _pandas_rows(body, width)


def test_arrow_hands_over_to_pandas_then_the_row_path_without_losing_a_row() -> None:
    path = DATA / "manifests" / "ragged.csv"
    layout, _ = _open(path, "ragged.csv", None)
    lying = dataclasses.replace(layout, ragged=False, blank_rows=True, strict=True)
    frames = list(_csv_fast(path, lying, Finisher(lying), chunk_rows=1))
    df = pd.concat(frames, ignore_index=True)
    assert list(df["row"]) == [1, 2, 3, 4]
    assert list(df["description"])[2:] == ["Methyl ethyl ketone", "Sulphuric acid"]


def test_strict_files_take_arrow_and_others_pandas(tmp_path: Path) -> None:
    strict = tmp_path / "strict.csv"
    strict.write_text('description,cas\r\n"Acetone, pure",67-64-1\r\n\r\nToluene,108-88-3\r\n')
    loose = tmp_path / "loose.csv"
    loose.write_text('description,cas\nAcetone "pure",67-64-1\n   \nToluene,108-88-3\n')
    assert _open(strict, "strict.csv", None)[0].strict
    assert not _open(loose, "loose.csv", None)[0].strict
    for path in (strict, loose):
        df, _ = read_manifest(path)
        assert list(df["cas"]) == ["67-64-1", "108-88-3"]
