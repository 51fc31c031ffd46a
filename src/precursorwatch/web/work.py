"""The use cases the API routes and the pages share: screen a batch or an upload, authorise
the reading of a stored screening (by key id), and read its lines as the caller's role may
see them, a batch at a time, for the JSON answer and every report.

Screening goes through :mod:`precursorwatch.run.service` exactly as the CLI does (in the
lanes of :mod:`precursorwatch.web.lanes`), so a stored upload and its ``report.csv`` are the
same as ``precursorwatch screen`` gives for the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import anyio.to_thread

from precursorwatch.errors import InputError, QueryError, TooLargeError
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.store import ApiKeyInfo, ScreeningSummary, record_audit, save_screening
from precursorwatch.store.access import owner_of, record_owner, screening_lines, screening_summary
from precursorwatch.store.audit import acting_as
from precursorwatch.web import review
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

#: Fields at least one of which a line must carry.
IDENTIFYING = ("description", "cas", "smiles", "inchi", "inchikey", "hs_code")
#: Manifest file types an upload may be.
UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
#: Lines read from the store (and redacted) at a time for an answer or a report; the XLSX
#: report checks between its (smaller) batches whether it was abandoned.
BATCH = 5_000
XLSX_BATCH = 1_000
_CHUNK = 1 << 20


def check_lines(records: Sequence[Mapping[str, Any]], limit: int) -> None:
    """Refuse a batch over ``limit`` lines (TooLargeError) or with a line that carries no
    identifier (InputError naming the line)."""
    if len(records) > limit:
        raise TooLargeError(
            f"{len(records)} lines in one request; at most {limit} are accepted: "
            "split the batch, or upload the file to POST /v1/screenings"
        )
    for i, rec in enumerate(records, start=1):
        if not any(_has_text(rec.get(f)) for f in IDENTIFYING):
            lid = rec.get("line_id")
            named = f" (line_id {lid!r})" if lid not in (None, "") else ""
            raise InputError(
                f"lines[{i - 1}]: line {i}{named} has none of description, cas, smiles, inchi, "
                "inchikey or hs_code: give at least one of them"
            )


def _has_text(value: object) -> bool:
    """True when ``value`` has a visible character (NUL, spaces and bidi controls are not)."""
    return value is not None and any(ch.isprintable() and not ch.isspace() for ch in str(value))


def audit(state: AppState, key: ApiKeyInfo, action: str, detail: Mapping[str, object]) -> None:
    """Record an audit event done with ``key`` (its id and name)."""
    with state.store.session() as session:
        record_audit(
            session=session, actor=key.name, action=action, detail=detail, actor_key_id=key.key_id
        )


# --- screening -------------------------------------------------------------------------------


async def screen_records(
    state: AppState, key: ApiKeyInfo, records: Sequence[Mapping[str, Any]], as_of: date
) -> tuple[str, list[LineResult]]:
    """Screen and store JSON lines (interactive lane) against the lists as they applied on
    ``as_of``; the screening id and the results."""
    from precursorwatch.manifest.read import frame_from_records

    frame = await anyio.to_thread.run_sync(frame_from_records, records)
    results = await state.lanes.screen_frame(key.key_id, frame, as_of)
    screening_id = await anyio.to_thread.run_sync(
        _save_batch, state, key, records, frame, results, as_of
    )
    return screening_id, results


def _save_batch(
    state: AppState,
    key: ApiKeyInfo,
    records: Sequence[Mapping[str, Any]],
    frame: Any,
    results: list[LineResult],
    as_of: date,
) -> str:
    from precursorwatch.run.service import declarations_from_frame

    digest = hashlib.sha256(
        json.dumps(list(records), sort_keys=True, default=str).encode()
    ).hexdigest()
    lines = declarations_from_frame(frame)
    versions = state.screener().watchlist.versions()
    with acting_as(key.key_id, key.name), state.store.session() as session:
        screening_id = save_screening(
            session=session,
            actor=key.name,
            input_name="POST /v1/screen",
            input_hash=digest,
            list_versions=versions,
            lines=list(zip(lines, results, strict=True)),
            as_of=as_of.isoformat(),
        )
        record_owner(
            session=session, screening_id=screening_id, key_id=key.key_id, key_name=key.name
        )
    return screening_id


def safe_filename(name: str, default: str = "upload.csv") -> str:
    """The base name of an uploaded file with only [A-Za-z0-9._-] kept ('' parts dropped)."""
    base = Path(name.replace("\\", "/")).name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return clean[:120] or default


def save_upload(source: BinaryIO, target: Path, limit: int) -> int:
    """Copy an uploaded stream to ``target``; raises TooLargeError past ``limit`` bytes."""
    size = 0
    with target.open("wb") as out:
        while block := source.read(_CHUNK):
            size += len(block)
            if size > limit:
                raise TooLargeError(
                    f"the upload is over {limit:,} bytes (max_upload_bytes): split the file "
                    "or ask the operator to raise PRECURSORWATCH_MAX_UPLOAD_BYTES"
                )
            out.write(block)
    return size


async def receive_upload(state: AppState, source: BinaryIO, filename: str) -> tuple[Path, str]:
    """Save an upload in a new temporary directory: (its path, the name shown for it). The
    caller removes ``path.parent``. Raises InputError (not csv/tsv/xlsx) or TooLargeError
    (nothing is left behind then)."""
    name = safe_filename(filename or "upload.csv")
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError(
            f"{filename[:120]!r}: upload a .csv, .tsv or .xlsx manifest (the field is 'file')"
        )
    tmp = Path(tempfile.mkdtemp(prefix="precursorwatch-upload-"))
    path = tmp / name
    try:
        await anyio.to_thread.run_sync(save_upload, source, path, state.settings.max_upload_bytes)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path, name


async def screen_saved(
    state: AppState, key: ApiKeyInfo, path: Path, name: str, **job: Any
) -> ScreeningSummary:
    """Screen and store a saved upload exactly as ``precursorwatch screen`` does, in the bulk
    lane (``job``: the worker's further arguments, e.g. a progress). Raises ManifestError
    (unreadable file)."""
    screening_id = await state.lanes.run(
        key.key_id, "upload", path=str(path), name=name, key_id=key.key_id, key_name=key.name, **job
    )
    return await anyio.to_thread.run_sync(_summary, state, screening_id)


async def screen_upload(
    state: AppState, key: ApiKeyInfo, source: BinaryIO, filename: str, as_of: date | None = None
) -> ScreeningSummary:
    """Screen and store an uploaded manifest exactly as ``precursorwatch screen`` does, in
    the bulk lane, against the lists as they applied on ``as_of`` (default today). Raises
    ManifestError (unreadable file), InputError (not csv/tsv/xlsx) or TooLargeError."""
    path, name = await receive_upload(state, source, filename)
    try:
        return await screen_saved(state, key, path, name, **as_of_job(as_of))
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def as_of_job(as_of: date | None) -> dict[str, str]:
    """A bulk job's argument for the day whose law it applies (none: today's)."""
    return {"as_of": as_of.isoformat()} if as_of is not None else {}


def _summary(state: AppState, screening_id: str) -> ScreeningSummary:
    with state.store.session(write=False) as session:
        return screening_summary(session=session, screening_id=screening_id)


# --- reading a stored screening --------------------------------------------------------------


def screening_for(state: AppState, key: ApiKeyInfo, screening_id: str) -> ScreeningSummary:
    """A stored screening's record as ``key`` may see it: operators only their own key's
    (by key id), without confidential lists. Raises QueryError (404) otherwise, the same as
    for unknown ids."""
    unknown = QueryError(
        f"no screening with id {screening_id[:64]!r} for this key: use the screening_id that "
        "POST /v1/screen or POST /v1/screenings answered"
    )
    with state.store.session(write=False) as session:
        if (
            not sees_confidential(key.role)
            and owner_of(session=session, screening_id=screening_id) != key.key_id
        ):
            raise unknown
        try:
            summary = screening_summary(session=session, screening_id=screening_id)
        except QueryError:
            raise unknown from None
    if sees_confidential(key.role):
        return summary
    versions = state.visibility().versions(summary.list_versions)
    return dataclasses.replace(summary, list_versions=versions)


def audit_confidential_screening(
    state: AppState, key: ApiKeyInfo, summary: ScreeningSummary
) -> None:
    """Audit an officer's or admin's read of a screening made while a confidential list was
    in force (its lines may name that list): a read of confidential data."""
    if not sees_confidential(key.role):
        return
    hidden = sorted(set(summary.list_versions) & state.visibility().confidential)
    if hidden:
        audit(
            state,
            key,
            "screening.read",
            {"screening_id": summary.screening_id, "lists": hidden, "confidential": True},
        )


def batches(
    state: AppState, key: ApiKeyInfo, screening_id: str, size: int = BATCH
) -> Iterator[tuple[list[DeclarationLine], list[LineResult]]]:
    """The screening's lines and results in input order, ``size`` at a time, as ``key``'s
    role may see them (call :func:`screening_for` first)."""
    vis = None if sees_confidential(key.role) else state.visibility()
    with state.store.session(write=False) as session:
        lines: list[DeclarationLine] = []
        results: list[LineResult] = []
        for d, r in screening_lines(session=session, screening_id=screening_id):
            lines.append(d)
            results.append(r if vis is None else vis.result(r))
            if len(lines) >= size:
                yield lines, results
                lines, results = [], []
        if lines:
            yield lines, results


def visible_for(state: AppState, key: ApiKeyInfo, results: list[LineResult]) -> list[LineResult]:
    """``results`` as ``key``'s role may see them."""
    if sees_confidential(key.role):
        return results
    return state.visibility().results(results)


def lines_json(results: Sequence[LineResult]) -> list[dict[str, Any]]:
    """The API's line objects (the report module's one serialiser)."""
    from precursorwatch.report.writers import json_lines, results_frame

    return json_lines(results_frame(results))


class _Drain(io.StringIO):
    """A text buffer whose content is taken out as it is written."""

    def take(self) -> bytes:
        text = self.getvalue()
        self.seek(0)
        self.truncate(0)
        return text.encode("utf-8")


def csv_chunks(state: AppState, key: ApiKeyInfo, screening_id: str) -> Iterator[bytes]:
    """The CSV report in pieces: the same bytes ``precursorwatch screen -o out.csv`` writes."""
    from precursorwatch.report.writers import CsvReport, results_frame

    decisions = review.decided(state, screening_id)
    buf = _Drain()
    report = CsvReport(buf)
    yield buf.take()
    for lines, results in batches(state, key, screening_id):
        report.write(results_frame(results, lines, review.decisions_of(results, decisions)))
        yield buf.take()


class Cancelled(Exception):
    """A report was abandoned (the client left, or the server is stopping)."""


def write_xlsx_report(
    state: AppState, key: ApiKeyInfo, screening_id: str, target: Path, stop: Any
) -> None:
    """Write the XLSX report to ``target`` a batch at a time; raises Cancelled as soon as
    ``stop.is_set()`` (checked between batches)."""
    from precursorwatch.report.writers import XLSX_COLUMNS, results_frame, xlsx_columns
    from precursorwatch.report.xlsx import XlsxReport

    summary = _summary(state, screening_id)
    decisions = review.decided(state, screening_id)
    report = XlsxReport(target, XLSX_COLUMNS, xlsx_about(summary))
    for lines, results in batches(state, key, screening_id, XLSX_BATCH):
        if stop.is_set():
            raise Cancelled
        frame = results_frame(results, lines, review.decisions_of(results, decisions))
        report.write_columns(xlsx_columns(frame, lines))
    report.close()


def xlsx_about(summary: ScreeningSummary) -> list[tuple[str, str]]:
    """The head of a stored screening's XLSX summary sheet: file, when, who, law's day."""
    about = [
        ("File", summary.input_name),
        ("Screened at (UTC)", f"{summary.created_at:%Y-%m-%d %H:%M}"),
        ("Screened by", summary.actor),
    ]
    if summary.as_of:
        about.append(("Lists as they applied on", summary.as_of))
    return [*about, ("Screening id", summary.screening_id)]


def detail_chunks(
    state: AppState,
    key: ApiKeyInfo,
    summary: ScreeningSummary,
    paged: tuple[list[LineResult], Mapping[str, Any]] | None = None,
) -> Iterator[bytes]:
    """``GET /v1/screenings/{id}``'s JSON (a ScreeningDetail), written a batch at a time.
    ``paged``: one page of results (already as ``key`` may see them) and its ``page`` object
    (:mod:`precursorwatch.web.line_pages`) in place of every line. Each line carries its
    newest decision (``decision``, null when none)."""
    from precursorwatch.web.schemas import LineOut, ScreeningInfo

    every = summary.lines
    head = {
        "screening_id": summary.screening_id,
        "as_of": summary.as_of,
        "notices": law_notices(state, summary.as_of),
        "status": "complete",
        "progress": {"lines_read": every, "lines_judged": every, "total": every},
    }
    yield (_dumps(head)[:-1] + ',"lines":[').encode()
    first = True
    decisions = review.decided(state, summary.screening_id)
    source = (r for _, r in batches(state, key, summary.screening_id))
    for results in source if paged is None else iter([paged[0]]):
        items = [
            LineOut.model_validate(
                {**x, "decision": review.decision_json(decisions.get(x["line_id"]))}
            ).model_dump(mode="json")
            for x in lines_json(results)
        ]
        text = ",".join(_dumps(x) for x in items)
        if text:
            yield (text if first else "," + text).encode()
            first = False
    info = ScreeningInfo.model_validate(
        {
            "created_at": summary.created_at,
            "actor": summary.actor,
            "input_name": summary.input_name,
            "input_hash": summary.input_hash,
            "list_versions": dict(summary.list_versions),
            "lines": summary.lines,
            "flagged": summary.flagged,
            "by_risk": dict(summary.by_risk),
            "as_of": summary.as_of,
        }
    ).model_dump(mode="json")
    tail = "" if paged is None else ',"page":' + _dumps(dict(paged[1]))
    yield ('],"summary":' + _dumps(info) + tail + "}").encode()


def law_notices(state: AppState, day: date | str) -> list[str]:
    """What a screening as of ``day`` (a date or YYYY-MM-DD) must be told of the lists: the
    lists whose data starts later (:func:`~precursorwatch.run.asof.unknown_lists_note`)."""
    from precursorwatch.lists.dates import parse_day
    from precursorwatch.run.asof import unknown_lists_note

    parsed = parse_day(day) if isinstance(day, str) else day
    if parsed is None:
        return []
    note = unknown_lists_note(state.screener().watchlist, parsed)
    return [note] if note else []


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def download_name(summary: ScreeningSummary, suffix: str) -> str:
    """A safe file name for a report download."""
    stem = Path(safe_filename(summary.input_name, "screening")).stem
    return f"{stem}-{summary.screening_id[:8]}-report.{suffix}"
