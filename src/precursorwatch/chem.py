"""The only module that imports RDKit: parse, standardise, identity layers, fingerprints.

Functions are pure: inputs are never mutated, a parse failure returns ``None`` (with the reason
available through :func:`parse_smiles`), and RDKit's C++ log is silenced per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rdkit import Chem, RDLogger


@contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's C++ log for the duration of a call (it writes to stderr otherwise)."""
    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str]:
    """Parse ``smiles``; return ``(mol, "")`` or ``(None, reason)`` — never raises."""
    if not smiles or not smiles.strip():
        return None, "empty SMILES"
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        return None, f"RDKit cannot parse SMILES {smiles!r}"
    return mol, ""


def inchikey_from_smiles(smiles: str) -> str | None:
    """The standard InChIKey of ``smiles``, or ``None`` when it does not parse."""
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return None
    with quiet_rdkit():
        key = Chem.MolToInchiKey(mol)
    return key or None
