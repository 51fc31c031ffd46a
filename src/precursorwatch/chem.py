"""The only module that imports RDKit: parse, standardise, identity layers, fingerprints.

Functions are pure: inputs are never mutated, a parse failure returns ``None`` (with the reason
available through :func:`parse_smiles`), and RDKit's C++ log is silenced per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.MolStandardize import rdMolStandardize


@contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's C++ log for the duration of a call (it writes to stderr otherwise)."""
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")  # type: ignore[attr-defined]


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str]:
    """Parse ``smiles``; return ``(mol, "")`` or ``(None, reason)`` — never raises."""
    if not smiles or not smiles.strip():
        return None, "empty SMILES"
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        return None, f"RDKit cannot parse SMILES {_shown(smiles)}"
    return mol, ""


def _shown(smiles: str) -> str:
    """``smiles`` quoted for a message, cut after 60 characters (user text can be megabytes)."""
    text = smiles.strip()
    return repr(text) if len(text) <= 60 else repr(text[:60]) + f"... ({len(text):,} characters)"


def inchikey_from_smiles(smiles: str) -> str | None:
    """The standard InChIKey of ``smiles``, or ``None`` when it does not parse."""
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return None
    with quiet_rdkit():
        key = Chem.MolToInchiKey(mol)
    return key or None


# --- standardisation and identity layers ------------------------------------------------------

#: Declared structures larger than this are not standardised (pathological input guard).
MAX_HEAVY_ATOMS = 200
#: SMILES longer than this are refused before parsing: RDKit's sanitisation (ring perception,
#: aromaticity) takes seconds on a 27,000-character SMILES of 3,000 benzene rings, while a
#: structure within :data:`MAX_HEAVY_ATOMS` needs far fewer than 20 characters per atom.
MAX_SMILES_CHARS = 20 * MAX_HEAVY_ATOMS


@dataclass(frozen=True, slots=True)
class Identity:
    """Identity layers of a declared structure, computed once (after RDKit RegistrationHash).

    ``parent_smiles`` is the standardised parent: largest organic fragment, neutralised, stereo
    kept. ``inchikey`` is the parent's full InChIKey, ``skeleton`` its first block
    (connectivity: stereo- and isotope-insensitive). ``n_fragments`` > 1 means a salt or
    hydrate was declared; ``declared_inchikey`` is the key of the whole declared structure.
    """

    parent_smiles: str
    inchikey: str
    skeleton: str
    declared_inchikey: str
    n_fragments: int
    heavy_atoms: int


_CHOOSER = None
_UNCHARGER = None


def _standardisers() -> tuple[Any, Any]:
    global _CHOOSER, _UNCHARGER
    if _CHOOSER is None:
        _CHOOSER = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
        _UNCHARGER = rdMolStandardize.Uncharger()
    return _CHOOSER, _UNCHARGER


def parent_mol(mol: Chem.Mol) -> Chem.Mol:
    """The standardised parent of ``mol`` (a new molecule; ``mol`` is not changed).

    Largest organic fragment, then neutralised. Tautomers are NOT canonicalised here: at 6 ms
    per molecule on average (PERFORMANCE.md) it would dominate a screening; matching compares
    InChIKeys, whose standard layers already merge mobile-H tautomers.
    """
    chooser, uncharger = _standardisers()
    with quiet_rdkit():
        frag = chooser.choose(Chem.Mol(mol))
        return uncharger.uncharge(frag)


@lru_cache(maxsize=65_536)
def identity(smiles: str) -> tuple[Identity | None, str]:
    """Identity layers of ``smiles``; ``(None, reason)`` when it cannot be parsed or is too big.

    Size is checked before the expensive work: a SMILES over :data:`MAX_SMILES_CHARS`
    characters is not parsed, and the heavy atoms are counted on the unsanitised parse (linear
    time) so that a structure over :data:`MAX_HEAVY_ATOMS` never reaches ring perception.
    """
    text = smiles.strip() if smiles else ""
    if len(text) > MAX_SMILES_CHARS:
        return None, (
            f"SMILES of {len(text):,} characters (limit {MAX_SMILES_CHARS:,}); not compared"
        )
    with quiet_rdkit():
        raw = Chem.MolFromSmiles(text, sanitize=False) if text else None
    if raw is not None and raw.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        heavy = raw.GetNumHeavyAtoms()
        return None, f"structure has {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS}); not compared"
    mol, reason = parse_smiles(smiles)
    if mol is None:
        return None, reason
    heavy = mol.GetNumHeavyAtoms()
    if heavy > MAX_HEAVY_ATOMS:
        return None, f"structure has {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS}); not compared"
    with quiet_rdkit():
        n_frag = len(Chem.GetMolFrags(mol))
        charged = any(a.GetFormalCharge() for a in mol.GetAtoms())
        parent = parent_mol(mol)
        key = Chem.MolToInchiKey(parent) or ""
        # One neutral fragment is its own parent: its InChIKey is not computed twice.
        declared_key = key if n_frag == 1 and not charged else Chem.MolToInchiKey(mol) or ""
        parent_smiles = Chem.MolToSmiles(parent)
    if not key:
        return None, f"no InChIKey for {_shown(smiles)}"
    return Identity(parent_smiles, key, key.split("-")[0], declared_key, n_frag, heavy), ""


def heavy_composition(mol: Chem.Mol) -> str:
    """Element counts of the heavy atoms ('C9O1'): equal for a molecule and its neutral parent.

    A cheap gate before InChIKeys: two structures with different compositions cannot be the
    same substance, whatever their charge or hydrogens.
    """
    counts: dict[str, int] = {}
    for atom in mol.GetAtoms():
        symbol = atom.GetSymbol()
        if symbol != "H":
            counts[symbol] = counts.get(symbol, 0) + 1
    return "".join(f"{s}{n}" for s, n in sorted(counts.items()))


def composition_of(smiles: str) -> str:
    """:func:`heavy_composition` of a SMILES ('' when it does not parse)."""
    mol, _ = parse_smiles(smiles)
    return heavy_composition(mol) if mol is not None else ""


# --- patterns and fingerprints ----------------------------------------------------------------


@lru_cache(maxsize=4096)
def compile_smarts(smarts: str) -> Chem.Mol | None:
    """A compiled SMARTS pattern, or ``None`` when it does not parse."""
    with quiet_rdkit():
        return Chem.MolFromSmarts(smarts)


def smarts_error(smarts: str) -> str:
    """``""`` when ``smarts`` compiles, otherwise why it does not (family entries use SMARTS)."""
    if not smarts or not smarts.strip():
        return "empty SMARTS"
    if compile_smarts(smarts.strip()) is None:
        return f"RDKit cannot compile SMARTS {smarts!r}"
    return ""


def smiles_matches_smarts(smiles: str, smarts: str, *, parent: bool = False) -> bool | None:
    """Whether ``smiles`` (or, with ``parent``, its standardised parent) contains ``smarts``.

    ``None`` when the SMILES does not parse or the SMARTS does not compile. Stereochemistry is
    ignored (RDKit's default), so every stereoisomer of a family member matches.
    """
    mol, _ = parse_smiles(smiles)
    pattern = compile_smarts(smarts.strip()) if smarts else None
    if mol is None or pattern is None:
        return None
    with quiet_rdkit():
        return bool((parent_mol(mol) if parent else mol).HasSubstructMatch(pattern))


@lru_cache(maxsize=65_536)
def substructure_flags(parent_smiles: str, patterns: tuple[str, ...]) -> tuple[bool, ...]:
    """For each SMARTS of ``patterns``, whether the (already standardised) parent contains it.

    The parent is parsed once for all patterns; all False when it does not parse.
    """
    mol, _ = parse_smiles(parent_smiles)
    if mol is None:
        return tuple(False for _ in patterns)
    flags = []
    with quiet_rdkit():
        for smarts in patterns:
            pattern = compile_smarts(smarts)
            flags.append(pattern is not None and bool(mol.HasSubstructMatch(pattern)))
    return tuple(flags)


_MORGAN = None


def morgan_fingerprint(smiles: str) -> Any | None:
    """Morgan (ECFP4-like, radius 2, 2048 bits) fingerprint of the parent; None on bad input."""
    global _MORGAN
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return None
    if _MORGAN is None:
        _MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    with quiet_rdkit():
        return _MORGAN.GetFingerprint(parent_mol(mol))


def tanimoto_many(fp: Any, others: list[Any]) -> list[float]:
    """Tanimoto similarity of ``fp`` to each of ``others`` (RDKit bulk routine)."""
    return list(DataStructs.BulkTanimotoSimilarity(fp, others)) if others else []
