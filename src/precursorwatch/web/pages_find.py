"""The officers' finding pages: past screenings (``/screenings``, paged, with filters) and a
search (``/search``) for substances (name in any language, CAS, key: to the substance page)
and for screened lines (substance, consignee, days).

What a visitor finds is what their key may read: an operator's own screenings only, public
substances only, results redacted as everywhere (:mod:`precursorwatch.web.visibility`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from precursorwatch.errors import InputError, QueryError
from precursorwatch.lists.dates import parse_day
from precursorwatch.models import Substance
from precursorwatch.run.lookup import lookup_substances
from precursorwatch.store.linesearch import LineSearch, search_lines
from precursorwatch.web import work
from precursorwatch.web.consignees import screening_alerts_for
from precursorwatch.web.deps import StateDep
from precursorwatch.web.pages import Visitor, _error, _page, _to_signin, _visitor
from precursorwatch.web.routes_find import screenings_for
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

router = APIRouter(include_in_schema=False)

#: Screenings a list page shows; lines a search shows at most; substances a search lists.
LIST_PAGE = 50
SEARCH_LINES = 200
SEARCH_SUBSTANCES = 20


def _text(params: Mapping[str, str], name: str, size: int = 200) -> str:
    return (params.get(name) or "").strip()[:size]


def _day(params: Mapping[str, str], name: str) -> date | None:
    text = _text(params, name, 20)
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        raise InputError(f"{name}: {text!r} is not a day: give it as YYYY-MM-DD")
    return day


def _offset(params: Mapping[str, str]) -> int:
    text = _text(params, "offset", 12)
    return int(text) if text.isdigit() else 0


@router.get("/screenings")
def screenings_page(request: Request, state: StateDep) -> Response:
    """Past screenings, newest first, a page at a time, with the filters of the API."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    params = request.query_params
    chosen = {k: _text(params, k) for k in ("since", "until", "actor", "file", "open")}
    message = ""
    try:
        since, until = _day(params, "since"), _day(params, "until")
    except InputError as exc:
        message, since, until = f"{exc}; the days are not applied.", None, None
        chosen["since"] = chosen["until"] = ""
    page = screenings_for(
        state, visitor.key, since=since, until=until, actor=chosen["actor"],
        file=chosen["file"], open_only=chosen["open"] == "true", offset=_offset(params),
        limit=LIST_PAGE,
    )  # fmt: skip
    kept = {k: v for k, v in chosen.items() if v}
    links = {}
    if page.offset > 0:
        links["previous"] = _with(kept, max(0, page.offset - LIST_PAGE))
    if page.next_offset is not None:
        links["next"] = _with(kept, page.next_offset)
    return _page(
        request,
        "screenings.html",
        {"visitor": visitor, "page": page, "chosen": chosen, "links": links, "message": message},
    )


def _with(kept: Mapping[str, str], offset: int) -> str:
    query = urlencode({**kept, **({"offset": str(offset)} if offset else {})})
    return f"/screenings?{query}" if query else "/screenings"


def visible_substances(state: AppState, visitor: Visitor, query: str) -> list[Substance]:
    """The substances ``query`` names that the visitor's role may look up."""
    vis = state.visibility()
    with state.store.session(write=False) as session:
        found = lookup_substances(session=session, query=query, limit=SEARCH_SUBSTANCES * 2)
    return [s for s in found if vis.substance_visible(s.key, visitor.key.role)][:SEARCH_SUBSTANCES]


def found_lines(
    state: AppState,
    visitor: Visitor,
    substance: str,
    consignee: str,
    since: date | None,
    until: date | None,
) -> tuple[LineSearch, list[Substance]]:
    """The screened lines the search finds (as the visitor may see them) and the substances
    its ``substance`` text named."""
    keys: list[str] = []
    named: list[Substance] = []
    if substance:
        named = visible_substances(state, visitor, substance)[:5]
        keys = [s.key for s in named]
        if not keys:
            return LineSearch((), False, 0, False), []
    owner = None if sees_confidential(visitor.key.role) else visitor.key.key_id
    with state.store.session(write=False) as session:
        found = search_lines(
            session=session, keys=keys, consignee=consignee, since=since, until=until,
            owner_key_id=owner, limit=SEARCH_LINES,
        )  # fmt: skip
    if owner is not None:
        vis = state.visibility()
        lines = tuple(dataclasses.replace(f, result=vis.result(f.result)) for f in found.lines)
        found = LineSearch(lines, found.more, found.screenings_read, found.stopped_early)
    return found, named


@router.get("/search")
def search_page(request: Request, state: StateDep) -> Response:
    """Find a substance (to its page) or screened lines (by substance, consignee, days)."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    params = request.query_params
    chosen = {k: _text(params, k) for k in ("q", "substance", "consignee", "since", "until")}
    context: dict[str, Any] = {"visitor": visitor, "chosen": chosen, "message": ""}
    if chosen["q"]:
        context["substances"] = visible_substances(state, visitor, chosen["q"])
    if chosen["substance"] or chosen["consignee"]:
        try:
            since, until = _day(params, "since"), _day(params, "until")
        except InputError as exc:
            context["message"] = str(exc)
        else:
            found, named = found_lines(
                state, visitor, chosen["substance"], chosen["consignee"], since, until
            )
            context.update(found=found, named=named)
    elif chosen["since"] or chosen["until"]:
        context["message"] = "Give a substance or a consignee to search screened lines."
    return _page(request, "search.html", context)


@router.get("/screenings/{screening_id}/alerts")
def alerts_page(request: Request, state: StateDep, screening_id: str) -> Response:
    """A big screening's cross-line alerts, on a page of their own (its results page links
    here: reading every line of a large file takes seconds)."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    try:
        summary = work.screening_for(state, visitor.key, screening_id)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    alerts = screening_alerts_for(state, visitor.key, summary)
    return _page(
        request, "screening_alerts.html", {"visitor": visitor, "summary": summary, "alerts": alerts}
    )
