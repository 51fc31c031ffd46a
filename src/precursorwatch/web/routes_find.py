"""Finding screenings again: ``GET /v1/screenings``, a page at a time, newest first.

Operators see only the screenings of their own key (``screening_owner``), officers and
admins every screening. The list carries no list versions (confidential list codes stay out
of an operator's answer as everywhere else).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query

from precursorwatch.store import ApiKeyInfo
from precursorwatch.store.finder import MAX_SCREENINGS_PAGE, ScreeningPage, find_screenings
from precursorwatch.web.deps import KeyDep, StateDep
from precursorwatch.web.schemas_find import ScreeningList, ScreeningListItem
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

router = APIRouter(prefix="/v1", tags=["screening"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    422: {"description": "Invalid parameter; the message names it."},
}


def screenings_for(
    state: AppState,
    key: ApiKeyInfo,
    *,
    since: date | None = None,
    until: date | None = None,
    actor: str = "",
    file: str = "",
    open_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> ScreeningPage:
    """A page of the screenings ``key`` may read (operators: their key's own), newest first."""
    owner = None if sees_confidential(key.role) else key.key_id
    with state.store.session(write=False) as session:
        return find_screenings(
            session=session, since=since, until=until, actor=actor, file=file,
            open_only=open_only, owner_key_id=owner, offset=offset, limit=limit,
        )  # fmt: skip


def list_json(page: ScreeningPage) -> ScreeningList:
    """The API's answer for a page of screenings."""
    items = [
        ScreeningListItem(
            screening_id=x.summary.screening_id,
            created_at=x.summary.created_at,
            actor=x.summary.actor,
            input_name=x.summary.input_name,
            as_of=x.as_of,
            lines=x.summary.lines,
            flagged=x.summary.flagged,
            by_risk=dict(x.summary.by_risk),
            decided=x.decided,
            open=x.open,
            pruned=x.summary.pruned_at is not None,
        )
        for x in page.items
    ]
    return ScreeningList(
        screenings=items,
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        next_offset=page.next_offset,
    )


@router.get("/screenings", response_model=ScreeningList, responses=_ERRORS)
async def list_screenings(
    state: StateDep,
    key: KeyDep,
    since: Annotated[date | None, Query(description="Made on or after this day (UTC).")] = None,
    until: Annotated[date | None, Query(description="Made on or before this day (UTC).")] = None,
    actor: Annotated[
        str, Query(max_length=200, description="Part of who screened (any case).")
    ] = "",
    file: Annotated[
        str, Query(max_length=200, description="Part of the file name (any case).")
    ] = "",
    open: Annotated[
        bool, Query(description="Only screenings with flagged lines without a decision.")
    ] = False,
    offset: Annotated[int, Query(ge=0, description="Screenings to skip.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SCREENINGS_PAGE, description="Screenings to answer.")
    ] = 50,
) -> ScreeningList:
    """Stored screenings, newest first, a page at a time (`next_offset` is the next page's
    `offset`, null on the last), with what is still open in each. Filters: the days made
    (`since`, `until`, both included), who screened (`actor`), the file name (`file`), and
    `open=true` for screenings with flagged lines nobody has decided yet. An operator's key
    lists only its own screenings."""
    page = await anyio.to_thread.run_sync(
        lambda: screenings_for(
            state,
            key,
            since=since,
            until=until,
            actor=actor,
            file=file,
            open_only=open,
            offset=offset,
            limit=limit,
        )
    )
    return list_json(page)
