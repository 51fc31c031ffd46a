"""A consignee's history page in real headless Chromium, served by uvicorn on 127.0.0.1
(issue 22: "a consignee's history through ... the page")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _browser import ARGS, BROWSER, CHROMIUM
from _live_server import serve_in_thread
from precursorwatch.run.service import make_screener, open_ready_store, screen_file
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key
from precursorwatch.web import create_app

MANIFEST = (
    "line_id,description,quantity,unit,consignee\n"
    "1,Benzaldehyde,400,kg,ACME Chemicals Ltd.\n"
    "2,Titanium dioxide,1000,kg,Acme Chemicals Limited\n"
    "3,Nitroethane,300,kg,acme chemicals\n"
    "4,4-Piperidone monohydrate hydrochloride,20,kg,Orion Pharma GmbH\n"
    "5,2-Phenylethyl bromide,30,kg,ORION PHARMA\n"
    "6,Propionyl chloride,15,kg,Orion Pharma\n"
)

pytestmark = BROWSER


@pytest.fixture
def served(tmp_db_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    settings = get_settings(database_url=tmp_db_url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="officer-web", role="officer")
    manifest = tmp_path / "kits.csv"
    manifest.write_text(MANIFEST, encoding="utf-8")
    screen_file(manifest, store=store, screener=make_screener(store), actor="officer-web")
    try:
        with serve_in_thread(create_app(settings, store)) as url:
            yield url, key
    finally:
        store.dispose()


def test_a_consignees_history_page(served: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, key = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/signin")
            page.fill("#key", key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/upload")

            page.goto(f"{base}/consignees/Acme%20Chemicals%20Co.%2C%20Ltd.")
            assert "are one party" in page.locator("#folding").inner_text()
            alerts = page.locator("table.alerts tbody tr")
            assert alerts.count() == 1
            assert "amphetamine" in alerts.first.inner_text()
            assert page.locator("table.shipments tbody tr").count() == 3
            assert "Benzaldehyde" in page.locator("table.totals").inner_text()

            page.fill("#name", "orion pharma")
            page.click("form[action='/consignees'] button[type=submit]")
            page.wait_for_url(f"{base}/consignees/*")
            assert "fentanyl" in page.locator("table.alerts").inner_text()
            assert page.locator("table.shipments tbody tr").count() == 3
        finally:
            browser.close()
