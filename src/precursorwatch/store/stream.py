"""A screening saved while it streams: the record first, lines per block, complete at the end.

:func:`save_screening` keeps a whole screening in memory; a file of ten million lines cannot.
Here the screening row is inserted with ``complete = false`` (readers never see it), each
block of lines (:mod:`precursorwatch.store.blocks`) is inserted with the results it numbered
first, and committed in its own short transaction (so the resolver cache can be written
between blocks, even on SQLite), and :func:`finish_screening` sets the counts and
``complete = true`` and records the audit event in one last transaction. A run that dies half
way leaves an incomplete screening that no reader lists.

Retention: :func:`prune_screenings` removes the lines and results of old screenings and keeps
their summary row and audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from precursorwatch.models import RISKS
from precursorwatch.store.audit import record_audit
from precursorwatch.store.blocks import BLOCK_FORMAT
from precursorwatch.store.tables import screening, screening_block, screening_result, utcnow


def begin_screening(
    *,
    session: Session,
    actor: str,
    input_name: str,
    input_hash: str,
    list_versions: Mapping[str, str],
    screening_id: str | None = None,
    as_of: str = "",
) -> str:
    """Insert an incomplete screening (no reader lists it yet); returns its id: the one given
    (a web job answers with it before the screening starts) or a new one. ``as_of`` is the
    day whose law is applied (YYYY-MM-DD; '' = the day it is made, UTC)."""
    screening_id = screening_id or uuid.uuid4().hex
    now = utcnow()
    session.execute(
        insert(screening).values(
            id=screening_id,
            created_at=now,
            as_of=as_of or now.date().isoformat(),
            actor=actor,
            input_name=input_name,
            input_hash=input_hash,
            list_versions=dict(list_versions),
            line_count=0,
            flagged_count=0,
            by_risk={},
            complete=False,
        )
    )
    return screening_id


def add_screening_block(
    *,
    session: Session,
    screening_id: str,
    block_no: int,
    first_position: int,
    line_count: int,
    data: bytes,
    results: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Insert one block of lines (:func:`~precursorwatch.store.blocks.encode_block`) and the
    results it numbered first (rows of :meth:`ResultBook.take
    <precursorwatch.store.blocks.ResultBook.take>`)."""
    if results:
        session.execute(
            insert(screening_result), [{**r, "screening_id": screening_id} for r in results]
        )
    session.execute(
        insert(screening_block).values(
            screening_id=screening_id,
            block_no=block_no,
            first_position=first_position,
            line_count=line_count,
            result_count=len(results),
            bytes=len(data) + sum(len(r["result"].encode("utf-8")) for r in results),
            format=BLOCK_FORMAT,
            data=data,
        )
    )


def finish_screening(
    *,
    session: Session,
    screening_id: str,
    actor: str,
    input_name: str,
    input_hash: str,
    list_versions: Mapping[str, str],
    line_count: int,
    flagged: int,
    by_risk: Mapping[str, int],
) -> None:
    """Set the counts, mark the screening complete and record "screening.saved"."""
    session.execute(
        update(screening)
        .where(screening.c.id == screening_id)
        .values(
            line_count=line_count,
            flagged_count=flagged,
            by_risk={risk: by_risk.get(risk, 0) for risk in (*RISKS, *sorted(by_risk))},
            complete=True,
        )
    )
    record_audit(
        session=session,
        actor=actor,
        action="screening.saved",
        detail={
            "screening_id": screening_id,
            "input_name": input_name,
            "input_hash": input_hash,
            "lines": line_count,
            "flagged": flagged,
            "list_versions": dict(list_versions),
        },
    )


def _delete_lines(session: Session, screening_ids: Sequence[str]) -> None:
    """Delete the blocks and results of these screenings (in slices: bound parameters)."""
    for start in range(0, len(screening_ids), 500):
        ids = list(screening_ids[start : start + 500])
        session.execute(delete(screening_block).where(screening_block.c.screening_id.in_(ids)))
        session.execute(delete(screening_result).where(screening_result.c.screening_id.in_(ids)))


def purge_incomplete_screenings(*, session: Session, older_than: timedelta) -> int:
    """Delete screenings left incomplete (a killed run) for longer than ``older_than``.

    Their lines go with them; an audit event says how many were removed. A screening still
    being written is younger than any sensible ``older_than`` and is left alone. Returns the
    number of screenings removed.
    """
    cutoff = utcnow() - older_than
    stale = [
        row.id
        for row in session.execute(
            select(screening.c.id).where(
                screening.c.complete.is_(False), screening.c.created_at < cutoff
            )
        )
    ]
    if not stale:
        return 0
    _delete_lines(session, stale)
    session.execute(delete(screening).where(screening.c.id.in_(stale)))
    record_audit(
        session=session,
        actor="system",
        action="screening.purged",
        detail={"screenings": stale, "reason": "left incomplete by a stopped run"},
    )
    return len(stale)


def discard_incomplete_screening(*, session: Session, screening_id: str) -> bool:
    """Delete one screening that never completed (a cancelled or failed job) and the lines it
    had written, so nothing half-done remains. A complete screening is left alone; returns
    True when one was removed."""
    found = session.execute(
        select(screening.c.id).where(
            screening.c.id == screening_id, screening.c.complete.is_(False)
        )
    ).first()
    if found is None:
        return False
    _delete_lines(session, [screening_id])
    session.execute(delete(screening).where(screening.c.id == screening_id))
    return True


@dataclass(frozen=True, slots=True)
class PruneOutcome:
    """What :func:`prune_screenings` removed."""

    before: datetime
    screenings: tuple[str, ...]
    lines: int
    results: int
    bytes: int


def prune_screenings(*, session: Session, before: datetime, actor: str) -> PruneOutcome:
    """Remove the lines and results of the complete screenings created before ``before``.

    Each keeps its summary row (counts, list versions, input hash), marked ``pruned_at``,
    and its audit trail; an audit event "screening.pruned" names them and what was removed.
    Screenings pruned already are left alone (a second call removes nothing and records
    nothing). ``before`` must be timezone-aware.
    """
    old = list(
        session.execute(
            select(screening.c.id)
            .where(
                screening.c.complete.is_(True),
                screening.c.created_at < before,
                screening.c.pruned_at.is_(None),
            )
            .order_by(screening.c.created_at, screening.c.id)
        ).scalars()
    )
    if not old:
        return PruneOutcome(before, (), 0, 0, 0)
    lines = data_bytes = results = 0
    for start in range(0, len(old), 500):
        found = session.execute(
            select(
                func.coalesce(func.sum(screening_block.c.line_count), 0),
                func.coalesce(func.sum(screening_block.c.result_count), 0),
                func.coalesce(func.sum(screening_block.c.bytes), 0),
            ).where(screening_block.c.screening_id.in_(old[start : start + 500]))
        ).one()
        lines += int(found[0])
        results += int(found[1])
        data_bytes += int(found[2])
    _delete_lines(session, old)
    now = utcnow()
    for start in range(0, len(old), 500):
        session.execute(
            update(screening)
            .where(screening.c.id.in_(old[start : start + 500]))
            .values(pruned_at=now)
        )
    record_audit(
        session=session,
        actor=actor,
        action="screening.pruned",
        detail={
            "before": before.isoformat(),
            "screenings": old,
            "lines": lines,
            "results": results,
            "bytes": data_bytes,
        },
    )
    return PruneOutcome(before, tuple(old), lines, results, data_bytes)
