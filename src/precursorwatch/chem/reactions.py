"""Apply the designer-precursor transforms (up to two steps) to a structure, with RDKit.

The transforms are data (:mod:`precursorwatch.chem.transforms`); this module compiles them once,
runs them on a standardised parent, sanitises each product, keeps its largest organic fragment
and dedupes by InChIKey. Work is bounded: molecules over :data:`MAX_HEAVY_ATOMS` heavy atoms
are skipped and each step keeps at most :data:`MAX_PRODUCTS_PER_STEP` products. Like
:mod:`~precursorwatch.chem.molecule`, functions never raise on bad input: they return an
empty result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem
from rdkit.Chem import rdChemReactions
from rdkit.Chem.rdChemReactions import ChemicalReaction

from precursorwatch.chem.molecule import (
    Identity,
    has_carbon,
    heavy_composition,
    identity,
    parse_smiles,
    quiet_rdkit,
)
from precursorwatch.chem.transforms import TRANSFORMS, Transform

#: Structures larger than this are not transformed (bounded work per declared molecule).
MAX_HEAVY_ATOMS = 60
#: At most this many distinct products are kept per step and per input molecule.
MAX_PRODUCTS_PER_STEP = 24
#: RunReactants stops enumerating matches of one template after this many.
_MAX_MATCHES = 12


@dataclass(frozen=True, slots=True)
class Product:
    """A product reached from the declared parent: its structure and the steps that gave it.

    ``steps`` holds transform names in the order applied (one or two); ``heavy_atoms`` is the
    product's heavy-atom count; ``protecting_atoms`` the heavy atoms removed by protecting-group
    steps (Boc, Cbz, benzyl) on the way.
    """

    smiles: str
    composition: str
    steps: tuple[str, ...]
    heavy_atoms: int
    protecting_atoms: int = 0

    @property
    def inchikey(self) -> str:
        """InChIKey of the product's standardised parent (computed on first use, cached)."""
        return _parent_inchikey(self.smiles)


@lru_cache(maxsize=65_536)
def _parent_inchikey(smiles: str) -> str:
    ident, _ = identity(smiles)
    return ident.inchikey if ident is not None else ""


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Transform, ChemicalReaction], ...]:
    """Every transform with its compiled reaction (transforms that fail to compile are left out;
    ``tests/test_transforms.py`` catches those)."""
    out = []
    for t in TRANSFORMS:
        rxn = compile_reaction(t.smarts)
        if rxn is not None:
            out.append((t, rxn))
    return tuple(out)


def compile_reaction(smarts: str) -> ChemicalReaction | None:
    """The compiled, validated reaction for ``smarts``; ``None`` when it does not parse."""
    with quiet_rdkit():
        try:
            rxn = rdChemReactions.ReactionFromSmarts(smarts)
        except ValueError:
            return None
        if rxn is None or rxn.GetNumReactantTemplates() != 1:
            return None
        rxn.Initialize()
        _warnings, n_err = rxn.Validate(silent=True)
        return None if n_err else rxn


#: Every protecting-group step (Boc, carbamate, N-benzyl) removes a group that contains one
#: of these (looser) patterns, and a group matching neither cannot appear after a step:
#: steps make no bond and add no atom but terminal oxygens (OH, =O), so an N-C-O-C chain
#: (oxygen between two carbons) or an N-C-phenyl on a product was on the declared molecule
#: too. Without them, no path removes protecting atoms (see :func:`may_lose_protecting_group`).
_PROTECTING_SITES = (
    "[#7]~[#6]~[#8]~[#6]",
    "[#7]~[#6]~[#6]1~[#6]~[#6]~[#6]~[#6]~[#6]~1",
)


@lru_cache(maxsize=1)
def _protecting_sites() -> tuple[Chem.Mol, ...]:
    return tuple(Chem.MolFromSmarts(s) for s in _PROTECTING_SITES)


def may_lose_protecting_group(mol: Chem.Mol) -> bool:
    """False when no path of up to two transforms on ``mol`` can take off a protecting group,
    so every product keeps its share of ``mol`` undiminished by them."""
    return any(mol.HasSubstructMatch(site) for site in _protecting_sites())


def kept_core(mol: Chem.Mol) -> str:
    """SMARTS of what any product of ``mol`` keeps of it: the largest connected part of its
    atoms other than terminal oxygens (at most one heavy neighbour), atoms by element only,
    bonds of any order.

    The transforms make no bond and add no atom except oxygens on a carbon
    (``tests/test_transforms.py`` checks each one), so an added oxygen stays terminal through
    every later step, and an oxygen between two heavy atoms of a product (an ester's or an
    anhydride's) was on the declared molecule with those bonds. So a listed product's own
    kept core is part of the declared molecule: a molecule without it cannot reach that
    product. ``""`` when ``mol`` has only terminal oxygens.
    """
    keep = [a.GetIdx() for a in mol.GetAtoms() if not _terminal_oxygen(a)]
    if not keep:
        return ""
    symbols = [f"[#{a.GetAtomicNum()}]" for a in mol.GetAtoms()]
    smarts = Chem.MolFragmentToSmiles(
        mol,
        atomsToUse=keep,
        atomSymbols=symbols,
        bondSymbols=["~"] * mol.GetNumBonds(),
        isomericSmiles=False,
    )
    return max(smarts.split("."), key=lambda part: part.count("[#"))


def _terminal_oxygen(atom: Chem.Atom) -> bool:
    """An oxygen with at most one heavy neighbour (=O, -OH, an ion's -O-)."""
    if atom.GetAtomicNum() != 8:
        return False
    return sum(1 for n in atom.GetNeighbors() if n.GetAtomicNum() > 1) <= 1


def _largest_organic(mol: Chem.Mol) -> Chem.Mol | None:
    """Sanitise a raw product (in place: RunReactants made it for us) and keep its largest
    carbon-containing fragment (None if none)."""
    try:
        Chem.SanitizeMol(mol)
    except (ValueError, RuntimeError):
        return None
    if len(Chem.GetMolFrags(mol)) == 1:  # most products: no fragment copies to make
        return mol if has_carbon(mol) else None
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    organic = [f for f in frags if has_carbon(f)]
    if not organic:
        return None
    return max(organic, key=lambda f: f.GetNumHeavyAtoms())


def _one_step(mol: Chem.Mol) -> list[tuple[Transform, Chem.Mol, str]]:
    """(transform, product, product canonical SMILES) for every transform that applies once."""
    found: dict[str, tuple[Transform, Chem.Mol, str]] = {}
    for transform, rxn in _compiled():
        if not rxn.IsMoleculeReactant(mol):
            continue
        for products in rxn.RunReactants((mol,), _MAX_MATCHES):
            best: Chem.Mol | None = None
            for raw in products:
                cand = _largest_organic(raw)
                if cand is not None and (
                    best is None or cand.GetNumHeavyAtoms() > best.GetNumHeavyAtoms()
                ):
                    best = cand
            if best is None:
                continue
            key = Chem.MolToSmiles(best)
            if key and key not in found:
                found[key] = (transform, best, key)
            if len(found) >= MAX_PRODUCTS_PER_STEP:
                return list(found.values())
    return list(found.values())


def transform_mol(mol: Chem.Mol, *, max_steps: int = 2) -> list[Product]:
    """Products of up to ``max_steps`` transforms applied to ``mol`` (not changed).

    The first path found to a product names it (one-step paths before two-step ones); the
    molecule itself is never returned as its own product. Returns ``[]`` for molecules over
    :data:`MAX_HEAVY_ATOMS` heavy atoms or when nothing applies.
    """
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        return []
    with quiet_rdkit():
        seen: set[str] = set()
        start_key = ""  # the molecule's own SMILES, made only once a product needs comparing
        # RunReactants and IsMoleculeReactant only read the molecule: no copy is needed
        frontier: list[tuple[Chem.Mol, tuple[str, ...], int]] = [(mol, (), 0)]
        out: list[Product] = []
        for _ in range(max_steps):
            nxt: list[tuple[Chem.Mol, tuple[str, ...], int]] = []
            for current, steps, protecting in frontier:
                for transform, product, key in _one_step(current):
                    if not start_key:
                        start_key = Chem.MolToSmiles(mol)
                        seen.add(start_key)
                    if key in seen:
                        continue
                    seen.add(key)
                    path = (*steps, transform.name)
                    n_atoms = int(product.GetNumHeavyAtoms())
                    lost = protecting
                    if transform.protecting_group:
                        lost += int(current.GetNumHeavyAtoms()) - n_atoms
                    out.append(Product(key, heavy_composition(product), path, n_atoms, lost))
                    nxt.append((product, path, lost))
            frontier = nxt[:MAX_PRODUCTS_PER_STEP]
        return out


def transform_smiles(smiles: str, *, max_steps: int = 2) -> list[Product]:
    """:func:`transform_mol` on a SMILES (use the standardised parent); ``[]`` when unparsable."""
    mol, _ = parse_smiles(smiles)
    if mol is None:
        return []
    return transform_mol(mol, max_steps=max_steps)


def apply_transform(transform: Transform, smiles: str) -> list[str]:
    """Canonical SMILES of every product of one ``transform`` on ``smiles`` (for tests/docs).

    Returns ``[]`` when the SMILES or the SMARTS does not parse, or when the step does not
    apply.
    """
    rxn = compile_reaction(transform.smarts)
    mol, _ = parse_smiles(smiles)
    if rxn is None or mol is None:
        return []
    out: dict[str, None] = {}
    with quiet_rdkit():
        for products in rxn.RunReactants((mol,), _MAX_MATCHES):
            for raw in products:
                cand = _largest_organic(raw)
                if cand is not None:
                    out.setdefault(Chem.MolToSmiles(cand), None)
    return list(out)


@dataclass(frozen=True, slots=True)
class Derivatives:
    """What up to two transforms make of one standardised parent.

    ``heavy_atoms`` is the parent's heavy-atom count; each product's ``inchikey`` is the
    InChIKey of the product's standardised parent (largest organic fragment, neutralised).
    """

    heavy_atoms: int
    products: tuple[Product, ...]


def derivatives_of(ident: Identity) -> Derivatives:
    """:func:`derivatives` of a structure's standardised parent, computed once per
    :class:`~precursorwatch.chem.molecule.Identity` (no SMILES round trip)."""
    parent = ident.parent
    return ident.memo("derivatives", lambda: _derivatives(parent))


def derivatives(parent_smiles: str) -> Derivatives:
    """Products of up to two transforms on ``parent_smiles`` (a standardised parent, for
    tests and tools; the matchers use :func:`derivatives_of`).

    Returns an empty result for an unparsable SMILES or a molecule over
    :data:`MAX_HEAVY_ATOMS` heavy atoms.
    """
    mol, _ = parse_smiles(parent_smiles)
    return Derivatives(0, ()) if mol is None else _derivatives(mol)


def _derivatives(mol: Chem.Mol) -> Derivatives:
    return Derivatives(int(mol.GetNumHeavyAtoms()), tuple(transform_mol(mol)))
