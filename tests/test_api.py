"""The HTTP API through the real app on a temporary SQLite store, with real manifests."""

from __future__ import annotations

import io
import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from precursorwatch.cli import app as cli_app
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "api"
MANIFEST = DATA / "manifest.csv"
SAMPLE = ROOT / "sample_shipments" / "customs_import_declaration.csv"
LINE_KEYS = {
    "line_id",
    "flagged",
    "risk",
    "matched_key",
    "matched_name",
    "matched_cas",
    "lists",
    "match_type",
    "score",
    "reason",
    "evidence",
}


class Env:
    """A store, an officer key and a client of the real app."""

    def __init__(self, url: str, store: Store, client: TestClient, officer: str) -> None:
        self.url, self.store, self.client, self.officer = url, store, client, officer

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.officer}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.sqlite'}"
    settings = get_settings(database_url=url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, officer = create_api_key(session=session, name="border-system", role="officer")
    with TestClient(create_app(settings, store)) as client:
        yield Env(url, store, client, officer)
    store.dispose()


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The one error shape, exactly."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


def test_healthz_needs_no_key(env: Env) -> None:
    response = env.client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


def test_screen_json_batch(env: Env) -> None:
    lines = [
        {"line_id": "A-1", "description": "Acetic anhydride", "cas": "108-24-7", "quantity": 400},
        {"line_id": "A-2", "description": "Sodium chloride", "cas": "7647-14-5"},
        {"smiles": "CC1(OC1c1ccc2OCOc2c1)C(=O)OC"},
    ]
    response = env.client.post("/v1/screen", json={"lines": lines}, headers=env.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["screening_id"]) == 32
    out = body["lines"]
    assert [line["line_id"] for line in out] == ["A-1", "A-2", "3"]
    assert all(set(line) >= LINE_KEYS for line in out)
    # 400 of no unit: no threshold can be compared, so acetic anhydride (a thresholded
    # substance) is flagged medium, not high (docs/TRIAGE.md, rule under-threshold)
    assert out[0]["flagged"] is True and out[0]["risk"] == "medium"
    assert out[0]["matched_key"] == "acetic-anhydride" and "EU-CAT2A" in out[0]["lists"]
    assert out[0]["evidence"] and out[0]["evidence"][0]["kind"] == "cas"
    assert out[1]["flagged"] is False and out[1]["lists"] == []
    assert out[2]["match_type"].startswith("structure")
    stored = env.client.get(f"/v1/screenings/{body['screening_id']}", headers=env.auth).json()
    assert stored["lines"] == out
    assert stored["summary"]["actor"] == "border-system"


def test_line_without_identifier_is_422_naming_it(env: Env) -> None:
    lines = [{"cas": "108-24-7"}, {"line_id": "B-7", "quantity": 5}]
    error = assert_error(
        env.client.post("/v1/screen", json={"lines": lines}, headers=env.auth), 422
    )
    assert "line 2" in error["message"] and "B-7" in error["message"]


def test_more_than_10000_lines_is_413(env: Env) -> None:
    lines = [{"cas": "64-17-5"}] * 10_001
    error = assert_error(
        env.client.post("/v1/screen", json={"lines": lines}, headers=env.auth), 413
    )
    assert "10001" in error["message"] and "10000" in error["message"]


def _cli_csv(url: str, manifest: Path, out: Path) -> bytes:
    result = CliRunner().invoke(cli_app, ["screen", str(manifest), "-o", str(out), "--db", url])
    assert result.exit_code in (0, 1), result.output
    return out.read_bytes()


@pytest.mark.parametrize("manifest", [SAMPLE, MANIFEST], ids=["sample", "api-manifest"])
def test_upload_report_csv_is_the_clis_csv(env: Env, manifest: Path, tmp_path: Path) -> None:
    with manifest.open("rb") as fh:
        response = env.client.post(
            "/v1/screenings", files={"file": (manifest.name, fh, "text/csv")}, headers=env.auth
        )
    assert response.status_code == 201, response.text
    body = response.json()
    rows = len(manifest.read_text(encoding="utf-8").splitlines()) - 1
    assert body["summary"]["lines"] == rows
    assert body["summary"]["flagged"] >= 1
    assert sum(body["summary"]["by_risk"].values()) == rows
    report = env.client.get(f"/v1/screenings/{body['screening_id']}/report.csv", headers=env.auth)
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    assert report.content == _cli_csv(env.url, manifest, tmp_path / "out.csv")


def _upload(env: Env, path: Path) -> str:
    with path.open("rb") as fh:
        response = env.client.post(
            "/v1/screenings", files={"file": (path.name, fh)}, headers=env.auth
        )
    assert response.status_code == 201, response.text
    return str(response.json()["screening_id"])


def test_xlsx_and_html_reports(env: Env) -> None:
    sid = _upload(env, MANIFEST)
    xlsx = env.client.get(f"/v1/screenings/{sid}/report.xlsx", headers=env.auth)
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:3] == ["line_id", "flagged", "risk"]  # the contract's columns first
    assert values[0][-3:] == ["cas", "hs_code", "warnings"]
    assert len(values) == 6
    html = env.client.get(f"/v1/screenings/{sid}/report.html", headers=env.auth)
    assert html.status_code == 200
    text = html.text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Acme &lt;b&gt;Bold&lt;/b&gt;" in text
    assert "&#39;=HYPERLINK" in text  # formula defused, then escaped
    assert "<svg" in text  # the structure hit (L3) is drawn
    # flagged lines first: the row of L1 (high) comes before L2 (none)
    assert text.index('data-line="L1"') < text.index('data-line="L2"')
    assert text.index('data-line="L3"') < text.index('data-line="L2"')


def test_lists_substances_and_depiction(env: Env) -> None:
    lists = env.client.get("/v1/lists", headers=env.auth).json()
    codes = {item["code"] for item in lists}
    assert {"UN-T1", "EU-CAT1", "US-DEA-L1"} <= codes
    one = env.client.get("/v1/lists/eu-cat2a", headers=env.auth).json()
    assert one["code"] == "EU-CAT2A"
    assert any(e["substance_key"] == "acetic-anhydride" for e in one["entries"])
    substance = env.client.get("/v1/substances/acetic-anhydride", headers=env.auth).json()
    assert substance["cas"] == "108-24-7"
    assert any(item["list_code"] == "EU-CAT2A" for item in substance["listings"])
    svg = env.client.get("/v1/substances/safrole/depiction.svg", headers=env.auth)
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    assert_error(env.client.get("/v1/substances/no-such-thing", headers=env.auth), 404)
    inorganic = env.client.get(
        "/v1/substances/potassium-permanganate/depiction.svg", headers=env.auth
    )
    assert_error(inorganic, 404)


def test_one_error_shape_everywhere(env: Env, tmp_path: Path) -> None:
    assert_error(env.client.get("/v1/lists"), 401)
    assert_error(env.client.get("/v1/lists", headers={"Authorization": "Bearer pw_nope"}), 401)
    assert_error(env.client.get("/v1/screenings/0123456789abcdef", headers=env.auth), 404)
    assert_error(env.client.get("/v1/not-a-path", headers=env.auth), 404)
    assert_error(env.client.delete("/v1/lists", headers=env.auth), 405)
    assert_error(env.client.post("/v1/screen", json={"linez": []}, headers=env.auth), 422)
    assert_error(env.client.post("/v1/screen", content=b"{not json", headers=env.auth), 422)
    bad = tmp_path / "bad.csv"
    bad.write_text("colour,size\nred,4\n", encoding="utf-8")
    with bad.open("rb") as fh:
        response = env.client.post(
            "/v1/screenings", files={"file": ("bad.csv", fh)}, headers=env.auth
        )
    assert "bad.csv" in assert_error(response, 422)["message"]
    small = create_app(get_settings(database_url=env.url, max_upload_bytes=100), env.store)
    with TestClient(small) as client, MANIFEST.open("rb") as fh:
        too_big = client.post("/v1/screenings", files={"file": ("m.csv", fh)}, headers=env.auth)
    assert "100" in assert_error(too_big, 413)["message"]


def test_upload_names_unrecognised_columns_with_map(env: Env) -> None:
    german = "Artikel,Stoffnummer,Menge,Bemerkung\nEssigsaeureanhydrid,108-24-7,200,zerbrechlich\n"
    files = {"file": ("bestellung.csv", german.encode(), "text/csv")}
    # without a map no identifier column is recognised: a 422 naming the headers
    refused = env.client.post("/v1/screenings", files=files, headers=env.auth)
    assert "Stoffnummer" in assert_error(refused, 422)["message"]
    mapped = env.client.post(
        "/v1/screenings",
        files=files,
        data={"map": ["description=Artikel", "cas=Stoffnummer", "quantity=Menge"]},
        headers=env.auth,
    )
    assert mapped.status_code == 201, mapped.text
    sid = mapped.json()["screening_id"]
    (line,) = env.client.get(f"/v1/screenings/{sid}", headers=env.auth).json()["lines"]
    assert line["matched_key"] == "acetic-anhydride" and line["flagged"]
    bad = env.client.post(
        "/v1/screenings", files=files, data={"map": ["colour=Artikel"]}, headers=env.auth
    )
    assert "colour" in assert_error(bad, 422)["message"]
    missing = env.client.post(
        "/v1/screenings", files=files, data={"map": ["description=Nope"]}, headers=env.auth
    )
    assert "Nope" in assert_error(missing, 422)["message"]


def test_openapi_is_the_committed_document() -> None:
    committed = json.loads((ROOT / "api" / "openapi.json").read_text(encoding="utf-8"))
    assert create_app().openapi() == committed


def test_committed_examples_are_valid_requests_and_answers() -> None:
    from precursorwatch.web.schemas import ScreenRequest, ScreenResponse, UploadResponse

    examples = ROOT / "api" / "examples"
    ScreenRequest.model_validate_json((examples / "screen.request.json").read_text("utf-8"))
    ScreenResponse.model_validate_json((examples / "screen.response.json").read_text("utf-8"))
    UploadResponse.model_validate_json((examples / "screenings.response.json").read_text("utf-8"))
    error = json.loads((examples / "error.json").read_text("utf-8"))
    assert set(error["error"]) == {"status", "code", "message"}


def test_readyz_checks_the_store(env: Env) -> None:
    response = env.client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready"}


def test_readyz_is_503_when_the_store_does_not_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gone.sqlite'}"
    settings = get_settings(database_url=url)
    store = open_ready_store(settings)
    with TestClient(create_app(settings, store)) as client:
        # the server's warm-up thread screens a line at start: were it still running, its next
        # query would create the database file again between the two steps below
        for thread in threading.enumerate():
            if thread.name == "pw-warm":
                thread.join(timeout=120)
        store.dispose()
        (tmp_path / "gone.sqlite").unlink()
        (tmp_path / "gone.sqlite").mkdir()  # a directory where the database file was
        body = assert_error(client.get("/readyz"), 503)
        assert "store" in body["message"]


def test_an_empty_list_of_lines_is_422(env: Env) -> None:
    body = assert_error(env.client.post("/v1/screen", json={"lines": []}, headers=env.auth), 422)
    assert "lines" in body["message"]
