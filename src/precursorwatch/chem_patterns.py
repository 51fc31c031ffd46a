"""Substructure patterns (SMARTS) of family list entries: compile them and test structures.

A family entry ("esters of BMK glycidic acid", "4-anilinopiperidine, its amides, carbamates,
halides and salts") names its members by a SMARTS pattern: any structure containing the
pattern is a member. This module is, with :mod:`precursorwatch.chem`, the only one that
imports RDKit; it reuses chem's parser and log silencing. Functions are pure and never raise on
bad input: they return ``None`` or a reason instead.
"""

from __future__ import annotations

from functools import lru_cache

from rdkit import Chem

from precursorwatch.chem import parse_smiles, quiet_rdkit


@lru_cache(maxsize=512)
def _compiled(smarts: str) -> Chem.Mol | None:
    """The compiled pattern, or ``None`` when RDKit cannot read it (cached: patterns repeat)."""
    with quiet_rdkit():
        return Chem.MolFromSmarts(smarts)


def smarts_error(smarts: str) -> str:
    """``""`` when ``smarts`` compiles, otherwise why it does not."""
    if not smarts or not smarts.strip():
        return "empty SMARTS"
    if _compiled(smarts.strip()) is None:
        return f"RDKit cannot compile SMARTS {smarts!r}"
    return ""


def mol_matches_smarts(mol: Chem.Mol, smarts: str) -> bool | None:
    """Whether ``mol`` contains the pattern; ``None`` when the pattern does not compile.

    Stereochemistry is ignored (RDKit's default), so every stereoisomer of a member matches.
    """
    pattern = _compiled(smarts.strip()) if smarts else None
    if pattern is None:
        return None
    with quiet_rdkit():
        return bool(mol.HasSubstructMatch(pattern))


def smiles_matches_smarts(smiles: str, smarts: str) -> bool | None:
    """Whether the structure ``smiles`` contains the pattern ``smarts``.

    Returns ``None`` when either the SMILES does not parse or the SMARTS does not compile.
    """
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return None
    return mol_matches_smarts(mol, smarts)
