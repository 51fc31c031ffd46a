"""What one app instance holds: its settings, the store (opened on first use), one screener
rebuilt when the lists change with the :class:`~precursorwatch.web.visibility.Visibility` of
that version, the screening lanes, the rate limits, and the signed-in page sessions (kept in
the store, so every worker and a restart see them).

Nothing is opened when the app is built, so ``create_app().openapi()`` needs no database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING

from precursorwatch.run.screener import Screener
from precursorwatch.settings import Settings
from precursorwatch.store import Store, list_summaries
from precursorwatch.store.page_sessions import (
    TOUCH_EVERY,
    PageSession,
    close_page_session,
    find_page_session,
    open_page_session,
    touch_page_session,
)
from precursorwatch.store.tables import utcnow
from precursorwatch.web.visibility import Visibility

if TYPE_CHECKING:
    from precursorwatch.web.lanes import Lanes
    from precursorwatch.web.screeners import DatedScreeners

#: How long a page session lives without use, and at most in all.
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=12)


class AppState:
    """Per-app state; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._lock = threading.RLock()
        self._screener: Screener | None = None
        self._screener_key: tuple[object, ...] = ()
        self._dated: DatedScreeners | None = None
        self._visibility: tuple[Screener, Visibility] | None = None
        from precursorwatch.web.ratelimit import RateLimits

        self.limits = RateLimits(settings)
        self._lanes: Lanes | None = None
        from precursorwatch.web.held_uploads import HeldUploads
        from precursorwatch.web.job_registry import Jobs

        self.jobs = Jobs()  # big uploads being screened in the background
        self.held = HeldUploads()  # uploads waiting for the officer to name their columns

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
        """Stop the background jobs and the worker processes (the app's shutdown)."""
        self.jobs.stop_all()
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
        """The screener over the current lists as they apply today; rebuilt only when a list
        version changed or a new day began."""
        key = (self.list_versions_key(), date.today())
        with self._lock:
            if self._screener is None or key != self._screener_key:
                from precursorwatch.run.service import make_screener

                self._screener = make_screener(
                    self.store, opsin_timeout_s=self.settings.opsin_timeout_s, as_of=key[1]
                )
                self._screener_key = key
            return self._screener

    @contextmanager
    def dated_screener(self, day: date) -> Iterator[Screener]:
        """A screener of the current lists as they applied on ``day`` (another day than
        today's), held by this thread for the block; a few days' are kept
        (:mod:`~precursorwatch.web.screeners`)."""
        from precursorwatch.web.screeners import DatedScreeners

        versions = self.list_versions_key()
        with self._lock:
            if self._dated is None:
                self._dated = DatedScreeners(self._make_dated)
            dated = self._dated
        with dated.use(versions, day) as screener:
            yield screener

    def _make_dated(self, day: date) -> Screener:
        from precursorwatch.run.service import make_screener

        return make_screener(self.store, opsin_timeout_s=self.settings.opsin_timeout_s, as_of=day)

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

    # --- page sessions (kept in the store: every worker and a restart see them) -----------

    def open_session(self, key_id: str) -> tuple[str, PageSession]:
        """A new page session for an authenticated key: (cookie token, session)."""
        with self.store.session() as session:
            return open_page_session(
                session=session, key_id=key_id, idle=SESSION_IDLE, longest=SESSION_MAX
            )

    def page_session(self, token: str) -> PageSession | None:
        """The live session of a cookie token, or None when unknown, signed out or expired.
        Its last use is recorded (at most once a minute)."""
        with self.store.session(write=False) as session:
            page = find_page_session(
                session=session, token=token, idle=SESSION_IDLE, longest=SESSION_MAX
            )
        if page is not None and utcnow() - page.seen_at > TOUCH_EVERY:
            with self.store.session() as session:
                touch_page_session(session=session, token=token)
        return page

    def close_session(self, token: str) -> None:
        """End a session (sign out), for every worker; unknown tokens are ignored."""
        with self.store.session() as session:
            close_page_session(session=session, token=token)
