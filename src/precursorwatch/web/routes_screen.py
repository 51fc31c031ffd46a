"""Screening routes: screen a JSON batch, upload a manifest, read a screening and its reports.

Screenings are read a batch of lines at a time and their reports streamed; every report
download is audited. The XLSX report is written to a temporary file first (a zip needs its
end before it is sent) and stops as soon as the client leaves or the server stops.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.web import work
from precursorwatch.web.deps import KeyDep, ScreeningKey, StateDep
from precursorwatch.web.errors import error_response
from precursorwatch.web.report_html import render_report
from precursorwatch.web.schemas import (
    ScreeningDetail,
    ScreenRequest,
    ScreenResponse,
    Summary,
    UploadResponse,
)
from precursorwatch.web.state import AppState

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
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/screen", response_model=ScreenResponse, responses=_ERRORS)
async def screen_batch(body: ScreenRequest, state: StateDep, key: ScreeningKey) -> ScreenResponse:
    """Screen a batch of declaration lines (at most 10,000) and store the screening.

    Every line needs one of description, cas, smiles or hs_code. The answer has one verdict
    per line, in input order, with the evidence behind it.
    """
    records = [line.model_dump() for line in body.lines]
    work.check_lines(records, state.settings.max_lines_per_request)
    screening_id, results = await work.screen_records(state, key, records)
    visible = await anyio.to_thread.run_sync(work.visible_for, state, key, results)
    return ScreenResponse.model_validate(
        {"screening_id": screening_id, "lines": work.lines_json(visible)}
    )


@router.post("/screenings", status_code=201, response_model=UploadResponse, responses=_ERRORS)
async def upload_manifest(
    file: Annotated[UploadFile, File(description="A manifest: .csv, .tsv or .xlsx.")],
    state: StateDep,
    key: ScreeningKey,
) -> UploadResponse:
    """Upload a manifest; it is screened and stored as `precursorwatch screen` would.

    Returns the screening's id and its counts; fetch the lines or a report with it.
    """
    summary = await work.screen_upload(state, key, file.file, file.filename or "")
    return UploadResponse(
        screening_id=summary.screening_id,
        summary=Summary(
            lines=summary.lines, flagged=summary.flagged, by_risk=dict(summary.by_risk)
        ),
    )


async def authorised(state: AppState, key: ApiKeyInfo, screening_id: str) -> ScreeningSummary:
    """The screening's record if ``key`` may read it (QueryError 404 otherwise)."""
    return await anyio.to_thread.run_sync(work.screening_for, state, key, screening_id)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


async def _downloaded(
    state: AppState, key: ApiKeyInfo, summary: ScreeningSummary, fmt: str
) -> None:
    await anyio.to_thread.run_sync(
        work.audit,
        state,
        key,
        "report.downloaded",
        {"screening_id": summary.screening_id, "format": fmt, "lines": summary.lines},
    )


@router.get("/screenings/{screening_id}", response_model=ScreeningDetail, responses=_READ_ERRORS)
async def get_screening(screening_id: str, state: StateDep, key: KeyDep) -> Response:
    """A stored screening: every line's verdict in input order, and its record."""
    summary = await authorised(state, key, screening_id)
    await anyio.to_thread.run_sync(work.audit_confidential_screening, state, key, summary)
    return StreamingResponse(work.detail_chunks(state, key, summary), media_type="application/json")


@router.get(
    "/screenings/{screening_id}/report.csv",
    response_class=Response,
    responses={
        **_READ_ERRORS,
        200: {"content": {"text/csv": {}}, "description": "The CSV report."},
    },
)
async def report_csv(screening_id: str, state: StateDep, key: KeyDep) -> Response:
    """The CSV report, byte for byte what `precursorwatch screen FILE -o out.csv` writes."""
    return await csv_response(state, key, screening_id)


async def csv_response(state: AppState, key: ApiKeyInfo, screening_id: str) -> Response:
    """The CSV report, streamed (the API's and the pages')."""
    summary = await authorised(state, key, screening_id)
    await _downloaded(state, key, summary, "csv")
    return StreamingResponse(
        work.csv_chunks(state, key, screening_id),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(work.download_name(summary, "csv")),
    )


@router.get(
    "/screenings/{screening_id}/report.xlsx",
    response_class=Response,
    responses={
        **_READ_ERRORS,
        200: {"content": {XLSX_TYPE: {}}, "description": "The XLSX report."},
    },
)
async def report_xlsx(
    screening_id: str, request: Request, state: StateDep, key: KeyDep
) -> Response:
    """The XLSX report: one sheet, risk colours, formula-injection safe."""
    return await xlsx_response(request, state, key, screening_id)


async def xlsx_response(
    request: Request, state: AppState, key: ApiKeyInfo, screening_id: str
) -> Response:
    """The XLSX report, written while the client waits; abandoned when it leaves."""
    summary = await authorised(state, key, screening_id)
    tmp = Path(tempfile.mkdtemp(prefix="precursorwatch-report-"))
    target = tmp / "report.xlsx"
    stop = threading.Event()
    job = asyncio.ensure_future(
        anyio.to_thread.run_sync(work.write_xlsx_report, state, key, screening_id, target, stop)
    )
    try:
        while not job.done():
            await asyncio.wait({job}, timeout=0.25)
            if not job.done() and await request.is_disconnected():
                stop.set()
        job.result()  # raises what the writer raised (Cancelled when the client left)
    except work.Cancelled:
        _remove(tmp)
        return error_response(503, "the report was abandoned before it was finished")
    except BaseException:
        stop.set()  # the server is stopping (or the writer failed): it stops at its next batch
        await asyncio.wait({job})
        _remove(tmp)
        raise
    await _downloaded(state, key, summary, "xlsx")
    return _file_response(target, tmp, summary)


def _file_response(target: Path, tmp: Path, summary: ScreeningSummary) -> Response:
    from starlette.responses import FileResponse

    return FileResponse(
        target,
        media_type=XLSX_TYPE,
        headers=_attachment(work.download_name(summary, "xlsx")),
        background=BackgroundTask(_remove, tmp),
    )


def _remove(tmp: Path) -> None:
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


@router.get(
    "/screenings/{screening_id}/report.html",
    response_class=HTMLResponse,
    responses={**_READ_ERRORS, 200: {"content": {"text/html": {}}, "description": "HTML report."}},
)
async def report_html(screening_id: str, state: StateDep, key: KeyDep) -> HTMLResponse:
    """A standalone HTML report: flagged lines first, with depictions of structure hits."""
    return await html_response(state, key, screening_id)


async def html_response(state: AppState, key: ApiKeyInfo, screening_id: str) -> HTMLResponse:
    """The standalone HTML report (the API's and the pages')."""
    summary = await authorised(state, key, screening_id)
    text = await anyio.to_thread.run_sync(render_report, state, key, summary)
    await _downloaded(state, key, summary, "html")
    return HTMLResponse(text, headers=_attachment(work.download_name(summary, "html")))
