"""SVG pictures of structures with RDKit: one substance, or a declared structure beside the
listed substance it leads to, with their common substructure highlighted.

Pure functions returning SVG text (no files). Every call is bounded: only the largest
fragments up to :data:`MAX_DEPICT_ATOMS` heavy atoms (at most :data:`MAX_DEPICT_FRAGMENTS` of
them) are drawn, CoordGen's layout is used only for small molecules with few rings (its
layout of fused cages grows without limit: 12 linked Si8 cubanes took 2.8 GB and 9 s, then
raised), the common-substructure search has :data:`PAIR_MCS_TIMEOUT_S` seconds and is
skipped past :data:`MCS_MAX_ATOMS`. A structure that cannot be parsed or drawn gives a
placeholder panel saying why, so a report never breaks on one line. Every picture says what
it shows to a screen reader (``role="img"``, an ``aria-label`` and a ``<title>``).
"""

from __future__ import annotations

import re
from html import escape

from rdkit import Chem
from rdkit.Chem import rdCoordGen, rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

from precursorwatch.chem.molecule import MAX_SMILES_CHARS, parse_smiles, quiet_rdkit
from precursorwatch.chem.similarity import common_part

#: Highlight colour of the common part (RGB, 0-1): a soft orange, visible in print too.
HIGHLIGHT = (1.0, 0.6, 0.2)
#: Heavy atoms drawn in one panel at most (the listed precursors have under 45).
MAX_DEPICT_ATOMS = 100
#: Fragments drawn in one panel at most (the largest first).
MAX_DEPICT_FRAGMENTS = 3
#: CoordGen lays out only molecules this small with this few rings (SSSR); others get
#: RDKit's own depictor, which stays fast on cages and macrocycles.
COORDGEN_MAX_ATOMS = 60
COORDGEN_MAX_RINGS = 8
#: Seconds the common-substructure search behind a highlight may take, and the size past
#: which no highlight is searched.
PAIR_MCS_TIMEOUT_S = 0.25
MCS_MAX_ATOMS = 60


def drawable(mol: Chem.Mol) -> tuple[Chem.Mol | None, str]:
    """The part of ``mol`` to draw and a note on what was left out ('' when nothing was).

    The largest fragments are kept while their heavy atoms stay within
    :data:`MAX_DEPICT_ATOMS` (a fragment over it is skipped); None when none fits.
    """
    frags = sorted(
        Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False),
        key=lambda f: -f.GetNumHeavyAtoms(),
    )
    chosen: list[Chem.Mol] = []
    total = 0
    for frag in frags:
        n = frag.GetNumHeavyAtoms()
        if total + n > MAX_DEPICT_ATOMS or len(chosen) == MAX_DEPICT_FRAGMENTS:
            continue
        chosen.append(frag)
        total += n
    if not chosen:
        return None, f"not drawn: over {MAX_DEPICT_ATOMS} heavy atoms"
    part = chosen[0]
    for frag in chosen[1:]:
        part = Chem.CombineMols(part, frag)
    note = "" if len(chosen) == len(frags) else "largest fragments only"
    return part, note


def _coordinates(mol: Chem.Mol) -> None:
    rings = mol.GetRingInfo().NumRings()
    if mol.GetNumHeavyAtoms() <= COORDGEN_MAX_ATOMS and rings <= COORDGEN_MAX_RINGS:
        rdCoordGen.AddCoords(mol)
    else:
        rdDepictor.Compute2DCoords(mol)


def _prepared(smiles: str) -> tuple[Chem.Mol | None, str]:
    """The molecule to draw, with 2D coordinates, and a note; None with the reason when
    it cannot be parsed, is over the limits or cannot be laid out."""
    if len(smiles) > MAX_SMILES_CHARS:  # refused before parsing, as the screening does
        return None, f"not drawn: SMILES over {MAX_SMILES_CHARS:,} characters"
    mol, why = parse_smiles(smiles)
    if mol is None:
        return None, "not drawn: " + (why or "unreadable structure")
    part, note = drawable(mol)
    if part is None:
        return None, note
    try:
        with quiet_rdkit():
            part = Chem.Mol(part)
            _coordinates(part)
    except (RuntimeError, ValueError):
        return None, "not drawn: no layout found"
    return part, note


_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def labelled(svg: str, label: str) -> str:
    """``svg`` with ``role="img"``, ``aria-label`` and a ``<title>`` saying ``label`` (escaped),
    so the picture has a text alternative inline in HTML and opened alone; unchanged when it
    has no ``<svg>`` tag or already carries a role."""
    found = _SVG_OPEN.search(svg)
    if found is None or "role=" in found.group(0):
        return svg
    text = escape(" ".join(label.split())[:200], quote=True)
    text = text.encode("ascii", "xmlcharrefreplace").decode("ascii")  # any declared encoding
    tag = found.group(0)[:-1] + f' role="img" aria-label="{text}">'
    return f"{svg[: found.start()]}{tag}<title>{text}</title>{svg[found.end() :]}"


def _legend(legend: str, note: str) -> str:
    return f"{legend} ({note})" if note and legend else legend or note


def placeholder(legend: str, note: str, *, width: int = 320, height: int = 240) -> str:
    """A panel with the legend and why no structure is drawn (both escaped)."""
    label = f"No structure picture of {legend}: {note}" if legend else note
    return labelled(
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}px' height='{height}px' "
        f"viewBox='0 0 {width} {height}'><rect width='100%' height='100%' fill='#FFFFFF' "
        "stroke='#CCCCCC'/><text x='50%' y='45%' text-anchor='middle' font-family='sans-serif' "
        f"font-size='13' fill='#555555'>{escape(note[:80])}</text><text x='50%' y='92%' "
        f"text-anchor='middle' font-family='sans-serif' font-size='12'>{escape(legend[:60])}"
        "</text></svg>",
        label,
    )


def depict(smiles: str, *, legend: str = "", width: int = 320, height: int = 240) -> str:
    """SVG text of one structure; a placeholder saying why when it cannot be drawn."""
    mol, note = _prepared(smiles)
    if mol is None:
        return placeholder(legend, note, width=width, height=height)
    try:
        drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
        with quiet_rdkit():
            drawer.DrawMolecule(mol, legend=_legend(legend, note))
            drawer.FinishDrawing()
        return labelled(
            str(drawer.GetDrawingText()), f"Structure picture of {legend or 'a substance'}"
        )
    except (RuntimeError, ValueError):
        return placeholder(legend, "not drawn: drawing failed", width=width, height=height)


def depict_pair(
    declared_smiles: str,
    listed_smiles: str,
    *,
    declared_legend: str = "declared",
    listed_legend: str = "listed",
    panel: tuple[int, int] = (320, 260),
) -> str:
    """SVG text of the declared structure (left) beside the listed substance (right).

    The maximum common substructure is highlighted in both when both are small enough and
    the search finishes in time; otherwise the two are drawn without highlight, and a side
    that cannot be drawn is a placeholder panel.
    """
    (a, note_a), (b, note_b) = _prepared(declared_smiles), _prepared(listed_smiles)
    w, h = panel
    # a side that cannot be drawn is an empty panel whose legend says why
    a = Chem.Mol() if a is None else a
    b = Chem.Mol() if b is None else b
    atoms_a: list[int] = []
    atoms_b: list[int] = []
    if 0 < a.GetNumHeavyAtoms() <= MCS_MAX_ATOMS and 0 < b.GetNumHeavyAtoms() <= MCS_MAX_ATOMS:
        common = common_part(a, b, timeout_s=PAIR_MCS_TIMEOUT_S)
        atoms_a, atoms_b = list(common.atoms_a), list(common.atoms_b)
    bonds_a = _bonds_between(a, atoms_a)
    bonds_b = _bonds_between(b, atoms_b)
    try:
        drawer = rdMolDraw2D.MolDraw2DSVG(2 * w, h, w, h)
        with quiet_rdkit():
            drawer.DrawMolecules(
                [a, b],
                highlightAtoms=[atoms_a, atoms_b],
                highlightBonds=[bonds_a, bonds_b],
                highlightAtomColors=[
                    {i: HIGHLIGHT for i in atoms_a},
                    {i: HIGHLIGHT for i in atoms_b},
                ],
                highlightBondColors=[
                    {i: HIGHLIGHT for i in bonds_a},
                    {i: HIGHLIGHT for i in bonds_b},
                ],
                legends=[_legend(declared_legend, note_a), _legend(listed_legend, note_b)],
            )
            drawer.FinishDrawing()
        shared = "; the part they share is highlighted" if atoms_a else ""
        label = (
            f"Structure pictures: {declared_legend} structure (left) beside {listed_legend} (right)"
            f"{shared}"
        )
        return labelled(str(drawer.GetDrawingText()), label)
    except (RuntimeError, ValueError):
        return placeholder(
            f"{declared_legend} / {listed_legend}", "not drawn: drawing failed", width=2 * w
        )


def _bonds_between(mol: Chem.Mol, atoms: list[int]) -> list[int]:
    chosen = set(atoms)
    return [
        b.GetIdx()
        for b in mol.GetBonds()
        if b.GetBeginAtomIdx() in chosen and b.GetEndAtomIdx() in chosen
    ]
