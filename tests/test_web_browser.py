"""The officers' pages in real headless Chromium, served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _browser import ARGS, BROWSER, CHROMIUM, served_with_key

MANIFEST = Path(__file__).parent / "data" / "api" / "manifest.csv"

pytestmark = BROWSER


@pytest.fixture
def served(tmp_db_url: str) -> Iterator[tuple[str, str]]:
    with served_with_key(tmp_db_url, "officer-web") as got:
        yield got


def test_sign_in_upload_see_flags_and_download(served: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, key = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            response = page.goto(f"{base}/")
            assert response is not None
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert page.url.endswith("/signin")
            page.fill("#key", "pw_wrong")
            page.click("button[type=submit]")
            assert "Unknown or revoked key" in page.content()
            page.fill("#key", key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/upload")
            cookie = next(c for c in page.context.cookies() if c["name"] == "pw_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

            page.set_input_files("#file", str(MANIFEST))
            page.click("form[action='/upload'] button[type=submit]")
            page.wait_for_url(f"{base}/screenings/*")
            rows = page.locator("table.results tbody tr")
            assert rows.count() == 5
            flagged = page.locator("table.results tr.flagged")
            assert flagged.count() >= 2
            assert rows.first.get_attribute("class") == "risk-high flagged"
            assert page.locator("tr[data-line='L1'] td").nth(1).inner_text() == "high"
            structure = page.locator("tr[data-line='L3'] figure.structure svg")
            assert structure.count() == 1 and structure.first.is_visible()
            # user text is shown as text, never run
            assert "<script>alert(1)</script>" in page.locator("tr[data-line='L4']").inner_text()

            with page.expect_download() as info:
                page.click("a[href$='/report.csv']")
            target = tmp_path / "report.csv"
            info.value.save_as(target)
            text = target.read_text(encoding="utf-8")
            assert text.startswith("line_id,flagged,risk,")
            assert "L1,true,high,acetic-anhydride" in text

            page.click("text=Lists")
            page.click("text=EU-CAT1")
            page.click("a[href='/substances/safrole']")
            assert page.locator("figure.structure svg").count() == 1
        finally:
            browser.close()
