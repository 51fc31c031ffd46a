"""The append-only audit log: record an event, list events. There is no update or delete.

The database refuses UPDATE and DELETE on ``audit_event`` too (triggers in the migration).

Every event done with an API key records the key's id beside its name (the actor): the web
layer runs each request's work inside :func:`acting_as`, so events recorded deep inside a
screening or an import carry the key without every function passing it on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from precursorwatch.serial import to_json
from precursorwatch.store.records import AuditEvent
from precursorwatch.store.tables import audit_event, utcnow

#: (key id, key name) of the API key the current work is done with; None for the CLI.
_acting_key: ContextVar[tuple[str, str] | None] = ContextVar("acting_key", default=None)


@contextmanager
def acting_as(key_id: str, name: str) -> Iterator[None]:
    """Record the audit events of the block as done with API key ``key_id`` (named ``name``)."""
    token = _acting_key.set((key_id, name))
    try:
        yield
    finally:
        _acting_key.reset(token)


#: The id of the HTTP request the current work answers ('' outside one): kept in the details.
request_id: ContextVar[str] = ContextVar("request_id", default="")


def acting_key() -> tuple[str, str] | None:
    """The (id, name) of the key the current work is done with, or None."""
    return _acting_key.get()


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    detail: Mapping[str, object],
    actor_key_id: str | None = None,
) -> None:
    """Append one audit event (at = now, UTC) in the session's transaction.

    ``detail`` must be JSON-serialisable (dataclasses, tuples and mappings are converted).
    ``actor_key_id`` defaults to the key of :func:`acting_as` ('' outside one); the key's id
    and name are also added to ``detail`` as ``by_key``, so the details alone keep them, and
    the HTTP request's id (:data:`request_id`) as ``request_id`` when there is one.
    """
    key = _acting_key.get()
    key_id = actor_key_id if actor_key_id is not None else (key[0] if key else "")
    body = dict(detail)
    if request_id.get():
        body.setdefault("request_id", request_id.get())
    if key_id:
        body["by_key"] = {"id": key_id, "name": key[1] if key and key[0] == key_id else actor}
    session.execute(
        insert(audit_event).values(
            at=utcnow(), actor=actor, action=action, detail=to_json(body), actor_key_id=key_id
        )
    )


def list_audit(
    *, session: Session, limit: int = 100, since: datetime | None = None
) -> list[AuditEvent]:
    """The newest ``limit`` events (newest first), optionally only those at or after ``since``."""
    stmt = select(audit_event).order_by(audit_event.c.id.desc()).limit(max(0, limit))
    if since is not None:
        stmt = stmt.where(audit_event.c.at >= since)
    return [
        AuditEvent(
            event_id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            detail=r.detail,
            actor_key_id=r.actor_key_id,
        )
        for r in session.execute(stmt)
    ]
