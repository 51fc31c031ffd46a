"""InChI and InChIKey in columns of their own (issue 18): headers recognised, the values read
as an InChI or InChIKey in a description is (a full key identifies; a connectivity block
identifies a stereo or salt variant and the evidence says which layer agreed), in CSV and XLSX
manifests through the CLI, in the API's lines and in uploads; and what cannot be read (a broken
InChI, a key of the wrong shape) is a warning on its line, never in the reason nor an error
for the file. Real RDKit, the real app on a temporary SQLite store.
"""

from __future__ import annotations

import csv
import io
import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from precursorwatch.identify.inchi import find_inchi, with_structure_fields
from precursorwatch.lists.load import load_bundled
from precursorwatch.manifest.headers import parse_mapping, recognise
from precursorwatch.run.judged import template_from_json, template_of, template_to_json
from precursorwatch.run.results import results_from_frame
from precursorwatch.run.screener import Screener
from precursorwatch.run.service import open_ready_store, screen_file
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key, get_screening
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

P2P_INCHI = "InChI=1S/C9H10O/c1-8(10)7-9-5-3-2-4-6-9/h2-6H,7H2,1H3"
P2P_KEY = "QCCDLTOVEPVEJK-UHFFFAOYSA-N"
ACETIC_ANHYDRIDE_KEY = "WFDIJRYMOXRFFG-UHFFFAOYSA-N"
#: (+)-ephedrine: the connectivity block of the listed (-)-ephedrine, other stereo layers.
EPHEDRINE_STEREO_KEY = "KWGRBVOPPLSCSI-PSASIEDQSA-N"
#: Ephedrine written without its stereo layer: the connectivity of ephedrine and
#: pseudoephedrine, the full key of neither.
EPHEDRINE_FLAT_INCHI = "InChI=1S/C10H15NO/c1-8(11-2)10(12)9-6-4-3-5-7-9/h3-8,10-12H,1-2H3"
PSEUDOEPHEDRINE_HCL_INCHI = (
    "InChI=1S/C10H15NO.ClH/c1-8(11-2)10(12)9-6-4-3-5-7-9;/h3-8,10-12H,1-2H3;1H/t8-,10+;/m0./s1"
)
#: Broken: truncated, a wrong layer prefix, a broken H layer, far too many atoms for its
#: length; keys of the wrong shape.
BROKEN_INCHIS = (
    "InChI=1S/C9H10O/c1-8(10)7-",
    "InChI=1S/C9H10O/x1-8(10)7-9-5-3-2-4-6-9/h2-6H,7H2,1H3",
    "InChI=1S/C4H6O3/c1-3(5)7-4(2)6/hh",
    "InChI=1S/999C6H6/c999*1-2-4-6-5-3-1/h999*1-6H",
)
BROKEN_KEYS = ("ABCDEFGHIJKLM-UHFFFAOYSA-N", "QCCDLTOVEP1EJK-UHFFFAOYSA-N", "QCCDLTOVEPVEJK")


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_bundled(), use_opsin=False)


def screen(screener: Screener, rows: list[dict[str, str]]) -> pd.DataFrame:
    return screener.screen_frame(pd.DataFrame(rows))


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("InChI", "inchi"),
        ("Std InChI", "inchi"),
        ("StdInChI", "inchi"),
        ("Standard InChI", "inchi"),
        ("INCHI", "inchi"),
        ("InChIKey", "inchikey"),
        ("InChI Key", "inchikey"),
        ("inchi_key", "inchikey"),
        ("Std InChIKey", "inchikey"),
        ("Standard InChI Key", "inchikey"),
        ("inchikey", "inchikey"),
    ],
)
def test_inchi_headers_are_recognised(header: str, field: str) -> None:
    indices, columns, ignored, _ = recognise(["Goods description", header], {}, "m.csv", 1)
    assert indices == {"description": 0, field: 1}
    assert columns[field] == header and ignored == ()


def test_an_inchikey_column_alone_is_enough_to_screen() -> None:
    indices, *_ = recognise(["Item", "InChIKey", "Qty"], {}, "m.csv", 1)
    assert indices["inchikey"] == 1


def test_map_names_the_inchi_columns() -> None:
    mapping = parse_mapping(["inchi=Structure code", "InChIKey=Key"])
    assert mapping == {"inchi": "Structure code", "inchikey": "Key"}
    indices, *_ = recognise(["Goods", "Structure code", "Key"], mapping, "m.csv", 1)
    assert (indices["inchi"], indices["inchikey"]) == (1, 2)


def test_column_values_travel_with_the_description() -> None:
    assert with_structure_fields("Acetone", "", "") == "Acetone"
    text = with_structure_fields(
        "Ketone", " 1S/C9H10O/c1-8(10)7-9-5-3-2-4-6-9/\n h2-6H,7H2,1H3", ""
    )
    m = find_inchi(text)
    assert m.inchis == (P2P_INCHI,) and m.rest == "Ketone"
    m = find_inchi(with_structure_fields("", P2P_KEY, "inchikey=" + ACETIC_ANHYDRIDE_KEY.lower()))
    assert m.keys == (P2P_KEY, ACETIC_ANHYDRIDE_KEY) and m.rest == ""
    m = find_inchi(with_structure_fields("Ketone", "not an inchi", "ABC-DEF"))
    assert m.not_inchi == ("notaninchi",) and m.malformed == ("ABC-DEF",)


# --- identification from the columns (real RDKit) -------------------------------------------


def test_full_keys_and_inchis_in_columns_identify(screener: Screener) -> None:
    out = screen(
        screener,
        [
            {"description": "Ketone", "inchi": P2P_INCHI},
            {"description": "", "inchikey": P2P_KEY},
            {"description": "Solvent, drums", "inchikey": ACETIC_ANHYDRIDE_KEY},
            {"description": "Intermediate", "inchi": ACETIC_ANHYDRIDE_KEY},  # a key, wrong column
        ],
    )
    assert list(out["flagged"]) == [True, True, True, True]
    assert list(out["matched_key"]) == [
        "1-phenyl-2-propanone",
        "1-phenyl-2-propanone",
        "acetic-anhydride",
        "acetic-anhydride",
    ]
    assert set(out["match_type"]) == {"structure-identical"}
    assert "all layers of its InChIKey agreeing" in out["reason"][0]
    assert "all its layers agreeing" in out["reason"][1]
    assert list(out["warnings"]) == ["", "", "", ""]


def test_a_connectivity_match_says_which_layer_agreed(screener: Screener) -> None:
    out = screen(
        screener,
        [
            {"description": "API", "inchikey": EPHEDRINE_STEREO_KEY},
            {"description": "API", "inchi": EPHEDRINE_FLAT_INCHI},
            {"description": "API", "inchi": PSEUDOEPHEDRINE_HCL_INCHI},
        ],
    )
    assert list(out["flagged"]) == [True, True, True]
    assert list(out["match_type"]) == ["structure-parent"] * 3
    assert out["matched_key"][0] == "ephedrine"
    assert "connectivity layer" in out["reason"][0] and "KWGRBVOPPLSCSI" in out["reason"][0]
    assert out["matched_key"][1] in {"ephedrine", "pseudoephedrine"}
    assert "only its connectivity layer agreeing" in out["reason"][1]
    assert "InChI main layer" in out["reason"][1] and "KWGRBVOPPLSCSI" in out["reason"][1]
    assert out["matched_key"][2] == "pseudoephedrine"
    assert "salt" in out["reason"][2] and "main organic part agreeing" in out["reason"][2]


def test_broken_inchis_and_keys_warn_and_the_reason_is_as_without_them(
    screener: Screener,
) -> None:
    rows = [{"description": "Acetone 99 %", "inchi": bad} for bad in BROKEN_INCHIS]
    rows += [{"description": "Acetone 99 %", "inchikey": bad} for bad in BROKEN_KEYS]
    rows += [{"description": "Acetone 99 %", "inchi": "see attached sheet"}]
    rows += [{"description": f"Acetone 99 %, {bad}"} for bad in BROKEN_INCHIS]
    rows += [{"description": f"Acetone 99 %, InChIKey: {bad}"} for bad in BROKEN_KEYS]
    plain = screen(screener, [{"description": "Acetone 99 %"}])
    started = time.perf_counter()
    out = screen(screener, rows)
    assert time.perf_counter() - started < 30  # bounded: nothing huge reaches RDKit
    assert len(out) == len(rows)
    for i, row in enumerate(rows):
        assert out["matched_key"][i] == "acetone", row
        assert out["reason"][i] == plain["reason"][0], row
        assert "inchi" not in out["reason"][i].lower(), row
        assert "InChI" in out["warnings"][i] and "not used" in out["warnings"][i], row
    assert "heavy atoms" in out["warnings"][3]  # 999 copies of benzene: refused before parsing
    assert "14 letters" in out["warnings"][len(BROKEN_INCHIS)]
    assert "neither an InChI" in out["warnings"][len(BROKEN_INCHIS) + len(BROKEN_KEYS)]


def test_a_broken_inchi_alone_is_unidentified_with_a_warning(screener: Screener) -> None:
    out = screen(screener, [{"description": "", "inchi": BROKEN_INCHIS[0]}])
    assert not bool(out["flagged"][0]) and out["match_type"][0] == "unidentified"
    assert "InChI" not in out["reason"][0]
    assert out["warnings"][0].startswith("InChI 'InChI=1S/C9H10O/c1-8(10)7-' was not used")


def test_very_long_inchi_cells_are_refused_quickly(screener: Screener) -> None:
    started = time.perf_counter()
    out = screen(
        screener,
        [
            {"description": "Resin", "inchi": "InChI=1S/" + "C" * 200_000},
            {"description": "Resin", "inchikey": "K" * 200_000},
        ],
    )
    assert time.perf_counter() - started < 10
    assert "characters" in out["warnings"][0]
    assert all(len(w) < 400 for w in out["warnings"])  # the value is cut in the message


# --- CSV and XLSX manifests through the CLI ---------------------------------------------------


#: (line no, description, InChI column, InChIKey column)
MANIFEST_LINES = [
    ("1", "Ketone for fragrance", P2P_INCHI, ""),
    ("2", "Solvent", "", ACETIC_ANHYDRIDE_KEY),
    ("3", "API intermediate", "", EPHEDRINE_STEREO_KEY),
    ("4", "Acetone 99 %", BROKEN_INCHIS[0], ""),
    ("5", "Acetone 99 %", "", BROKEN_KEYS[0]),
    ("6", "Cotton t-shirts", "", ""),
    # mixed scripts and right-to-left text never fail the file
    ("7", "\u202bأسيتون\u202c 醋酸酐 99％ ацетон", "", ""),
    ("8", "\u200fمادة كيميائية InChI=1S/C9H10O/c1-8(10)7-", "", ""),
]


def _check_report(rows: list[dict[str, str]]) -> None:
    by_id = {r["line_id"]: r for r in rows}
    assert len(rows) == len(MANIFEST_LINES)
    assert (by_id["1"]["matched_key"], by_id["1"]["match_type"]) == (
        "1-phenyl-2-propanone",
        "structure-identical",
    )
    assert by_id["2"]["matched_key"] == "acetic-anhydride"
    assert by_id["3"]["matched_key"] == "ephedrine"
    assert "connectivity layer" in by_id["3"]["reason"]
    for line in ("4", "5"):
        assert by_id[line]["matched_key"] == "acetone"
        assert "InChI" not in by_id[line]["reason"]
        assert "not used" in by_id[line]["warnings"]
    assert by_id["4"]["reason"] == by_id["5"]["reason"]
    assert by_id["6"]["flagged"] == "false" and "InChI" not in by_id["6"]["warnings"]
    assert by_id["7"]["flagged"] == "true"
    assert "InChI" in by_id["8"]["warnings"] and "InChI" not in by_id["8"]["reason"]


def write_manifest(path: Path) -> Path:
    """:data:`MANIFEST_LINES` as a CSV file with "Std InChI" and "InChI Key" columns."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Line No", "Goods Description", "Std InChI", "InChI Key", "Qty", "Unit"])
        writer.writerows([(n, d, i, k, "10", "kg") for n, d, i, k in MANIFEST_LINES])
    return path


def test_csv_manifest_with_inchi_columns_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = write_manifest(tmp_path / "inchi.csv")
    out = tmp_path / "out.csv"
    code, output = run("screen", str(manifest), "-o", str(out))
    assert code == 1, output
    _check_report(list(csv.DictReader(out.open(encoding="utf-8"))))
    # again, from the store's cache of judged declarations: the warnings are kept there too
    again = tmp_path / "again.csv"
    code, output = run("screen", str(manifest), "-o", str(again))
    assert code == 1, output
    assert again.read_bytes() == out.read_bytes()


def test_the_store_keeps_the_inchi_columns_for_rescreening(
    tmp_db_url: str, tmp_path: Path, screener: Screener
) -> None:
    store = open_ready_store(get_settings(database_url=tmp_db_url))
    done = screen_file(write_manifest(tmp_path / "inchi.csv"), store=store, actor="officer")
    with store.session(write=False) as session:
        stored = get_screening(session=session, screening_id=done.screening_id)
    lines = [line for line, _ in stored.lines]
    by_id = {line.line_id: line for line in lines}
    assert by_id["1"].inchi == P2P_INCHI and by_id["2"].inchikey == ACETIC_ANHYDRIDE_KEY
    assert by_id["6"].inchi == by_id["6"].inchikey == ""
    # screened again from the store, as rescreen does: identified by the columns as before
    again = {r.line_id: r for r in screener.screen_lines(lines)}
    assert again["1"].matched_key == "1-phenyl-2-propanone"
    assert again["2"].matched_key == "acetic-anhydride"
    assert "not used" in again["5"].warnings[0]
    store.dispose()


def test_a_judged_declaration_keeps_its_warnings_in_json(screener: Screener) -> None:
    """Forked workers send templates back as JSON, and the persistent cache keeps them so."""
    df = pd.DataFrame([{"description": "Acetone", "inchikey": BROKEN_KEYS[0]}])
    result = results_from_frame(screener.screen_frame(df))[0]
    template = template_of(replace(result, line_id="", warnings=result.warnings[:1]))
    back, _ = template_from_json(json.loads(json.dumps(template_to_json(template))))
    assert back.warnings == result.warnings[:1] and "not used" in back.warnings[0]


def test_xlsx_manifest_with_inchi_columns_through_the_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Item No", "Description", "StdInChI", "inchi_key", "Net weight (kg)"])
    for n, d, i, k in MANIFEST_LINES:
        ws.append([int(n), d, i or None, k or None, 25])
    manifest = tmp_path / "inchi.xlsx"
    wb.save(manifest)
    out = tmp_path / "out.csv"
    code, output = run("screen", str(manifest), "-o", str(out))
    assert code == 1, output
    _check_report(list(csv.DictReader(out.open(encoding="utf-8"))))


# --- the API: POST /v1/screen lines and uploads -----------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('inchi-api') / 'api.sqlite'}"
    settings = get_settings(database_url=url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, officer = create_api_key(session=session, name="inchi-tests", role="officer")
    with TestClient(create_app(settings, store)) as client:
        yield client, {"Authorization": f"Bearer {officer}"}
    store.dispose()


def test_api_lines_take_inchi_and_inchikey(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    lines = [
        {"line_id": "A", "description": "Ketone", "inchi": P2P_INCHI},
        {"line_id": "B", "inchikey": ACETIC_ANHYDRIDE_KEY},  # no description: still a line
        {"line_id": "C", "description": "API", "inchikey": EPHEDRINE_STEREO_KEY},
        {"line_id": "D", "description": "Acetone 99 %", "inchi": BROKEN_INCHIS[1]},
        {"line_id": "E", "description": "Acetone 99 %", "inchikey": BROKEN_KEYS[1]},
    ]
    response = client.post("/v1/screen", json={"lines": lines}, headers=auth)
    assert response.status_code == 200, response.text
    got = {line["line_id"]: line for line in response.json()["lines"]}
    assert got["A"]["matched_key"] == "1-phenyl-2-propanone" and got["A"]["flagged"] is True
    assert got["B"]["matched_key"] == "acetic-anhydride"
    assert got["B"]["match_type"] == "structure-identical"
    assert got["C"]["matched_key"] == "ephedrine" and "connectivity layer" in got["C"]["reason"]
    for line in ("D", "E"):
        assert got[line]["matched_key"] == "acetone"
        assert "InChI" not in got[line]["reason"]
        assert any("not used" in w for w in got[line]["warnings"]), got[line]
    assert got["A"]["warnings"] == [] and got["B"]["warnings"] == []


def test_uploads_read_inchi_columns(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["Line No", "Goods Description", "InChI", "InChIKey"])
    writer.writerows(MANIFEST_LINES)
    response = client.post(
        "/v1/screenings",
        files={"file": ("inchi.csv", text.getvalue().encode("utf-8"), "text/csv")},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    sid = response.json()["screening_id"]
    report = client.get(f"/v1/screenings/{sid}/report.csv", headers=auth)
    assert report.status_code == 200
    _check_report(list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig")))))
