"""The results page of a screening, a page of lines at a time (server-side): the filter form's
choices and values, the page's rows (with pictures of structure hits) and the paging links.

The page reads only its own lines (:func:`precursorwatch.store.finder.line_page`), so a
100,000-line screening's page costs about what a 100-line one does; the reports hold all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from precursorwatch.errors import InputError
from precursorwatch.models import MATCH_TYPES, RISKS
from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.report.html import Row
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.store.finder import DECISION_FILTERS, LineFilter, LinePage
from precursorwatch.web import review
from precursorwatch.web.depict import Budget, hit_svg
from precursorwatch.web.line_pages import LineQuery, filter_list_codes, line_filter, read_page
from precursorwatch.web.report_html import MAX_DEPICTIONS
from precursorwatch.web.state import AppState

#: Over this many lines, a screening's cross-line alerts (which read every line) are shown
#: on a page of their own, so its results page answers at once.
INLINE_ALERTS_LINES = 20_000
#: Lines a page shows: the default and the choices.
PAGE_SIZES: tuple[int, ...] = (50, 100, 250, 500)
DEFAULT_SIZE = 100
#: The sort choices, as an officer reads them.
SORT_LABELS: dict[str, str] = {
    "risk": "highest risk first",
    "risk-asc": "lowest risk first",
    "input": "file order",
}
DECISION_LABELS: dict[str, str] = {
    "open": "open (flagged, not decided)",
    "undecided": "no decision",
    "cleared": "cleared",
    "inspect": "inspect",
    "detained": "detained",
    "referred": "referred",
}
#: The filter parameters the form sends and the links keep.
_FILTERS = ("risk", "match_type", "list", "decision", "sort", "limit")


@dataclass(frozen=True)
class ResultsView:
    """What the results page shows of a screening's lines."""

    rows: list[Row]
    page: LinePage | None
    chosen: dict[str, str]
    choices: dict[str, Sequence[tuple[str, str]]]
    links: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def shown(self) -> str:
        """'Lines 1–100 of 2,345 matching (100,000 in all)' or a sentence when none."""
        p = self.page
        if p is None or not p.lines:
            if p is not None and p.matched:
                return f"No more lines: {p.matched:,} in all."
            return "No line matches these filters." if p is not None and p.total else ""
        first, last = p.offset + 1, p.offset + len(p.lines)
        matching = f"{p.matched:,}" + (" matching" if p.matched != p.total else "")
        every = f" ({p.total:,} in all)" if p.matched != p.total else ""
        return f"Lines {first:,}–{last:,} of {matching}{every}."


def deferred_alerts(summary: ScreeningSummary) -> bool:
    """True when the screening's alerts go on their own page (over
    :data:`INLINE_ALERTS_LINES` lines)."""
    return summary.lines > INLINE_ALERTS_LINES


def _one(params: Mapping[str, str], name: str) -> str:
    return (params.get(name) or "").strip()


def _number(params: Mapping[str, str], name: str, default: int, top: int) -> int:
    text = _one(params, name)
    if not text:
        return default
    if not text.isdigit():
        raise InputError(f"{name}: {text[:20]!r} is not a whole number")
    return min(int(text), top)


def results_view(
    state: AppState, key: ApiKeyInfo, summary: ScreeningSummary, params: Mapping[str, str]
) -> ResultsView:
    """The rows and controls of one page of a screening's results for the query ``params``
    (offset, limit, risk, match_type, list, decision, sort). A value the page does not know
    is not an error page: the unfiltered first page is shown with a message naming it."""
    chosen = {name: _one(params, name) for name in _FILTERS}
    message = ""
    codes = filter_list_codes(state, key, summary)
    try:
        size = _number(params, "limit", DEFAULT_SIZE, max(PAGE_SIZES))
        offset = _number(params, "offset", 0, 10**9)
        q = LineQuery(
            offset=offset,
            limit=size,
            risk=_listed(chosen["risk"]),
            match_type=_listed(chosen["match_type"]),
            lists=_listed(chosen["list"]),
            decision=_listed(chosen["decision"]),
            sort=chosen["sort"] or "risk",
        )
        where = line_filter(state, key, summary, q, "risk", codes)
    except InputError as exc:
        message = f"{exc} — showing every line instead."
        chosen = dict.fromkeys(_FILTERS, "")
        size, offset, where = DEFAULT_SIZE, 0, LineFilter()
    page, results = read_page(state, key, summary, where, offset, max(size, 1))
    rows = review.with_decisions(state, summary.screening_id, _rows(state, page, results))
    chosen["limit"] = str(size)
    chosen["sort"] = where.sort
    return ResultsView(
        rows=rows,
        page=page,
        chosen=chosen,
        choices=_choices(codes),
        links=_links(summary.screening_id, chosen, page),
        message=message,
    )


def _listed(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _rows(state: AppState, page: LinePage, results: Sequence[Any]) -> list[Row]:
    """The page's rows, with pictures of structure hits within the time budget."""
    budget = Budget()
    substances = state.screener().watchlist.substances
    rows, drawn = [], 0
    for p, r in zip(page.lines, results, strict=True):
        svg = ""
        if drawn < MAX_DEPICTIONS and r.match_type in STRUCTURE_TYPES and r.matched_key:
            svg, drawn = hit_svg(p.line, r, substances, budget), drawn + 1
        rows.append(Row(p.line, r, svg))
    return rows


def _choices(codes: Sequence[str]) -> dict[str, Sequence[tuple[str, str]]]:
    return {
        "risk": [(r, r) for r in RISKS],
        "match_type": [(m, m) for m in MATCH_TYPES],
        "list": [(c, c) for c in codes],
        "decision": [(d, DECISION_LABELS.get(d, d)) for d in ("open", *DECISION_FILTERS[:-1])],
        "sort": list(SORT_LABELS.items()),
        "limit": [(str(n), str(n)) for n in PAGE_SIZES],
    }


def _links(screening_id: str, chosen: Mapping[str, str], page: LinePage) -> dict[str, str]:
    """First, previous, next and last page links keeping the filters ('' when none)."""
    base = f"/screenings/{screening_id}"
    kept = {k: v for k, v in chosen.items() if v and not (k == "sort" and v == "risk")}
    if kept.get("limit") == str(DEFAULT_SIZE):
        kept.pop("limit")
    size = max(page.limit, 1)

    def at(offset: int) -> str:
        query = urlencode({**kept, **({"offset": str(offset)} if offset else {})})
        return f"{base}?{query}" if query else base

    links = {}
    if page.offset > 0:
        links["first"] = at(0)
        links["previous"] = at(max(0, page.offset - size))
    if page.next_offset is not None:
        links["next"] = at(page.next_offset)
        links["last"] = at(((page.matched - 1) // size) * size)
    return links
