"""Officers' review decisions on screened lines: record one, read the newest per line, and the
history.

A decision is kept on a *flagged* line only (risk high or medium): a line the screening did
not flag has nothing to clear or hold, and a decision on it would read as if it had been
flagged. Every decision is a new row (``line_decision``), never an update: the newest per line
is the line's decision, the rows before it its history, and each is also an audit event
("line.decision") in the same transaction.

A line is named by the ``line_id`` the reports and the API show (the result's). Should a
manifest repeat a line id, the decision applies to every line of that id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from precursorwatch.errors import InputError, QueryError
from precursorwatch.store.audit import acting_key, record_audit
from precursorwatch.store.blocks import block_arrow, column_values, shown_line_ids
from precursorwatch.store.screenings import block_data, block_rows
from precursorwatch.store.tables import (
    line_decision,
    screening,
    screening_result,
    utcnow,
)

#: The decisions an officer can record, in the order the pages offer them.
DECISIONS: tuple[str, ...] = ("cleared", "inspect", "detained", "referred")
#: What each decision means, for pages and the documentation.
DECISION_MEANINGS: Mapping[str, str] = {
    "cleared": "checked: the goods may go",
    "inspect": "held for a physical inspection",
    "detained": "the goods are detained",
    "referred": "referred to the competent authority",
}
#: Characters a comment may have at most.
MAX_COMMENT = 2_000


@dataclass(frozen=True, slots=True)
class LineDecision:
    """One recorded decision on a line of a screening."""

    screening_id: str
    line_id: str
    decision: str
    comment: str
    actor: str
    at: datetime
    #: The API key it was recorded with ('' from the command line).
    actor_key_id: str = ""
    decision_no: int = 0


def check_decision(decision: str, comment: str) -> None:
    """Raise InputError naming the field when ``decision`` is not one of :data:`DECISIONS` or
    ``comment`` is longer than :data:`MAX_COMMENT` characters."""
    if decision not in DECISIONS:
        raise InputError(
            f"decision: {decision[:40]!r} is not a decision; use one of {', '.join(DECISIONS)}"
        )
    if len(comment) > MAX_COMMENT:
        raise InputError(
            f"comment: {len(comment):,} characters; at most {MAX_COMMENT:,} are kept: shorten it"
        )


def _line_flagged(session: Session, screening_id: str, line_id: str) -> bool | None:
    """Whether the screening's line ``line_id`` was flagged (any line of that id, should the
    id repeat); None when the screening has no such line. Reads one block at a time, and of
    it only the columns that name its lines and their results."""
    flagged = {
        r.result_no: r.flagged
        for r in session.execute(
            select(screening_result.c.result_no, screening_result.c.flagged).where(
                screening_result.c.screening_id == screening_id
            )
        )
    }
    found: bool | None = None
    for block in block_rows(session, screening_id):
        table = block_arrow(block_data(session, screening_id, block.block_no), block.format)
        cols = {c: column_values(table, c) for c in ("row", "line_id", "result_line_id")}
        shown = shown_line_ids(cols, block.first_position)
        for result_no, this in zip(column_values(table, "result"), shown, strict=True):
            if this == line_id:
                if flagged.get(result_no, False):
                    return True
                found = False
    return found


def record_decision(
    *,
    session: Session,
    screening_id: str,
    line_id: str,
    decision: str,
    comment: str,
    actor: str,
    actor_key_id: str | None = None,
) -> LineDecision:
    """Record ``actor``'s decision on line ``line_id`` of a screening, with an audit event
    "line.decision", in the session's transaction; returns what was stored.

    Raises InputError naming the field for an unknown decision or an overlong comment, for a
    screening still being screened (or failed), pruned, or a line it did not flag; QueryError
    (404) for an unknown screening or line. ``actor_key_id`` defaults to the key of
    :func:`~precursorwatch.store.audit.acting_as` ('' outside one).
    """
    comment = comment.strip()
    check_decision(decision, comment)
    row = session.execute(
        select(screening.c.complete, screening.c.pruned_at).where(screening.c.id == screening_id)
    ).first()
    if row is None:
        raise QueryError(f"no screening with id {screening_id[:64]!r}")
    if not row.complete:
        raise InputError(
            f"screening {screening_id[:64]!r} is not complete (still being screened, or it "
            "failed): record decisions once its status is complete"
        )
    if row.pruned_at is not None:
        raise InputError(
            f"screening {screening_id[:64]!r}: its lines were pruned on "
            f"{row.pruned_at:%Y-%m-%d}, so no decision can be recorded on them"
        )
    flagged = _line_flagged(session, screening_id, line_id)
    if flagged is None:
        raise QueryError(
            f"screening {screening_id[:64]!r} has no line {line_id[:64]!r}: use a line_id its "
            "lines show"
        )
    if not flagged:
        raise InputError(
            f"line_id: line {line_id[:64]!r} was not flagged; decisions are recorded on "
            "flagged lines only (risk high or medium)"
        )
    key = acting_key()
    key_id = actor_key_id if actor_key_id is not None else (key[0] if key else "")
    at = utcnow()
    values = {
        "screening_id": screening_id,
        "line_id": line_id,
        "decision": decision,
        "comment": comment,
        "actor": actor,
        "actor_key_id": key_id,
        "at": at,
    }
    number = int(
        session.execute(
            insert(line_decision).values(**values).returning(line_decision.c.id)
        ).scalar_one()
    )
    record_audit(
        session=session,
        actor=actor,
        action="line.decision",
        detail={
            "screening_id": screening_id,
            "line_id": line_id,
            "decision": decision,
            "comment": comment,
        },
        actor_key_id=key_id,
    )
    return LineDecision(screening_id, line_id, decision, comment, actor, at, key_id, number)


def _decision(r: Any) -> LineDecision:
    return LineDecision(
        screening_id=r.screening_id,
        line_id=r.line_id,
        decision=r.decision,
        comment=r.comment,
        actor=r.actor,
        at=r.at,
        actor_key_id=r.actor_key_id,
        decision_no=r.id,
    )


def decision_history(
    *, session: Session, screening_id: str, line_id: str | None = None
) -> list[LineDecision]:
    """Every decision recorded on a screening's lines (or on line ``line_id``), oldest
    first. An unknown screening or line simply has none."""
    d = line_decision.c
    stmt = select(line_decision).where(d.screening_id == screening_id).order_by(d.id)
    if line_id is not None:
        stmt = stmt.where(d.line_id == line_id)
    return [_decision(r) for r in session.execute(stmt)]


def current_decisions(*, session: Session, screening_id: str) -> dict[str, LineDecision]:
    """Line id -> the newest decision on it, for every decided line of a screening."""
    return newest(decision_history(session=session, screening_id=screening_id))


def newest(decisions: Iterable[LineDecision]) -> dict[str, LineDecision]:
    """Line id -> the newest of ``decisions`` (given oldest first) on it."""
    out: dict[str, LineDecision] = {}
    for item in decisions:
        out[item.line_id] = item
    return out


def decision_counts(decided: Mapping[str, LineDecision]) -> dict[str, int]:
    """Lines per decision (every decision named, 0 when none)."""
    counts = dict.fromkeys(DECISIONS, 0)
    for item in decided.values():
        counts[item.decision] = counts.get(item.decision, 0) + 1
    return counts
