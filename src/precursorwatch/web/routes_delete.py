"""``DELETE /v1/screenings/{id}``: an officer or admin removes a screening for good.

Its lines, results, decisions and owner go; the audit trail stays, with an event
"screening.deleted" naming who deleted it. Operators may not delete (403), whoever made the
screening; an unknown id is 404, and so is a second delete.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Response

from precursorwatch.store import ApiKeyInfo
from precursorwatch.store.audit import acting_as
from precursorwatch.store.deletion import delete_screening
from precursorwatch.web.deps import OfficerKey, StateDep
from precursorwatch.web.state import AppState

router = APIRouter(prefix="/v1", tags=["screening"])


@router.delete(
    "/screenings/{screening_id}",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Deleted: the screening, its lines and decisions are gone."},
        401: {"description": "Missing, unknown or revoked API key."},
        403: {"description": "Only officer and admin keys may delete screenings."},
        404: {"description": "No screening with this id."},
    },
)
async def remove_screening(screening_id: str, state: StateDep, key: OfficerKey) -> Response:
    """Delete a stored screening with its lines, results and decisions (audited)."""
    await anyio.to_thread.run_sync(_delete, state, key, screening_id)
    return Response(status_code=204)


def _delete(state: AppState, key: ApiKeyInfo, screening_id: str) -> None:
    """Raises QueryError (404) when no complete screening has this id."""
    with acting_as(key.key_id, key.name), state.store.session() as session:
        delete_screening(
            session=session, screening_id=screening_id, actor=key.name, actor_key_id=key.key_id
        )
