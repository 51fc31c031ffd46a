"""What one app instance holds: its settings, the store (opened on first use), one screener
rebuilt when the lists change with the :class:`~precursorwatch.web.visibility.Visibility` of
that version, the screening lanes, and the signed-in page sessions.

Nothing is opened when the app is built, so ``create_app().openapi()`` needs no database.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from precursorwatch.run.screener import Screener
from precursorwatch.settings import Settings
from precursorwatch.store import Store, list_summaries
from precursorwatch.web.visibility import Visibility

if TYPE_CHECKING:
    from precursorwatch.web.lanes import Lanes

#: Seconds a page session lives without use, and at most in all.
SESSION_IDLE_S = 8 * 3600
SESSION_MAX_S = 12 * 3600


@dataclass
class PageSession:
    """A signed-in browser: the API key it signed in with (kept server-side only) and the
    token every form post must carry (CSRF)."""

    secret: str
    csrf: str
    seen: float = field(default_factory=time.monotonic)
    opened: float = field(default_factory=time.monotonic)


class AppState:
    """Per-app state; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = threading.RLock()
        self._screener: Screener | None = None
        self._screener_key: tuple[tuple[str, int, str], ...] = ()
        self._visibility: tuple[Screener, Visibility] | None = None
        self._sessions: dict[str, PageSession] = {}
        self._lanes: Lanes | None = None

    @property
    def store(self) -> Store:
        """The store, opened (created, migrated, bundled lists loaded) on first use.

        Raises StoreError when the database cannot be opened.
        """
        with self._lock:
            if self._store is None:
                from precursorwatch.run.service import open_ready_store

                self._store = open_ready_store(self.settings)
            return self._store

    @property
    def lanes(self) -> Lanes:
        """The screening lanes (interactive, in this process; bulk, in worker processes)."""
        with self._lock:
            if self._lanes is None:
                from precursorwatch.web.lanes import Lanes

                self._lanes = Lanes(self)
            return self._lanes

    def close(self) -> None:
        """Stop the worker processes (the app's shutdown)."""
        with self._lock:
            lanes, self._lanes = self._lanes, None
        if lanes is not None:
            lanes.close()

    def list_versions_key(self) -> tuple[tuple[str, int, str], ...]:
        """(code, version, hash) of every current list: changes whenever a list does."""
        with self.store.session(write=False) as session:
            return tuple(
                (s.code, s.version, s.content_hash) for s in list_summaries(session=session)
            )

    def screener(self) -> Screener:
        """The screener over the current lists; rebuilt only when a list version changed."""
        key = self.list_versions_key()
        with self._lock:
            if self._screener is None or key != self._screener_key:
                from precursorwatch.run.service import make_screener

                self._screener = make_screener(
                    self.store, opsin_timeout_s=self.settings.opsin_timeout_s
                )
                self._screener_key = key
            return self._screener

    def visibility(self) -> Visibility:
        """What operators may not learn, for the current lists (built once per version)."""
        screener = self.screener()
        with self._lock:
            if self._visibility is None or self._visibility[0] is not screener:
                from precursorwatch.store.access import all_substances

                with self.store.session(write=False) as session:
                    stored = all_substances(session=session)
                self._visibility = (screener, Visibility(screener.watchlist, stored))
            return self._visibility[1]

    def confidential_codes(self) -> frozenset[str]:
        """Codes of the current lists marked confidential."""
        return self.visibility().confidential

    # --- page sessions ------------------------------------------------------------------------

    def open_session(self, secret: str) -> tuple[str, PageSession]:
        """A new page session for an authenticated key: (cookie token, session)."""
        token = secrets.token_urlsafe(32)
        page = PageSession(secret=secret, csrf=secrets.token_urlsafe(32))
        with self._lock:
            self._expire()
            self._sessions[token] = page
        return token, page

    def page_session(self, token: str) -> PageSession | None:
        """The live session of a cookie token, or None when unknown or expired."""
        with self._lock:
            self._expire()
            page = self._sessions.get(token)
            if page is not None:
                page.seen = time.monotonic()
            return page

    def close_session(self, token: str) -> None:
        """Forget a session (sign out); unknown tokens are ignored."""
        with self._lock:
            self._sessions.pop(token, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [
            t
            for t, s in self._sessions.items()
            if now - s.seen > SESSION_IDLE_S or now - s.opened > SESSION_MAX_S
        ]:
            del self._sessions[token]
