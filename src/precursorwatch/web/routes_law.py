"""What changed in the lists, by act and day (``GET /v1/lists/changes``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from precursorwatch.errors import InputError
from precursorwatch.lists.changes import list_changes
from precursorwatch.lists.dates import parse_day
from precursorwatch.web.deps import KeyDep, StateDep
from precursorwatch.web.visibility import sees_confidential

router = APIRouter(prefix="/v1", tags=["lists"])


class ListChangeOut(BaseModel):
    """One change of one list on one day."""

    day: str
    kind: str
    list_code: str
    substance_key: str
    substance_name: str
    act: str
    category: str
    summary: str
    in_force: bool


class ListChangesOut(BaseModel):
    """The changes asked for, oldest first."""

    since: str
    changes: list[ListChangeOut]


@router.get(
    "/lists/changes",
    response_model=ListChangesOut,
    responses={
        401: {"description": "Missing, unknown or revoked API key."},
        422: {"description": "`since` is not a YYYY-MM-DD day."},
    },
)
def get_list_changes(
    state: StateDep,
    key: KeyDep,
    since: Annotated[str | None, Query(description="Only changes on or after this day.")] = None,
    list_code: Annotated[
        str | None, Query(alias="list", description="Only this list, e.g. EU-CAT1.")
    ] = None,
) -> ListChangesOut:
    """Additions, removals and threshold changes of the current lists, each with its act and
    day, from the bundled data; a change dated after today is published but not yet in force.
    Confidential lists are left out for roles that may not see them."""
    start = None
    if since is not None:
        start = parse_day(since.strip())
        if start is None:
            raise InputError(f"since={since!r} is not a date: write it as YYYY-MM-DD")
    watchlist = state.screener().watchlist
    code = list_code.upper() if list_code else None
    today = date.today()
    changes = [
        ListChangeOut(
            day=c.day.isoformat(),
            kind=c.kind,
            list_code=c.list_code,
            substance_key=c.substance_key,
            substance_name=c.substance_name,
            act=c.act,
            category=c.category,
            summary=c.summary,
            in_force=c.day <= today,
        )
        for c in list_changes(watchlist, since=start, list_code=code)
        if sees_confidential(key.role) or not watchlist.lists[c.list_code].confidential
    ]
    return ListChangesOut(since=start.isoformat() if start else "", changes=changes)
