"""Screening routes: screen a JSON batch, upload a manifest, read a screening and its reports.

Screenings are read a batch of lines at a time and their reports streamed; every report
download is audited. The XLSX report is written to a temporary file first (a zip needs its
end before it is sent) and stops as soon as the client leaves or the server stops.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from datetime import date
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from precursorwatch.manifest.headers import parse_mapping
from precursorwatch.run.asof import read_as_of
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.web import jobs, line_pages, work
from precursorwatch.web.deps import KeyDep, ScreeningKey, StateDep
from precursorwatch.web.errors import error_response
from precursorwatch.web.line_pages import LineQueryDep
from precursorwatch.web.report_html import render_report
from precursorwatch.web.schemas import (
    JobStatus,
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

    Every line needs one of description, cas, smiles or hs_code. `as_of` (YYYY-MM-DD,
    default today) applies the lists as they stood that day; a substance listed only later
    is said so in its reason. The answer has one verdict per line, in input order, with the
    evidence behind it, the day applied and `notices` (e.g. lists whose data starts later).
    """
    day = read_as_of(body.as_of) or date.today()
    records = [line.model_dump() for line in body.lines]
    work.check_lines(records, state.settings.max_lines_per_request)
    screening_id, results = await work.screen_records(state, key, records, day)
    visible = await anyio.to_thread.run_sync(work.visible_for, state, key, results)
    notices = await anyio.to_thread.run_sync(work.law_notices, state, day)
    return ScreenResponse.model_validate(
        {
            "screening_id": screening_id,
            "as_of": day.isoformat(),
            "notices": notices,
            "lines": work.lines_json(visible),
        }
    )


@router.post(
    "/screenings",
    status_code=201,
    response_model=UploadResponse,
    responses={
        **_ERRORS,
        202: {
            "model": JobStatus,
            "description": "A file over job_upload_bytes: screening started; follow it with "
            "GET /v1/screenings/{id} (the Location header).",
        },
    },
)
async def upload_manifest(
    file: Annotated[UploadFile, File(description="A manifest: .csv, .tsv or .xlsx.")],
    state: StateDep,
    key: ScreeningKey,
    as_of: Annotated[
        str | None,
        Form(
            description="Apply the lists as they stood on this day, YYYY-MM-DD (default: "
            "today). Another form is a 422 naming as_of."
        ),
    ] = None,
    column_map: Annotated[
        list[str] | None,
        Form(
            alias="map",
            description="Which column holds which field, `field=Header`, once per field "
            "(as the CLI's --map; `ignore=Header` leaves a column unread). Without it the "
            "columns are recognised by their names.",
        ),
    ] = None,
) -> UploadResponse | JSONResponse:
    """Upload a manifest; it is screened and stored as `precursorwatch screen` would.

    The form field `as_of` (YYYY-MM-DD, default today) applies the lists as they stood that
    day; `map` (repeated, `field=Header`) names columns whose headers are not recognised, as
    the CLI's `--map` does (an unknown field or a missing header is a 422). Returns the
    screening's id and its counts (201); fetch the lines or a report with it. A file over the
    server's `job_upload_bytes` (2 MB by default) is answered at once (202) with the id and
    `status` running: `GET /v1/screenings/{id}` shows its progress until it is complete, and
    `POST /v1/screenings/{id}/cancel` stops it.
    """
    day = read_as_of(as_of)
    mapping = parse_mapping(column_map or [])
    done = await jobs.upload(state, key, file.file, file.filename or "", day, mapping)
    if isinstance(done, jobs.Job):
        return JSONResponse(
            done.status_json(),
            status_code=202,
            headers={"Location": f"/v1/screenings/{done.screening_id}"},
        )
    summary = done
    return UploadResponse(
        screening_id=summary.screening_id,
        summary=Summary(
            lines=summary.lines, flagged=summary.flagged, by_risk=dict(summary.by_risk)
        ),
        as_of=summary.as_of,
        notices=await anyio.to_thread.run_sync(work.law_notices, state, summary.as_of),
    )


@router.post(
    "/screenings/{screening_id}/cancel",
    response_model=JobStatus,
    responses={
        **_READ_ERRORS,
        403: {"description": "Only the uploading key or an admin may cancel."},
        409: {"description": "The screening is complete already."},
    },
)
async def cancel_screening(screening_id: str, state: StateDep, key: KeyDep) -> JSONResponse:
    """Cancel a big upload's screening while it runs: it stops within a few seconds and
    nothing of it is kept (`status` cancelled; audited). A job that ended already answers
    its status; a complete screening is 409."""
    job = await jobs.cancel_for(state, key, screening_id)
    return JSONResponse(job.status_json())


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


@router.get(
    "/screenings/{screening_id}",
    response_model=ScreeningDetail | JobStatus,
    responses=_READ_ERRORS,
)
async def get_screening(
    screening_id: str, state: StateDep, key: KeyDep, paging: LineQueryDep
) -> Response:
    """A stored screening: every line's verdict in input order, and its record (`status`
    complete). While a big upload is screened: its `status` (running, cancelled, failed) and
    `progress` (lines read, lines judged, total when known), without lines.

    Paging: a screening of at most 10,000 lines asked without parameters answers every line.
    With `offset`, `limit` (at most 1,000), a filter (`risk`, `match_type`, `list`,
    `decision`) or `sort` (input, risk, risk-asc), or for a larger screening, the answer holds
    one page of lines (1,000 by default, input order unless sorted) and a `page` object:
    `offset`, `limit`, `total` lines, `matched` by the filters, `next_offset` (null at the end).
    """
    running = jobs.status_or_none(state, key, screening_id)
    if running is not None:
        return JSONResponse(running)
    summary = await authorised(state, key, screening_id)
    await anyio.to_thread.run_sync(work.audit_confidential_screening, state, key, summary)
    # paged (line_pages: every line up to FULL_LINES when no paging is asked, else a page)
    paged = await anyio.to_thread.run_sync(line_pages.api_page, state, key, summary, paging)
    return StreamingResponse(
        work.detail_chunks(state, key, summary, paged), media_type="application/json"
    )


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
