"""CAS evidence: a valid CAS number (in the CAS field or the description) names a listed form."""

from __future__ import annotations

from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared
from precursorwatch.models import Evidence


def match_cas(declared: Declared, index: ListIndex) -> list[Evidence]:
    """One ``cas`` evidence per valid CAS number that a listed substance or its salt carries."""
    found: list[Evidence] = []
    written = [r.cas for r in declared.cas if r.valid]
    if declared.description is not None:
        written += list(declared.description.cas_in_text)
    for cas in dict.fromkeys(written):
        for hit in index.by_cas.get(cas, []):
            sub = index.substance(hit.key)
            form = "" if hit.form == "parent" else f" in another form: {hit.form}"
            found.append(
                Evidence(
                    kind="cas",
                    substance_key=hit.key,
                    score=1.0 if hit.form == "parent" else 0.97,
                    detail=f"CAS {cas} is {sub.name}{form}",
                    list_codes=index.list_codes(hit.key),
                )
            )
    return found
