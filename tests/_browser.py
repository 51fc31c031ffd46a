"""What the browser tests share: Debian's Chromium driven by Playwright, and an app served
on 127.0.0.1 with one signed-in key (tests/_live_server.serve_in_thread)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
