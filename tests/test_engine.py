"""The screening engine on real lists, real RDKit, the real PubChem table and real OPSIN."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from precursorwatch.lists.load import load_bundled
from precursorwatch.models import OUTPUT_COLUMNS, DeclarationLine
from precursorwatch.run.results import TEXT
from precursorwatch.run.screener import Screener


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_bundled())


def one(screener: Screener, **line: str) -> dict[str, object]:
    out = screener.screen_frame(pd.DataFrame([line]))
    row: dict[str, object] = out.iloc[0].to_dict()
    return row


@pytest.mark.parametrize(
    ("line", "key", "match_type"),
    [
        ({"description": "Acetic anhydride", "cas": "108-24-7"}, "acetic-anhydride", "cas"),
        ({"description": "chemical product", "cas": "CAS: 108247"}, "acetic-anhydride", "cas"),
        ({"description": "Essigsaeureanhydrid"}, "acetic-anhydride", "name"),
        ({"description": "Essigsäureanhydrid 99 % in 200 L drums"}, "acetic-anhydride", "name"),
        ({"description": "BMK"}, "1-phenyl-2-propanone", "name"),
        (
            {"description": "propyl 2-methyl-3-phenyloxirane-2-carboxylate"},
            "bmk-methyl-glycidate",
            "structure-parent",
        ),
        ({"description": "Ephedrine hydrochloride USP"}, "ephedrine", "name"),
        (
            {"description": "x", "smiles": "CN[C@@H](C)[C@H](O)c1ccccc1.Cl"},
            "ephedrine",
            "structure-parent",
        ),
        ({"description": "potassium permangante"}, "potassium-permanganate", "fuzzy-name"),
        ({"description": "sodium acetate", "cas": "108-24-7"}, "acetic-anhydride", "mismatch"),
        (
            {"description": "chemical intermediate", "hs_code": "2915.24.00"},
            "acetic-anhydride",
            "hs-code",
        ),
        (
            {"description": "sample", "smiles": "CCOC(=O)C1(C)OC1c1ccccc1"},
            "bmk-methyl-glycidate",
            "structure-parent",
        ),
    ],
)
def test_listed_lines_are_flagged(
    screener: Screener, line: dict[str, str], key: str, match_type: str
) -> None:
    row = one(screener, **line)
    assert row["flagged"], row["reason"]
    assert row["matched_key"] == key
    assert row["match_type"] == match_type
    assert row["reason"]


@pytest.mark.parametrize(
    "description",
    [
        "norepinephrine",
        "piperazine",
        "hydroxylamine hydrochloride",
        "glacial acetic acid",
        "sodium acetate",
        "ethyl acetate",
        "cotton t-shirts",
        "toluene diisocyanate",
        "phenylephrine",
        "vanillin",
    ],
)
def test_close_innocent_names_are_not_flagged(screener: Screener, description: str) -> None:
    row = one(screener, description=description)
    assert not row["flagged"], row["reason"]


def test_invalid_cas_is_said_in_the_reason(screener: Screener) -> None:
    row = one(screener, description="Acetone", cas="67-64-2")
    assert row["matched_key"] == "acetone"
    assert "CAS 67-64-2 is not a valid CAS number" in str(row["reason"])


def test_mixture_component_with_its_share(screener: Screener) -> None:
    row = one(screener, description="acetone 40 % / ethyl acetate 60 %")
    assert row["matched_key"] == "acetone"
    assert "40%" in str(row["reason"])


def test_output_has_contract_columns_in_input_order(screener: Screener) -> None:
    df = pd.DataFrame(
        {"description": ["cotton", "toluene", "cotton", "toluol"], "line_id": ["a", "", "c", "d"]}
    )
    out = screener.screen_frame(df)
    assert list(out.columns[: len(OUTPUT_COLUMNS)]) == list(OUTPUT_COLUMNS)
    assert list(out["line_id"]) == ["a", "2", "c", "d"]
    assert list(out["flagged"]) == [False, True, False, True]


def test_screen_lines_round_trips_results(screener: Screener) -> None:
    results = screener.screen_lines([DeclarationLine(row=1, line_id="7", description="safrole")])
    assert results[0].matched_key == "safrole"
    assert results[0].evidence and results[0].evidence[0].kind == "name"


def test_cache_carries_resolutions_across_screeners() -> None:
    class DictCache:
        def __init__(self) -> None:
            self.data: dict[str, dict[str, object]] = {}

        def get_many(self, ns: str, keys: list[str]) -> dict[str, dict[str, object]]:
            return {k: self.data[ns + k] for k in keys if ns + k in self.data}  # type: ignore

        def has_any(self, ns: str) -> bool:
            return any(k.startswith(ns) for k in self.data)

        def put_all(self, batches: dict[str, dict[str, dict[str, object]]]) -> None:
            for ns, values in batches.items():
                self.data.update({ns + k: v for k, v in values.items()})

    cache = DictCache()
    wl = load_bundled()
    first = Screener(wl, cache=cache).screen_frame(pd.DataFrame({"description": ["toluol"]}))
    assert cache.data
    second = Screener(wl, cache=cache).screen_frame(pd.DataFrame({"description": ["toluol"]}))
    assert list(first["reason"]) == list(second["reason"])


def test_screen_lines_with_mixed_quantities(screener: Screener) -> None:
    lines = [
        DeclarationLine(row=1, description="acetone", quantity=200.0, unit="L"),
        DeclarationLine(row=2, description="cotton", quantity=None),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' fill-value deprecation included
        results = screener.screen_lines(lines)
    assert [r.matched_key for r in results] == ["acetone", ""]


def test_quantity_is_compared_with_the_threshold_in_its_unit(screener: Screener) -> None:
    litres = one(screener, description="acetic anhydride", quantity="400", unit="L")
    assert "400 L is over the EU category 2A threshold of 100 L per year" in str(litres["reason"])
    kilos = one(screener, description="acetic anhydride", quantity="50", unit="kg")
    assert "50 kg (≈ 46 L) is under" in str(kilos["reason"])


def test_threshold_sentences_go_on_their_own_lines_only(screener: Screener) -> None:
    # one declaration, three lines: the sentence follows each line's quantity, and the text
    # columns are pandas' Arrow-backed text (what the CSV writer reads as it is)
    df = pd.DataFrame(
        {
            "line_id": ["a", "b", ""],
            "description": ["acetic anhydride"] * 3,
            "quantity": ["400", "", "50"],
            "unit": ["L", "", "kg"],
        }
    )
    out = screener.screen_frame(df)
    reasons = list(out["reason"])
    assert "400 L is over" in reasons[0] and "50 kg" in reasons[2]
    assert "Quantity:" not in reasons[1] and reasons[0].startswith(reasons[1])
    assert list(out["line_id"]) == ["a", "b", "3"]  # a line without an id: its row number
    text = [c for c in OUTPUT_COLUMNS if c not in ("flagged", "score")] + ["warnings"]
    assert all(out[c].dtype == TEXT for c in text)
    assert (out.dtypes == screener.screen_frame(pd.DataFrame()).dtypes).all()
