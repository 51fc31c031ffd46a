"""Trade and street names of designer precursors, as systematic names OPSIN can read.

A designer precursor is not on a list itself, so it has no entry in ``lists/substances.yaml``:
its trade name is rewritten here to the systematic name of its structure, which OPSIN parses
and the structure matchers judge (a family member, or a listed substance one or two
transforms away). Listed substances keep their trade names and abbreviations as data in
``lists/substances.yaml`` ("BMK", "PMK", "P2NP", "Boc-4-AP" …).

Nothing here is fuzzy: a name is rewritten only when it is written exactly as below (case,
spaces and hyphens aside).
"""

from __future__ import annotations

import re

#: Trade names -> systematic name, each with where the trade name is documented.
TRADE_NAMES: dict[str, tuple[str, str]] = {
    # 1-(3,4-methylenedioxyphenyl)-2-nitropropene, the PMK analogue of P2NP (reduced and
    # hydrolysed to PMK): UNODC/INCB precursor reports on MDMA pre-precursors
    "mdp2np": ("5-(2-nitroprop-1-en-1-yl)-2H-1,3-benzodioxole", "INCB precursors report"),
    "mdp-2-np": ("5-(2-nitroprop-1-en-1-yl)-2H-1,3-benzodioxole", "INCB precursors report"),
    "3,4-mdp-2-np": ("5-(2-nitroprop-1-en-1-yl)-2H-1,3-benzodioxole", "INCB precursors report"),
}

#: "BMK <alkyl> glycidate" and "PMK <alkyl> glycidate": an ester of BMK (P-2-P methyl) or PMK
#: (3,4-MDP-2-P methyl) glycidic acid with that alcohol. Commission Delegated Regulation (EU)
#: 2024/1331 lists seven esters of BMK glycidic acid and six of PMK glycidic acid under these
#: names; DEA FR Doc 2026-06523 designates BMK glycidic acid "and its esters".
_GLYCIDATE = re.compile(
    r"^(?P<parent>bmk|p-?2-?p|pmk|3,4-mdp-2-p|mdp-?2-?p)\s+(?:methyl\s+)?"
    r"(?P<alkyl>[a-z][a-z-]*?)\s+glycidate$",
    re.IGNORECASE,
)
_GLYCIDIC_ACID = {
    "bmk": "2-methyl-3-phenyloxirane-2-carboxylate",
    "pmk": "3-(2H-1,3-benzodioxol-5-yl)-2-methyloxirane-2-carboxylate",
}
#: The alcohols of those esters, as the prefixes of a systematic ester name.
_ALKYLS = frozenset(
    {
        "methyl",
        "ethyl",
        "propyl",
        "n-propyl",
        "isopropyl",
        "butyl",
        "n-butyl",
        "isobutyl",
        "sec-butyl",
        "tert-butyl",
        "pentyl",
        "isopentyl",
        "hexyl",
        "benzyl",
        "phenyl",
    }
)
_SPACES = re.compile(r"\s+")


def systematic_for_trade_name(name: str) -> str:
    """The systematic name a trade name stands for ('' when it is none of these)."""
    text = _SPACES.sub(" ", name.strip()).lower()
    hit = TRADE_NAMES.get(text.replace(" ", ""))
    if hit is not None:
        return hit[0]
    m = _GLYCIDATE.match(text)
    if m is None or m.group("alkyl") not in _ALKYLS:
        return ""
    parent = "pmk" if "mdp" in m.group("parent").lower() or m.group("parent") == "pmk" else "bmk"
    return f"{m.group('alkyl')} {_GLYCIDIC_ACID[parent]}"
