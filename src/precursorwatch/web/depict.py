"""Structure pictures for the pages and reports: which hits get one, and the SVG to inline.

Drawing is :mod:`precursorwatch.chem_depict`'s job; this module only picks the two structures
(the declared one, from the line's SMILES or from what its name resolved to, and the listed
substance's) and makes the SVG safe to inline in an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from precursorwatch.models import DeclarationLine, LineResult, Substance

#: Match types that rest on a structure, and so get a picture.
STRUCTURE_TYPES: frozenset[str] = frozenset(
    {"structure-identical", "structure-parent", "derivative", "similar"}
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*", re.S)
_UNSAFE = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.I)


def inline_svg(svg: str) -> str:
    """SVG text fit to inline in HTML: the XML declaration dropped; '' when it holds anything
    scriptable (never expected from RDKit, refused all the same)."""
    body = _XML_DECL.sub("", svg)
    return "" if _UNSAFE.search(body) else body


def resolved_smiles(
    description: str, component: str, resolutions: Mapping[str, Mapping[str, Any]]
) -> str:
    """The structure a description's component resolved to (from the screener's stored
    resolutions), or '' when none is known."""
    data = resolutions.get(description)
    if not data:
        return ""
    comps: Sequence[Mapping[str, Any]] = data.get("components") or ()
    for comp in comps:
        if comp.get("smiles") and (not component or comp.get("name") == component):
            return str(comp["smiles"])
    for comp in comps:
        if comp.get("smiles"):
            return str(comp["smiles"])
    return ""


def hit_svg(
    line: DeclarationLine,
    result: LineResult,
    substances: Mapping[str, Substance],
    resolutions: Mapping[str, Mapping[str, Any]],
) -> str:
    """Inline SVG for a structure-based hit: the declared structure beside the listed one,
    common part highlighted; the listed one alone when the declared structure is unknown;
    '' for other hits and for substances without a structure (or hidden ones)."""
    if result.match_type not in STRUCTURE_TYPES or not result.matched_key:
        return ""
    listed = substances.get(result.matched_key)
    if listed is None or not listed.smiles:
        return ""
    from precursorwatch.chem_depict import depict, depict_pair

    declared = line.smiles
    if not declared:
        component = next(
            (
                e.component
                for e in result.evidence
                if e.kind in STRUCTURE_TYPES and e.substance_key == result.matched_key
            ),
            "",
        )
        declared = resolved_smiles(line.description, component, resolutions)
    if declared:
        return inline_svg(depict_pair(declared, listed.smiles, listed_legend=listed.name))
    return inline_svg(depict(listed.smiles, legend=listed.name))


def substance_svg(substance: Substance) -> str:
    """SVG text of a listed substance ('' for inorganics, which have no structure)."""
    if not substance.smiles:
        return ""
    from precursorwatch.chem_depict import depict

    return depict(substance.smiles, legend=substance.name)
