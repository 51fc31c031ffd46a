"""Screening routes: screen a JSON batch, upload a manifest, read a screening and its reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import HTMLResponse, Response

from precursorwatch.web import work
from precursorwatch.web.deps import KeyDep, ScreeningKey, StateDep
from precursorwatch.web.report_html import render_report
from precursorwatch.web.schemas import (
    ScreeningDetail,
    ScreenRequest,
    ScreenResponse,
    Summary,
    UploadResponse,
)

router = APIRouter(prefix="/v1", tags=["screening"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    403: {"description": "The key's role may not do this."},
    413: {"description": "Too many lines or too large a file."},
    422: {"description": "Invalid input; the message names the line and field."},
}
#: Reading a stored screening: an unknown id, or one the key may not see, is 404.
_READ_ERRORS: dict[int | str, dict[str, str]] = {
    401: _ERRORS[401],
    404: {"description": "No screening with this id for this key."},
    422: {"description": "Invalid request."},
}


@router.post("/screen", response_model=ScreenResponse, responses=_ERRORS)
def screen_batch(body: ScreenRequest, state: StateDep, key: ScreeningKey) -> ScreenResponse:
    """Screen a batch of declaration lines (at most 10,000) and store the screening.

    Every line needs one of description, cas, smiles or hs_code. The answer has one verdict
    per line, in input order, with the evidence behind it.
    """
    records = [line.model_dump() for line in body.lines]
    work.check_lines(records, state.settings.max_lines_per_request)
    screening_id, results = work.screen_records(state, records, actor=key.name)
    visible = work.visible_for(state, key, results)
    return ScreenResponse.model_validate(
        {"screening_id": screening_id, "lines": work.lines_json(visible)}
    )


@router.post("/screenings", status_code=201, response_model=UploadResponse, responses=_ERRORS)
def upload_manifest(
    file: Annotated[UploadFile, File(description="A manifest: .csv, .tsv or .xlsx.")],
    state: StateDep,
    key: ScreeningKey,
) -> UploadResponse:
    """Upload a manifest; it is screened and stored as `precursorwatch screen` would.

    Returns the screening's id and its counts; fetch the lines or a report with it.
    """
    summary = work.screen_upload(state, file.file, file.filename or "", actor=key.name)
    return UploadResponse(
        screening_id=summary.screening_id,
        summary=Summary(
            lines=summary.lines, flagged=summary.flagged, by_risk=dict(summary.by_risk)
        ),
    )


@router.get("/screenings/{screening_id}", response_model=ScreeningDetail, responses=_READ_ERRORS)
def get_screening(screening_id: str, state: StateDep, key: KeyDep) -> ScreeningDetail:
    """A stored screening: every line's verdict in input order, and its record."""
    view = work.screening_for(state, key, screening_id)
    s = view.summary
    return ScreeningDetail.model_validate(
        {
            "screening_id": s.screening_id,
            "lines": work.lines_json(view.results),
            "summary": {
                "created_at": s.created_at,
                "actor": s.actor,
                "input_name": s.input_name,
                "input_hash": s.input_hash,
                "list_versions": dict(s.list_versions),
                "lines": s.lines,
                "flagged": s.flagged,
                "by_risk": dict(s.by_risk),
            },
        }
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/screenings/{screening_id}/report.csv",
    response_class=Response,
    responses={
        **_READ_ERRORS,
        200: {"content": {"text/csv": {}}, "description": "The CSV report."},
    },
)
def report_csv(screening_id: str, state: StateDep, key: KeyDep) -> Response:
    """The CSV report, byte for byte what `precursorwatch screen FILE -o out.csv` writes."""
    view = work.screening_for(state, key, screening_id)
    return Response(
        work.report_csv(view).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(work.download_name(view, "csv")),
    )


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/screenings/{screening_id}/report.xlsx",
    response_class=Response,
    responses={**_READ_ERRORS, 200: {"content": {_XLSX: {}}, "description": "The XLSX report."}},
)
def report_xlsx(screening_id: str, state: StateDep, key: KeyDep) -> Response:
    """The XLSX report: one sheet, risk colours, formula-injection safe."""
    view = work.screening_for(state, key, screening_id)
    return Response(
        work.report_xlsx(view),
        media_type=_XLSX,
        headers=_attachment(work.download_name(view, "xlsx")),
    )


@router.get(
    "/screenings/{screening_id}/report.html",
    response_class=HTMLResponse,
    responses={**_READ_ERRORS, 200: {"content": {"text/html": {}}, "description": "HTML report."}},
)
def report_html(screening_id: str, state: StateDep, key: KeyDep) -> HTMLResponse:
    """A standalone HTML report: flagged lines first, with depictions of structure hits."""
    view = work.screening_for(state, key, screening_id)
    return HTMLResponse(
        render_report(state, view, role=key.role),
        headers=_attachment(work.download_name(view, "html")),
    )
