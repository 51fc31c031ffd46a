"""The only module that imports RDKit: parse, standardise, identity layers, fingerprints.

Functions are pure: inputs are never mutated, a parse failure returns ``None`` (with the reason
available through :func:`parse_smiles`), and RDKit's C++ log is silenced per call.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import rdkit
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator, rdMolDescriptors
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


#: InChI strings longer than this are refused before parsing (as SMILES are: user text can
#: be megabytes; an InChI of :data:`MAX_HEAVY_ATOMS` atoms needs far fewer characters).
MAX_INCHI_CHARS = 20 * 200


def smiles_from_inchi(inchi: str) -> tuple[str | None, str]:
    """The canonical SMILES of a (standard or non-standard) InChI, and ``''``; or ``None``
    and why it cannot be read (truncated, a broken layer, no atoms). Never raises."""
    text = inchi.strip()
    if not text.startswith("InChI="):
        return None, "not an InChI (it must start with 'InChI=')"
    if len(text) > MAX_INCHI_CHARS:
        return None, f"InChI of {len(text):,} characters (limit {MAX_INCHI_CHARS:,})"
    heavy = _inchi_heavy_atoms(text)
    if heavy > MAX_HEAVY_ATOMS:  # "InChI=1S/999C6H6/..." is short text for many atoms
        return None, f"its formula has {heavy:,} heavy atoms (limit {MAX_HEAVY_ATOMS})"
    with quiet_rdkit():
        try:
            mol = Chem.MolFromInchi(text, sanitize=True, removeHs=True)
        except Exception:
            mol = None
        if mol is None or mol.GetNumAtoms() == 0:
            return None, "it cannot be read (it is cut short, or a layer is broken)"
        smiles = Chem.MolToSmiles(mol)
    return (smiles, "") if smiles else (None, "it gives no structure")


#: An element and its count in an InChI's formula layer ("C9", "H10", "Cl").
_FORMULA_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")


def _inchi_heavy_atoms(inchi: str) -> int:
    """Heavy atoms the formula layer of ``inchi`` declares (copies counted, "2C6H6" is 12),
    read before RDKit parses it; 0 when there is no formula layer (RDKit then refuses it)."""
    parts = inchi.split("/", 2)
    if len(parts) < 2:
        return 0
    total = 0
    for component in parts[1].split("."):
        formula = component.lstrip("0123456789")
        copies = component[: len(component) - len(formula)]
        atoms = sum(
            int(n or 1)
            for el, n in _FORMULA_ELEMENT.findall(formula[:MAX_INCHI_CHARS])
            if el != "H"
        )
        total += int(copies[:9] or 1) * atoms
    return total


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


class Identity:
    """Identity layers of a declared structure, computed once (after RDKit RegistrationHash).

    ``parent`` is the standardised parent molecule: largest organic fragment, neutralised,
    stereo kept; ``parent_smiles`` its canonical SMILES. ``inchikey`` is the parent's full
    InChIKey, ``skeleton`` its first block (connectivity: stereo- and isotope-insensitive).
    ``n_fragments`` > 1 means a salt or hydrate was declared; ``declared_inchikey`` is the key
    of the whole declared structure. ``composition`` is the parent's heavy-atom element count
    (:func:`heavy_composition`).

    The parse and the parent are computed at once; the canonical SMILES and the InChIKeys
    (most of a structure's cost) only when first asked for. Structures
    with different compositions cannot share an InChIKey or a connectivity block, so the
    matchers compare ``composition`` with the listed ones first and most structures never
    need an InChIKey. :meth:`memo` keeps other per-structure results (transform products)
    on the same object, so nothing is parsed twice.
    """

    __slots__ = ("_memo", "_own_parent", "_smiles", "composition", "heavy_atoms", "n_fragments")

    def __init__(
        self,
        smiles: str,
        parent: Chem.Mol,
        *,
        own_parent: bool,
        n_fragments: int,
        heavy_atoms: int,
    ) -> None:
        # Only the SMILES is kept, so caches of many identities stay small (a live molecule
        # is large): the last few parents stay live (_LIVE), and one asked for after that
        # (rare) is parsed and standardised again, which costs less overall than keeping
        # every parent in RDKit's binary form (bench/README.md).
        self._smiles = smiles
        #: The declared molecule is its own parent (one neutral fragment).
        self._own_parent = own_parent
        self.n_fragments = n_fragments
        self.heavy_atoms = heavy_atoms
        self.composition = heavy_composition(parent)
        self._memo: dict[str, Any] = {}
        _LIVE.keep(smiles, parent)

    @property
    def parent(self) -> Chem.Mol:
        """The standardised parent molecule (shared: do not modify it)."""
        return _LIVE.get(self._smiles, self._standardised)

    def _declared_mol(self) -> Chem.Mol:
        mol, _ = parse_smiles(self._smiles)
        assert mol is not None, "an Identity's SMILES parsed when it was made"
        return mol

    def _standardised(self) -> Chem.Mol:
        """The parent made again as :func:`identity` made it."""
        mol = self._declared_mol()
        return mol if self._own_parent else parent_mol(mol)

    def memo(self, name: str, compute: Callable[[], _T]) -> _T:
        """``compute()`` the first time ``name`` is asked for, the kept value after that."""
        if name not in self._memo:
            self._memo[name] = compute()
        value: _T = self._memo[name]
        return value

    @property
    def parent_smiles(self) -> str:
        """Canonical SMILES of the standardised parent."""
        return self.memo("parent_smiles", lambda: str(Chem.MolToSmiles(self.parent)))

    @property
    def inchikey(self) -> str:
        """Full standard InChIKey of the parent ('' when InChI cannot represent it)."""
        return self.memo("inchikey", lambda: _inchikey(self.parent))

    @property
    def skeleton(self) -> str:
        """First block of :attr:`inchikey`: the connectivity layer."""
        return self.inchikey.split("-")[0]

    @property
    def declared_inchikey(self) -> str:
        """InChIKey of the whole declared structure (the parent's when it is its own)."""
        if self._own_parent:
            return self.inchikey
        return self.memo("declared_inchikey", lambda: _inchikey(self._declared_mol()))

    def __repr__(self) -> str:
        return f"Identity({self.parent_smiles!r}, n_fragments={self.n_fragments})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its SMILES, counts and computed keys, without molecule or other memos:
        unpickled (a forked worker's structures sent to its parent) it is not parsed again
        until its parent molecule is asked for."""
        keys = {k: v for k, v in self._memo.items() if k in _PORTABLE_MEMOS}
        core = (self._smiles, self._own_parent, self.n_fragments, self.heavy_atoms)
        return _restored_identity, (*core, self.composition, keys)


#: Memos of an :class:`Identity` that travel with it when pickled (short text).
_PORTABLE_MEMOS = frozenset({"parent_smiles", "inchikey", "declared_inchikey"})


def _restored_identity(
    smiles: str,
    own_parent: bool,
    n_fragments: int,
    heavy_atoms: int,
    composition: str,
    memos: dict[str, Any],
) -> Identity:
    """An :class:`Identity` as :meth:`Identity.__reduce__` left it (no molecule parsed)."""
    ident = Identity.__new__(Identity)
    ident._smiles = smiles
    ident._own_parent = own_parent
    ident.n_fragments = n_fragments
    ident.heavy_atoms = heavy_atoms
    ident.composition = composition
    ident._memo = dict(memos)
    return ident


_T = TypeVar("_T")


class _LiveMolecules:
    """The last few parents, by SMILES, so the matchers that look at one structure in turn
    parse it once (a FIFO of :attr:`size` molecules)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._mols: OrderedDict[str, Chem.Mol] = OrderedDict()

    def keep(self, smiles: str, mol: Chem.Mol) -> None:
        if len(self._mols) >= self.size:
            self._mols.popitem(last=False)  # O(1), where a dict's first key is not
        self._mols[smiles] = mol

    def get(self, smiles: str, make: Callable[[], Chem.Mol]) -> Chem.Mol:
        mol = self._mols.get(smiles)
        if mol is None:
            mol = make()
            self.keep(smiles, mol)
        return mol


_LIVE = _LiveMolecules(256)


#: An atom written with a formal charge in SMILES (charges only appear inside brackets).
_CHARGED_ATOM = re.compile(r"\[[^\]]*[+-]")
#: One element of a molecular formula ('Cl2', 'C', 'Na').
_FORMULA_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")


def _inchikey(mol: Chem.Mol) -> str:
    with quiet_rdkit():
        return str(Chem.MolToInchiKey(mol) or "")


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

    Largest organic fragment, then neutralised. Tautomers are NOT canonicalised here: RDKit's
    canonical tautomer costs more than all the rest of a screening (PERFORMANCE.md); matching
    compares InChIKeys, whose standard layers already merge mobile-H tautomers.
    """
    chooser, uncharger = _standardisers()
    with quiet_rdkit():
        if len(Chem.GetMolFrags(mol)) == 1:  # its own largest fragment: only neutralise it
            return uncharger.uncharge(mol)
        # sanitised again: unsanitised copies perceive double-bond stereo differently in a
        # few molecules (1 in the 76,574 structures of the PubChem table)
        frags = Chem.GetMolFrags(mol, asMols=True)
        organic = [f for f in frags if has_carbon(f)]
        sizes = [f.GetNumAtoms(onlyExplicit=False) for f in organic]
        if organic and sizes.count(max(sizes)) == 1:
            # the chooser (organic first, then most atoms with their hydrogens) picks the one
            # organic fragment of a salt, or the one with most atoms: on the PubChem table it
            # does for all 7,399 such salts and all 3,321 such mixtures, at a quarter of the
            # cost (it writes each fragment's SMILES to break ties)
            frag = organic[sizes.index(max(sizes))]
        else:
            frag = chooser.choose(Chem.Mol(mol))
        return uncharger.uncharge(frag)


_CARBON = Chem.MolFromSmarts("[#6]")


def has_carbon(mol: Chem.Mol) -> bool:
    """True when ``mol`` has a carbon atom (an organic fragment; C++, no loop over atoms)."""
    return bool(mol.HasSubstructMatch(_CARBON))


#: Identities kept per process: the structures of about a million manifest lines.
IDENTITY_CACHE_SIZE = 32_768


@lru_cache(maxsize=IDENTITY_CACHE_SIZE)
def identity(smiles: str) -> tuple[Identity | None, str]:
    """Identity layers of ``smiles``; ``(None, reason)`` when it cannot be parsed or is too big.

    Size is checked before the expensive work: a SMILES over :data:`MAX_SMILES_CHARS`
    characters is not parsed, and a SMILES long enough to hold more than
    :data:`MAX_HEAVY_ATOMS` atoms has its heavy atoms counted on an unsanitised parse (linear
    time) so that such a structure never reaches ring perception. A structure InChI cannot
    represent (a dummy atom ``*``) is refused: it could never be matched. A single neutral
    fragment is its own parent (the standardisers are not run on it).
    """
    text = smiles.strip() if smiles else ""
    if len(text) > MAX_SMILES_CHARS:
        return None, (
            f"SMILES of {len(text):,} characters (limit {MAX_SMILES_CHARS:,}); not compared"
        )
    if len(text) > MAX_HEAVY_ATOMS:  # shorter SMILES cannot hold more atoms than characters
        with quiet_rdkit():
            raw = Chem.MolFromSmiles(text, sanitize=False)
        if raw is not None and raw.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
            heavy = raw.GetNumHeavyAtoms()
            return None, (
                f"structure has {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS}); not compared"
            )
    mol, reason = parse_smiles(smiles)
    if mol is None:
        return None, reason
    heavy = mol.GetNumHeavyAtoms()
    if heavy > MAX_HEAVY_ATOMS:
        return None, f"structure has {heavy} heavy atoms (limit {MAX_HEAVY_ATOMS}); not compared"
    if "*" in text:  # a dummy atom: InChI cannot represent it
        return None, f"no InChIKey for {_shown(smiles)}"
    with quiet_rdkit():
        n_frag = len(Chem.GetMolFrags(mol))
        # a formal charge can only be written inside brackets ([N+], [O-], [Fe+2])
        charged = _CHARGED_ATOM.search(text) is not None
        own_parent = n_frag == 1 and not charged
        parent = mol if own_parent else parent_mol(mol)
    return Identity(
        smiles, parent, own_parent=own_parent, n_fragments=n_frag, heavy_atoms=heavy
    ), ""


def same_parent(a: Identity, b: Identity) -> bool:
    """True when two structures have the same standardised parent (equal InChIKeys).

    Compositions are compared first and canonical SMILES next, so InChIKeys are computed only
    for two different SMILES of the same composition (tautomers, for instance).
    """
    if a is b:
        return True
    if a.composition != b.composition:
        return False
    return a.parent_smiles == b.parent_smiles or a.inchikey == b.inchikey != ""


def heavy_composition(mol: Chem.Mol) -> str:
    """Element counts of the heavy atoms ('C9O1'): equal for a molecule and its neutral parent.

    A cheap gate before InChIKeys: two structures with different compositions cannot be the
    same substance, whatever their charge or hydrogens.
    """
    counts: dict[str, int] = {}
    # the molecular formula (C++, isotopes merged) is four times faster than visiting atoms
    for symbol, n in _FORMULA_ELEMENT.findall(rdMolDescriptors.CalcMolFormula(mol)):
        if symbol != "H":
            counts[symbol] = counts.get(symbol, 0) + (int(n) if n else 1)
    return "".join(f"{s}{n}" for s, n in sorted(counts.items()))


#: One element of a composition ('C9', 'Cl1').
_COMPOSITION_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d+)")


def composition_counts(composition: str) -> dict[str, int]:
    """The element counts a :func:`heavy_composition` text writes ('C9O1' -> C: 9, O: 1)."""
    return {symbol: int(n) for symbol, n in _COMPOSITION_ELEMENT.findall(composition)}


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


def substructure_flags(mol: Chem.Mol, patterns: tuple[str, ...]) -> tuple[bool, ...]:
    """For each SMARTS of ``patterns``, whether ``mol`` (a standardised parent) contains it;
    False for a pattern that does not compile."""
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


def rdkit_version() -> str:
    """The version of RDKit in use (results computed by another version may differ)."""
    return str(rdkit.__version__)
