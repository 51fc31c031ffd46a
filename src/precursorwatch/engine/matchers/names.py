"""Name evidence: exact synonyms in any language, abbreviations, PubChem synonyms, fuzzy names."""

from __future__ import annotations

from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared
from precursorwatch.identify.describe import ComponentId
from precursorwatch.models import Evidence

#: How much a name hit is worth, by how it was found (all make a line high risk).
NAME_SCORES: dict[str, float] = {
    "name": 0.95,
    "abbreviation": 0.9,
    "natural-source": 0.9,
    "pubchem": 0.9,
    "in-text": 0.85,
}
#: A fuzzy hit scores its similarity times this (medium risk at most).
FUZZY_WEIGHT = 0.8


def _share_note(comp: ComponentId) -> str:
    return f" ({comp.share:.0%} of the goods)" if comp.share is not None and comp.share < 1 else ""


def match_names(declared: Declared, index: ListIndex) -> list[Evidence]:
    """``name`` and ``fuzzy-name`` evidence for each component of the description."""
    d = declared.description
    if d is None:
        return []
    contradicted = any(k.cas and k.cas not in index.by_cas for k in declared.cas_known.values())
    found: list[Evidence] = []
    for comp in d.components:
        note = _share_note(comp)
        for key in comp.watch_keys:
            sub = index.substance(key)
            how = {
                "abbreviation": "an abbreviation of",
                "natural-source": "a natural source of",
                "in-text": "a name of",
            }.get(comp.watch_via, "a name of")
            detail = f"'{comp.watch_term}' is {how} {sub.name}{note}"
            found.append(
                Evidence(
                    "name",
                    key,
                    NAME_SCORES.get(comp.watch_via, 0.9),
                    detail,
                    index.list_codes(key),
                    comp.text,
                    comp.share,
                )
            )
        if comp.known_cas and comp.known_cas in index.by_cas:
            for hit in index.by_cas[comp.known_cas]:
                sub = index.substance(hit.key)
                relation = "a form of" if hit.form != "parent" else "listed as"
                detail = (
                    f"'{comp.name}' is {comp.known_name} (CAS {comp.known_cas}), "
                    f"{relation} {sub.name}{note}"
                )
                found.append(
                    Evidence(
                        "name",
                        hit.key,
                        NAME_SCORES["pubchem"],
                        detail,
                        index.list_codes(hit.key),
                        comp.text,
                        comp.share,
                    )
                )
        if comp.fuzzy and not contradicted:
            key, matched, similarity = comp.fuzzy[0]
            sub = index.substance(key)
            found.append(
                Evidence(
                    "fuzzy-name",
                    key,
                    round(similarity / 100 * FUZZY_WEIGHT, 3),
                    f"'{comp.name}' looks like a misspelling of '{matched}' ({sub.name}, "
                    f"similarity {similarity:.0f} %){note}",
                    index.list_codes(key),
                    comp.text,
                    comp.share,
                )
            )
    return found
