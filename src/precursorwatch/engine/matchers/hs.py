"""HS-code evidence: the declared tariff code is the subheading of a listed substance."""

from __future__ import annotations

from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared
from precursorwatch.models import Evidence

#: Score of an HS code that only one listed substance has (medium risk) and of a shared one.
SPECIFIC_HS_SCORE = 0.5
SHARED_HS_SCORE = 0.3


def match_hs(declared: Declared, index: ListIndex) -> list[Evidence]:
    """``hs-code`` evidence for the listed substances whose HS/CN code the line declares.

    An 8-digit CN code is tried before its 6-digit HS subheading. A subheading shared by
    several listed substances (e.g. 2933.39) is weaker evidence than one naming one substance,
    and so is a code on a line whose name or CAS already identifies an unlisted chemical: a
    subheading holds many chemicals ("ethyl acetoacetate" is rightly declared under 2918.30,
    MAPA's subheading). Only an HS code *alone* is medium risk (DESIGN.md §2).
    """
    hs = declared.hs
    if len(hs) < 6:
        return []
    keys: set[str] = set()
    used = ""
    for length in (8, 6):
        if len(hs) >= length and hs[:length] in index.by_hs:
            keys, used = index.by_hs[hs[:length]], hs[:length]
            break
    identified = bool(declared.cas_known) or (
        declared.description is not None
        and any(c.identified for c in declared.description.components)
    )
    score = SPECIFIC_HS_SCORE if len(keys) == 1 and not identified else SHARED_HS_SCORE
    pretty = f"{used[:4]}.{used[4:6]}" + (f".{used[6:]}" if len(used) > 6 else "")
    return [
        Evidence(
            kind="hs-code",
            substance_key=key,
            score=score,
            detail=(
                f"the HS code {pretty} is the customs heading of {index.substance(key).name}"
                if len(keys) == 1
                else f"the HS code {pretty} is the customs heading of {len(keys)} listed "
                f"substances, among them {index.substance(key).name}"
            ),
            list_codes=index.list_codes(key),
        )
        for key in sorted(keys)
    ]
