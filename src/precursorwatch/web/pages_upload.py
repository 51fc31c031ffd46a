"""The upload page's posts: screen a manifest, and, when its columns cannot be told apart,
ask the officer which column holds what.

A manifest whose header row names no column the reader recognises as the goods description,
CAS number, SMILES or InChI is not refused: the file is held server-side
(:mod:`precursorwatch.web.held_uploads`, under a random token bound to the visitor's key)
and the page shows each header with a choice of field, pre-filled with what was recognised.
The choice goes to the library as a mapping, exactly as the CLI's ``--map field=Header``
(:func:`~precursorwatch.manifest.headers.check_mapping`), so big files still become jobs.
A visitor may also ask for that step on a file whose columns were recognised.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.manifest.headers import FIELDS, IDENTIFIER_FIELDS, with_ignored
from precursorwatch.manifest.peek import ColumnGuess, peek_columns
from precursorwatch.run.asof import read_as_of
from precursorwatch.web import jobs, work
from precursorwatch.web.deps import StateDep
from precursorwatch.web.errors import status_of
from precursorwatch.web.held_uploads import KEEP_S, Held
from precursorwatch.web.pages import Visitor, _error, _page, form_visitor
from precursorwatch.web.state import AppState

router = APIRouter(include_in_schema=False)

#: What a column may hold, in the officer's words (the choice "ignore": not read at all).
IGNORE = "ignore"
FIELD_WORDS: dict[str, str] = {
    "description": "Goods description",
    "cas": "CAS number",
    "hs_code": "HS / tariff code",
    "quantity": "Quantity",
    "unit": "Unit of quantity",
    "smiles": "Chemical structure (SMILES)",
    "inchi": "InChI",
    "inchikey": "InChIKey",
    "line_id": "Line or item number",
    "origin": "Country of origin",
    "destination": "Country of destination",
    "consignor": "Consignor (shipper)",
    "consignee": "Consignee (importer)",
    IGNORE: "Nothing to read (ignore)",
}
assert set(FIELD_WORDS) == {*FIELDS, IGNORE}
NOT_TOLD = (
    "We could not tell which column holds the goods description. Choose what each column holds:"
)
CHOOSE = "Check what each column holds, and change what is wrong:"
GONE = (
    "This file is no longer kept on the server (it waits {minutes} minutes, and is used once): "
    "upload it again."
)


@router.post("/upload")
async def upload(
    request: Request,
    state: StateDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    as_of: Annotated[str, Form()] = "",
    choose: Annotated[str, Form()] = "",
) -> Response:
    """Screen the uploaded manifest (as the law stood on the day asked for, default today),
    then show its results; when its columns cannot be told apart (or ``choose`` is set),
    first ask which column holds what."""
    visitor = await form_visitor(request, state, csrf)
    if isinstance(visitor, Response):
        return visitor
    try:
        day = read_as_of(as_of, "the day of the law")
        path, name = await work.receive_upload(state, file.file, file.filename or "")
    except PrecursorWatchError as exc:
        return _upload_again(request, visitor, exc, as_of)
    try:
        guess = await anyio.to_thread.run_sync(peek_columns, path, name)
        if guess.identified and not choose:  # as before: no extra step
            done = await jobs.screen_received(state, visitor.key, path, name, day)
            return RedirectResponse(f"/screenings/{done.screening_id}", status_code=303)
        held = await anyio.to_thread.run_sync(_hold, state, visitor, path, name, as_of, guess)
    except PrecursorWatchError as exc:
        shutil.rmtree(path.parent, ignore_errors=True)
        return _upload_again(request, visitor, exc, as_of)
    return _columns_page(request, visitor, held, _chosen_of(held), "", guess.identified)


@router.post("/upload/columns")
async def upload_columns(request: Request, state: StateDep) -> Response:
    """Screen a held upload with the columns the officer chose (``column-N``: the field of
    the N-th header, or "ignore"); the upload is used up then. A token that is unknown,
    expired, used or another key's is refused (404) the same way."""
    visitor = await form_visitor(request, state)
    if isinstance(visitor, Response):
        return visitor
    form = await request.form()
    token = str(form.get("token") or "")
    held = await anyio.to_thread.run_sync(state.held.get, token, visitor.key.key_id)
    if held is None:
        return _error(request, visitor, 404, GONE.format(minutes=KEEP_S // 60))
    chosen = {h: str(form.get(f"column-{i}") or IGNORE) for i, h in _offered(held)}
    mapping, problem = mapping_of(chosen)
    if problem:
        return _columns_page(request, visitor, held, chosen, problem, True, 422)
    taken = await anyio.to_thread.run_sync(state.held.take, token, visitor.key.key_id)
    if taken is None:
        return _error(request, visitor, 404, GONE.format(minutes=KEEP_S // 60))
    try:
        day = read_as_of(taken.as_of, "the day of the law")
        done = await jobs.screen_received(state, visitor.key, taken.path, taken.name, day, mapping)
    except PrecursorWatchError as exc:
        shutil.rmtree(taken.path.parent, ignore_errors=True)
        return _upload_again(request, visitor, exc, taken.as_of)
    return RedirectResponse(f"/screenings/{done.screening_id}", status_code=303)


def mapping_of(chosen: dict[str, str]) -> tuple[dict[str, str], str]:
    """The library's mapping (field -> header, headers to ignore) for ``chosen`` (header ->
    field or "ignore"), and what is wrong with the choice in the officer's words ('' when
    nothing is)."""
    unknown = [h for h, f in chosen.items() if f not in FIELD_WORDS]
    if unknown:
        return {}, f"Choose one of the listed kinds of content for the column “{unknown[0]}”."
    twice = [f for f, n in Counter(f for f in chosen.values() if f != IGNORE).items() if n > 1]
    if twice:
        names = " and ".join(f"“{h}”" for h, f in chosen.items() if f == twice[0])
        return {}, (
            f"“{FIELD_WORDS[twice[0]]}” was chosen for more than one column ({names}): "
            "choose it for one column only."
        )
    mapping = {f: h for h, f in chosen.items() if f != IGNORE}
    if not any(f in mapping for f in IDENTIFIER_FIELDS):
        return {}, (
            "Choose the column that holds the goods description (or the CAS number): "
            "without one, the goods cannot be checked."
        )
    return with_ignored(mapping, [h for h, f in chosen.items() if f == IGNORE]), ""


def _hold(
    state: AppState, visitor: Visitor, path: Path, name: str, as_of: str, guess: ColumnGuess
) -> Held:
    """Keep the upload for the visitor's key. Raises TooLargeError when too many wait."""
    return state.held.hold(path, name, visitor.key.key_id, as_of[:40], guess.headers, guess.columns)


def _offered(held: Held) -> list[tuple[int, str]]:
    """The columns offered a choice: each named header, once (a nameless or repeated
    header cannot be named in a mapping)."""
    seen: set[str] = set()
    out = []
    for i, h in enumerate(held.headers):
        if h and h not in seen:
            seen.add(h)
            out.append((i, h))
    return out


def _chosen_of(held: Held) -> dict[str, str]:
    """Header -> field as recognised (the choices pre-filled); "ignore" for the rest."""
    by_header = {h: f for f, h in held.columns.items()}
    return {h: by_header.get(h, IGNORE) for _, h in _offered(held)}


def _columns_page(
    request: Request,
    visitor: Visitor,
    held: Held,
    chosen: dict[str, str],
    problem: str,
    identified: bool,
    status: int = 200,
) -> Response:
    return _page(
        request,
        "upload_columns.html",
        {
            "visitor": visitor,
            "held": held,
            "columns": [(i, h, chosen.get(h, IGNORE)) for i, h in _offered(held)],
            "fields": list(FIELD_WORDS.items()),
            "intro": CHOOSE if identified else NOT_TOLD,
            "message": problem,
            "minutes": KEEP_S // 60,
        },
        status,
    )


def _upload_again(
    request: Request, visitor: Visitor, exc: PrecursorWatchError, as_of: str
) -> Response:
    status, _ = status_of(exc)
    shown = {"visitor": visitor, "message": str(exc), "as_of": as_of[:40]}
    return _page(request, "upload.html", shown, status)
