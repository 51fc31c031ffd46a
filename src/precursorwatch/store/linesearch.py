"""Search screened lines across screenings: by matched substance, consignee and day, newest
screening first, bounded, the same file screened twice shown once.

The substance side uses the ``screening_result.matched_key`` index: only screenings with a
result of those substances are opened, and in them only the lines of those results. The
consignee side is a case-insensitive part of the consignee as declared, tested once per
distinct spelling of a block (Arrow), not per line. A screening whose input hash was
already met (a newer screening of the same file) is not read again: its lines are the same;
each line found says how many screenings of its file matched (``times``).

The search stops after ``limit`` lines (it says whether more match) and after
``max_screenings`` screenings read (it says so), so a broad search answers in bounded time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.store.blocks import block_arrow, lines_of
from precursorwatch.store.finder import (
    MAX_SCREENINGS_PAGE,
    ListedScreening,
    _take_columns,
    _templates,
    day_end,
    day_start,
    find_screenings,
)
from precursorwatch.store.screenings import block_data, block_rows
from precursorwatch.store.tables import screening, screening_owner, screening_result

#: Bounds of a search: lines returned, screenings read.
MAX_FOUND = 1_000
MAX_SCREENINGS_READ = 500


@dataclass(frozen=True, slots=True)
class FoundLine:
    """A screened line a search found, with its screening's record and how many screenings
    of the same file (input hash) matched the search."""

    screening_id: str
    created_at: datetime
    actor: str
    input_name: str
    line: DeclarationLine
    result: LineResult
    times: int = 1


@dataclass(frozen=True, slots=True)
class LineSearch:
    """What :func:`search_lines` found: the lines, whether more match than were returned,
    and whether it stopped before reading every screening the filters keep."""

    lines: tuple[FoundLine, ...]
    more: bool
    screenings_read: int
    stopped_early: bool


@dataclass(frozen=True, slots=True)
class _Candidate:
    screening_id: str
    created_at: datetime
    actor: str
    input_name: str
    input_hash: str


def _candidates(
    session: Session,
    ids: Collection[str] | None,
    since: date | None,
    until: date | None,
    owner_key_id: str | None,
) -> list[_Candidate]:
    s = screening.c
    stmt = select(s.id, s.created_at, s.actor, s.input_name, s.input_hash).where(
        s.complete.is_(True), s.pruned_at.is_(None)
    )
    if since is not None:
        stmt = stmt.where(s.created_at >= day_start(since))
    if until is not None:
        stmt = stmt.where(s.created_at < day_end(until))
    if owner_key_id is not None:
        stmt = stmt.join(screening_owner, screening_owner.c.screening_id == s.id).where(
            screening_owner.c.key_id == owner_key_id
        )
    found = []
    wanted = None if ids is None else set(ids)
    for r in session.execute(stmt.order_by(s.created_at.desc(), s.id)):
        if wanted is None or r.id in wanted:
            found.append(_Candidate(r.id, r.created_at, r.actor, r.input_name, r.input_hash))
    return found


def _results_of(session: Session, keys: Collection[str]) -> dict[str, set[int]]:
    """Screening id -> the numbers of its results that matched one of ``keys`` (index)."""
    sr = screening_result.c
    out: dict[str, set[int]] = {}
    for r in session.execute(
        select(sr.screening_id, sr.result_no).where(sr.matched_key.in_(list(keys)))
    ):
        out.setdefault(r.screening_id, set()).add(r.result_no)
    return out


def _consignee_mask(table: Any, part: str) -> Any:
    """Lines of a block whose consignee holds ``part`` (case-insensitive)."""
    if "consignee" not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    column = table.column("consignee")
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    spellings = [s for s in pc.unique(column).to_pylist() if s and part in s.casefold()]
    if not spellings:
        return np.zeros(table.num_rows, dtype=bool)
    hit = pc.is_in(column, value_set=pa.array(spellings, type=column.type))
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _found_in(
    session: Session,
    c: _Candidate,
    numbers: set[int] | None,
    consignee: str,
    room: int,
) -> list[tuple[DeclarationLine, LineResult]]:
    """At most ``room`` lines of one screening that the search keeps, in input order."""
    out: list[tuple[DeclarationLine, LineResult]] = []
    for block in block_rows(session, c.screening_id):
        if len(out) >= room:
            break
        table = block_arrow(block_data(session, c.screening_id, block.block_no), block.format)
        mask = np.ones(table.num_rows, dtype=bool)
        if numbers is not None:
            results = table.column("result").to_numpy()
            mask &= np.isin(results, np.fromiter(numbers, dtype=np.int64))
        if consignee:
            mask &= _consignee_mask(table, consignee)
        local = np.flatnonzero(mask)[: room - len(out)].tolist()
        if not local:
            continue
        part = table.take(pa.array(local, type=pa.int64()))
        columns = _take_columns(part, block.first_position, local)
        templates = _templates(session, c.screening_id, set(columns["result"]))
        out.extend(lines_of(columns, 0, templates))
    return out


def search_lines(
    *,
    session: Session,
    keys: Collection[str] = (),
    consignee: str = "",
    since: date | None = None,
    until: date | None = None,
    owner_key_id: str | None = None,
    limit: int = 100,
    max_screenings: int = MAX_SCREENINGS_READ,
) -> LineSearch:
    """Screened lines whose result matched one of the substances ``keys`` (when given) and
    whose consignee holds ``consignee`` (case-insensitive, when given), in complete
    screenings (lines kept) made from ``since`` to ``until`` (days, UTC, both included) with
    API key ``owner_key_id`` (when given): newest screening first, input order within one;
    at most ``limit`` (:data:`MAX_FOUND`). With neither ``keys`` nor ``consignee`` nothing
    is searched (empty answer): a search needs a substance or a party."""
    part = consignee.strip().casefold()
    wanted_keys = [k for k in keys if k]
    limit = max(0, min(limit, MAX_FOUND))
    if not wanted_keys and not part:
        return LineSearch((), False, 0, False)
    numbers_of = _results_of(session, wanted_keys) if wanted_keys else None
    candidates = _candidates(
        session, None if numbers_of is None else list(numbers_of), since, until, owner_key_id
    )
    times: dict[str, int] = {}
    for c in candidates:
        times[c.input_hash] = times.get(c.input_hash, 0) + 1
    found: list[FoundLine] = []
    seen: set[str] = set()
    read = 0
    stopped = False
    for c in candidates:
        if c.input_hash in seen:
            continue
        if len(found) > limit:
            break
        if read >= max_screenings:
            stopped = True
            break
        seen.add(c.input_hash)
        read += 1
        numbers = None if numbers_of is None else numbers_of[c.screening_id]
        for line, result in _found_in(session, c, numbers, part, limit + 1 - len(found)):
            found.append(
                FoundLine(
                    c.screening_id,
                    c.created_at,
                    c.actor,
                    c.input_name,
                    line,
                    result,
                    times[c.input_hash],
                )
            )
    return LineSearch(tuple(found[:limit]), len(found) > limit, read, stopped)


def screening_files(
    *,
    session: Session,
    since: date | None = None,
    until: date | None = None,
    limit: int = 50,
) -> list[tuple[ListedScreening, int]]:
    """Complete screenings made from ``since`` to ``until`` (days, UTC, both included),
    newest first, each file once: the newest screening of each input hash and how many
    screenings of that file there are in the period; at most ``limit`` files."""
    s = screening.c
    counted = select(s.input_hash, func.count().label("times")).where(s.complete.is_(True))
    if since is not None:
        counted = counted.where(s.created_at >= day_start(since))
    if until is not None:
        counted = counted.where(s.created_at < day_end(until))
    times: dict[str, int] = {
        h: int(n) for h, n in session.execute(counted.group_by(s.input_hash)).tuples()
    }
    out: list[tuple[ListedScreening, int]] = []
    seen: set[str] = set()
    offset = 0
    while len(out) < limit:
        page = find_screenings(
            session=session, since=since, until=until, offset=offset, limit=MAX_SCREENINGS_PAGE
        )
        for item in page.items:
            if item.summary.input_hash not in seen and len(out) < limit:
                seen.add(item.summary.input_hash)
                out.append((item, int(times.get(item.summary.input_hash, 1))))
        if page.next_offset is None:
            break
        offset = page.next_offset
    return out
