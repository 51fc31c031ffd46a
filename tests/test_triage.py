"""Triage on real lists: risk that ranks, goods that name no chemical, the rules as data and
their documentation (docs/TRIAGE.md), and the terminal, CSV and HTML reports of the CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from precursorwatch.engine import triage
from precursorwatch.engine.index import build_index
from precursorwatch.engine.triage import RULES, line_verdict, rules_markdown, substance_rule
from precursorwatch.lists.load import load_bundled
from precursorwatch.models import RISKS, DeclarationLine, Evidence
from precursorwatch.report.terminal import print_table
from precursorwatch.report.writers import CSV_COLUMNS
from precursorwatch.run.screener import Screener

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_shipments"


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_bundled())


def screen(screener: Screener, **line: str) -> dict[str, object]:
    row: dict[str, object] = screener.screen_frame(pd.DataFrame([line])).iloc[0].to_dict()
    return row


def test_docs_show_the_rules_table() -> None:
    text = (ROOT / "docs" / "TRIAGE.md").read_text(encoding="utf-8")
    shown = text.split("<!-- rules:begin -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert shown == rules_markdown(), "docs/TRIAGE.md: regenerate the table (see its text)"


def test_every_rule_has_a_tier_and_a_reason() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.risk in (*RISKS, ""), r.id
        assert r.when and r.why.endswith("."), r.id


@pytest.mark.parametrize(
    ("line", "risk"),
    [
        ({"description": "BMK", "quantity": "10", "unit": "g"}, "high"),
        ({"description": "phenylacetone"}, "high"),
        ({"description": "Acetone", "quantity": "0.5", "unit": "L", "destination": "DE"}, "medium"),
        ({"description": "Acetone", "quantity": "50000", "unit": "L"}, "high"),
        ({"description": "acetic anhydride", "quantity": "1", "unit": "L"}, "medium"),
        ({"description": "acetic anhydride", "quantity": "400", "unit": "L"}, "high"),
        ({"description": "acetic anhydride"}, "medium"),
        ({"description": "hydrochloric acid 33 %", "quantity": "30000", "unit": "L"}, "medium"),
        ({"description": "toluene", "quantity": "200", "unit": "L"}, "medium"),
        ({"description": "MEK", "quantity": "100", "unit": "kg"}, "medium"),
        (
            {"description": "acetone 40 % / ethyl acetate 60 %", "quantity": "3000", "unit": "kg"},
            "medium",
        ),
        (
            {"description": "acetone 40 % / ethyl acetate 60 %", "quantity": "7200", "unit": "kg"},
            "high",
        ),
        (
            {"description": "sodium acetate", "cas": "108-24-7", "quantity": "1", "unit": "kg"},
            "high",
        ),
        ({"description": "potassium permangante", "quantity": "5000", "unit": "kg"}, "medium"),
    ],
)
def test_high_is_earned(screener: Screener, line: dict[str, str], risk: str) -> None:
    row = screen(screener, **line)
    assert row["flagged"], row["reason"]
    assert row["risk"] == risk, row["reason"]


def test_the_reason_says_why(screener: Screener) -> None:
    small = screen(screener, description="acetic anhydride", quantity="1", unit="L")
    assert "1 L is under the EU category 2A threshold of 100 L per year" in str(small["reason"])
    assert "high only over a threshold" in str(small["reason"])
    bmk = screen(screener, description="BMK", quantity="10", unit="g")
    assert "Controlled in any quantity (EU category 1)" in str(bmk["reason"])
    acid = screen(screener, description="hydrochloric acid", quantity="30000", unit="L")
    assert "designated countries, which are not checked here" in str(acid["reason"])


def test_a_domestic_threshold_does_not_decide_a_consignment_without_a_route() -> None:
    index = build_index(load_bundled())
    # 200 kg of acetone: over the US List II domestic threshold (150 kg), under the import or
    # export one (1,500 kg): without origin and destination the domestic one is not applied
    # (tests/test_law.py: with both in the US it is)
    risk, sentence = line_verdict(
        index, key="acetone", match_type="name", risk="medium", quantity="200", unit="kg"
    )
    assert risk == "medium"
    assert "1,500 kg per import or export" in sentence and "150 kg" not in sentence
    assert "origin or destination not given" in sentence


def test_substance_rules_follow_the_lists() -> None:
    index = build_index(load_bundled())
    assert substance_rule(index, "1-phenyl-2-propanone") == "every-quantity"
    assert substance_rule(index, "iodine") == "every-quantity"  # a zero US threshold
    for key in ("acetic-anhydride", "acetone", "hydrochloric-acid", "toluene", "benzaldehyde"):
        assert substance_rule(index, key) == "above-threshold", key


def test_the_tiers_are_read_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    index = build_index(load_bundled())
    ev = Evidence("name", "acetone", 0.95, "'acetone' is a name of Acetone")
    assert triage.evidence_risk(ev, index) == "medium"
    rule = dataclasses.replace(triage.RULE["above-threshold"], risk="high")
    monkeypatch.setitem(triage.RULE, "above-threshold", rule)  # type: ignore[index]
    assert triage.evidence_risk(ev, index) == "high"


@pytest.mark.parametrize(
    "line",
    [
        {"description": "white powder"},
        {"description": "chemicals"},
        {"description": "samples"},
        {"description": "N/A"},
        {"description": "xyzzy plugh"},
        {"description": ""},
        {"description": "", "cas": "67-64-2"},  # not a valid CAS number
    ],
)
def test_goods_naming_no_chemical_are_unidentified(
    screener: Screener, line: dict[str, str]
) -> None:
    row = screen(screener, **line)
    assert (row["risk"], row["match_type"], row["flagged"]) == ("low", "unidentified", False)
    assert str(row["reason"]).startswith("The goods name no identifiable chemical: ask for")
    assert "no identifiable chemical" in str(row["warnings"])


@pytest.mark.parametrize(
    "line",
    [{"description": "sodium chloride"}, {"description": "", "cas": "64-17-5"}],
)
def test_a_known_unlisted_chemical_is_checked_and_clear(
    screener: Screener, line: dict[str, str]
) -> None:
    row = screen(screener, **line)
    assert (row["risk"], row["match_type"], row["reason"]) == (
        "none",
        "",
        "No listed substance found.",
    )
    assert row["warnings"] == ""


def test_goods_under_a_non_chemical_heading_are_not_asked_about(screener: Screener) -> None:
    row = screen(screener, description="Ball bearings, deep groove", hs_code="8482.10.10")
    assert (row["risk"], row["match_type"]) == ("none", "")
    assert "not chemical goods" in str(row["reason"])


def test_an_hs_code_alone_stays_flagged_and_says_the_goods_name_nothing(
    screener: Screener,
) -> None:
    row = screen(screener, description="chemical intermediate", hs_code="2915.24.00")
    assert (row["risk"], row["match_type"]) == ("medium", "hs-code")
    assert "The goods name no identifiable chemical" in str(row["reason"])


def test_a_resemblance_reads_plainly_and_keeps_its_measure(screener: Screener) -> None:
    (r,) = screener.screen_lines([DeclarationLine(row=1, description="dihydroergotamine")])
    assert r.match_type == "similar"
    assert "resembles Ergotamine in structure, 69 % alike" in r.reason
    assert "Tanimoto" not in r.reason and "Measured" not in r.reason
    (ev,) = [e for e in r.evidence if e.kind == "similar" and e.substance_key == r.matched_key]
    assert "Tanimoto" in ev.detail and "Measured: " in ev.detail


def test_the_table_at_120_columns(screener: Screener) -> None:
    from precursorwatch.manifest.read import read_manifest

    frame, _ = read_manifest(SAMPLES / "customs_import_declaration.csv")
    buf = io.StringIO()
    print_table(screener.screen_frame(frame), console=Console(file=buf, width=120))
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "declared goods" in text and "Essigsäureanhydrid" in text and "6400 kg" in text
    # the reason is not squeezed: it has the widest column, over 45 characters at 120
    header = next(line for line in text.splitlines() if "reason" in line)
    cells = [c for c in header.split("┃") if c.strip()]
    assert cells[-1].strip() == "reason" and len(cells[-1]) >= 45
    assert all(len(cells[-1]) > len(c) for c in cells[:-1])
    assert "Ball bearings" not in text  # a line not flagged is counted, not listed
    assert re.search(r"60 lines screened: \d+ high, \d+ medium, \d+ low, 48 none", text)


# --- the command line's reports ------------------------------------------------------------


def test_table_lists_flagged_lines_and_all_with_all(run) -> None:  # type: ignore[no-untyped-def]
    manifest = str(SAMPLES / "customs_import_declaration.csv")
    code, output = run("screen", manifest, "--no-opsin")
    assert code == 1
    assert "Essigsäureanhydrid" in output and "Ball bearings" not in output
    assert "(--all lists them)" in output
    code, everything = run("screen", manifest, "--no-opsin", "--all")
    assert code == 1
    assert "Ball bearings" in everything and "--all lists them" not in everything


def test_csv_adds_the_lines_own_columns_after_the_contract(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out.csv"
    code, _ = run("screen", str(SAMPLES / "distributor_orders.csv"), "-o", str(out), "--no-opsin")
    assert code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert list(CSV_COLUMNS[10:15]) == ["description", "quantity", "unit", "consignee", "decision"]
    first = rows[0]
    assert (first["description"], first["quantity"], first["unit"]) == (
        "acide chlorhydrique 33 %",
        "1200.5",
        "L",
    )
    assert first["consignee"].startswith("Zaklady") and first["decision"] == ""


def test_html_report_from_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    code, _ = run("screen", str(SAMPLES / "distributor_orders.csv"), "-o", str(out), "--no-opsin")
    assert code == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "<script" not in text
    assert text.index('data-line="2"') < text.index('data-line="1"')  # high before medium
    assert "<svg" in text  # the resemblance of line 40 is drawn


def test_quantity_cells_are_what_the_store_keeps() -> None:
    # the CLI's CSV writes the quantity as read, as the store keeps it (parse_quantity's value
    # and unit symbol), so that the API's report.csv, read from the store, is the same bytes
    from precursorwatch.manifest.quantities import parse_quantity
    from precursorwatch.report.writers import quantity_cell
    from precursorwatch.run.results import quantity_columns

    texts = ["007", "1.200", "1,200", "12,50", "0.10", "100.00", "1e3", "2 x 25 kg", " 5 ", "abc"]
    texts += ["", "-5", "999999999999", "1000000000000", "1.200,50", "0", "10.0", "3", "4 drums"]
    units = ["kg", "L", "kgs", "Drums", "", "t"]
    pairs = [(t, u) for t in texts for u in units]
    qty, unit = quantity_columns(pd.Series([t for t, _ in pairs]), pd.Series([u for _, u in pairs]))
    for (t, u), q_cell, u_cell in zip(pairs, qty, unit, strict=True):
        value, symbol, _ = parse_quantity(" ".join(t.split()), u)
        assert (q_cell, u_cell) == (quantity_cell(value), symbol or u), (t, u)
