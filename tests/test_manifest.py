"""Reading manifests: real CSV/TSV/XLSX files from tests/data/manifests and made in tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precursorwatch.errors import ManifestError
from precursorwatch.manifest.read import (
    CANONICAL_COLUMNS,
    MAX_FIELD_CHARS,
    frame_from_records,
    header_key,
    iter_manifest,
    open_manifest,
    parse_mapping,
    read_manifest,
    read_manifest_bytes,
    sniff_manifest,
)

DATA = Path(__file__).parent / "data" / "manifests"


def _check_shape(df: pd.DataFrame) -> None:
    assert tuple(df.columns) == CANONICAL_COLUMNS
    assert df["row"].dtype == np.int64
    assert list(df["row"]) == list(range(1, len(df) + 1))
    for col in CANONICAL_COLUMNS[1:]:
        assert all(isinstance(v, str) for v in df[col]), col


def test_basic_csv_with_quotes_and_multiline_field() -> None:
    df, info = read_manifest(DATA / "basic.csv")
    _check_shape(df)
    assert (info.format, info.encoding, info.delimiter) == ("csv", "utf-8", ",")
    assert info.columns == {
        "line_id": "Line No", "description": "Goods Description", "cas": "CAS No.",
        "hs_code": "HS Code", "quantity": "Qty", "unit": "UoM", "origin": "Country of Origin",
        "consignee": "Consignee",
    }  # fmt: skip
    assert list(df["line_id"]) == ["10", "11", "12"]
    assert list(df["description"]) == [
        "Acetone", "Toluene, technical grade", "Piperonal\n(heliotropin)",
    ]  # fmt: skip
    assert df.loc[1, "consignee"] == 'Beta "B" GmbH'
    assert df.loc[0, "hs_code"] == "2914110000"
    assert list(df["quantity"]) == ["200", "1.5", "25"]  # raw text, not parsed here
    assert set(df["smiles"]) == {""} and set(df["warnings"]) == {""}


def test_semicolon_cp1252_with_decimal_commas() -> None:
    df, info = read_manifest(DATA / "european_cp1252.csv")
    assert (info.encoding, info.delimiter) == ("cp1252", ";")
    assert df.loc[0, "description"] == "Essigsäureanhydrid"
    assert list(df["quantity"]) == ["1,5", "1.200,50", "200"]
    assert info.columns["line_id"] == "Pos." and info.columns["origin"] == "Ursprungsland"


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    df, info = read_manifest(DATA / "bom_utf8.csv")
    assert info.encoding == "utf-8-sig"
    assert info.columns["cas"] == "CAS"
    assert df.loc[0, "description"] == "Acétone" and df.loc[0, "cas"] == "67-64-1"


def test_utf16le_tsv_and_unit_in_quantity_header() -> None:
    df, info = read_manifest(DATA / "utf16le.tsv")
    assert (info.format, info.encoding, info.delimiter) == ("tsv", "utf-16-le", "\t")
    assert list(df["description"]) == ["Ephedrine hydrochloride", "Εφεδρίνη"]
    assert info.columns["quantity"] == "Net Weight (kg)"
    assert list(df["unit"]) == ["kg", "kg"]  # from the header, as there is no unit column


def test_tab_and_pipe_delimiters_are_sniffed() -> None:
    tabs = sniff_manifest(DATA / "tabs.txt")
    assert (tabs.format, tabs.delimiter) == ("tsv", "\t")
    assert set(tabs.columns) == {"description", "cas", "smiles"}
    df, info = read_manifest(DATA / "pipes.csv")
    assert info.delimiter == "|"
    # "commodity code" is the tariff code, "commodity" alone the description
    assert info.columns == {"description": "commodity", "hs_code": "commodity code",
                            "quantity": "amount"}  # fmt: skip
    assert df.loc[0, "hs_code"] == "2916340000"


def test_preamble_lines_before_the_header_are_skipped() -> None:
    df, info = read_manifest(DATA / "preamble.csv")
    assert info.columns["description"] == "name" and info.columns["cas"] == "cas rn"
    assert list(df["description"]) == ["Piperidine"]


def test_xlsx_title_rows_numbers_and_blank_rows() -> None:
    df, info = read_manifest(DATA / "manifest.xlsx")
    _check_shape(df)
    assert (info.format, info.encoding, info.delimiter) == ("xlsx", "", "")
    assert info.columns["line_id"] == "#" and info.columns["hs_code"] == "Tariff Code"
    assert info.ignored_headers == ("Remarks",)
    assert list(df["description"]) == ["Benzyl cyanide", "Nitroethane", "Isosafrole"]
    assert list(df["hs_code"]) == ["2926901100", "2904201000", ""]
    assert list(df["quantity"]) == ["25", "2.5", "1000"]
    assert list(df["line_id"]) == ["1", "2", "3"]


def test_header_only_gives_an_empty_frame() -> None:
    df, info = read_manifest(DATA / "header_only.csv")
    _check_shape(df)
    assert len(df) == 0 and info.columns["description"] == "Description"
    chunks = list(iter_manifest(DATA / "header_only.csv"))
    assert len(chunks) == 1 and len(chunks[0]) == 0


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", ["empty"]),
        ("no_identifier.csv", ["'Item'", "'Colour'", "'Weight'", "--map description=<header>"]),
        ("picture.csv", ["not a text file"]),
        ("not_a_zip.xlsx", ["not a valid .xlsx file"]),
    ],
)
def test_unreadable_files_are_refused_with_one_clear_error(name: str, words: list[str]) -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest(DATA / name)
    message = str(caught.value)
    assert name in message
    for word in words:
        assert word in message


def test_errors_are_raised_by_the_call_not_the_first_chunk() -> None:
    with pytest.raises(ManifestError):
        iter_manifest(DATA / "no_identifier.csv")


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot be opened"):
        read_manifest(tmp_path / "nope.csv")


def test_ragged_rows_are_kept_with_a_warning() -> None:
    df, _ = read_manifest(DATA / "ragged.csv")
    assert list(df["description"]) == [
        "Acetone", "Toluene", "Methyl ethyl ketone", "Sulphuric acid",
    ]  # fmt: skip
    assert list(df["warnings"]) == [
        "", "line 2 has 3 fields, header has 4", "line 3 has 6 fields, header has 4", "",
    ]  # fmt: skip
    assert df.loc[1, "quantity"] == "" and df.loc[2, "quantity"] == "50"


def test_nul_and_invisible_characters_are_removed_with_a_warning() -> None:
    df, _ = read_manifest(DATA / "dirty.csv")
    assert list(df["description"]) == ["Acetone", "Toluene", "enotecA", "Safrole"]
    assert df.loc[0, "warnings"] == "invisible or control characters removed from description"
    assert df.loc[1, "warnings"] == "NUL bytes removed from description"
    assert df.loc[2, "warnings"] == "invisible or control characters removed from description"
    assert df.loc[3, "warnings"] == ""


def test_duplicate_line_ids_are_kept_and_warned() -> None:
    df, _ = read_manifest(DATA / "duplicates.csv")
    assert list(df["line_id"]) == ["A", "B", "A", "", ""]
    assert list(df["warnings"]) == ["", "", "line_id 'A' repeats an earlier line", "", ""]


def test_duplicates_and_row_numbers_continue_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("id,description\n" + "".join(f"{i % 7},x{i}\n" for i in range(20)))
    chunks = list(iter_manifest(path, chunk_rows=6))
    assert [len(c) for c in chunks] == [6, 6, 6, 2]
    df = pd.concat(chunks, ignore_index=True)
    _check_shape(df)
    assert list(df["description"]) == [f"x{i}" for i in range(20)]
    assert [bool(w) for w in df["warnings"]] == [i >= 7 for i in range(20)]


def test_ragged_row_late_in_a_large_file_takes_the_row_path(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    lines = [f"{i},Acetone {i},67-64-1\n" for i in range(5000)]
    lines[4321] = "4321,Acetone 4321\n"
    path.write_text("line,description,cas\n" + "".join(lines))
    df, _ = read_manifest(path)
    assert len(df) == 5000
    assert df.loc[4321, "warnings"] == "line 4322 has 2 fields, header has 3"
    assert df.loc[4999, "description"] == "Acetone 4999"


def test_long_fields_are_truncated_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("description,cas\n" + "A" * 150_000 + ",67-64-1\nToluene,108-88-3\n")
    df, _ = read_manifest(path)
    assert len(df.loc[0, "description"]) == MAX_FIELD_CHARS
    assert df.loc[0, "warnings"] == "description cut from 150,000 to 100,000 characters"
    assert df.loc[1, "description"] == "Toluene" and df.loc[1, "warnings"] == ""


def test_blank_and_delimiter_only_lines_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("description,cas\n\nAcetone,67-64-1\n,\n   \nToluene,108-88-3\n,\n")
    df, _ = read_manifest(path)
    assert list(df["description"]) == ["Acetone", "Toluene"]
    assert list(df["row"]) == [1, 2]


def test_mac_line_endings_and_crlf(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"description,cas\r\nAcetone,67-64-1\r\nToluene,108-88-3\r\n")
    assert list(read_manifest(crlf)[0]["cas"]) == ["67-64-1", "108-88-3"]
    cr = tmp_path / "cr.csv"
    cr.write_bytes(b"description,cas\rAcetone,67-64-1\rToluene,108-88-3\r")
    assert list(read_manifest(cr)[0]["cas"]) == ["67-64-1", "108-88-3"]


def test_latin1_fallback_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"description\nCaf\xe9\x81\n")  # 0x81 is undefined in cp1252
    df, info = read_manifest(path)
    assert info.encoding == "latin-1"
    assert df.loc[0, "description"] == "Café"  # the C1 control is removed
    assert "control characters" in df.loc[0, "warnings"]


def test_mapping_overrides_recognition() -> None:
    mapping = parse_mapping(["description=Item", "quantity = Weight"])
    assert mapping == {"description": "Item", "quantity": "Weight"}
    df, info = read_manifest(DATA / "no_identifier.csv", mapping=mapping)
    assert info.columns == {"description": "Item", "quantity": "Weight"}
    assert info.ignored_headers == ("Colour",)
    assert df.loc[0, "description"] == "1"
    # header names in a mapping are matched ignoring case and spacing too
    assert (
        sniff_manifest(DATA / "basic.csv", mapping={"hs_code": "hs code"}).columns["hs_code"]
        == "HS Code"
    )


def test_mapping_errors_name_what_exists() -> None:
    with pytest.raises(ManifestError, match="field=Header"):
        parse_mapping(["description"])
    with pytest.raises(ManifestError, match=r"unknown field 'goods'.*description"):
        parse_mapping(["goods=Goods"])
    with pytest.raises(ManifestError) as caught:
        read_manifest(DATA / "basic.csv", mapping={"description": "Goods"})
    message = str(caught.value)
    assert "'Goods'" in message and "'Goods Description'" in message and "basic.csv" in message


def test_header_key_folds_case_accents_and_punctuation() -> None:
    assert header_key(" CAS-No. ") == header_key("cas no") == "casno"
    assert header_key("Désignation") == "designation"
    assert header_key("#") == "#"


def test_open_manifest_gives_info_and_chunks_from_one_pass() -> None:
    info, chunks = open_manifest(DATA / "basic.csv")
    assert info.format == "csv"
    assert sum(len(c) for c in chunks) == 3


def test_read_manifest_bytes_names_the_upload_not_the_temp_file() -> None:
    data = (DATA / "european_cp1252.csv").read_bytes()
    df, info = read_manifest_bytes(data, "upload.csv")
    assert info.path == "upload.csv" and df.loc[0, "description"] == "Essigsäureanhydrid"
    xlsx, xinfo = read_manifest_bytes((DATA / "manifest.xlsx").read_bytes(), "m.xlsx")
    assert xinfo.format == "xlsx" and len(xlsx) == 3
    with pytest.raises(ManifestError, match=r"^bad\.csv: not a text file"):
        read_manifest_bytes((DATA / "picture.csv").read_bytes(), "bad.csv")


def test_xlsx_content_under_a_csv_name_is_read_as_xlsx() -> None:
    df, info = read_manifest_bytes((DATA / "manifest.xlsx").read_bytes(), "manifest.csv")
    assert info.format == "xlsx" and len(df) == 3


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)
    with pytest.raises(ManifestError, match="refused: it would unpack"):
        read_manifest(path)


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ManifestError, match=r"not a valid \.xlsx file"):
        read_manifest(path)


def test_xlsx_with_invisible_characters_and_number_cells(tmp_path: Path) -> None:
    path = tmp_path / "dirty.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Product", "CAS RN", "Qty"])
    book.active.append(["Safr\u200dole", "94-59-7", 0.25])
    book.active.append(["Acetone", 67.5, 1e20])
    book.save(path)
    df, _ = read_manifest(path)
    assert list(df["description"]) == ["Safrole", "Acetone"]
    assert list(df["cas"]) == ["94-59-7", "67.5"]
    assert list(df["quantity"]) == ["0.25", "1e+20"]
    assert df.loc[0, "warnings"] == "invisible or control characters removed from description"


def test_frame_from_records() -> None:
    df = frame_from_records(
        [
            {"line_id": 7, "description": "Acetone", "quantity": 200.0, "unit": None},
            {"description": "Tolu\u200bene", "cas": "108-88-3", "extra": "ignored"},
            {"description": None},
        ]
    )
    _check_shape(df)
    assert list(df["line_id"]) == ["7", "", ""]
    assert list(df["quantity"]) == ["200", "", ""]
    assert df.loc[1, "description"] == "Toluene"
    assert df.loc[1, "warnings"].startswith("invisible")
    empty = frame_from_records([])
    _check_shape(empty)
    assert len(empty) == 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_with_and_without_bom(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "u16.csv"
    text = "Description,CAS\nEssigsäureanhydrid,108-24-7\nΑκετόνη,67-64-1\n"
    bom = b"\xfe\xff" if codec == "utf-16-be" else b""
    path.write_bytes(bom + text.encode(codec))
    df, info = read_manifest(path)
    assert info.encoding.startswith("utf-16")
    assert list(df["description"]) == ["Essigsäureanhydrid", "Ακετόνη"]


def test_inch_marks_and_stray_quotes_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "inch.csv"
    path.write_text(
        'description,cas,qty\nPipe 2" steel,,5\nAcetone,67-64-1,200\n"Toluene",108-88-3,1\n'
    )
    df, _ = read_manifest(path)
    assert list(df["description"]) == ['Pipe 2" steel', "Acetone", "Toluene"]
    assert list(df["quantity"]) == ["5", "200", "1"]
    assert set(df["warnings"]) == {""}


def test_fast_parser_hands_over_to_the_row_path_on_a_row_it_cannot_take() -> None:
    """The fast reader meets a ragged row the pre-scan let through: no row is lost or
    doubled, and the too-long row is reported."""
    import dataclasses

    from precursorwatch.manifest.clean import Finisher as _Finisher
    from precursorwatch.manifest.csv import csv_chunks
    from precursorwatch.manifest.layout import detect_layout

    layout, _ = detect_layout(DATA / "ragged.csv", "ragged.csv", None)
    assert layout.ragged
    lying = dataclasses.replace(layout, ragged=False, blank_rows=True)
    finisher = _Finisher(lying)
    frames = [finisher.finish(c) for c in csv_chunks(DATA / "ragged.csv", lying, chunk_rows=1)]
    df = pd.concat(frames, ignore_index=True)
    assert list(df["row"]) == [1, 2, 3, 4]
    assert list(df["description"])[2:] == ["Methyl ethyl ketone", "Sulphuric acid"]
    assert df.loc[2, "warnings"] == "line 3 has 6 fields, header has 4"


def test_a_mapped_header_finds_the_header_row_below_a_title(tmp_path: Path) -> None:
    path = tmp_path / "title.csv"
    path.write_text("Shipper,ACME\nItem,Colour,Weight\n1,red,5\n")
    with pytest.raises(ManifestError, match="--map description=<header>"):
        read_manifest(path)
    df, info = read_manifest(path, mapping={"description": "item"})
    assert info.columns == {"description": "Item", "quantity": "Weight"}
    assert list(df["description"]) == ["1"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), max_size=6),
        max_size=8,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    noise=st.binary(max_size=20),
)
def test_any_input_gives_rows_or_one_manifest_error(
    tmp_path: Path, body: list[list[str]], delimiter: str, noise: bytes
) -> None:
    text = "Description" + delimiter + "CAS\n" + "\n".join(delimiter.join(r) for r in body)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass") + noise)
    try:
        df, _ = read_manifest(path)
    except ManifestError:
        return
    _check_shape(df)


def test_a_huge_header_cell_is_not_recognised_and_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("Description,Weight " + "( " * 30_000 + "\nAcetone,5\n")
    df, info = read_manifest(path)
    assert info.columns == {"description": "Description"} and len(df) == 1
