"""A screening saved while it streams: the record first, lines per chunk, complete at the end.

:func:`save_screening` keeps a whole screening in memory; a file of ten million lines cannot.
Here the screening row is inserted with ``complete = false`` (readers never see it), each chunk
of lines is inserted and committed in its own short transaction (so the resolver cache can be
written between chunks, even on SQLite), and :func:`finish_screening` sets the counts and
``complete = true`` and records the audit event in one last transaction. A run that dies half
way leaves an incomplete screening that no reader lists.

Line rows carry their JSON columns (``warnings``, ``result``) as ready JSON text, so a million
lines are not serialised value by value.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, Column, MetaData, Table, Text, delete, insert, select, update
from sqlalchemy.orm import Session

from precursorwatch.models import RISKS
from precursorwatch.store.audit import record_audit
from precursorwatch.store.tables import screening, screening_line, utcnow

#: Rows per executemany batch.
_BATCH = 5_000

#: ``screening_line`` with its JSON columns typed as text: values are JSON text already.
_LINE_TEXT = Table(
    screening_line.name,
    MetaData(),
    *(
        Column(c.name, Text if isinstance(c.type, JSON) else c.type, primary_key=c.primary_key)
        for c in screening_line.columns
    ),
)
#: The columns each line row must give (``id`` is generated).
LINE_COLUMNS: tuple[str, ...] = tuple(c.name for c in screening_line.columns if c.name != "id")


def begin_screening(
    *,
    session: Session,
    actor: str,
    input_name: str,
    input_hash: str,
    list_versions: Mapping[str, str],
) -> str:
    """Insert an incomplete screening (no reader lists it yet); returns its new id."""
    screening_id = uuid.uuid4().hex
    session.execute(
        insert(screening).values(
            id=screening_id,
            created_at=utcnow(),
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


def add_screening_lines(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert line rows (keys :data:`LINE_COLUMNS`; ``warnings`` and ``result`` JSON text).

    On SQLite the rows go straight to the driver's executemany (SQLAlchemy's per-row
    parameter processing would cost more than the insert); elsewhere through a Core insert.
    """
    if session.get_bind().dialect.name == "sqlite":
        sql = (
            f"INSERT INTO {screening_line.name} ({', '.join(LINE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in LINE_COLUMNS)})"
        )
        conn = session.connection()
        for start in range(0, len(rows), _BATCH):
            batch = [tuple(r[c] for c in LINE_COLUMNS) for r in rows[start : start + _BATCH]]
            conn.exec_driver_sql(sql, batch)
        return
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(_LINE_TEXT), list(rows[start : start + _BATCH]))


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
    session.execute(delete(screening_line).where(screening_line.c.screening_id.in_(stale)))
    session.execute(delete(screening).where(screening.c.id.in_(stale)))
    record_audit(
        session=session,
        actor="system",
        action="screening.purged",
        detail={"screenings": stale, "reason": "left incomplete by a stopped run"},
    )
    return len(stale)
