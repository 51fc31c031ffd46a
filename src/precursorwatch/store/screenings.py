"""Saved screenings: write one with all its lines in bulk, read them back, history by substance.

A screening row is inserted with ``complete = false``, its lines follow, then ``complete`` is
set true, all in the caller's transaction: readers only ever see complete screenings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from precursorwatch.errors import QueryError
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.serial import from_json, to_json
from precursorwatch.store.records import HistoryRow, ScreeningRecord, ScreeningSummary
from precursorwatch.store.stream import begin_screening, finish_screening
from precursorwatch.store.tables import screening, screening_line

#: Lines sent to the database per executemany batch.
_BATCH = 5_000

#: Declaration fields stored as columns (warnings go in a JSON column of their own).
_DECLARATION_COLUMNS = tuple(f.name for f in fields(DeclarationLine) if f.name != "warnings")


def _line_row(
    screening_id: str, position: int, line: DeclarationLine, result: LineResult
) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(line, name) for name in _DECLARATION_COLUMNS}
    row.update(
        screening_id=screening_id,
        position=position,
        warnings=list(line.warnings),
        risk=result.risk,
        flagged=result.flagged,
        matched_key=result.matched_key,
        match_type=result.match_type,
        score=result.score,
        result=to_json(result),
    )
    return row


def save_screening(
    *,
    session: Session,
    actor: str,
    input_name: str,
    input_hash: str,
    list_versions: Mapping[str, str],
    lines: Sequence[tuple[DeclarationLine, LineResult]],
) -> str:
    """Store a screening and its lines in input order; returns its new id (uuid4 hex).

    An audit event "screening.saved" is recorded in the same transaction.
    """
    by_risk = Counter(result.risk for _, result in lines)
    flagged = sum(1 for _, result in lines if result.flagged)
    screening_id = begin_screening(
        session=session, actor=actor, input_name=input_name, input_hash=input_hash,
        list_versions=list_versions,
    )  # fmt: skip
    rows = [_line_row(screening_id, i, line, result) for i, (line, result) in enumerate(lines)]
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(screening_line), rows[start : start + _BATCH])
    finish_screening(
        session=session, screening_id=screening_id, actor=actor, input_name=input_name,
        input_hash=input_hash, list_versions=list_versions, line_count=len(lines),
        flagged=flagged, by_risk=by_risk,
    )  # fmt: skip
    return screening_id


def _summary(row: Any) -> ScreeningSummary:
    return ScreeningSummary(
        screening_id=row.id,
        created_at=row.created_at,
        actor=row.actor,
        input_name=row.input_name,
        input_hash=row.input_hash,
        list_versions=row.list_versions,
        lines=row.line_count,
        flagged=row.flagged_count,
        by_risk=row.by_risk,
    )


def _declaration(row: Any) -> DeclarationLine:
    values = {name: getattr(row, name) for name in _DECLARATION_COLUMNS}
    return DeclarationLine(**values, warnings=tuple(row.warnings))


_LINE_COLUMNS = (
    *(screening_line.c[name] for name in _DECLARATION_COLUMNS),
    screening_line.c.warnings,
    screening_line.c.result,
)


def get_screening(*, session: Session, screening_id: str) -> ScreeningRecord:
    """A complete screening with its lines in input order. Raises QueryError when unknown."""
    row = session.execute(
        select(screening).where(screening.c.id == screening_id, screening.c.complete.is_(True))
    ).first()
    if row is None:
        raise QueryError(
            f"no screening with id {screening_id!r}: list them with GET /v1/screenings"
        )
    lines = session.execute(
        select(*_LINE_COLUMNS)
        .where(screening_line.c.screening_id == screening_id)
        .order_by(screening_line.c.position)
    )
    return ScreeningRecord(
        summary=_summary(row),
        lines=tuple((_declaration(r), from_json(LineResult, r.result)) for r in lines),
    )


def list_screenings(
    *, session: Session, since: datetime | None = None, limit: int = 100
) -> list[ScreeningSummary]:
    """Complete screenings, newest first, at most ``limit``, optionally created at/after
    ``since``."""
    stmt = (
        select(screening)
        .where(screening.c.complete.is_(True))
        .order_by(screening.c.created_at.desc(), screening.c.id)
        .limit(max(0, limit))
    )
    if since is not None:
        stmt = stmt.where(screening.c.created_at >= since)
    return [_summary(r) for r in session.execute(stmt)]


def iter_screening_lines(
    *, session: Session, since: datetime | None
) -> Iterator[tuple[str, DeclarationLine, LineResult]]:
    """Every line of complete screenings (created at/after ``since`` when given), oldest
    screening first and in input order, streamed in batches: ``(screening_id, line, result)``.
    """
    stmt = (
        select(screening_line.c.screening_id, *_LINE_COLUMNS)
        .join(screening, screening.c.id == screening_line.c.screening_id)
        .where(screening.c.complete.is_(True))
        .order_by(screening.c.created_at, screening.c.id, screening_line.c.position)
        .execution_options(yield_per=1_000)
    )
    if since is not None:
        stmt = stmt.where(screening.c.created_at >= since)
    for r in session.execute(stmt):
        yield r.screening_id, _declaration(r), from_json(LineResult, r.result)


def substance_history(*, session: Session, key: str) -> list[HistoryRow]:
    """Earlier lines whose result matched substance ``key``, newest screening first.

    An unknown key simply has no history (empty list).
    """
    sl = screening_line.c
    stmt = (
        select(
            screening.c.id,
            screening.c.created_at,
            screening.c.actor,
            sl.line_id,
            sl.description,
            sl.consignee,
            sl.destination,
            sl.risk,
        )
        .join(screening, screening.c.id == sl.screening_id)
        .where(sl.matched_key == key, screening.c.complete.is_(True))
        .order_by(screening.c.created_at.desc(), screening.c.id, sl.position)
    )
    return [
        HistoryRow(
            screening_id=r.id,
            created_at=r.created_at,
            actor=r.actor,
            line_id=r.line_id,
            description=r.description,
            consignee=r.consignee,
            destination=r.destination,
            risk=r.risk,
        )
        for r in session.execute(stmt)
    ]
