"""The pages' side of big uploads (:mod:`precursorwatch.web.jobs`): the status the progress bar
polls (``static/progress.js``, with the page's session cookie, no API key) and the Cancel
button's form post. The screening page itself (:func:`~precursorwatch.web.pages.screening_page`)
shows the bar while the job runs and the results once it is complete.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from precursorwatch.errors import QueryError
from precursorwatch.web import jobs, work
from precursorwatch.web.deps import StateDep
from precursorwatch.web.errors import ApiError
from precursorwatch.web.pages import _error, _visitor, form_visitor
from precursorwatch.web.state import AppState

router = APIRouter(include_in_schema=False)


def _status(state: AppState, visitor_key: Any, screening_id: str) -> dict[str, Any]:
    """The job's status answer, ``{"status": "complete"}`` for a stored screening; raises
    QueryError for an id the visitor cannot read."""
    running = jobs.status_or_none(state, visitor_key, screening_id)
    if running is not None:
        return running
    work.screening_for(state, visitor_key, screening_id)
    return {"screening_id": screening_id, "status": jobs.COMPLETE}


@router.get("/screenings/{screening_id}/status")
def job_status(request: Request, state: StateDep, screening_id: str) -> Response:
    """How far the visitor's screening has got (JSON, for the progress bar)."""
    visitor = _visitor(request, state)
    if visitor is None:
        return JSONResponse({"status": "signed-out"}, status_code=401)
    try:
        return JSONResponse(_status(state, visitor.key, screening_id))
    except QueryError:
        return JSONResponse({"status": "unknown"}, status_code=404)


@router.post("/screenings/{screening_id}/cancel")
async def cancel_job(
    request: Request, state: StateDep, screening_id: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    """The Cancel button: stop the screening, then show its page (which says so)."""
    visitor = await form_visitor(request, state, csrf)
    if isinstance(visitor, Response):
        return visitor
    try:
        await jobs.cancel_for(state, visitor.key, screening_id)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    except ApiError as exc:
        if exc.status != 409:  # 409: it completed first; its page shows the results
            return _error(request, visitor, exc.status, str(exc))
    return RedirectResponse(f"/screenings/{screening_id}", status_code=303)
