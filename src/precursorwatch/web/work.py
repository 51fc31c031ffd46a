"""The use cases the API routes and the pages share: screen a batch or an upload, read a stored
screening as the caller's role may see it, and build its reports.

Screening goes through :mod:`precursorwatch.run.service` exactly as the CLI does, so a stored
upload and its ``report.csv`` are the same as ``precursorwatch screen`` gives for the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from precursorwatch.errors import InputError, PrecursorWatchError, TooLargeError
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.report.writers import csv_text, json_lines, results_frame, write_xlsx
from precursorwatch.store import ApiKeyInfo, ScreeningSummary, get_screening, save_screening
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential, visible_results

#: Fields at least one of which a line must carry.
IDENTIFYING = ("description", "cas", "smiles", "hs_code")
#: Manifest file types an upload may be.
UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ScreeningView:
    """A stored screening as one reader may see it."""

    summary: ScreeningSummary
    lines: list[DeclarationLine]
    results: list[LineResult]


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
                f"lines[{i - 1}]: line {i}{named} has none of description, cas, smiles or "
                "hs_code: give at least one of them"
            )


def _has_text(value: object) -> bool:
    """True when ``value`` has a visible character (NUL, spaces and bidi controls are not)."""
    return value is not None and any(ch.isprintable() and not ch.isspace() for ch in str(value))


def screen_records(
    state: AppState, records: Sequence[Mapping[str, Any]], *, actor: str
) -> tuple[str, list[LineResult]]:
    """Screen and store JSON lines; returns the screening id and the results in order."""
    from precursorwatch.manifest.read import frame_from_records
    from precursorwatch.run.results import results_from_frame
    from precursorwatch.run.service import declarations_from_frame

    frame = frame_from_records(records)
    digest = hashlib.sha256(
        json.dumps(list(records), sort_keys=True, default=str).encode()
    ).hexdigest()
    with state.screen_lock:
        screener = state.screener()
        results = results_from_frame(screener.screen_frame(frame))
        versions = screener.watchlist.versions()
    lines = declarations_from_frame(frame)
    with state.store.session() as session:
        screening_id = save_screening(
            session=session,
            actor=actor,
            input_name="POST /v1/screen",
            input_hash=digest,
            list_versions=versions,
            lines=list(zip(lines, results, strict=True)),
        )
    return screening_id, results


def safe_filename(name: str, default: str = "upload.csv") -> str:
    """The base name of an uploaded file with only [A-Za-z0-9._-] kept ('' parts dropped)."""
    base = Path(name.replace("\\", "/")).name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return clean or default


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


def screen_upload(
    state: AppState, source: BinaryIO, filename: str, *, actor: str
) -> ScreeningSummary:
    """Screen and store an uploaded manifest exactly as ``precursorwatch screen`` does.

    Raises ManifestError (unreadable file), InputError (not csv/tsv/xlsx) or TooLargeError.
    """
    from precursorwatch.run.service import screen_file

    name = safe_filename(filename or "upload.csv")
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError(
            f"{filename!r}: upload a .csv, .tsv or .xlsx manifest (the field is 'file')"
        )
    with tempfile.TemporaryDirectory(prefix="precursorwatch-upload-") as tmp:
        path = Path(tmp) / name
        save_upload(source, path, state.settings.max_upload_bytes)
        with named_as(path, name), state.screen_lock:
            done = screen_file(path, store=state.store, screener=state.screener(), actor=actor)
    return read_screening(state, done.screening_id).summary


@contextmanager
def named_as(path: Path, shown: str) -> Iterator[None]:
    """Re-raise library errors about the server's temporary ``path`` naming ``shown`` (the
    uploaded file's name) instead, so no answer reveals the server's directories."""
    try:
        yield
    except PrecursorWatchError as exc:
        text = str(exc)
        for hidden in (str(path), str(path.parent)):
            text = text.replace(hidden, shown if hidden == str(path) else ".")
        exc.args = (text,)
        raise


def read_screening(state: AppState, screening_id: str) -> ScreeningView:
    """A stored screening as stored. Raises QueryError when unknown."""
    with state.store.session(write=False) as session:
        record = get_screening(session=session, screening_id=screening_id)
    return ScreeningView(record.summary, [d for d, _ in record.lines], [r for _, r in record.lines])


def screening_for(state: AppState, key: ApiKeyInfo, screening_id: str) -> ScreeningView:
    """A stored screening as ``key`` may see it: operators see only their own screenings, with
    confidential hits referred. Raises QueryError (404) otherwise, the same as for unknown ids."""
    from precursorwatch.errors import QueryError

    unknown = QueryError(
        f"no screening with id {screening_id[:64]!r} for this key: use the screening_id that "
        "POST /v1/screen or POST /v1/screenings answered"
    )
    try:
        view = read_screening(state, screening_id)
    except QueryError:
        raise unknown from None
    if sees_confidential(key.role):
        return view
    if view.summary.actor != key.name:
        raise unknown
    hidden = state.confidential_codes()
    versions = {c: v for c, v in view.summary.list_versions.items() if c not in hidden}
    summary = dataclasses.replace(view.summary, list_versions=versions)
    return ScreeningView(summary, view.lines, visible_results(view.results, key.role, hidden))


def visible_for(state: AppState, key: ApiKeyInfo, results: list[LineResult]) -> list[LineResult]:
    """``results`` as ``key``'s role may see them."""
    if sees_confidential(key.role):
        return results
    return visible_results(results, key.role, state.confidential_codes())


def lines_json(results: Sequence[LineResult]) -> list[dict[str, Any]]:
    """The API's line objects (the report module's one serialiser)."""
    return json_lines(results_frame(results))


def report_csv(view: ScreeningView) -> str:
    """The CSV report: the same bytes ``precursorwatch screen -o out.csv`` writes."""
    return csv_text(results_frame(view.results))


def report_xlsx(view: ScreeningView) -> bytes:
    """The XLSX report (declared description, CAS and HS beside each verdict)."""
    buf = io.BytesIO()
    write_xlsx(results_frame(view.results), buf, view.lines)
    return buf.getvalue()


def download_name(view: ScreeningView, suffix: str) -> str:
    """A safe file name for a report download."""
    stem = Path(safe_filename(view.summary.input_name, "screening")).stem
    return f"{stem}-{view.summary.screening_id[:8]}-report.{suffix}"
