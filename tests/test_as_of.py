"""Screening as of a day through every entry point (issue 17): ``as_of`` of ``POST /v1/screen``,
the form field of ``POST /v1/screenings``, the upload page's date, ``screen --as-of`` with
``--format json``; the day is stored with the screening and shown where the screening is.

Through the real app (TestClient, a worker process screening uploads) and the real server
(uvicorn on 127.0.0.1, uploads screened in its own process), on a temporary SQLite store.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from _live_server import serve_in_thread
from precursorwatch.cli import app as cli_app
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: Listed in EU category 1 by Delegated Regulation (EU) 2026/314, applicable from 2026-05-18.
BROMO = "2-bromo-4'-methylpropiophenone"
BROMO_KEY = "2-bromo-4-methylpropiophenone"
MANIFEST = f'Line,Goods Description,Net Mass,UoM\nB-1,"{BROMO}",25,kg\n2,Sodium chloride,5,kg\n'
BAD_DAYS = ["2026-13-45", "tomorrow", "2026-02-30", "10/01/2026", "9999-12-31"]


class Env:
    """A store file, an officer key and a client of the real app."""

    def __init__(self, path: Path, store: Store, client: TestClient, key: str) -> None:
        self.path, self.store, self.client, self.key = path, store, client, key

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def stored_as_of(self, screening_id: str) -> str:
        """``screening.as_of`` as the database holds it."""
        with sqlite3.connect(self.path) as db:
            row = db.execute("SELECT as_of FROM screening WHERE id = ?", (screening_id,)).fetchone()
        return str(row[0])

    def screenings(self) -> int:
        with sqlite3.connect(self.path) as db:
            return int(db.execute("SELECT count(*) FROM screening").fetchone()[0])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("as_of") / "as_of.sqlite"
    settings = get_settings(database_url=f"sqlite:///{path}")
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="border-desk", role="officer")
    with TestClient(create_app(settings, store)) as client:
        yield Env(path, store, client, key)
    store.dispose()


def _bromo(lines: list[dict[str, Any]]) -> dict[str, Any]:
    (line,) = [x for x in lines if x["matched_key"] == BROMO_KEY]
    return line


def assert_error(response: Any, status: int) -> str:
    """The one error shape; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    return str(body["error"]["message"])


def test_screen_as_of_a_day_before_the_listing(env: Env) -> None:
    lines = [{"line_id": "B-1", "description": BROMO, "quantity": 25, "unit": "kg"}]
    response = env.client.post(
        "/v1/screen", json={"lines": lines, "as_of": "2026-01-10"}, headers=env.auth
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == "2026-01-10" and body["notices"] == []
    then = _bromo(body["lines"])
    assert "EU-CAT1" not in then["lists"]
    assert "Not listed on 2026-01-10" in then["reason"]
    assert "2026-05-18" in then["reason"] and "2026/314" in then["reason"]
    assert then["risk"] == "medium" and then["flagged"] is True  # coming within 12 months
    assert env.stored_as_of(body["screening_id"]) == "2026-01-10"
    stored = env.client.get(f"/v1/screenings/{body['screening_id']}", headers=env.auth).json()
    assert stored["as_of"] == "2026-01-10" and stored["summary"]["as_of"] == "2026-01-10"
    assert stored["lines"] == body["lines"]

    today = env.client.post("/v1/screen", json={"lines": lines}, headers=env.auth).json()
    assert today["as_of"] == date.today().isoformat()
    now = _bromo(today["lines"])
    assert "EU-CAT1" in now["lists"] and now["risk"] == "high"
    assert env.stored_as_of(today["screening_id"]) == date.today().isoformat()


@pytest.mark.parametrize("bad", BAD_DAYS)
def test_a_bad_as_of_is_422_naming_the_field_and_stores_nothing(env: Env, bad: str) -> None:
    before = env.screenings()
    response = env.client.post(
        "/v1/screen", json={"lines": [{"description": BROMO}], "as_of": bad}, headers=env.auth
    )
    message = assert_error(response, 422)
    assert message.startswith("as_of ") and "YYYY-MM-DD" in message
    files = {"file": ("m.csv", MANIFEST.encode())}
    response = env.client.post("/v1/screenings", files=files, data={"as_of": bad}, headers=env.auth)
    message = assert_error(response, 422)
    assert message.startswith("as_of ") and "YYYY-MM-DD" in message
    assert env.screenings() == before


def test_a_day_before_the_data_screens_with_a_notice(env: Env) -> None:
    lines = [{"description": BROMO}]
    body = env.client.post(
        "/v1/screen", json={"lines": lines, "as_of": "2020-06-01"}, headers=env.auth
    ).json()
    assert body["as_of"] == "2020-06-01"
    (notice,) = body["notices"]
    assert "not known for 2020-06-01" in notice and "UN-T1" in notice
    stored = env.client.get(f"/v1/screenings/{body['screening_id']}", headers=env.auth).json()
    assert stored["notices"] == [notice]


def test_upload_with_as_of_stores_the_day(env: Env) -> None:
    files = {"file": ("manifest.csv", MANIFEST.encode())}
    response = env.client.post(
        "/v1/screenings", files=files, data={"as_of": "2026-01-10"}, headers=env.auth
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["as_of"] == "2026-01-10"
    sid = body["screening_id"]
    assert env.stored_as_of(sid) == "2026-01-10"
    detail = env.client.get(f"/v1/screenings/{sid}", headers=env.auth).json()
    assert detail["summary"]["as_of"] == "2026-01-10"
    line = _bromo(detail["lines"])
    assert "EU-CAT1" not in line["lists"] and "2026-05-18" in line["reason"]

    today = env.client.post(
        "/v1/screenings", files={"file": ("m.csv", MANIFEST.encode())}, headers=env.auth
    ).json()
    assert today["as_of"] == date.today().isoformat()
    now = env.client.get(f"/v1/screenings/{today['screening_id']}", headers=env.auth).json()
    assert "EU-CAT1" in _bromo(now["lines"])["lists"]
    # the CSV contract's columns do not change with the day
    then_csv = env.client.get(f"/v1/screenings/{sid}/report.csv", headers=env.auth).text
    now_csv = env.client.get(
        f"/v1/screenings/{today['screening_id']}/report.csv", headers=env.auth
    ).text
    assert then_csv.splitlines()[0] == now_csv.splitlines()[0]
    assert "as_of" not in then_csv.splitlines()[0]
    html = env.client.get(f"/v1/screenings/{sid}/report.html", headers=env.auth).text
    assert "law applied as of 2026-01-10" in html


def test_a_big_upload_screened_as_a_job_applies_its_day(env: Env) -> None:
    settings = get_settings(database_url=env.url, screen_workers=0, job_upload_bytes=1)
    with TestClient(create_app(settings, env.store)) as client:
        files = {"file": ("big.csv", MANIFEST.encode())}
        up = client.post(
            "/v1/screenings", files=files, data={"as_of": "2026-01-10"}, headers=env.auth
        )
        assert up.status_code == 202, up.text
        sid = up.json()["screening_id"]
        deadline, body = time.monotonic() + 120, up.json()
        while body["status"] == "running":
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
            body = client.get(f"/v1/screenings/{sid}", headers=env.auth).json()
    assert body["status"] == "complete", body
    assert body["as_of"] == "2026-01-10" and body["summary"]["as_of"] == "2026-01-10"
    assert "EU-CAT1" not in _bromo(body["lines"])["lists"]


def test_the_json_report_and_the_store_carry_the_day(env: Env, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(MANIFEST, encoding="utf-8")
    out = tmp_path / "report.json"
    args = ["screen", str(manifest), "--format", "json", "-o", str(out), "--db", env.url]
    result = CliRunner().invoke(cli_app, [*args, "--as-of", "2026-01-10"])
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["as_of"] == "2026-01-10"
    assert list(report)[:3] == ["screening_id", "as_of", "lines"]
    assert env.stored_as_of(report["screening_id"]) == "2026-01-10"
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["as_of"] == date.today().isoformat()
    assert env.stored_as_of(report["screening_id"]) == date.today().isoformat()


def test_the_screeners_of_other_days_are_few_and_reused(env: Env) -> None:
    from precursorwatch.run.service import make_screener
    from precursorwatch.web.screeners import DatedScreeners

    made: list[date] = []

    def make(day: date) -> Any:
        made.append(day)
        return make_screener(env.store, as_of=day)

    dated = DatedScreeners(make, size=2)
    versions = (("EU-CAT1", 1, "h"),)
    days = [date(2026, 1, 10), date(2026, 1, 10), date(2025, 3, 1), date(2024, 7, 1)]
    for day in days:
        with dated.use(versions, day) as screener:
            assert screener.as_of == day
    assert made == [date(2026, 1, 10), date(2025, 3, 1), date(2024, 7, 1)]  # built once a day
    assert dated.days() == [date(2025, 3, 1), date(2024, 7, 1)]  # at most two kept
    with dated.use((("EU-CAT1", 2, "k"),), date(2024, 7, 1)):
        pass  # new list versions: the old days' screeners are dropped
    assert dated.days() == [date(2024, 7, 1)] and len(made) == 4


# --- the upload page, through a real server -------------------------------------------------


@pytest.fixture(scope="module")
def page(env: Env) -> Iterator[httpx.Client]:
    """A signed-in browser's client of a real server (uploads screened in its own process)."""
    settings = get_settings(database_url=env.url, screen_workers=0)
    with (
        serve_in_thread(create_app(settings, env.store)) as base,
        httpx.Client(base_url=base, follow_redirects=False, timeout=120) as client,
    ):
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
        assert token is not None
        done = client.post("/signin", data={"key": env.key, "csrf": token[1]})
        assert done.status_code == 303, done.text
        yield client


def _upload_form(client: httpx.Client, as_of: str) -> httpx.Response:
    form = client.get("/upload")
    assert form.status_code == 200
    assert re.search(r'<input id="as_of" name="as_of" type="date"', form.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return client.post(
        "/upload",
        files={"file": ("manifest.csv", MANIFEST.encode())},
        data={"csrf": csrf[1], "as_of": as_of},
    )


def test_the_upload_page_screens_as_of_its_date(env: Env, page: httpx.Client) -> None:
    done = _upload_form(page, "2026-01-10")
    assert done.status_code == 303, done.text
    where = done.headers["location"]
    sid = where.rsplit("/", 1)[-1]
    assert env.stored_as_of(sid) == "2026-01-10"
    shown = page.get(where)
    assert shown.status_code == 200
    assert "Law applied as of 10 Jan 2026" in shown.text
    assert "not listed on 2026-01-10" in shown.text.casefold()

    done = _upload_form(page, "")  # empty: today
    assert done.status_code == 303, done.text
    assert env.stored_as_of(done.headers["location"].rsplit("/", 1)[-1]) == date.today().isoformat()


def test_the_upload_page_says_what_is_wrong_with_a_date(env: Env, page: httpx.Client) -> None:
    before = env.screenings()
    refused = _upload_form(page, "tomorrow")
    assert refused.status_code == 422
    text = " ".join(refused.text.split())
    assert "is not a date" in text and "YYYY-MM-DD" in text and 'role="alert"' in text
    old = _upload_form(page, "2020-06-01")
    assert old.status_code == 303
    shown = page.get(old.headers["location"]).text
    assert "Law applied as of 1 Jun 2020" in shown
    assert "not known for 2020-06-01" in shown and "UN-T1" in shown
    assert env.screenings() == before + 1
