"""What one app instance holds: its settings, the store (opened on first use), one screener
rebuilt when the lists change, and the signed-in page sessions.

Nothing is opened when the app is built, so ``create_app().openapi()`` needs no database.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from precursorwatch.run.screener import Screener
from precursorwatch.settings import Settings
from precursorwatch.store import Store, list_summaries

#: Seconds a page session lives without use.
SESSION_IDLE_S = 8 * 3600


@dataclass
class PageSession:
    """A signed-in browser: the API key it signed in with (kept server-side only) and the
    token every form post must carry (CSRF)."""

    secret: str
    csrf: str
    seen: float = field(default_factory=time.monotonic)


class AppState:
    """Per-app state; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = threading.RLock()
        self.screen_lock = threading.Lock()
        self._screener: Screener | None = None
        self._screener_key: tuple[tuple[str, int, str], ...] = ()
        self._sessions: dict[str, PageSession] = {}

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

    def confidential_codes(self) -> frozenset[str]:
        """Codes of the current lists marked confidential."""
        with self.store.session(write=False) as session:
            return frozenset(s.code for s in list_summaries(session=session) if s.confidential)

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
        for token in [t for t, s in self._sessions.items() if now - s.seen > SESSION_IDLE_S]:
            del self._sessions[token]
