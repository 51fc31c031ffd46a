"""Review decisions on flagged lines: the API (``POST .../lines/{line_id}/decision``, and a
line's history) and the results page's form, which posts to the page twin of the same call.

Officers and admins record decisions (an operator's key is refused with 403); a key records
one only on a screening it may read (404 otherwise, as for reading it). The store checks the
rest (:func:`~precursorwatch.store.decisions.record_decision`): an unknown line is 404, a
line that was not flagged, or a screening not complete, a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.store.decisions import LineDecision
from precursorwatch.web import pages, review
from precursorwatch.web.deps import KeyDep, OfficerKey, StateDep, role_message
from precursorwatch.web.errors import status_of
from precursorwatch.web.routes_screen import authorised
from precursorwatch.web.schemas import DecisionIn, LineDecisionOut
from precursorwatch.web.visibility import TRUSTED_ROLES

router = APIRouter()

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    403: {"description": "The key's role may not record decisions (operators)."},
    404: {"description": "No such screening for this key, or no such line in it."},
    422: {
        "description": "Invalid decision or comment, a line that was not flagged, or a "
        "screening not complete; the message names the field."
    },
}


def _out(item: LineDecision) -> LineDecisionOut:
    return LineDecisionOut(
        screening_id=item.screening_id,
        line_id=item.line_id,
        decision=item.decision,
        comment=item.comment,
        actor=item.actor,
        at=item.at,
    )


@router.post(
    "/v1/screenings/{screening_id}/lines/{line_id:path}/decision",
    status_code=201,
    response_model=LineDecisionOut,
    responses=_ERRORS,
    tags=["review"],
)
async def record_decision(
    screening_id: str, line_id: str, body: DecisionIn, state: StateDep, key: OfficerKey
) -> LineDecisionOut:
    """Record a decision on a flagged line: cleared, inspect, detained or referred, with a
    comment. The newest decision is the line's; every one stays in its history and in the
    audit trail ("line.decision")."""
    await authorised(state, key, screening_id)
    item = await anyio.to_thread.run_sync(
        review.decide, state, key, screening_id, line_id, body.decision, body.comment
    )
    return _out(item)


@router.get(
    "/v1/screenings/{screening_id}/lines/{line_id:path}/decisions",
    response_model=list[LineDecisionOut],
    responses={k: v for k, v in _ERRORS.items() if k in (401, 404)},
    tags=["review"],
)
async def line_decisions(
    screening_id: str, line_id: str, state: StateDep, key: KeyDep
) -> list[LineDecisionOut]:
    """Every decision recorded on a line, oldest first (empty when none)."""
    await authorised(state, key, screening_id)
    found = await anyio.to_thread.run_sync(review.history, state, screening_id, line_id)
    return [_out(item) for item in found]


@router.post("/screenings/{screening_id}/lines/{line_id:path}/decision", include_in_schema=False)
async def decide_on_page(
    request: Request,
    state: StateDep,
    screening_id: str,
    line_id: str,
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """The results page's decision form: record it, then back to the page (its filter kept,
    at the line)."""
    visitor = await pages.form_visitor(request, state, csrf)
    if isinstance(visitor, Response):
        return visitor
    if visitor.key.role not in TRUSTED_ROLES:
        message = role_message(("officer", "admin"), visitor.key.role)
        return pages._error(request, visitor, 403, message)
    try:
        await authorised(state, visitor.key, screening_id)
        await anyio.to_thread.run_sync(
            review.decide, state, visitor.key, screening_id, line_id, decision, comment
        )
    except PrecursorWatchError as exc:
        status, _ = status_of(exc)
        return pages._error(request, visitor, status, str(exc))
    query = back if back.startswith("?") and len(back) < 500 else ""
    target = f"/screenings/{quote(screening_id)}{query}#line-{quote(line_id)}"
    return RedirectResponse(target, status_code=303)
