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
