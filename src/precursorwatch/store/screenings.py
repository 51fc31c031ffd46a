"""Saved screenings: write one with all its lines, read them back, history by substance.

A screening row is inserted with ``complete = false``, its lines follow, then ``complete`` is
set true, all in the caller's transaction: readers only ever see complete screenings. The
lines are kept as :mod:`precursorwatch.store.blocks` describes (each distinct result once,
the lines in compressed blocks); every reader here gives back exactly what was written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precursorwatch.errors import QueryError
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.store.blocks import (
    BLOCK_LINES,
    ResultBook,
    block_from_lines,
    decode_block,
    lines_of,
    result_template,
)
from precursorwatch.store.records import HistoryRow, ScreeningRecord, ScreeningSummary, StoredSize
from precursorwatch.store.stream import add_screening_block, begin_screening, finish_screening
from precursorwatch.store.tables import screening, screening_block, screening_result


def save_screening(
    *,
    session: Session,
    actor: str,
    input_name: str,
    input_hash: str,
    list_versions: Mapping[str, str],
    lines: Sequence[tuple[DeclarationLine, LineResult]],
    as_of: str = "",
) -> str:
    """Store a screening and its lines in input order; returns its new id (uuid4 hex).

    ``as_of``: the day whose law was applied (YYYY-MM-DD; '' = today, UTC). An audit event
    "screening.saved" is recorded in the same transaction.
    """
    by_risk = Counter(result.risk for _, result in lines)
    flagged = sum(1 for _, result in lines if result.flagged)
    screening_id = begin_screening(
        session=session, actor=actor, input_name=input_name, input_hash=input_hash,
        list_versions=list_versions, as_of=as_of,
    )  # fmt: skip
    book = ResultBook()
    for block_no, start in enumerate(range(0, len(lines), BLOCK_LINES)):
        part = lines[start : start + BLOCK_LINES]
        data = block_from_lines(part, start, book)
        add_screening_block(
            session=session, screening_id=screening_id, block_no=block_no,
            first_position=start, line_count=len(part), data=data, results=book.take(),
        )  # fmt: skip
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
        pruned_at=row.pruned_at,
        as_of=row.as_of,
    )


def _templates(session: Session, screening_id: str) -> dict[int, LineResult]:
    """Result number -> the result a screening's lines refer to."""
    rows = session.execute(
        select(screening_result.c.result_no, screening_result.c.result).where(
            screening_result.c.screening_id == screening_id
        )
    )
    return {r.result_no: result_template(r.result) for r in rows}


def block_rows(session: Session, screening_id: str) -> list[Any]:
    """A screening's blocks in order, without their data: rows of ``block_no``,
    ``first_position``, ``line_count`` and ``format``."""
    sb = screening_block.c
    return list(
        session.execute(
            select(sb.block_no, sb.first_position, sb.line_count, sb.format)
            .where(sb.screening_id == screening_id)
            .order_by(sb.block_no)
        ).all()
    )


def block_data(session: Session, screening_id: str, block_no: int) -> bytes:
    """The stored bytes of one block (read one at a time: a block holds up to 200,000 lines)."""
    sb = screening_block.c
    data = session.execute(
        select(sb.data).where(sb.screening_id == screening_id, sb.block_no == block_no)
    ).scalar_one()
    return bytes(data)


def _blocks(session: Session, screening_id: str) -> Iterator[tuple[int, dict[str, list[Any]]]]:
    """A screening's blocks in order, one in memory at a time: (first position, columns)."""
    for block in block_rows(session, screening_id):
        data = block_data(session, screening_id, block.block_no)
        yield block.first_position, decode_block(data, block.format)


def _lines(session: Session, screening_id: str) -> Iterator[tuple[DeclarationLine, LineResult]]:
    templates = _templates(session, screening_id)
    for first, columns in _blocks(session, screening_id):
        yield from lines_of(columns, first, templates)


def get_screening(*, session: Session, screening_id: str) -> ScreeningRecord:
    """A complete screening with its lines in input order (none once pruned: see
    ``summary.pruned_at``). Raises QueryError when unknown."""
    row = session.execute(
        select(screening).where(screening.c.id == screening_id, screening.c.complete.is_(True))
    ).first()
    if row is None:
        raise QueryError(
            f"no screening with id {screening_id!r}: list them with GET /v1/screenings"
        )
    return ScreeningRecord(summary=_summary(row), lines=tuple(_lines(session, screening_id)))


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
    screening first and in input order, a block at a time: ``(screening_id, line, result)``.
    Pruned screenings have no lines left."""
    stmt = (
        select(screening.c.id)
        .where(screening.c.complete.is_(True), screening.c.pruned_at.is_(None))
        .order_by(screening.c.created_at, screening.c.id)
    )
    if since is not None:
        stmt = stmt.where(screening.c.created_at >= since)
    for screening_id in list(session.execute(stmt).scalars()):
        for line, result in _lines(session, screening_id):
            yield screening_id, line, result


def substance_history(*, session: Session, key: str) -> list[HistoryRow]:
    """Earlier lines whose result matched substance ``key``, newest screening first.

    An unknown key simply has no history (empty list).
    """
    sr = screening_result.c
    risks: dict[str, dict[int, str]] = {}
    for r in session.execute(
        select(sr.screening_id, sr.result_no, sr.risk).where(sr.matched_key == key)
    ):
        risks.setdefault(r.screening_id, {})[r.result_no] = r.risk
    if not risks:
        return []
    found = session.execute(
        select(screening.c.id, screening.c.created_at, screening.c.actor)
        .where(screening.c.id.in_(list(risks)), screening.c.complete.is_(True))
        .order_by(screening.c.created_at.desc(), screening.c.id)
    ).all()
    rows = []
    for s in found:
        numbers = risks[s.id]
        for first, cols in _blocks(session, s.id):
            results, ids, row_numbers = cols["result"], cols["line_id"], cols["row"]
            for i, number in enumerate(results):
                if number not in numbers:
                    continue
                row = row_numbers[i] if row_numbers[i] is not None else first + i + 1
                rows.append(
                    HistoryRow(
                        screening_id=s.id,
                        created_at=s.created_at,
                        actor=s.actor,
                        line_id=ids[i] if ids[i] is not None else str(row),
                        description=cols["description"][i],
                        consignee=cols["consignee"][i],
                        destination=cols["destination"][i],
                        risk=numbers[number],
                    )
                )
    return rows


def screening_sizes(
    *, session: Session, limit: int = 100, ids: Sequence[str] | None = None
) -> list[StoredSize]:
    """What the store keeps of each complete screening, newest first, at most ``limit`` (or
    of the screenings ``ids``): lines and distinct results stored and their bytes (0 once
    pruned)."""
    if ids is None:
        summaries = list_screenings(session=session, limit=limit)
    else:
        summaries = []
        for start in range(0, len(ids), 500):
            summaries.extend(
                _summary(r)
                for r in session.execute(
                    select(screening).where(
                        screening.c.id.in_(list(ids[start : start + 500])),
                        screening.c.complete.is_(True),
                    )
                )
            )
        summaries.sort(key=lambda s: (-s.created_at.timestamp(), s.screening_id))
    sb = screening_block.c
    totals: dict[str, tuple[int, int, int]] = {}
    wanted = [s.screening_id for s in summaries]
    for start in range(0, len(wanted), 500):
        for r in session.execute(
            select(
                sb.screening_id,
                func.sum(sb.line_count),
                func.sum(sb.result_count),
                func.sum(sb.bytes),
            )
            .where(sb.screening_id.in_(wanted[start : start + 500]))
            .group_by(sb.screening_id)
        ):
            totals[r[0]] = (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0))
    return [StoredSize(s, *totals.get(s.screening_id, (0, 0, 0))) for s in summaries]
