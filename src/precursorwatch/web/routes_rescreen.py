"""Re-screening route: stored declarations screened against the current lists."""

from __future__ import annotations

from fastapi import APIRouter

from precursorwatch.web.deps import OfficerKey, StateDep
from precursorwatch.web.schemas import RescreenLineOut, RescreenRequest, RescreenResponse

router = APIRouter(prefix="/v1", tags=["screening"])


@router.post(
    "/rescreen",
    response_model=RescreenResponse,
    responses={
        401: {"description": "Missing, unknown or revoked API key."},
        403: {"description": "Only officers and admins may re-screen every declaration."},
    },
)
async def post_rescreen(
    body: RescreenRequest, state: StateDep, key: OfficerKey
) -> RescreenResponse:
    """Screen the declarations stored since a date again and list the lines whose risk went
    up: a shipment cleared last month that contains a substance scheduled today."""
    report = await state.lanes.run(
        key.key_id, "rescreen", since=body.since, key_id=key.key_id, key_name=key.name
    )
    return RescreenResponse(
        since=body.since,
        lines_checked=report.lines_checked,
        list_versions=report.list_versions,
        lines=[
            RescreenLineOut(
                screening_id=i.screening_id,
                screened_at=i.screened_at,
                actor=i.actor,
                line_id=i.after.line_id,
                description=i.line.description,
                cas=i.line.cas,
                consignee=i.line.consignee,
                destination=i.line.destination,
                risk_before=i.before.risk,
                risk_after=i.after.risk,
                matched_key=i.after.matched_key,
                matched_name=i.after.matched_name,
                lists=list(i.after.lists),
                match_type=i.after.match_type,
                reason=i.after.reason,
            )
            for i in report.increases
        ],
    )
