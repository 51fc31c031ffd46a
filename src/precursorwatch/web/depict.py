"""Structure pictures for the pages and reports: which hits get one, and the SVG to inline.

Drawing is :mod:`precursorwatch.chem.depict`'s job; this module only picks the two structures
(the declared one, from the line's SMILES or from what its name resolved to, and the listed
substance's) and makes the SVG safe to inline in an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.models import DeclarationLine, LineResult, Substance

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*", re.S)
_UNSAFE = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.I)


def inline_svg(svg: str) -> str:
    """SVG text fit to inline in HTML: the XML declaration dropped; '' when it holds anything
    scriptable (never expected from RDKit, refused all the same)."""
    body = _XML_DECL.sub("", svg)
    return "" if _UNSAFE.search(body) else body


def hit_svg(line: DeclarationLine, result: LineResult, substances: Mapping[str, Substance]) -> str:
    """Inline SVG for a structure-based hit: the declared structure beside the listed one,
    common part highlighted; the listed one alone when the declared structure is unknown;
    '' for other hits and for substances without a structure (or hidden ones)."""
    if result.match_type not in STRUCTURE_TYPES or not result.matched_key:
        return ""
    listed = substances.get(result.matched_key)
    if listed is None or not listed.smiles:
        return ""
    from precursorwatch.chem.depict import depict, depict_pair

    declared = next(
        (
            e.structure
            for e in result.evidence
            if e.kind in STRUCTURE_TYPES and e.substance_key == result.matched_key and e.structure
        ),
        line.smiles,
    )
    if declared:
        return inline_svg(depict_pair(declared, listed.smiles, listed_legend=listed.name))
    return inline_svg(depict(listed.smiles, legend=listed.name))


def substance_svg(substance: Substance) -> str:
    """SVG text of a listed substance ('' for inorganics, which have no structure)."""
    if not substance.smiles:
        return ""
    from precursorwatch.chem.depict import depict

    return depict(substance.smiles, legend=substance.name)
