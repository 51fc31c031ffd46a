"""Re-screening: after a list import adds a substance, the earlier line containing it is
reported, through the library and through POST /v1/rescreen."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from precursorwatch.run.rescreen import rescreen, risk_went_up, since_datetime
from precursorwatch.run.service import import_list_file, open_ready_store, screen_file
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key, list_audit
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data" / "api"


def test_risk_order() -> None:
    assert risk_went_up("none", "medium") and risk_went_up("low", "high")
    assert not risk_went_up("high", "high") and not risk_went_up("high", "none")
    assert since_datetime(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)


def test_list_import_then_rescreen_reports_the_earlier_line(tmp_db_url: str) -> None:
    settings = get_settings(database_url=tmp_db_url)
    store = open_ready_store(settings)
    done = screen_file(DATA / "manifest.csv", store=store, actor="officer-a")
    before = {r.line_id: r for r in done.results}
    assert not before["L5"].flagged  # caffeine is on no bundled list

    yesterday = date.today() - timedelta(days=1)
    assert rescreen(store, since=yesterday).increases == []

    import_list_file(store, DATA / "firm-watch.csv", actor="admin")
    report = rescreen(store, since=yesterday, actor="officer-b")
    assert report.lines_checked == 5
    assert "FIRM-WATCH" in report.list_versions
    [hit] = report.increases
    assert hit.screening_id == done.screening_id and hit.actor == "officer-a"
    assert hit.line.line_id == "L5" and hit.line.cas == "58-08-2"
    assert hit.before.risk == before["L5"].risk
    assert hit.after.flagged and hit.after.matched_key == "caffeine"
    assert "FIRM-WATCH" in hit.after.lists
    with store.session() as session:
        assert list_audit(session=session, limit=1)[0].action == "rescreen.completed"
    # screenings older than `since` are not looked at
    assert rescreen(store, since=date.today() + timedelta(days=1)).lines_checked == 0

    with store.session() as session:
        _, key = create_api_key(session=session, name="officer-b", role="officer")
    with TestClient(create_app(settings, store)) as client:
        response = client.post(
            "/v1/rescreen",
            json={"since": yesterday.isoformat()},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lines_checked"] == 5
    assert [(x["line_id"], x["matched_key"]) for x in body["lines"]] == [("L5", "caffeine")]
    assert body["lines"][0]["risk_after"] in ("high", "medium")
    store.dispose()


def test_cli_rescreen_exit_codes(tmp_db_url: str) -> None:
    from typer.testing import CliRunner

    from precursorwatch.cli import app

    runner = CliRunner()
    db = ["--db", tmp_db_url]
    manifest = str(DATA / "manifest.csv")
    assert runner.invoke(app, ["screen", manifest, "--format", "json", *db]).exit_code == 1
    since = (date.today() - timedelta(days=1)).isoformat()
    assert runner.invoke(app, ["rescreen", "--since", since, *db]).exit_code == 0
    listed = runner.invoke(app, ["lists", "import", str(DATA / "firm-watch.csv"), *db])
    assert listed.exit_code == 0, listed.output
    done = runner.invoke(app, ["rescreen", "--since", since, *db])
    assert done.exit_code == 1
    assert "Caffeine anhydrous" in done.output and "1 with a higher risk" in done.output
    bad = runner.invoke(app, ["rescreen", "--since", "last week", *db])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
