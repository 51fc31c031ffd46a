"""Idempotency keys: the first answer to a POST, kept so that a retry is answered the same.

A client that sends ``Idempotency-Key: K`` with a POST and retries it (a timeout, a dropped
connection) must not get a second screening. The first request *claims* (API key, K) with a
pending row in one transaction, so of two workers or two concurrent retries exactly one does
the work; the others see the claim. When the work is done its answer is kept (compressed,
at most :data:`MAX_STORED_BODY` bytes; a larger one keeps only what rebuilds it) for the
window the caller gives, after which the row is deleted on the next claim.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from precursorwatch.store.tables import idempotency, utcnow

#: Most bytes of a compressed answer kept; a larger answer is kept without its lines.
MAX_STORED_BODY = 2 * 1024 * 1024
#: Longest Idempotency-Key accepted (the column's width).
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class IdempotentAnswer:
    """A claimed key: the request it was first used for and, once done, its answer.

    ``status`` is None while the first request is still being answered. ``body`` is the
    answer's bytes, or None when it was too large to keep (rebuild it from ``screening_id``).
    """

    request: str
    request_hash: str
    status: int | None
    media_type: str
    body: bytes | None
    screening_id: str | None
    created_at: datetime


def _answer(row: Any) -> IdempotentAnswer:
    return IdempotentAnswer(
        request=row.request,
        request_hash=row.request_hash,
        status=row.status,
        media_type=row.media_type,
        body=None if row.body is None else zlib.decompress(bytes(row.body)),
        screening_id=row.screening_id,
        created_at=row.created_at,
    )


def claim_idempotency(
    *,
    session: Session,
    key_id: str,
    idem_key: str,
    request: str,
    window: timedelta,
    stale_after: timedelta,
) -> IdempotentAnswer | None:
    """Claim (``key_id``, ``idem_key``) for a new request; None when claimed by this call.

    Otherwise the stored claim is returned: done (``status`` set) or still running. A claim
    left running for longer than ``stale_after`` (its worker died) is taken over. Keys older
    than ``window`` are forgotten first, every key's, so the table stays bounded.
    """
    now = utcnow()
    session.execute(delete(idempotency).where(idempotency.c.created_at < now - window))
    c = idempotency.c
    row = session.execute(
        select(idempotency).where(c.key_id == key_id, c.idem_key == idem_key)
    ).first()
    if row is not None:
        if row.status is None and row.created_at < now - stale_after:
            session.execute(
                update(idempotency)
                .where(c.key_id == key_id, c.idem_key == idem_key)
                .values(request=request, request_hash="", created_at=now)
            )
            return None
        return _answer(row)
    try:
        with session.begin_nested():
            session.execute(
                insert(idempotency).values(
                    key_id=key_id, idem_key=idem_key, request=request, request_hash="",
                    status=None, media_type="", body=None, screening_id=None, created_at=now,
                )
            )  # fmt: skip
    except IntegrityError:  # another worker claimed it between the select and the insert
        row = session.execute(
            select(idempotency).where(c.key_id == key_id, c.idem_key == idem_key)
        ).one()
        return _answer(row)
    return None


def finish_idempotency(
    *,
    session: Session,
    key_id: str,
    idem_key: str,
    request_hash: str,
    status: int,
    media_type: str,
    body: bytes | None,
    compact: bytes | None = None,
    screening_id: str | None = None,
) -> bool:
    """Keep the answer of a claimed key; True when ``body`` was kept whole.

    A ``body`` that compresses to more than :data:`MAX_STORED_BODY` bytes (or None: too
    large to hold) is replaced by ``compact`` (what rebuilds it with ``screening_id``; None
    keeps no bytes).
    """
    packed = None if body is None else zlib.compress(body, 6)
    kept = packed is not None and len(packed) <= MAX_STORED_BODY
    if not kept:
        packed = None if compact is None else zlib.compress(compact, 6)
    c = idempotency.c
    session.execute(
        update(idempotency)
        .where(c.key_id == key_id, c.idem_key == idem_key)
        .values(
            request_hash=request_hash,
            status=status,
            media_type=media_type[:200],
            body=packed,
            screening_id=screening_id,
        )
    )
    return kept


def release_idempotency(*, session: Session, key_id: str, idem_key: str) -> None:
    """Forget a claim whose request failed, so that the client may retry with the same key."""
    c = idempotency.c
    session.execute(delete(idempotency).where(c.key_id == key_id, c.idem_key == idem_key))


def forget_screening_answers(*, session: Session, screening_id: str) -> int:
    """Forget the kept answers naming a screening (it was deleted); how many were."""
    done = session.execute(delete(idempotency).where(idempotency.c.screening_id == screening_id))
    return int(getattr(done, "rowcount", 0) or 0)
