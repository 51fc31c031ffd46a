"""Name evidence: exact synonyms in any language, abbreviations, PubChem synonyms, fuzzy names;
and the InChIKeys written in a description that name a listed substance."""

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
    if comp.share is None or comp.share >= 1:
        return ""
    if comp.watch_via == "natural-source":  # "sassafras oil, safrole 85 %": its content
        return f" (declared content {comp.share:.0%})"
    return f" ({comp.share:.0%} of the goods)"


def _inchikey_evidence(comp: ComponentId, key: str, index: ListIndex) -> Evidence:
    """A listed substance named by an InChIKey: all of it (the same structure), or only its
    first block (the connectivity: another stereoisomer or isotopic form of it)."""
    sub = index.substance(key)
    if comp.watch_via == "inchikey":
        kind, score = "structure-identical", 1.0
        detail = f"InChIKey {comp.watch_term} is that of {sub.name}, all its layers agreeing"
    else:
        kind, score = "structure-parent", 0.9
        detail = (
            f"InChIKey {comp.watch_term} has the connectivity layer of {sub.name} (first block "
            f"{comp.watch_term[:14]}; its stereo or other layers differ: a stereoisomer or "
            "another form of it)"
        )
    return Evidence(
        kind, key, score, detail + _share_note(comp), index.list_codes(key), comp.text, comp.share
    )


def _misspelt(matched: str, name: str) -> str:
    """What a misspelling is of: the substance, or the listed name it is close to."""
    return name if matched.casefold() == name.casefold() else f"'{matched}', a name of {name}"


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
            if comp.watch_via in ("inchikey", "inchikey-connectivity"):
                found.append(_inchikey_evidence(comp, key, index))
                continue
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
                    f"'{comp.name}' looks like a misspelling of {_misspelt(matched, sub.name)} "
                    f"(the spellings are {similarity:.0f} % alike){note}",
                    index.list_codes(key),
                    comp.text,
                    comp.share,
                )
            )
    return found
