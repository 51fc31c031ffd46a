"""List routes: the current lists, one list's entries, and (admin) importing a list file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from precursorwatch.errors import InputError, QueryError
from precursorwatch.models import ListEntry, Threshold, Watchlist
from precursorwatch.store import ApiKeyInfo, get_list, list_summaries
from precursorwatch.web import work
from precursorwatch.web.deps import AdminKey, KeyDep, StateDep
from precursorwatch.web.schemas import (
    EntryOut,
    ImportResponse,
    ListDetail,
    ListOut,
    ThresholdOut,
)
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

router = APIRouter(prefix="/v1", tags=["lists"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    403: {"description": "The key's role may not do this."},
}
LIST_SUFFIXES = (".yaml", ".yml", ".csv")


def thresholds_out(thresholds: tuple[Threshold, ...]) -> list[ThresholdOut]:
    """API form of a list entry's thresholds."""
    return [
        ThresholdOut(quantity=t.quantity, unit=t.unit, per=t.per, note=t.note) for t in thresholds
    ]


def entry_out(entry: ListEntry, watchlist: Watchlist) -> EntryOut:
    """API form of one list entry, with its substance's name and CAS."""
    s = watchlist.substances.get(entry.substance_key)
    return EntryOut(
        substance_key=entry.substance_key,
        name=s.name if s else entry.substance_key,
        cas=s.cas if s else "",
        category=entry.category,
        covers=list(entry.covers),
        family_name=entry.family_name,
        family_smarts=entry.family_smarts,
        thresholds=thresholds_out(entry.thresholds),
    )


def visible_lists(state: StateDep, role: str) -> list[ListOut]:
    """The current lists a role may see (operators: no confidential list)."""
    with state.store.session(write=False) as session:
        summaries = list_summaries(session=session)
    return [
        ListOut.model_validate(s, from_attributes=True)
        for s in summaries
        if sees_confidential(role) or not s.confidential
    ]


def list_detail(state: StateDep, code: str, role: str) -> ListDetail:
    """One current list with its entries; QueryError (404) when unknown or hidden from
    ``role`` (the same answer, so a hidden list's existence is not revealed)."""
    unknown = QueryError(f"no list {code!r} in the store: see GET /v1/lists")
    try:
        with state.store.session(write=False) as session:
            listdef = get_list(session=session, code=code)
    except QueryError:
        raise unknown from None
    if listdef.confidential and not sees_confidential(role):
        raise unknown
    watchlist = state.screener().watchlist
    return ListDetail(
        code=listdef.code,
        title=listdef.title,
        legal_basis=listdef.legal_basis,
        effective_date=listdef.effective_date,
        source=listdef.source,
        confidential=listdef.confidential,
        version=listdef.version,
        content_hash=listdef.content_hash,
        entries=[entry_out(e, watchlist) for e in listdef.entries],
    )


@router.get("/lists", response_model=list[ListOut], responses=_ERRORS)
def get_lists(state: StateDep, key: KeyDep) -> list[ListOut]:
    """The current version of every list the key's role may see."""
    return visible_lists(state, key.role)


@router.get(
    "/lists/{code}",
    response_model=ListDetail,
    responses={**_ERRORS, 404: {"description": "No such list."}},
)
def get_one_list(code: str, state: StateDep, key: KeyDep) -> ListDetail:
    """One list at its current version, with every entry and its thresholds."""
    detail = list_detail(state, code, key.role)
    if detail.confidential:
        audit_confidential_read(state, key, "list.read", {"code": detail.code})
    return detail


def audit_confidential_read(
    state: AppState, key: ApiKeyInfo, action: str, detail: dict[str, object]
) -> None:
    """Audit a read of confidential data (a confidential list, or a substance it names)."""
    work.audit(state, key, action, {**detail, "confidential": True})


@router.post(
    "/lists",
    status_code=201,
    response_model=ImportResponse,
    responses={
        **_ERRORS,
        413: {"description": "The file is too large."},
        422: {"description": "The list file is invalid; nothing was imported."},
    },
)
def import_list(
    file: Annotated[UploadFile, File(description="A list file: YAML, or CSV.")],
    state: StateDep,
    key: AdminKey,
    confidential: Annotated[
        bool | None,
        Form(
            description="true hides the list from operators; false makes it public. Left "
            "out, the file's own flag counts, and a new version of a confidential list stays "
            "confidential."
        ),
    ] = None,
    code: Annotated[
        str | None, Form(description="List code of a CSV list (default: from the file name).")
    ] = None,
) -> ImportResponse:
    """Import a list file (admin only); an invalid file is refused whole, the store unchanged.

    A changed list gets a new version; screenings keep the versions they used.
    """
    from precursorwatch.run.service import import_list_file
    from precursorwatch.store.audit import acting_as
    from precursorwatch.web.worker import named_as

    name = work.safe_filename(file.filename or "", "list.yaml")
    if Path(name).suffix.lower() not in LIST_SUFFIXES:
        raise InputError(f"{file.filename!r}: upload a list as .yaml or .csv (field 'file')")
    with tempfile.TemporaryDirectory(prefix="precursorwatch-list-") as tmp:
        path = Path(tmp) / name
        work.save_upload(file.file, path, state.settings.max_upload_bytes)
        with named_as(path, name), acting_as(key.key_id, key.name):
            outcome = import_list_file(
                state.store, path, code=code or None, confidential=confidential, actor=key.name
            )
    return ImportResponse(
        code=outcome.code,
        status=outcome.status,
        version=outcome.version,
        content_hash=outcome.content_hash,
    )
