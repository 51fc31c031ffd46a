"""Cross-line intelligence: routes as data, consignee folding, route/cumulative/structuring alerts.

The "must show" cases of issue 22 run on the bundled lists and routes; the manifest case is
screened by the real engine first, as `screen --format json` will do.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

from precursorwatch.intel.alerts import (
    ALERT_KEYS,
    NO_CONSIGNEE,
    alert_to_dict,
    densities_from_watchlist,
    find_alerts,
    limits_from_watchlist,
    merge_limits,
    run_checks,
)
from precursorwatch.intel.consignee import fold_name, folded_as, group_consignees
from precursorwatch.intel.recognise import Recogniser, normalise_cas
from precursorwatch.intel.routes import RouteBook, default_routes_path, load_routes
from precursorwatch.lists.load import load_bundled
from precursorwatch.models import Watchlist

TODAY = date(2026, 6, 30)


@cache
def watchlist() -> Watchlist:
    return load_bundled()


@cache
def book() -> RouteBook:
    return load_routes(known_keys=watchlist().substances)


def checks(frame: pd.DataFrame, **kw: object) -> list:
    w = watchlist()
    limits = merge_limits(book().limits, limits_from_watchlist(w))
    return find_alerts(
        frame, book(), today=TODAY, limits=limits, densities=densities_from_watchlist(w), **kw
    )


def line(consignee: str, description: str, quantity: str, unit: str = "kg", **kw: str) -> dict:
    row = {"consignee": consignee, "description": description, "quantity": quantity, "unit": unit}
    row.update({"matched_key": "", "risk": "none", "lists": "", "cas": ""})
    row.update(kw)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "line_id" not in df:
        df.insert(0, "line_id", [str(i + 1) for i in range(len(df))])
    return df


# --- routes as data -----------------------------------------------------------------------------


def test_routes_cover_the_issue_and_cite_unodc_emcdda_or_incb() -> None:
    routes = {r.key: r for r in book().routes}
    drugs = {r.drug for r in routes.values()}
    for drug in ("methamphetamine", "amphetamine", "MDMA", "fentanyl", "methaqualone", "LSD"):
        assert drug in drugs
    assert {"ghb-gbl", "heroin-acetic-anhydride", "cocaine-processing"} <= set(routes)
    assert any("synthetic cathinones" in d for d in drugs)
    agencies = ("UNODC", "UNDCP", "INCB", "EMCDDA", "EUDA")
    for route in routes.values():
        labels = book().source_labels(route.sources)
        assert any(label.startswith(agencies) for label in labels), route.key
        assert all(s in book().sources for s in route.sources)


def test_routes_file_holds_roles_drugs_and_sources_only() -> None:
    data = yaml.safe_load(default_routes_path().read_text(encoding="utf-8"))
    allowed = {"key", "drug", "name", "roles", "sources", "min_roles", "score", "alert", "note"}
    allowed |= {"min_kg", "countries"}
    for route in data["routes"]:
        assert set(route) <= allowed, route["key"]
        for role in route["roles"]:
            assert set(role) <= {"role", "agents", "required", "moles"}


def test_every_agent_key_is_known_to_the_bundled_lists() -> None:
    # The keys of Delegated Regulation (EU) 2026/314 (propiophenones, P2NP) are in lists/ now;
    # a key the lists lack is reported, not refused:
    assert book().unknown_keys == ()
    fewer = set(watchlist().substances) - {"4-methylpropiophenone", "phenyl-2-nitropropene"}
    pending = load_routes(known_keys=fewer).unknown_keys
    assert sorted(pending) == [
        ("4-methylpropiophenone", "4-methylpropiophenone"),
        ("p2np", "phenyl-2-nitropropene"),
    ]


def test_recogniser_fills_roles_of_reagents_the_engine_does_not_flag() -> None:
    r = Recogniser(book())
    assert r.agent_for("", "nitroethane, 25 kg") == "nitroethane"
    assert r.agent_for("", "2-Phenylethyl bromide 99%") == "phenethyl-bromide"
    assert r.agent_for("", "Propionylchlorid") == "propionyl-chloride"
    assert r.agent_for("", "o-Toluidine") == "o-toluidine"
    assert r.agent_for("", "goods", "79-03-8") == "propionyl-chloride"
    assert r.agent_for("", "goods", "79038") == "propionyl-chloride"
    assert r.agent_for("", "2-bromo-4'-methylpropiophenone") == "2-bromo-4-methylpropiophenone"
    assert r.agent_for("4-piperidone", "anything") == "4-piperidone"
    for other in ("N,N-dimethylformamide", "p-toluidine", "povidone iodine 10 %", "aniline black"):
        assert r.agent_for("", other) == "", other
    # "3-chloropropiophenone" is the trade name of an unlisted substance (936-59-4)
    assert r.agent_for("", "3-chloropropiophenone") == ""
    assert normalise_cas("CAS 100-52-7") == "100-52-7"


# --- consignees ---------------------------------------------------------------------------------


def test_spellings_of_one_party_fold_to_one_key() -> None:
    spellings = [
        "ACME Chemicals Ltd.",
        "Acme Chemicals Limited",
        "acme chemicals",
        "Acme Chemicals Co., Ltd.",
    ]
    assert len({fold_name(s).key for s in spellings}) == 1
    assert fold_name("ООО «Химпром»").key == fold_name("OOO Khimprom").key == "khimprom"
    assert fold_name("上海化工有限公司").key == "上海化工"
    assert fold_name("Société Chimique S.A.").key == "societe chimique"
    for form in (
        "GmbH",
        "Sp. z o.o.",
        "S.r.l.",
        "B.V.",
        "AG",
        "Pvt. Ltd.",
        "FZE",
        "LLP",
        "Inc.",
        "LLC",
    ):
        assert fold_name(f"Orion Trading {form}").key == "orion trading", form
    assert fold_name("Acme Chemcials").key != fold_name("Acme Chemicals").key  # no fuzzy merges
    assert group_consignees([*spellings, " "]) == {"acme chemicals": spellings}
    assert folded_as(spellings[:3]) == (
        "'ACME Chemicals Ltd.', 'Acme Chemicals Limited' and 'acme chemicals' are one party "
        "(case, punctuation and legal forms folded)."
    )
    assert folded_as(["Acme"]) == ""


# --- the issue's "must show" cases --------------------------------------------------------------


def test_manifest_gives_the_amphetamine_and_fentanyl_route_alerts() -> None:
    from precursorwatch.run.screener import Screener

    manifest = frame(
        [
            line("ACME Chemicals Ltd.", "Benzaldehyde", "400", date="2026-05-02"),
            line("Acme Chemicals Limited", "Titanium dioxide", "1000", date="2026-05-10"),
            line("acme chemicals", "Nitroethane", "300", date="2026-06-01"),
            line(
                "Orion Pharma GmbH",
                "4-Piperidone monohydrate hydrochloride",
                "20",
                date="2026-06-03",
            ),
            line("ORION PHARMA", "2-Phenylethyl bromide", "30", date="2026-06-04"),
            line("Orion Pharma", "Propionyl chloride", "15", date="2026-06-05"),
            line("Blue Paints Ltd", "Toluene", "1000", "L", date="2026-06-05"),
        ]
    )
    screened = Screener(watchlist()).screen_frame(manifest)
    lines = manifest.assign(
        matched_key=screened["matched_key"], risk=screened["risk"], lists=screened["lists"]
    )
    alerts = checks(lines)
    assert [a.kind for a in alerts] == ["route", "route"]
    amph = next(a for a in alerts if a.drug == "amphetamine")
    fent = next(a for a in alerts if a.drug == "fentanyl")
    assert amph.line_ids == ("1", "3") and fent.line_ids == ("4", "5", "6")
    assert "amphetamine" in amph.reason and "UNODC ST/NAR/34" in amph.reason
    assert "fentanyl" in fent.reason and "INCB" in fent.reason
    assert "line 3" in amph.reason and "nitroethane" in amph.reason
    assert "'ACME Chemicals Ltd.'" in amph.folded_as and "'acme chemicals'" in amph.folded_as
    assert amph.consignee in {"ACME Chemicals Ltd.", "acme chemicals"}
    assert amph.risk == "high" and "fit its proportions" in amph.reason  # 400 kg : 300 kg fits
    assert "UN-T1" in fent.lists  # 4-piperidone's lists travel with the alert


def test_split_across_two_screenings_the_second_cites_the_first() -> None:
    first = [
        line(
            "Acme Chemicals Ltd",
            "benzaldehyde",
            "500",
            matched_key="benzaldehyde",
            risk="high",
            lists="US-DEA-L1",
            screening_id="S-0001",
            date="2026-05-01",
            line_id="7",
        ),
    ]
    second = [
        line(
            "ACME CHEMICALS LIMITED",
            "nitroethane",
            "400",
            screening_id="S-0002",
            date="2026-06-01",
            line_id="2",
        ),
    ]
    (alert,) = checks(frame(first + second))
    assert alert.kind == "route" and alert.drug == "amphetamine"
    assert alert.screening_ids == ("S-0001", "S-0002")
    assert alert.line_ids == ("7", "2")
    assert "of screening S-0001" in alert.reason and "within 31 days" in alert.reason


def test_no_consignee_column_no_alert_and_one_notice() -> None:
    rows = frame([line("x", "Benzaldehyde", "500"), line("x", "Nitroethane", "500")])
    result = run_checks(rows.drop(columns=["consignee"]), book(), today=TODAY)
    assert result.alerts == ()
    assert result.notices == (NO_CONSIGNEE,)
    assert "cross-line checks need a consignee" in result.notices[0]
    blank = run_checks(rows.assign(consignee=""), book(), today=TODAY)
    assert blank.alerts == () and len(blank.notices) == 1


def test_structuring_under_a_per_transaction_threshold() -> None:
    aa = {"matched_key": "acetic-anhydride", "risk": "high", "lists": "UN-T1;EU-CAT2A;US-DEA-L2"}
    split = [
        line("Delta Trading FZE", "acetic anhydride", q, date=d, **aa)
        for q, d in (("900", "2026-06-01"), ("950", "2026-06-09"), ("980", "2026-06-20"))
    ]
    honest = [
        line("Vega Pharma AG", "acetic anhydride", q, date=d, **aa)
        for q, d in (("900", "2026-06-01"), ("2000", "2026-06-09"))
    ]
    alerts = checks(
        frame(split + honest),
        registered={"Delta Trading": ["acetic-anhydride"], "Vega Pharma": ["acetic-anhydride"]},
    )
    (alert,) = alerts
    assert alert.kind == "structuring" and alert.risk == "high"
    assert alert.line_ids == ("1", "2", "3")
    assert "1,023 kg" in alert.reason and "2,830 kg together" in alert.reason
    assert "heroin" in alert.reason  # the single-precursor route names the drug
    assert "US-DEA-L2" in alert.lists


def test_cumulative_over_an_annual_threshold() -> None:
    aa = {"matched_key": "acetic-anhydride", "risk": "high", "lists": "UN-T1;EU-CAT2A"}
    rp = {"matched_key": "red-phosphorus", "risk": "high", "lists": "EU-CAT2A;US-DEA-L1"}
    rows = [
        line("Nova Labs", "acetic anhydride", "60", "L", date=d, **aa)
        for d in ("2026-01-10", "2026-03-10", "2026-05-10")
    ]
    rows += [
        line("Star Matches", "red phosphorus", "50", "g", date=d, **rp)
        for d in ("2026-02-01", "2026-04-01", "2026-06-01")
    ]
    alerts = {a.consignee: a for a in checks(frame(rows))}
    assert alerts["Nova Labs"].kind == "cumulative"
    assert "180 L of acetic anhydride in 2026" in alerts["Nova Labs"].reason
    assert "EU-CAT2A threshold of 100 L" in alerts["Nova Labs"].reason
    # 100 g a year: the lists' threshold (in kg) or the routes file's (in g) when the lists lack it
    red = alerts["Star Matches"].reason
    assert "of red phosphorus in 2026" in red and ("150 g" in red or "0.15 kg" in red)
    registered = checks(frame(rows), registered={"NOVA LABS LTD": ["acetic-anhydride"]})
    assert {a.consignee for a in registered} == {"Star Matches"}


# --- the rest of the contract -------------------------------------------------------------------


def test_alert_to_dict_has_exactly_the_contract_keys() -> None:
    rows = [
        line("Acme", "benzaldehyde", "500", matched_key="benzaldehyde", risk="high"),
        line("Acme", "nitroethane", "400"),
    ]
    (alert,) = checks(frame(rows))
    out = alert_to_dict(alert)
    assert (
        tuple(out)
        == ALERT_KEYS
        == ("kind", "consignee", "line_ids", "screening_ids", "risk", "reason")
    )
    assert json.loads(json.dumps(out))["line_ids"] == ["1", "2"]
    assert out["screening_ids"] == []


def test_alert_lists_name_a_confidential_list_it_rests_on() -> None:
    rows = [
        line(
            "Acme",
            "benzaldehyde",
            "500",
            matched_key="benzaldehyde",
            risk="medium",
            lists="MY-CONFIDENTIAL",
        ),
        line("Acme", "nitroethane", "400"),
    ]
    (alert,) = checks(frame(rows))
    assert alert.lists == ("MY-CONFIDENTIAL",)


def test_window_laboratory_quantities_and_proportions() -> None:
    old = [
        line("Acme", "benzaldehyde", "500", date="2025-11-01"),
        line("Acme", "nitroethane", "400"),
    ]
    assert checks(frame(old)) == []  # benzaldehyde fell out of the 180-day window
    assert len(checks(frame(old), window_days=365)) == 1
    lab = [line("Uni Lab", "benzaldehyde", "0.5"), line("Uni Lab", "nitroethane", "1", "L")]
    assert checks(frame(lab)) == []  # reagent bottles are not a kit
    odd = [line("Acme", "benzaldehyde", "5000"), line("Acme", "nitroethane", "10")]
    (alert,) = checks(frame(odd))
    assert alert.risk == "medium" and "do not fit its proportions" in alert.reason
    low_score = [
        line(
            "Acme",
            "potassium permanganate",
            "500",
            matched_key="potassium-permanganate",
            risk="high",
            destination="CO",
        ),
        line("Acme", "acetone", "2000", "L", matched_key="acetone", risk="high"),
        line("Acme", "hydrochloric acid", "800", matched_key="hydrochloric-acid", risk="high"),
    ]
    (coca,) = checks(frame(low_score))
    assert coca.drug == "cocaine" and coca.risk == "low"
    elsewhere = [{**r, "destination": "DE"} for r in low_score]
    assert [a for a in checks(frame(elsewhere)) if a.kind == "route"] == []


@pytest.mark.parametrize("bad", ["routes: []\n", "agents: {x: {}}\nroutes: []\n", "- 1\n"])
def test_a_bad_routes_file_is_refused_naming_the_file(tmp_path: Path, bad: str) -> None:
    from precursorwatch.errors import ListFileError

    path = tmp_path / "routes.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ListFileError, match=r"routes\.yaml"):
        load_routes(path)
