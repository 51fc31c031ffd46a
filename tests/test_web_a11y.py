"""The officers' pages on a phone, in real headless Chromium (issue 21, "Any screen").

Each page (sign-in, upload, a screening with flagged lines and pictures and its alerts, the
lists, a list, a substance, a consignee, the screenings list, a search with results, an error
page) is loaded at 390 px and 360 px: no page is wider than the window, every picture has a
text alternative, and axe-core (the ``axe.min.js`` that the ``axe-playwright-python`` wheel
ships, MPL-2.0, read from the wheel's file: no network) reports no serious or critical
violation. Identifiers stay on one line, pictures enlarge on a click or a key, and the
keyboard reaches the content through a skip link whose focus can be seen. One server, one
browser, one page for all of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _browser import ARGS, BROWSER, CHROMIUM, axe_script, check_page
from _live_server import serve_in_thread
from precursorwatch.run.service import make_screener, open_ready_store, screen_file
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key
from precursorwatch.web import create_app

MANIFEST = Path(__file__).parent / "data" / "api" / "manifest.csv"
WIDTHS = (390, 360)

pytestmark = BROWSER


@pytest.fixture
def served(tmp_db_url: str) -> Iterator[tuple[str, str, str]]:
    """A server over a store holding one screened manifest (flags, a picture, consignees)."""
    settings = get_settings(database_url=tmp_db_url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="officer-web", role="officer")
    done = screen_file(MANIFEST, store=store, screener=make_screener(store), actor="officer-web")
    try:
        with serve_in_thread(create_app(settings, store)) as url:
            yield url, key, done.screening_id
    finally:
        store.dispose()


def test_every_page_fits_a_phone_and_passes_axe(served: tuple[str, str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, key, screening_id = served
    axe = axe_script()
    problems: list[str] = []
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTHS[0], "height": 844})
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 844})
                page.goto(f"{base}/signin")
                check_page(page, axe, f"/signin at {width} px", problems)

            # the keyboard: the first tab stop skips to the content, and its focus is seen
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => [document.activeElement.textContent.trim(),"
                " getComputedStyle(document.activeElement).outlineStyle,"
                " document.activeElement.getBoundingClientRect().top]"
            )
            assert focused[0].lower().startswith("skip to") and focused[1] != "none", focused
            assert focused[2] >= 0, "the skip link must be on screen when focused"
            page.keyboard.press("Enter")
            assert page.evaluate("() => location.hash") == "#main"

            page.fill("#key", key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/upload")
            pages = [
                "/upload",
                f"/screenings/{screening_id}",
                f"/screenings/{screening_id}/alerts",
                "/lists",
                "/lists/EU-CAT1",
                "/substances/safrole",
                "/consignees/Example%20Trading%20Ltd",
                "/screenings",
                "/search?q=acetic+anhydride&substance=acetic+anhydride",
                "/screenings/no-such-screening",
            ]
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 844})
                for path in pages:
                    page.goto(f"{base}{path}")
                    check_page(page, axe, f"{path} at {width} px", problems)
            took = time.monotonic() - started
            print(f"\n{len(WIDTHS) * (len(pages) + 1)} page checks in {took:.1f} s")
            assert not problems, "\n".join(problems)

            # at 360 px: "Sign out" on screen, a CAS number on one line, pictures enlarge
            page.goto(f"{base}/screenings/{screening_id}")
            box = page.locator("header button[type=submit]").bounding_box()
            assert box is not None and box["x"] + box["width"] <= 360
            cas = page.locator("tr[data-line='L1'] .id").first
            assert cas.inner_text() == "108-24-7"
            assert page.evaluate("e => e.getClientRects().length", cas.element_handle()) == 1
            svg = page.locator("tr[data-line='L3'] figure.structure svg")
            assert svg.get_attribute("role") == "img"
            assert "structure" in (svg.get_attribute("aria-label") or "").lower()
            small = svg.bounding_box()
            page.locator("tr[data-line='L3'] figure.structure summary").focus()
            page.keyboard.press("Enter")
            large = svg.bounding_box()
            assert small is not None and large is not None
            assert large["width"] > 1.2 * small["width"], (small, large)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.keyboard.press("Enter")
            closed = svg.bounding_box()
            assert closed is not None and closed["width"] == small["width"]

            # a desktop window is not widened by the results table either
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{base}/screenings/{screening_id}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        finally:
            browser.close()
