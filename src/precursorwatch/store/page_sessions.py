"""Signed-in browsers, kept in the store so that a restart or a second worker keeps them.

Only the SHA-256 of the cookie's token is stored (a copy of the database does not sign anyone
in) with the id of the key signed in with (never its secret) and the session's form token
(CSRF). A session ends on sign-out, after ``idle`` without use, or ``longest`` after sign-in;
ended sessions are deleted when the next one opens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from precursorwatch.store.tables import page_session, utcnow

#: A session's last use is written at most this often (not on every page).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class PageSession:
    """A live session: the key it signed in with and the token every form post carries."""

    key_id: str
    csrf: str
    opened_at: datetime
    seen_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expired(now: datetime, idle: timedelta, longest: timedelta) -> ColumnElement[bool]:
    c = page_session.c
    return or_(c.seen_at < now - idle, c.opened_at < now - longest)


def open_page_session(
    *, session: Session, key_id: str, idle: timedelta, longest: timedelta
) -> tuple[str, PageSession]:
    """A new session for key ``key_id``: (the cookie's token, the session). Sessions ended
    by time are deleted first."""
    now = utcnow()
    session.execute(delete(page_session).where(_expired(now, idle, longest)))
    token = secrets.token_urlsafe(32)
    page = PageSession(key_id=key_id, csrf=secrets.token_urlsafe(32), opened_at=now, seen_at=now)
    session.execute(
        insert(page_session).values(
            token_hash=_hash(token), key_id=key_id, csrf=page.csrf, opened_at=now, seen_at=now
        )
    )
    return token, page


def find_page_session(
    *, session: Session, token: str, idle: timedelta, longest: timedelta
) -> PageSession | None:
    """The live session of a cookie token; None when unknown, signed out or ended by time."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(page_session).where(page_session.c.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    now = utcnow()
    if row.seen_at < now - idle or row.opened_at < now - longest:
        return None
    return PageSession(
        key_id=row.key_id, csrf=row.csrf, opened_at=row.opened_at, seen_at=row.seen_at
    )


def touch_page_session(*, session: Session, token: str) -> None:
    """Record that a session was used now (keeps it from ending for idleness)."""
    session.execute(
        update(page_session)
        .where(page_session.c.token_hash == _hash(token))
        .values(seen_at=utcnow())
    )


def close_page_session(*, session: Session, token: str) -> None:
    """End a session (sign-out) on every worker; an unknown token is ignored."""
    session.execute(delete(page_session).where(page_session.c.token_hash == _hash(token)))
