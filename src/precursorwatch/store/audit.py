"""The append-only audit log: record an event, list events. There is no update or delete.

The database refuses UPDATE and DELETE on ``audit_event`` too (triggers in the migration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from precursorwatch.serial import to_json
from precursorwatch.store.records import AuditEvent
from precursorwatch.store.tables import audit_event, utcnow


def record_audit(
    *, session: Session, actor: str, action: str, detail: Mapping[str, object]
) -> None:
    """Append one audit event (at = now, UTC) in the session's transaction.

    ``detail`` must be JSON-serialisable (dataclasses, tuples and mappings are converted).
    """
    session.execute(
        insert(audit_event).values(
            at=utcnow(), actor=actor, action=action, detail=to_json(dict(detail))
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
        AuditEvent(event_id=r.id, at=r.at, actor=r.actor, action=r.action, detail=r.detail)
        for r in session.execute(stmt)
    ]
