"""Mismatch evidence: the CAS names one substance and the description another.

A listed CAS under an innocent name ("sodium acetate", CAS 108-24-7) is a classic concealment
sign; so is a listed name under the CAS of an ordinary chemical.
"""

from __future__ import annotations

from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared
from precursorwatch.models import Evidence


def _description_keys(declared: Declared, index: ListIndex, *, fuzzy: bool) -> set[str]:
    """Listed keys the description names (exactly; with ``fuzzy`` also by a close name)."""
    d = declared.description
    keys: set[str] = set()
    if d is None:
        return keys
    for comp in d.components:
        keys.update(comp.watch_keys)
        keys.update(h.key for h in index.by_cas.get(comp.known_cas, []))
        if comp.fuzzy and fuzzy:
            keys.add(comp.fuzzy[0][0])
    for s in declared.structures:
        if s.identity is not None:
            keys.update(index.keys_by_skeleton(s.identity))
    return keys


def match_mismatch(declared: Declared, index: ListIndex) -> list[Evidence]:
    """``mismatch`` evidence when CAS and description identify different substances."""
    d = declared.description
    if d is None or not any(c.identified for c in d.components):
        return []
    named = _description_keys(declared, index, fuzzy=True)
    named_exactly = _description_keys(declared, index, fuzzy=False)
    what = "; ".join(c.known_name or c.watch_term or c.name for c in d.components)
    said = d.text.strip()
    what_note = "" if what.casefold() == said.casefold() else f" ({what})"
    found: list[Evidence] = []
    for reading in declared.cas:
        if not reading.valid:
            continue
        for hit in index.by_cas.get(reading.cas, []):
            if hit.key in named:
                continue
            sub = index.substance(hit.key)
            found.append(
                Evidence(
                    "mismatch",
                    hit.key,
                    0.96,
                    f"CAS {reading.cas} is {sub.name} ({index.lists_phrase(hit.key)}), "
                    f"but the line says '{said}'{what_note}: possible mislabelling",
                    index.list_codes(hit.key),
                )
            )
        known = declared.cas_known.get(reading.cas)
        if known is not None and reading.cas not in index.by_cas:
            for key in sorted(named_exactly):
                sub = index.substance(key)
                found.append(
                    Evidence(
                        "mismatch",
                        key,
                        0.9,
                        f"the line names {sub.name} but its CAS {reading.cas} is {known.name}: "
                        "possible mislabelling",
                        index.list_codes(key),
                    )
                )
    return found
