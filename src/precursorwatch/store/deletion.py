"""Deleting a screening on request: its lines, results, owner and decisions go; the audit
trail stays and records who deleted it.

Unlike ``prune`` (retention: lines go, the summary stays), a deleted screening is gone: it is
no longer listed, read or reported, and its kept idempotent answers are forgotten so a retry
does not name it again.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from precursorwatch.errors import QueryError
from precursorwatch.store.audit import record_audit
from precursorwatch.store.idempotency import forget_screening_answers
from precursorwatch.store.records import ScreeningSummary
from precursorwatch.store.screenings import _summary
from precursorwatch.store.tables import (
    line_decision,
    screening,
    screening_block,
    screening_owner,
    screening_result,
)


def delete_screening(
    *, session: Session, screening_id: str, actor: str, actor_key_id: str | None = None
) -> ScreeningSummary:
    """Delete a complete screening and everything stored with it; returns what it was.

    An audit event "screening.deleted" (who, the screening's id, file name, counts) is
    recorded in the same transaction. Raises QueryError when no complete screening has this
    id (a screening still being written is not deleted under its writer).
    """
    row = session.execute(
        select(screening).where(screening.c.id == screening_id, screening.c.complete.is_(True))
    ).first()
    if row is None:
        raise QueryError(f"no screening with id {screening_id[:64]!r}")
    summary = _summary(row)
    decisions = session.execute(
        delete(line_decision).where(line_decision.c.screening_id == screening_id)
    )
    session.execute(delete(screening_block).where(screening_block.c.screening_id == screening_id))
    session.execute(delete(screening_result).where(screening_result.c.screening_id == screening_id))
    session.execute(delete(screening_owner).where(screening_owner.c.screening_id == screening_id))
    forget_screening_answers(session=session, screening_id=screening_id)
    session.execute(delete(screening).where(screening.c.id == screening_id))
    record_audit(
        session=session,
        actor=actor,
        action="screening.deleted",
        detail={
            "screening_id": screening_id,
            "input_name": summary.input_name,
            "created_at": summary.created_at.isoformat(),
            "made_by": summary.actor,
            "lines": summary.lines,
            "flagged": summary.flagged,
            "decisions": int(getattr(decisions, "rowcount", 0) or 0),
        },
        actor_key_id=actor_key_id,
    )
    return summary
