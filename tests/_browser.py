"""What the browser tests share: Debian's Chromium driven by Playwright, an app served on
127.0.0.1 with one signed-in key (tests/_live_server.serve_in_thread), and the check of a page
on a small screen: no wider than the window, every picture named, axe-core content."""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from _live_server import serve_in_thread
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key
from precursorwatch.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium's switches for a headless run in a container with no network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: axe-core's impacts that fail a page check (minor and moderate ones are printed, not failed).
FAILING = ("serious", "critical")
#: The marks of every browser test: ``browser``, skipped where Chromium is not installed.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@contextmanager
def served_with_key(db_url: str, name: str, role: str = "officer") -> Iterator[tuple[str, str]]:
    """The app on a new store at ``db_url``, served on 127.0.0.1; yields its base URL and the
    secret of a new key (``name``, ``role``)."""
    settings = get_settings(database_url=db_url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name=name, role=role)
    try:
        with serve_in_thread(create_app(settings, store)) as url:
            yield url, key
    finally:
        store.dispose()


def axe_script() -> str:
    """axe-core as the ``axe-playwright-python`` wheel ships it (no network needed)."""
    return (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def _report(violations: list[dict[str, Any]]) -> str:
    """axe's violations in a form a failing test prints: rule, impact, help, each node."""
    out = []
    for v in violations:
        out.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            why = "; ".join(c["message"] for c in node.get("any", []) + node.get("all", []))
            out.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]} — {why}")
    return "\n".join(out)


def check_page(page: Any, axe: str, label: str, problems: list[str]) -> None:
    """This page at this width: no horizontal scroll, every picture named, no serious or
    critical axe violation."""
    wide = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1 && !e.closest('.table-scroll')).slice(0, 3)"
        ".map(e => e.tagName + '.' + e.className)]"
    )
    if wide[0] > wide[1]:
        problems.append(f"{label}: {wide[0]} px wide in a {wide[1]} px window ({wide[2]})")
    unnamed = page.evaluate(
        "() => [...document.querySelectorAll('svg, img')].filter(e => e.tagName === 'svg'"
        " ? !(e.getAttribute('role') === 'img' && e.getAttribute('aria-label')) : !e.alt).length"
    )
    if unnamed:
        problems.append(f"{label}: {unnamed} pictures without a text alternative")
    page.evaluate(axe)
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}})"
    )
    bad = [v for v in result["violations"] if v["impact"] in FAILING]
    if result["violations"]:
        print(f"\n== {label}\n{_report(result['violations'])}")
    if bad:
        problems.append(f"{label}:\n{_report(bad)}")


def watch_errors(page: Any) -> list[str]:
    """Script errors, error console messages and failed requests of ``page`` (the browser's
    favicon aside), collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    return errors
