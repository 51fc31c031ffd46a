"""Find a substance from what an officer types: a name in any language the lists give, an
abbreviation, a CAS number written any common way, or a key (as ``precursorwatch substance``
reads its query)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from precursorwatch.identify.normalise import read_cas
from precursorwatch.models import Substance
from precursorwatch.store import find_substances


def lookup_substances(*, session: Session, query: str, limit: int = 20) -> list[Substance]:
    """The stored substances ``query`` names, best first (key, CAS, exact name, then names
    that start with it), at most ``limit``; [] for an empty or unknown query. A CAS number
    with a valid check digit is read in any spelling ("108 24 7", "108247")."""
    text = query.strip()[:200]
    if not text:
        return []
    readings = read_cas(text)
    if readings and readings[0].valid:
        found = find_substances(session=session, query=readings[0].cas)
        if found:
            return found[:limit]
    return find_substances(session=session, query=text)[:limit]
