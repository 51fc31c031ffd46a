"""Substance routes: one substance with its list entries, and its structure as SVG."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from precursorwatch.errors import QueryError
from precursorwatch.models import Substance
from precursorwatch.store import ApiKeyInfo, get_substance
from precursorwatch.web import work
from precursorwatch.web.depict import substance_svg
from precursorwatch.web.deps import KeyDep, StateDep
from precursorwatch.web.routes_lists import thresholds_out
from precursorwatch.web.schemas import ListingOut, OtherCasOut, SubstanceOut
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import sees_confidential

router = APIRouter(prefix="/v1", tags=["substances"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown or revoked API key."},
    404: {"description": "No such substance (or no structure to draw)."},
}


def visible_substance(state: AppState, key: str, role: str) -> tuple[Substance, list[ListingOut]]:
    """A substance and the list entries ``role`` may see. Raises QueryError (404) when
    unknown or, for an operator, named by no public list (a confidential list's substance,
    or one dropped from it): the same answer after the same work, decided from the lists in
    memory before the store is read, so neither its text nor its timing tells them apart."""
    vis = state.visibility()
    if not vis.substance_visible(key, role):
        raise QueryError(f"no substance with key {key[:200]!r}: search by name or CAS instead")
    with state.store.session(write=False) as session:
        substance = get_substance(session=session, key=key)
    watchlist = state.screener().watchlist
    hidden = set() if sees_confidential(role) else vis.confidential
    shown = [e for e in watchlist.entries_for(key) if e.list_code not in hidden]
    listings = [
        ListingOut(
            list_code=e.list_code,
            category=e.category,
            covers=list(e.covers),
            family_name=e.family_name,
            thresholds=thresholds_out(e.thresholds),
        )
        for e in shown
    ]
    return substance, listings


def audit_if_confidential(
    state: AppState, api_key: ApiKeyInfo, s: Substance, listings: list[ListingOut]
) -> None:
    """Audit an officer's read of a substance a confidential list names."""
    confidential = sorted({x.list_code for x in listings} & state.visibility().confidential)
    if confidential:
        work.audit(
            state,
            api_key,
            "substance.read",
            {"key": s.key, "lists": confidential, "confidential": True},
        )


@router.get("/substances/{key}", response_model=SubstanceOut, responses=_ERRORS)
def get_one_substance(key: str, state: StateDep, api_key: KeyDep) -> SubstanceOut:
    """One substance: identifiers, names per language, and its entries on the lists."""
    s, listings = visible_substance(state, key, api_key.role)
    audit_if_confidential(state, api_key, s, listings)
    return SubstanceOut(
        key=s.key,
        name=s.name,
        cas=s.cas,
        other_cas=[OtherCasOut(cas=o.cas, form=o.form) for o in s.other_cas],
        smiles=s.smiles,
        inchikey=s.inchikey,
        names={lang: list(names) for lang, names in s.names.items()},
        abbreviations=list(s.abbreviations),
        hs_codes=list(s.hs_codes),
        notes=s.notes,
        sources=list(s.sources),
        listings=listings,
    )


@router.get(
    "/substances/{key}/depiction.svg",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"image/svg+xml": {}}, "description": "SVG."}},
)
def get_depiction(key: str, state: StateDep, api_key: KeyDep) -> Response:
    """The substance's structure as SVG; 404 for inorganics, which have none."""
    s, _ = visible_substance(state, key, api_key.role)
    svg = substance_svg(s)
    if not svg:
        raise QueryError(f"substance {key!r} has no structure to draw (inorganic)")
    return Response(svg, media_type="image/svg+xml")
