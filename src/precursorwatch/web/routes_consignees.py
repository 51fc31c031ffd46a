"""Consignee routes: a party's history (shipments, yearly totals per substance, alerts) in the
API (``GET /v1/consignees/{name}``) and as a page (``/consignees/{name}``).

The name may be any spelling: case, punctuation, accents, scripts and legal forms are folded
(:func:`~precursorwatch.intel.consignee.fold_name`), and the answer says how.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from precursorwatch.errors import InputError, PrecursorWatchError
from precursorwatch.web import work
from precursorwatch.web.consignees import ConsigneeOut, consignee_for
from precursorwatch.web.deps import KeyDep, StateDep
from precursorwatch.web.errors import status_of
from precursorwatch.web.pages import _error, _page, _to_signin, _visitor

router = APIRouter(tags=["consignees"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    404: {"description": "No stored shipment to this party that the key may read."},
    422: {"description": "A blank name or an invalid date."},
}


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"since={text[:40]!r} is not a date: give it as YYYY-MM-DD") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _history(state: StateDep, key: KeyDep, name: str, since: str | None) -> ConsigneeOut:
    found = consignee_for(state, key, name, _since(since))
    work.audit(state, key, "consignee.read", {"name": name[:200], "party": found.party})
    return found


@router.get("/v1/consignees/{name:path}", response_model=ConsigneeOut, responses=_ERRORS)
def get_consignee(
    name: str,
    state: StateDep,
    key: KeyDep,
    since: Annotated[
        str | None, Query(description="Only screenings from this day on (YYYY-MM-DD).")
    ] = None,
) -> ConsigneeOut:
    """A party's history: its stored shipments (oldest first), what it received of each
    substance per calendar year, and the cross-line alerts of the window ending today.

    Any spelling finds the party: case, punctuation, accents, scripts and legal forms are
    folded (`folded`, `folded_as` say how). Operators see only their own screenings, and no
    alert that rests on a confidential list.
    """
    return _history(state, key, name, since)


@router.get("/consignees", include_in_schema=False)
def consignee_search(request: Request, state: StateDep, name: str = "") -> Response:
    """The look-up form's target: to the party's page."""
    if _visitor(request, state) is None:
        return _to_signin()
    return RedirectResponse(f"/consignees/{quote(name.strip(), safe='')}", status_code=303)


@router.get("/consignees/{name:path}", include_in_schema=False)
def consignee_page(request: Request, state: StateDep, name: str) -> Response:
    """A party's history: alerts first, then yearly totals and every shipment."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    try:
        history = _history(state, visitor.key, name, None)
    except PrecursorWatchError as exc:
        status, _ = status_of(exc)
        return _error(request, visitor, status, str(exc))
    return _page(request, "consignee.html", {"visitor": visitor, "h": history})
