"""Issue 20 in real headless Chromium: a 100,000-line manifest uploaded through the page shows a
progress bar within 2 s, keeps it over a reload, and shows the results when done; the Cancel
button stops a job. The page's script is the server's own file (CSP ``script-src 'self'``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _browser import ARGS, BROWSER, CHROMIUM, served_with_key, watch_errors
from test_upload_jobs import SLOW, manifest

pytestmark = BROWSER


@pytest.fixture
def served(tmp_db_url: str) -> Iterator[tuple[str, str]]:
    with served_with_key(tmp_db_url, "officer-jobs") as got:
        yield got


#: The progress bar's value as a one-item list (``[null]`` without one), or null when the
#: page has no bar (the job is done).
_BAR_VALUE = (
    "() => { const bar = document.querySelector('#job-progress');"
    " return bar ? [bar.getAttribute('value')] : null; }"
)


def _sign_in(page: object, base: str, key: str) -> None:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    page.fill("#key", key)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/upload")  # type: ignore[attr-defined]


def test_a_big_upload_shows_its_progress_then_its_results(
    served: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base, key = served
    big = tmp_path / "big-manifest.csv"
    # some 100,000 distinct descriptions: about 25 s of screening on a quiet machine, long
    # enough to watch the bar move
    big.write_bytes(manifest(100_000, SLOW))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            errors = watch_errors(page)  # script errors (a CSP refusal is one), failed requests
            _sign_in(page, base, key)
            page.set_input_files("#file", str(big))
            t0 = time.monotonic()
            page.click("form[action='/upload'] button[type=submit]")
            page.wait_for_selector("#job-progress", timeout=10_000)
            shown = time.monotonic() - t0
            assert shown <= 2.0, f"the progress bar took {shown:.2f} s"
            assert "/screenings/" in page.url
            assert "big-manifest.csv" in page.locator("h1").inner_text()

            # the bar moves as the lines are checked (polled by the page's own script)
            values: list[float] = []
            moved: list[float] = []  # before the reload: moved by the script alone
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:  # the bar and its value in one look: the job may end between two
                    bar = page.evaluate(_BAR_VALUE)
                except PlaywrightError:  # the page was changing (the results coming)
                    time.sleep(0.2)
                    continue
                if bar is None:
                    break
                if bar[0] is not None:
                    values.append(float(bar[0]))
                if len(set(values)) == 3 and not moved:  # a reload keeps the job and its bar
                    moved = list(values)
                    page.reload()
                    if page.locator("#job-progress").count():
                        assert page.locator("#job-cancel").is_visible()
                time.sleep(0.2)
            assert values == sorted(values) and len(set(moved)) == 3, values
            print(f"progress bar after {shown:.2f} s; values seen {sorted(set(values))}")

            # when done, the page shows the results without being asked
            page.wait_for_selector("table.results", timeout=300_000)
            assert "of 100000 lines flagged" in page.locator("p.summary").inner_text()
            assert page.locator("table.results tr.flagged").count() >= 1
            assert not errors, errors  # the CSP let the script run and nothing failed
        finally:
            browser.close()


def test_the_cancel_button_stops_a_big_upload(served: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, key = served
    big = tmp_path / "cancel-me.csv"
    big.write_bytes(manifest(300_000, SLOW))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            _sign_in(page, base, key)
            page.set_input_files("#file", str(big))
            page.click("form[action='/upload'] button[type=submit]")
            page.wait_for_selector("#job-cancel", timeout=10_000)
            page.click("#job-cancel")
            page.wait_for_selector("text=The check was cancelled", timeout=60_000)
            assert page.locator("#job-progress").count() == 0
            page.reload()
            assert "cancelled" in page.locator("#job-state").inner_text()
        finally:
            browser.close()
