"""An officer's day in real headless Chromium (issue 21, "What it must show"), end to end.

The officer signs in, screens a small file and then a 10,000-line manifest through the upload
page (lines varied from ``sample_shipments/customs_import_declaration.csv``: quantities,
origins and consignees change, some lines are flagged high), filters the results to high risk
with the page's filter form, records a decision with a comment on one high line with its
buttons, finds that screening again on the screenings list by its file name, downloads the
XLSX report (Playwright's download) and reads the decision in it with openpyxl. Then the
upload page, the screening's page (unfiltered and filtered) and the screenings list, at
390 px, are no wider than the window, every picture is named, and axe-core reports no
serious or critical violation (the check of tests/test_web_a11y.py). One server, one browser.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from _browser import (
    ARGS,
    BROWSER,
    CHROMIUM,
    axe_script,
    check_page,
    served_with_key,
    watch_errors,
)

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_shipments" / "customs_import_declaration.csv"
SMALL = Path(__file__).parent / "data" / "api" / "manifest.csv"
LINES = 10_000
NAME = "officer-day-manifest.csv"
COMMENT = "Seal 4471 checked; papers name no end user. Held for the lab."
PHONE = 390

pytestmark = BROWSER


def day_manifest(lines: int = LINES) -> bytes:
    """A customs declaration of ``lines`` lines in the sample's columns: the sample's 60
    goods in turn, item numbers 1…``lines``, each lot of 60 with other quantities (a quarter
    to twice the sample's), origins and consignees. About 90 bytes a line."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    countries = sorted({r[6] for r in rows})
    consignees = sorted({r[7] for r in rows})
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i in range(lines):
        item, description, cas, hs, mass, unit, _, _ = rows[i % len(rows)]
        lot = i // len(rows)
        quantity = float(mass) * (0.25 + (lot % 8) * 0.25)
        w.writerow(
            [
                i + 1,
                description,
                cas,
                hs,
                f"{quantity:g}",
                unit,
                countries[(lot + int(item)) % len(countries)],
                consignees[(lot * 7 + int(item)) % len(consignees)],
            ]
        )
    return out.getvalue().encode("utf-8")


@pytest.fixture
def served(tmp_db_url: str) -> Iterator[tuple[str, str]]:
    with served_with_key(tmp_db_url, "officer-day") as got:
        yield got


def _upload(page: Any, base: str, path: Path) -> str:
    """Screen ``path`` through the upload form; wait for its results (through the progress
    page when the file is big enough to be a job). Returns the screening id."""
    page.goto(f"{base}/upload")
    page.set_input_files("#file", str(path))
    page.click("form[action='/upload'] button[type=submit]")
    page.wait_for_url(f"{base}/screenings/*", timeout=300_000)
    if page.locator("#job-progress").count():  # over job_upload_bytes: a job with a bar
        page.wait_for_selector("table.results", timeout=300_000)
    return str(page.url.rsplit("/", 1)[-1].split("?")[0].split("#")[0])


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_an_officers_day_from_upload_to_xlsx_on_any_screen(
    served: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, key = served
    big = tmp_path / NAME
    big.write_bytes(day_manifest())
    took: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
            errors = watch_errors(page)

            # sign in
            page.goto(f"{base}/")
            page.fill("#key", key)
            page.click("form[action='/signin'] button[type=submit]")
            page.wait_for_url(f"{base}/upload")

            # an earlier, small screening, so that the list has something to filter out
            other = _upload(page, base, SMALL)

            # the day's manifest
            t0 = time.monotonic()
            sid = _upload(page, base, big)
            took["upload and screen 10,000 lines"] = time.monotonic() - t0
            assert sid != other
            assert page.locator("h1").inner_text() == NAME
            summary = page.locator("p.summary").inner_text()
            counted = re.search(r"([\d,]+) of ([\d,]+) lines flagged", summary)
            assert counted is not None, summary
            flagged, lines = _number(counted.group(1)), _number(counted.group(2))
            assert lines == LINES and 0 < flagged < LINES, summary
            high_badge = page.locator("p.summary .badge.risk-high").inner_text()
            high = _number(high_badge.split()[-1])
            assert high >= LINES // 60, summary  # the sample holds several high lines
            shown = page.locator(".paging .lines-shown").first.inner_text()
            assert f"of {LINES:,}" in shown, shown  # paged: not 10,000 rows on one page
            assert 0 < page.locator("table.results tbody tr").count() <= 100

            # filter to high risk with the page's own form
            page.select_option("form.filters select[name=risk]", "high")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*[?&]risk=high.*"))
            rows = page.locator("table.results tbody tr")
            assert rows.count() == min(high, 100)
            risks = page.locator("table.results tbody tr td:nth-child(2)").all_inner_texts()
            assert set(risks) == {"high"}, set(risks)
            shown = page.locator(".paging .lines-shown").first.inner_text()
            assert f"of {high:,} matching ({LINES:,} in all)" in shown, shown

            # a decision with a comment on one high line, with its buttons
            row = page.locator("table.results tbody tr[data-decide]").nth(1)
            line = row.get_attribute("data-line")
            assert line, "a high line has its decision form"
            row.locator("textarea[name=comment]").fill(COMMENT)
            row.locator("button[name=decision][value=detained]").click()
            page.wait_for_url(re.compile(rf".*/screenings/{sid}\?.*risk=high.*#line-{line}$"))
            decided = page.locator(f"#line-{line} td.decision")
            assert "detained" in decided.inner_text() and COMMENT in decided.inner_text()
            assert "officer-day" in decided.inner_text()  # who decided
            assert set(
                page.locator("table.results tbody tr td:nth-child(2)").all_inner_texts()
            ) == {"high"}, "the filter is kept after the decision"
            # the decision filter finds exactly that line
            page.select_option("form.filters select[name=risk]", "")
            page.select_option("form.filters select[name=decision]", "detained")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*[?&]decision=detained.*"))
            assert page.locator("table.results tbody tr").count() == 1
            assert page.locator("table.results tbody tr").get_attribute("data-line") == line

            # find the screening again from the screenings list, by its file name
            page.click("header nav a[href='/screenings']")
            page.wait_for_url(f"{base}/screenings")
            listed = page.locator("table.screenings tbody tr")
            assert listed.count() == 2
            assert {listed.nth(i).get_attribute("data-screening") for i in range(2)} == {
                sid,
                other,
            }
            page.fill("form.filters input[name=file]", "officer-day")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*/screenings\?.*file=officer-day.*"))
            assert listed.count() == 1 and listed.first.get_attribute("data-screening") == sid
            cells = listed.first.locator("td").all_inner_texts()
            assert cells[1] == NAME and cells[2] == "officer-day", cells
            assert (_number(cells[3]), _number(cells[4])) == (LINES, flagged), cells
            assert _number(cells[5]) == flagged - 1, cells  # one line decided, the rest open
            listed.first.locator(f"a[href='/screenings/{sid}']").click()
            page.wait_for_url(f"{base}/screenings/{sid}")

            # the XLSX report, downloaded, holds the decision
            t0 = time.monotonic()
            with page.expect_download() as info:
                page.click(f"a[href='/screenings/{sid}/report.xlsx']")
            target = tmp_path / "report.xlsx"
            info.value.save_as(target)
            took["XLSX download"] = time.monotonic() - t0
            assert info.value.suggested_filename.endswith(".xlsx")
            book = load_workbook(target, read_only=True)
            values = list(book["Screening"].iter_rows(values_only=True))
            header = list(values[0])
            at = {name: header.index(name) for name in ("line_id", "risk", "decision")}
            assert len(values) == LINES + 1
            by_line = {str(r[at["line_id"]]): r for r in values[1:]}
            assert by_line[line][at["decision"]] == "detained"
            assert by_line[line][at["risk"]] == "high"
            assert [r[at["decision"]] for r in values[1:] if r[at["decision"]]] == ["detained"]
            if "comment" in header:  # the XLSX carries the decision; a comment column if any
                assert by_line[line][header.index("comment")] == COMMENT
            summary_sheet = {
                r[0]: r[1]
                for r in book["Summary"].iter_rows(values_only=True)
                if len(r) > 1 and r[0]
            }
            assert summary_sheet["File"] == NAME and summary_sheet["Lines"] == LINES
            assert summary_sheet["detained"] == 1 and summary_sheet["high"] == high
            book.close()

            # the same pages on a phone: no wider than the window, axe-core content
            t0 = time.monotonic()
            page.set_viewport_size({"width": PHONE, "height": 844})
            axe = axe_script()
            problems: list[str] = []
            for path in (
                "/upload",
                f"/screenings/{sid}",
                f"/screenings/{sid}?risk=high",
                "/screenings?file=officer-day",
            ):
                page.goto(f"{base}{path}")
                width = page.evaluate(
                    "() => [document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert width[1] == PHONE
                check_page(page, axe, f"{path} at {PHONE} px", problems)
            took["four pages at 390 px with axe"] = time.monotonic() - t0
            assert not problems, "\n".join(problems)
            assert not errors, errors
        finally:
            browser.close()
    print("\n" + "; ".join(f"{k}: {v:.1f} s" for k, v in took.items()))
