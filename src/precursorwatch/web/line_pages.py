"""A stored screening's lines a page at a time, filtered and sorted, for the API and the
results page (issue 21, "large results workable").

``GET /v1/screenings/{id}`` keeps its answer for a screening of at most :data:`FULL_LINES`
lines asked without paging: every line, in input order (the answer ``POST /v1/screen``
gives, which tests and clients compare). Paged (``offset``, ``limit``, a filter or a sort
given, or a screening over :data:`FULL_LINES` lines), it answers at most ``limit`` lines
(default and bound :data:`API_LIMIT`) in the same shape, in input order unless ``sort`` says
otherwise, with a ``page`` object: ``offset``, ``limit``, ``total`` (lines of the
screening), ``matched`` (lines the filters keep) and ``next_offset`` (null on the last page).

The results page shows :data:`PAGE_LIMIT` lines by default, flagged lines first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from precursorwatch.errors import InputError
from precursorwatch.models import MATCH_TYPES, RISKS, LineResult
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.store.finder import (
    DECISION_FILTERS,
    MAX_LINES_PAGE,
    SORTS,
    LineFilter,
    LinePage,
    line_page,
    lists_in,
)
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

#: A screening of at most this many lines, asked without paging, answers every line (the
#: most ``POST /v1/screen`` answers at once).
FULL_LINES = 10_000
#: Lines of an API page by default and at most; lines of a results page by default.
API_LIMIT = MAX_LINES_PAGE
PAGE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class LineQuery:
    """What a reader asked of a screening's lines (all optional)."""

    offset: int | None = None
    limit: int | None = None
    risk: tuple[str, ...] = ()
    match_type: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    decision: tuple[str, ...] = ()
    sort: str | None = None

    @property
    def paged(self) -> bool:
        """True when something was asked beyond 'the screening'."""
        return (
            self.offset is not None
            or self.limit is not None
            or self.sort is not None
            or bool(self.risk or self.match_type or self.lists or self.decision)
        )


def _split(values: Sequence[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated values, trimmed, without blanks and repeats."""
    out: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            if part.strip():
                out[part.strip()] = None
    return tuple(out)


_COMMA = "; several as a comma-separated list or the parameter repeated"


def line_query(
    offset: Annotated[int | None, Query(ge=0, description="Lines to skip (paging).")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=API_LIMIT, description=f"Lines to answer, at most {API_LIMIT}.")
    ] = None,
    risk: Annotated[
        list[str] | None,
        Query(description="Only lines of these risks: high, medium, low, none" + _COMMA),
    ] = None,
    match_type: Annotated[
        list[str] | None, Query(description="Only lines of these match types" + _COMMA)
    ] = None,
    list_code: Annotated[
        list[str] | None,
        Query(alias="list", description="Only lines matched to an entry of these lists" + _COMMA),
    ] = None,
    decision: Annotated[
        list[str] | None,
        Query(
            description="Only lines with this decision (cleared, inspect, detained, referred), "
            "without one (undecided), or flagged without one (open)" + _COMMA
        ),
    ] = None,
    sort: Annotated[
        str | None,
        Query(description="input (the API's default), risk (most severe first) or risk-asc."),
    ] = None,
) -> LineQuery:
    """The paging, filter and sort parameters of a screening's lines."""
    return LineQuery(
        offset, limit, _split(risk), _split(match_type), _split(list_code), _split(decision), sort
    )


LineQueryDep = Annotated[LineQuery, Depends(line_query)]


def _check(name: str, given: Sequence[str], allowed: Sequence[str]) -> frozenset[str]:
    unknown = [v for v in given if v not in allowed]
    if unknown:
        raise InputError(
            f"{name}: {unknown[0][:40]!r} is not one of {', '.join(allowed)}: give one of them"
        )
    return frozenset(given)


def line_filter(
    state: AppState,
    key: ApiKeyInfo,
    summary: ScreeningSummary,
    q: LineQuery,
    default_sort: str,
    codes: Sequence[str] | None = None,
) -> LineFilter:
    """The store's filter for ``q``; InputError (422) naming the parameter when a value is
    not known. An operator may filter by public lists only (a confidential code is as
    unknown as a made-up one, so a filter cannot tell which lines are on it). ``codes``: the
    codes :func:`filter_list_codes` gives, when the caller has them already."""
    sort = q.sort or default_sort
    _check("sort", [sort], SORTS)
    if codes is None:
        codes = filter_list_codes(state, key, summary)
    return LineFilter(
        risks=_check("risk", q.risk, RISKS),
        match_types=_check("match_type", q.match_type, MATCH_TYPES),
        lists=_check("list", q.lists, codes),
        decisions=_check("decision", q.decision, DECISION_FILTERS),
        sort=sort,
    )


def filter_list_codes(state: AppState, key: ApiKeyInfo, summary: ScreeningSummary) -> list[str]:
    """The list codes ``key`` may filter a screening's lines by."""
    codes = set(state.screener().watchlist.lists)
    with state.store.session(write=False) as session:
        codes.update(lists_in(session=session, screening_id=summary.screening_id))
    if not sees_confidential(key.role):
        codes -= state.visibility().confidential
    return sorted(codes)


def read_page(
    state: AppState,
    key: ApiKeyInfo,
    summary: ScreeningSummary,
    where: LineFilter,
    offset: int,
    limit: int,
) -> tuple[LinePage, list[LineResult]]:
    """One page of a screening's lines and their results as ``key``'s role may see them
    (call :func:`~precursorwatch.web.work.screening_for` first)."""
    with state.store.session(write=False) as session:
        page = line_page(
            session=session,
            screening_id=summary.screening_id,
            offset=offset,
            limit=limit,
            where=where,
        )
    results = [p.result for p in page.lines]
    if not sees_confidential(key.role):
        results = state.visibility().results(results)
    return page, results


def page_json(page: LinePage) -> dict[str, Any]:
    """The ``page`` object of a paged answer."""
    return {
        "offset": page.offset,
        "limit": page.limit,
        "total": page.total,
        "matched": page.matched,
        "next_offset": page.next_offset,
    }


def api_page(
    state: AppState, key: ApiKeyInfo, summary: ScreeningSummary, q: LineQuery
) -> tuple[list[LineResult], Mapping[str, Any]] | None:
    """The page ``GET /v1/screenings/{id}`` answers for ``q``; None when it answers every
    line (a screening of at most :data:`FULL_LINES` lines asked without paging)."""
    if not q.paged and summary.lines <= FULL_LINES:
        return None
    where = line_filter(state, key, summary, q, "input")
    limit = q.limit if q.limit is not None else API_LIMIT
    page, results = read_page(state, key, summary, where, q.offset or 0, limit)
    return results, page_json(page)
