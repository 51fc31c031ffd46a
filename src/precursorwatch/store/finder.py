"""Finding things again: past screenings a page at a time, and one screening's lines a page
at a time, filtered and sorted, without reading every line into Python objects.

* :func:`find_screenings` — complete screenings, newest first, filtered by day, actor, file
  name and "has open flags" (flagged lines without a decision), for one key's screenings
  (operators) or all of them.
* :func:`line_page` — the lines of one screening at ``[offset, offset + limit)`` after a
  filter (risk, match type, list, decision) and a sort (risk, most severe first, is the
  default: flagged lines first). Only the block's ``result`` column is looked at for every
  line (an Arrow column to a NumPy array); only the lines of the page become
  :class:`~precursorwatch.models.DeclarationLine` and ``LineResult`` objects, so a
  100,000-line screening's page costs a few reads of its blocks, not 100,000 objects.

Decisions are read from ``line_decision``: the newest row per line is the line's decision.
A screening's open flags are counted as its flagged lines less the lines with a decision,
which holds because decisions are recorded on flagged lines.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.store.blocks import (
    COLUMN_TYPES,
    block_arrow,
    column_values,
    lines_of,
    result_template,
    shown_line_ids,
)
from precursorwatch.store.decisions import DECISIONS
from precursorwatch.store.records import ScreeningSummary
from precursorwatch.store.screenings import _summary, block_data, block_rows
from precursorwatch.store.tables import (
    line_decision,
    screening,
    screening_owner,
    screening_result,
)

#: Risk tiers, most severe first (the default sort of a screening's lines).
RISK_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2, "none": 3}
#: How a screening's lines may be sorted: by risk, most severe first (flagged lines first,
#: input order within a tier); by risk, least severe first; in input order.
SORTS: tuple[str, ...] = ("risk", "risk-asc", "input")
#: The decisions an officer records (:data:`~precursorwatch.store.decisions.DECISIONS`), and
#: the two filters on their absence: ``undecided`` (no decision) and ``open`` (flagged and no
#: decision).
DECISION_FILTERS: tuple[str, ...] = (*DECISIONS, "undecided", "open")
#: Bounds of a page: screenings in a list, lines in a screening's page.
MAX_SCREENINGS_PAGE = 200
MAX_LINES_PAGE = 1_000
#: A screening of at most this many blocks keeps them decoded while a page is read (one
#: block holds up to 200,000 lines), so the page's lines are not decoded twice.
_KEEP_BLOCKS = 2

#: The columns of a block that name its lines (:func:`shown_line_ids`).
_ID_COLUMNS = ("row", "line_id", "result_line_id")


@dataclass(frozen=True, slots=True)
class ListedScreening:
    """A screening in a list: its summary, the day whose law it applied, and how many of its
    lines carry a decision."""

    summary: ScreeningSummary
    as_of: str
    decided: int

    @property
    def open(self) -> int:
        """Flagged lines without a decision."""
        return max(0, self.summary.flagged - self.decided)


@dataclass(frozen=True, slots=True)
class ScreeningPage:
    """One page of :func:`find_screenings`, and how many screenings the filters keep."""

    items: tuple[ListedScreening, ...]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page; None on the last."""
        end = self.offset + len(self.items)
        return end if end < self.total else None


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    """Midnight UTC at the end of ``day`` (exclusive bound: the day is included)."""
    return day_start(day + timedelta(days=1))


def _decided_count() -> Any:
    ld = line_decision.c
    return (
        select(func.count(func.distinct(ld.line_id)))
        .where(ld.screening_id == screening.c.id)
        .scalar_subquery()
    )


def find_screenings(
    *,
    session: Session,
    since: date | None = None,
    until: date | None = None,
    actor: str = "",
    file: str = "",
    open_only: bool = False,
    owner_key_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ScreeningPage:
    """Complete screenings, newest first, ``limit`` (at most :data:`MAX_SCREENINGS_PAGE`)
    from ``offset``, with how many the filters keep in all.

    ``since`` / ``until``: created on or after / on or before these days (UTC, both
    included). ``actor`` / ``file``: a case-insensitive part of who screened / of the file
    name. ``open_only``: only screenings with flagged lines left without a decision.
    ``owner_key_id``: only the screenings that API key made (what an operator may see).
    """
    s = screening.c
    decided = _decided_count()
    stmt = select(screening, func.coalesce(decided, 0).label("decided")).where(s.complete.is_(True))
    if owner_key_id is not None:
        stmt = stmt.join(screening_owner, screening_owner.c.screening_id == s.id).where(
            screening_owner.c.key_id == owner_key_id
        )
    if since is not None:
        stmt = stmt.where(s.created_at >= day_start(since))
    if until is not None:
        stmt = stmt.where(s.created_at < day_end(until))
    if actor.strip():
        stmt = stmt.where(func.lower(s.actor).contains(actor.strip().lower(), autoescape=True))
    if file.strip():
        stmt = stmt.where(func.lower(s.input_name).contains(file.strip().lower(), autoescape=True))
    if open_only:
        stmt = stmt.where(s.flagged_count > func.coalesce(decided, 0))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    offset = max(0, offset)
    limit = max(0, min(limit, MAX_SCREENINGS_PAGE))
    rows = session.execute(
        stmt.order_by(s.created_at.desc(), s.id).offset(offset).limit(limit)
    ).all()
    items = tuple(ListedScreening(_summary(r), r.as_of or "", int(r.decided)) for r in rows)
    return ScreeningPage(items, int(total), offset, limit)


# --- one screening's lines, a page at a time -------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineFilter:
    """Which lines of a screening a page shows, and in which order. Empty sets keep all."""

    risks: frozenset[str] = frozenset()
    match_types: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    decisions: frozenset[str] = frozenset()
    sort: str = "risk"

    @property
    def filtered(self) -> bool:
        """True when some filter is set."""
        return bool(self.risks or self.match_types or self.lists or self.decisions)


@dataclass(frozen=True, slots=True)
class PagedLine:
    """A line of a page: its 0-based position in the input, the line, its result and its
    decision ('' when none)."""

    position: int
    line: DeclarationLine
    result: LineResult
    decision: str = ""


@dataclass(frozen=True, slots=True)
class LinePage:
    """One page of a screening's lines: the lines, how many the screening has, how many the
    filter keeps, and where the page starts."""

    lines: tuple[PagedLine, ...]
    total: int
    matched: int
    offset: int
    limit: int
    #: Decisions per decision value over the whole screening (newest per line).
    decided: Mapping[str, int] = field(default_factory=dict)

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page; None on the last."""
        end = self.offset + len(self.lines)
        return end if end < self.matched else None


def decisions_of(*, session: Session, screening_id: str) -> dict[str, str]:
    """Line id -> the line's decision (its newest) for one screening."""
    ld = line_decision.c
    newest: dict[str, str] = {}
    for line_id, decision in session.execute(
        select(ld.line_id, ld.decision).where(ld.screening_id == screening_id).order_by(ld.id)
    ):
        newest[line_id] = decision
    return newest


@dataclass(frozen=True, slots=True)
class _Facts:
    """Per result number: the rank of its risk, whether it is flagged, whether the filter
    keeps it (NumPy arrays indexed by result number)."""

    rank: Any
    flagged: Any
    keep: Any


def _facts(session: Session, screening_id: str, where: LineFilter) -> _Facts:
    sr = screening_result.c
    columns = [sr.result_no, sr.risk, sr.flagged, sr.match_type]
    if where.lists:
        columns.append(sr.result)
    rows = session.execute(select(*columns).where(sr.screening_id == screening_id)).all()
    size = max((r.result_no for r in rows), default=-1) + 1
    rank = np.full(size, len(RISK_RANK), dtype=np.int8)
    flagged = np.zeros(size, dtype=bool)
    keep = np.zeros(size, dtype=bool)
    for r in rows:
        rank[r.result_no] = RISK_RANK.get(r.risk, len(RISK_RANK))
        flagged[r.result_no] = bool(r.flagged)
        ok = (not where.risks or r.risk in where.risks) and (
            not where.match_types or r.match_type in where.match_types
        )
        if ok and where.lists:
            ok = bool(set(json.loads(r.result).get("lists") or ()) & where.lists)
        keep[r.result_no] = ok
    return _Facts(rank, flagged, keep)


def _decision_mask(
    ids: Sequence[str], flagged: Any, decisions: Mapping[str, str], wanted: frozenset[str]
) -> Any:
    """True for the lines whose decision ``wanted`` names, or that have none and ``wanted``
    has ``undecided`` (or ``open`` and the line is flagged)."""
    made = np.array([decisions.get(i, "") for i in ids] if decisions else [""] * len(ids))
    none = made == ""
    mask = np.isin(made, list(wanted - {"undecided", "open"})) & ~none
    if "undecided" in wanted:
        mask |= none
    elif "open" in wanted:
        mask |= none & flagged
    return mask


def line_page(
    *,
    session: Session,
    screening_id: str,
    offset: int = 0,
    limit: int = 100,
    where: LineFilter | None = None,
) -> LinePage:
    """The lines of a complete screening at ``[offset, offset + limit)`` (``limit`` at most
    :data:`MAX_LINES_PAGE`) of those ``where`` keeps, in its order: by default by risk, most
    severe first (flagged lines first), input order within a tier. A pruned screening has
    no lines (``total`` 0). Call :func:`~precursorwatch.store.access.screening_summary`
    first: an unknown id simply has no lines here."""
    where = where or LineFilter()
    offset, limit = max(0, offset), max(0, min(limit, MAX_LINES_PAGE))
    facts = _facts(session, screening_id, where)
    decisions = decisions_of(session=session, screening_id=screening_id)
    blocks = block_rows(session, screening_id)
    numbers_parts, mask_parts = [], []
    kept: dict[int, Any] = {}  # the decoded blocks, when few, for the page's lines
    for block in blocks:
        table = block_arrow(block_data(session, screening_id, block.block_no), block.format)
        if len(blocks) <= _KEEP_BLOCKS:
            kept[block.block_no] = table
        numbers = table.column("result").to_numpy().astype(np.int64)
        mask = facts.keep[numbers] if where.filtered else np.ones(len(numbers), dtype=bool)
        if where.decisions:
            ids = shown_line_ids(
                {c: column_values(table, c) for c in _ID_COLUMNS}, block.first_position
            )
            mask &= _decision_mask(ids, facts.flagged[numbers], decisions, where.decisions)
        numbers_parts.append(numbers)
        mask_parts.append(mask)
    numbers = np.concatenate(numbers_parts) if numbers_parts else np.zeros(0, dtype=np.int64)
    mask = np.concatenate(mask_parts) if mask_parts else np.zeros(0, dtype=bool)
    selected = np.flatnonzero(mask)
    if where.sort != "input" and len(selected):
        ranks = facts.rank[numbers[selected]].astype(np.int16)
        order = np.argsort(ranks if where.sort != "risk-asc" else -ranks, kind="stable")
        selected = selected[order]
    chosen = selected[offset : offset + limit]
    lines = _lines_at(session, screening_id, blocks, chosen.tolist(), decisions, kept)
    counts: dict[str, int] = {}
    for d in decisions.values():
        counts[d] = counts.get(d, 0) + 1
    return LinePage(tuple(lines), len(numbers), len(selected), offset, limit, counts)


def _lines_at(
    session: Session,
    screening_id: str,
    blocks: Sequence[Any],
    positions: Sequence[int],
    decisions: Mapping[str, str],
    kept: Mapping[int, Any] | None = None,
) -> list[PagedLine]:
    """The lines at ``positions`` (in that order) as objects, reading only their blocks
    (``kept``: blocks already decoded, by number)."""
    if not positions:
        return []
    by_block: dict[int, list[int]] = {}
    starts = np.array([b.first_position for b in blocks], dtype=np.int64)
    at = np.searchsorted(starts, np.asarray(positions, dtype=np.int64), side="right") - 1
    for p, index in zip(positions, at.tolist(), strict=True):
        by_block.setdefault(index, []).append(p)
    found: dict[int, tuple[DeclarationLine, LineResult]] = {}
    for index, wanted in by_block.items():
        block = blocks[index]
        table = (kept or {}).get(block.block_no)
        if table is None:
            table = block_arrow(block_data(session, screening_id, block.block_no), block.format)
        local = [p - block.first_position for p in wanted]
        part = table.take(pa.array(local, type=pa.int64()))
        columns = _take_columns(part, block.first_position, local)
        templates = _templates(session, screening_id, set(columns["result"]))
        for p, pair in zip(wanted, lines_of(columns, 0, templates), strict=True):
            found[p] = pair
    return [
        PagedLine(p, found[p][0], found[p][1], decisions.get(found[p][1].line_id, ""))
        for p in positions
    ]


def _take_columns(part: Any, first: int, local: Sequence[int]) -> dict[str, list[Any]]:
    """The columns of the lines ``part`` took from a block (at ``local`` positions), their
    row numbers filled in so :func:`lines_of` needs no position."""
    columns = {name: column_values(part, name) for name in COLUMN_TYPES}
    columns["row"] = [
        r if r is not None else first + i + 1 for r, i in zip(columns["row"], local, strict=True)
    ]
    return columns


def _templates(session: Session, screening_id: str, numbers: Iterable[int]) -> dict[int, Any]:
    sr = screening_result.c
    wanted = sorted(set(numbers))
    out = {}
    for start in range(0, len(wanted), 500):
        for r in session.execute(
            select(sr.result_no, sr.result).where(
                sr.screening_id == screening_id, sr.result_no.in_(wanted[start : start + 500])
            )
        ):
            out[r.result_no] = result_template(r.result)
    return out


def lists_in(*, session: Session, screening_id: str) -> list[str]:
    """The list codes a screening's results name (for a filter's choices)."""
    sr = screening_result.c
    codes: set[str] = set()
    for text in session.execute(
        select(sr.result).where(sr.screening_id == screening_id, sr.matched_key != "")
    ).scalars():
        codes.update(json.loads(text).get("lists") or ())
    return sorted(codes)


def match_types_in(*, session: Session, screening_id: str) -> list[str]:
    """The match types a screening's results have (for a filter's choices)."""
    sr = screening_result.c
    found: Collection[str] = (
        session.execute(select(sr.match_type).where(sr.screening_id == screening_id).distinct())
        .scalars()
        .all()
    )
    return sorted(m for m in found if m)
