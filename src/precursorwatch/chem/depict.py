"""SVG pictures of structures with RDKit: one substance, or a declared structure beside the
listed substance it leads to, with their common substructure highlighted.

Pure functions returning SVG text (no files). A structure that cannot be parsed is drawn as
an empty panel with its legend, so a report never breaks on one bad SMILES.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

from precursorwatch.chem.molecule import parse_smiles, quiet_rdkit
from precursorwatch.chem.similarity import common_part

#: Highlight colour of the common part (RGB, 0-1): a soft orange, visible in print too.
HIGHLIGHT = (1.0, 0.6, 0.2)


def _prepared(smiles: str) -> Chem.Mol:
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return Chem.Mol()
    with quiet_rdkit():
        mol = Chem.Mol(mol)
        rdDepictor.SetPreferCoordGen(True)
        rdDepictor.Compute2DCoords(mol)
    return mol


def depict(smiles: str, *, legend: str = "", width: int = 320, height: int = 240) -> str:
    """SVG text of one structure (an empty drawing with the legend when it cannot be parsed)."""
    mol = _prepared(smiles)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    with quiet_rdkit():
        drawer.DrawMolecule(mol, legend=legend)
        drawer.FinishDrawing()
    return str(drawer.GetDrawingText())


def depict_pair(
    declared_smiles: str,
    listed_smiles: str,
    *,
    declared_legend: str = "declared",
    listed_legend: str = "listed",
    panel: tuple[int, int] = (320, 260),
) -> str:
    """SVG text of the declared structure (left) beside the listed substance (right).

    The maximum common substructure is highlighted in both. When either structure cannot be
    parsed or nothing is shared, the two are drawn without highlight.
    """
    a, b = _prepared(declared_smiles), _prepared(listed_smiles)
    atoms_a: list[int] = []
    atoms_b: list[int] = []
    if a.GetNumAtoms() and b.GetNumAtoms():
        common = common_part(a, b, timeout_s=2)
        atoms_a, atoms_b = list(common.atoms_a), list(common.atoms_b)
    bonds_a = _bonds_between(a, atoms_a)
    bonds_b = _bonds_between(b, atoms_b)
    w, h = panel
    drawer = rdMolDraw2D.MolDraw2DSVG(2 * w, h, w, h)
    with quiet_rdkit():
        drawer.DrawMolecules(
            [a, b],
            highlightAtoms=[atoms_a, atoms_b],
            highlightBonds=[bonds_a, bonds_b],
            highlightAtomColors=[{i: HIGHLIGHT for i in atoms_a}, {i: HIGHLIGHT for i in atoms_b}],
            highlightBondColors=[{i: HIGHLIGHT for i in bonds_a}, {i: HIGHLIGHT for i in bonds_b}],
            legends=[declared_legend, listed_legend],
        )
        drawer.FinishDrawing()
    return str(drawer.GetDrawingText())


def _bonds_between(mol: Chem.Mol, atoms: list[int]) -> list[int]:
    chosen = set(atoms)
    return [
        b.GetIdx()
        for b in mol.GetBonds()
        if b.GetBeginAtomIdx() in chosen and b.GetEndAtomIdx() in chosen
    ]
