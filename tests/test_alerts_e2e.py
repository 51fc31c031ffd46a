"""Cross-line alerts where users see them (issue 22): `screen --format json` and the table,
`precursorwatch consignee`, `GET /v1/consignees/{name}`, and the screening's page, through
the real CLI runner and the real app on fresh stores.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from precursorwatch.intel.alerts import ALERT_KEYS, NO_CONSIGNEE
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key, open_store
from precursorwatch.store.tables import screening
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HEADER = "line_id,description,quantity,unit,consignee\n"
#: One consignee spelled three ways gets benzaldehyde and nitroethane (amphetamine); another
#: gets 4-piperidone, 2-phenylethyl bromide and propionyl chloride (fentanyl).
KITS = [
    ("1", "Benzaldehyde", "400", "kg", "ACME Chemicals Ltd."),
    ("2", "Titanium dioxide", "1000", "kg", "Acme Chemicals Limited"),
    ("3", "Nitroethane", "300", "kg", "acme chemicals"),
    ("4", "4-Piperidone monohydrate hydrochloride", "20", "kg", "Orion Pharma GmbH"),
    ("5", "2-Phenylethyl bromide", "30", "kg", "ORION PHARMA"),
    ("6", "Propionyl chloride", "15", "kg", "Orion Pharma"),
    ("7", "Toluene", "1000", "L", "Blue Paints Ltd"),
]

Run = Callable[..., tuple[int, str]]


def manifest(path: Path, rows: list[tuple[str, ...]], header: str = HEADER) -> Path:
    path.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def screen_json(run: Run, path: Path) -> dict[str, Any]:
    code, output = run("screen", str(path), "--format", "json")
    assert code == 1, output
    return dict(json.loads(output[output.index("{") :]))


def by_drug(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["drug"]: a for a in alerts}


# --- screen: JSON and table ---------------------------------------------------------------------


def test_one_manifest_gives_the_amphetamine_and_fentanyl_route_alerts(
    run: Run, tmp_path: Path
) -> None:
    body = screen_json(run, manifest(tmp_path / "kits.csv", KITS))
    alerts = body["alerts"]
    assert body["notices"] == []
    assert [a["kind"] for a in alerts] == ["route", "route"]
    assert all(tuple(a)[: len(ALERT_KEYS)] == ALERT_KEYS for a in alerts)
    amph, fent = by_drug(alerts)["amphetamine"], by_drug(alerts)["fentanyl"]
    assert amph["line_ids"] == ["1", "3"] and fent["line_ids"] == ["4", "5", "6"]
    assert amph["screening_ids"] == [body["screening_id"]]
    for alert, drug, source in ((amph, "amphetamine", "UNODC"), (fent, "fentanyl", "INCB")):
        assert alert["risk"] == "high"
        assert f"route to {drug}" in alert["reason"]
        assert "line " in alert["reason"] and source in alert["reason"]
        assert any(source in s for s in alert["sources"])
    assert "benzaldehyde (line 1" in amph["reason"] and "nitroethane (line 3" in amph["reason"]
    assert "'ACME Chemicals Ltd.'" in amph["folded_as"] and "one party" in amph["folded_as"]
    # the CSV contract is unchanged: no alert in it
    code, csv_text = run("screen", str(tmp_path / "kits.csv"), "--format", "csv")
    assert code == 1 and csv_text.splitlines()[0].startswith("line_id,flagged,risk,matched_key")
    assert "route" not in csv_text


def test_the_table_prints_the_alerts_after_the_lines(run: Run, tmp_path: Path) -> None:
    code, output = run("screen", str(manifest(tmp_path / "kits.csv", KITS)), "--format", "table")
    assert code == 1
    assert output.index("lines screened") < output.index("cross-line alerts")
    assert "2 cross-line alerts: 2 route" in output
    assert "amphetamine" in output and "fentanyl" in output


def test_split_across_two_screenings_a_month_apart_the_second_cites_the_first(
    run: Run, tmp_path: Path
) -> None:
    first = screen_json(run, manifest(tmp_path / "may.csv", [KITS[0]]))
    assert first["alerts"] == []
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'precursorwatch.sqlite'}")
    try:
        with store.session() as session:
            created = session.execute(
                select(screening.c.created_at).where(screening.c.id == first["screening_id"])
            ).scalar_one()
            session.execute(
                update(screening)
                .where(screening.c.id == first["screening_id"])
                .values(created_at=created - timedelta(days=30))
            )
    finally:
        store.dispose()
    second = screen_json(
        run, manifest(tmp_path / "june.csv", [("2", "Nitroethane", "300", "kg", "ACME CHEMICALS")])
    )
    (alert,) = second["alerts"]
    assert alert["kind"] == "route" and alert["drug"] == "amphetamine"
    assert alert["screening_ids"] == [first["screening_id"], second["screening_id"]]
    assert alert["line_ids"] == ["1", "2"]
    assert f"line 1 of screening {first['screening_id']}" in alert["reason"]
    assert "within 30 days" in alert["reason"]
    # the first screening's own lines alone raise nothing new in a third screening
    third = screen_json(run, manifest(tmp_path / "july.csv", [("9", "Acetone", "5", "L", "ACME")]))
    assert third["alerts"] == []


def test_no_consignee_column_screens_as_today_and_says_so_once(run: Run, tmp_path: Path) -> None:
    rows = [(r[0], r[1], r[2], r[3]) for r in KITS]
    path = manifest(tmp_path / "anonymous.csv", rows, "line_id,description,quantity,unit\n")
    body = screen_json(run, path)
    assert body["alerts"] == [] and body["notices"] == [NO_CONSIGNEE]
    assert len(body["lines"]) == len(KITS)
    code, output = run("screen", str(path))
    assert code == 1
    assert output.count("cross-line checks need a consignee") == 1
    assert "cross-line alerts" not in output


# --- precursorwatch consignee -------------------------------------------------------------------


def test_a_consignees_history_through_the_cli(run: Run, tmp_path: Path) -> None:
    body = screen_json(run, manifest(tmp_path / "kits.csv", KITS))
    code, output = run("consignee", "Acme Chemicals Co., Ltd.", "--format", "json")
    assert code == 1, output
    history = json.loads(output)
    assert history["party"] == "acme chemicals" and "legal form" in history["folded"]
    assert set(history["spellings"]) == {
        "ACME Chemicals Ltd.",
        "Acme Chemicals Limited",
        "acme chemicals",
    }
    assert "are one party" in history["folded_as"]
    assert [s["line_id"] for s in history["shipments"]] == ["1", "2", "3"]
    assert {s["screening_id"] for s in history["shipments"]} == {body["screening_id"]}
    totals = {t["substance"]: t for t in history["totals"]}
    assert totals["benzaldehyde"]["kg"] == 400 and totals["benzaldehyde"]["shipments"] == 1
    assert totals["nitroethane"]["kg"] == 300
    (alert,) = history["alerts"]
    assert alert["drug"] == "amphetamine" and alert["line_ids"] == ["1", "3"]
    code, table = run("consignee", "ACME CHEMICALS")
    assert code == 1
    for text in ("totals per substance and year", "shipments", "Titanium dioxide", "amphetamine"):
        assert text in table
    code, output = run("consignee", "Blue Paints")
    assert code == 0 and "no cross-line alert" in output
    code, output = run("consignee", "Nobody Trading")
    assert code == 2 and "no stored shipment" in output


# --- the API and the pages ----------------------------------------------------------------------

SECRET_LIST = "key,name,cas,smiles,synonyms,category\nnitroethane,Nitroethane,79-24-3,,,official\n"


class Api:
    def __init__(self, client: TestClient, store: Store, keys: dict[str, str]) -> None:
        self.client, self.store, self.keys = client, store, keys
        self.screenings: dict[str, str] = {}

    def get(self, who: str, path: str) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.keys[who]}"})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("consignees")
    settings = get_settings(database_url=f"sqlite:///{tmp / 'c.sqlite'}", data_dir=tmp)
    store = open_ready_store(settings)
    keys: dict[str, str] = {}
    with store.session() as session:
        for role in ("officer", "operator", "admin"):
            _, keys[role] = create_api_key(session=session, name=f"{role}-c", role=role)
    with TestClient(create_app(settings, store), follow_redirects=False) as client:
        env = Api(client, store, keys)
        imported = client.post(
            "/v1/lists",
            files={"file": ("secret-y.csv", SECRET_LIST.encode())},
            data={"confidential": "true"},
            headers={"Authorization": f"Bearer {keys['admin']}"},
        )
        assert imported.status_code == 201, imported.text
        fields = ("line_id", "description", "quantity", "unit", "consignee")
        lines = [dict(zip(fields, row, strict=True)) for row in KITS]
        for who in ("officer", "operator"):
            response = client.post(
                "/v1/screen",
                json={"lines": lines},
                headers={"Authorization": f"Bearer {keys[who]}"},
            )
            assert response.status_code == 200, response.text
            env.screenings[who] = response.json()["screening_id"]
        yield env
    store.dispose()


def test_a_consignees_history_through_the_api(api: Api) -> None:
    response = api.get("officer", "/v1/consignees/Acme%20Chemicals%20Limited")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["party"] == "acme chemicals" and body["folded_as"]
    assert len(body["shipments"]) == 6  # three lines in each of the two screenings
    assert {s["screening_id"] for s in body["shipments"]} == set(api.screenings.values())
    nitro = next(s for s in body["shipments"] if s["matched_key"] == "nitroethane")
    assert "SECRET-Y" in nitro["lists"]  # officers see the confidential list
    (year,) = {t["year"] for t in body["totals"]}
    benz = next(t for t in body["totals"] if t["substance"] == "benzaldehyde")
    assert benz["kg"] == 800 and benz["shipments"] == 2 and benz["year"] == year
    (alert,) = body["alerts"]
    assert tuple(alert)[: len(ALERT_KEYS)] == ALERT_KEYS
    assert alert["drug"] == "amphetamine" and "nitroethane" in alert["reason"]
    assert api.get("officer", "/v1/consignees/Nobody%20Ltd").status_code == 404
    assert api.get("officer", "/v1/consignees/%20").status_code == 422
    assert api.get("officer", "/v1/consignees/acme?since=June").status_code == 422
    assert api.client.get("/v1/consignees/acme").status_code == 401


def test_an_operator_never_sees_an_alert_resting_on_a_confidential_list(api: Api) -> None:
    officer = api.get("officer", "/v1/consignees/acme%20chemicals").json()
    assert [a["drug"] for a in officer["alerts"]] == ["amphetamine"]
    assert "SECRET-Y" in json.dumps(officer)
    response = api.get("operator", "/v1/consignees/acme%20chemicals")
    assert response.status_code == 200, response.text
    mine = response.json()
    assert mine["alerts"] == []  # nitroethane's line names SECRET-Y
    assert {s["screening_id"] for s in mine["shipments"]} == {api.screenings["operator"]}
    assert "SECRET-Y" not in json.dumps(mine)
    # an alert resting on public lists only is shown to the operator
    fentanyl = api.get("operator", "/v1/consignees/ORION%20PHARMA%20GMBH").json()
    assert [a["drug"] for a in fentanyl["alerts"]] == ["fentanyl"]
    assert fentanyl["alerts"][0]["screening_ids"] == [api.screenings["operator"]]


def _sign_in(client: TestClient, secret: str) -> None:
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post("/signin", data={"key": secret, "csrf": token.group(1)})
    assert done.status_code == 303


def test_the_consignee_page_and_the_screenings_page_show_the_alerts(api: Api) -> None:
    _sign_in(api.client, api.keys["officer"])
    try:
        page = api.client.get("/consignees/Acme%20Chemicals%20Ltd.")
        assert page.status_code == 200, page.text
        assert "are one party" in page.text and "amphetamine" in page.text
        assert page.text.count('<tr class="risk-') >= 6
        assert 'data-kind="route"' in page.text
        screening_page = api.client.get(f"/screenings/{api.screenings['officer']}")
        assert screening_page.status_code == 200
        text = screening_page.text
        assert "Cross-line alerts (2)" in text
        assert text.index("Cross-line alerts") < text.index('<table class="results">')
        missing = api.client.get("/consignees/Nobody%20Ltd")
        assert missing.status_code == 404 and "no stored shipment" in missing.text
    finally:
        api.client.cookies.clear()


def test_the_committed_consignee_example_is_a_valid_answer() -> None:
    from precursorwatch.web.consignees import ConsigneeOut

    example = Path(__file__).parent.parent / "api" / "examples" / "consignee.response.json"
    body = ConsigneeOut.model_validate_json(example.read_text(encoding="utf-8"))
    (alert,) = body.alerts
    assert alert.kind == "route" and len(alert.screening_ids) == 2
