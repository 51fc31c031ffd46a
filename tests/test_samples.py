"""The sample manifests of `make demo` screen exactly as their truth files say."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from precursorwatch.lists.load import load_bundled
from precursorwatch.manifest.read import read_manifest
from precursorwatch.run.screener import Screener

SAMPLES = Path(__file__).parent.parent / "sample_shipments"
MANIFESTS = sorted(p for p in SAMPLES.iterdir() if p.suffix in {".csv", ".xlsx"})


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_bundled())


def test_there_are_three_samples() -> None:
    assert [p.name for p in MANIFESTS] == [
        "broker_file.xlsx",
        "customs_import_declaration.csv",
        "distributor_orders.csv",
    ]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_sample_agrees_with_its_truth_file(screener: Screener, manifest: Path) -> None:
    truth_path = SAMPLES / "truth" / f"{manifest.stem}.truth.csv"
    truth = {r["line_id"]: r for r in csv.DictReader(truth_path.open(encoding="utf-8"))}
    frame, _ = read_manifest(manifest)
    out = screener.screen_frame(frame)
    assert len(out) == len(truth)
    wrong = []
    for r in out.to_dict("records"):
        t = truth[str(r["line_id"])]
        expect = t["expect_flagged"] == "true"
        if bool(r["flagged"]) != expect or (expect and r["matched_cas"] != t["expect_cas"]):
            wrong.append((r["line_id"], t["category"], r["matched_key"], r["reason"]))
    assert not wrong


#: The high lines of each sample under the triage rules (docs/TRIAGE.md); every other flagged
#: line is medium. Why each is high, by rule: every-quantity (EU category 1: BMK, safrole,
#: piperonal, pseudoephedrine, APAAN, 1-boc-4-piperidone, isosafrole, ephedrine, PMK, BMK
#: methyl glycidate, 4-AP, APAA, 4-piperidone, BMK glycidic acid, MAPA), over-threshold (MEK
#: 16 t, phenylacetic acid 1 t and 150 kg, benzaldehyde 3 t, acetic anhydride 6,400 kg, 3,200
#: kg and 600 L, 40 % of 7,200 kg of acetone, 2,400 L of acetone, 80 L of piperidine, 120 L of
#: propionic anhydride) and mismatch (sodium acetate under the CAS of acetic anhydride).
HIGH_LINES: dict[str, set[str]] = {
    "broker_file.xlsx": {"3", "7", "9", "11", "12", "23", "29", "32", "39"},
    "customs_import_declaration.csv": {"8", "14", "22", "25", "29", "38", "42", "52"},
    "distributor_orders.csv": {"2", "16", "17", "20", "23", "25", "34", "37", "41", "47"},
}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_high_is_earned_on_the_samples(screener: Screener, manifest: Path) -> None:
    frame, _ = read_manifest(manifest)
    out = screener.screen_frame(frame)
    high = set(out.loc[out["risk"] == "high", "line_id"])
    assert high == HIGH_LINES[manifest.name]
    flagged = out[out["flagged"]]
    assert set(flagged["risk"]) <= {"high", "medium"}
