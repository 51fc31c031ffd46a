"""Derivative evidence: one or two simple steps turn the declared structure into a listed one.

The steps are the designer-precursor transforms (:mod:`precursorwatch.chem.transforms`). A product
only counts when it is meaningful: the listed parent must carry most of the declared molecule
(its heavy-atom share) and be a UN Table I / EU category 1 substance or one of the precursors
masked in practice (:data:`precursorwatch.chem.transforms.MASKED_TARGETS`). Hydrolysis of a large
legitimate molecule that frees a small listed chemical (a steroid acetonide giving acetone,
piperine giving piperidine) stays silent. The cut-offs below were chosen by
``bench/designer.py`` on ~70,000 PubChem compounds and the labelled designer set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from precursorwatch.chem import molecule
from precursorwatch.chem.reactions import derivatives_of, kept_core, may_lose_protecting_group
from precursorwatch.chem.transforms import MASKED_TARGETS
from precursorwatch.engine.budget import StructureBudget
from precursorwatch.engine.index import TOP_CATEGORY_CODES, ListIndex
from precursorwatch.engine.matchers.base import Declared, StructureId, describe_structure
from precursorwatch.models import Evidence

#: High risk: a top-category, masked-in-practice parent carrying at least this share of the
#: declared parent's heavy atoms.
HIGH_SHARE = 0.5
#: Medium risk: a top-category or masked parent carrying at least this share.
MEDIUM_SHARE = 0.5
#: Scores (scoring.py: derivative evidence is medium, high when the score is >= 0.8).
HIGH_SCORE = 0.85
MEDIUM_SCORE = 0.6
#: Each step beyond the first costs this much score (two steps are less certain than one).
STEP_PENALTY = 0.02


@lru_cache(maxsize=1)
def masked_skeletons() -> frozenset[str]:
    """Connectivity blocks of :data:`MASKED_TARGETS` (computed once)."""
    out = set()
    for smiles in MASKED_TARGETS:
        ident, _ = molecule.identity(smiles)
        if ident is not None:
            out.add(ident.skeleton)
    return frozenset(out)


def declared_structures(declared: Declared) -> list[StructureId]:
    """The declared structures, plus the PubChem structure of each known CAS number.

    A line that gives only a CAS number of an unlisted chemical (1-benzyl-4-piperidone,
    3612-20-2) has no structure of its own; its CAS number's PubChem structure stands in.
    Unparsable structures are left out.
    """
    out = [s for s in declared.structures if s.identity is not None]
    seen = [s.identity for s in out if s.identity is not None]
    for cas, known in declared.cas_known.items():
        if not known.smiles:
            continue
        ident, _ = molecule.identity(known.smiles)
        if ident is not None and not any(molecule.same_parent(ident, other) for other in seen):
            seen.append(ident)
            out.append(StructureId(known.smiles, "pubchem", ident, f"CAS {cas}"))
    return out


def derivative_score(*, share: float, top: bool, masked: bool, n_steps: int) -> float | None:
    """The score of a listed product, or ``None`` when it is not evidence.

    ``share``: heavy atoms of the listed parent over those of the declared parent; ``top``: the
    parent is on UN Table I or EU category 1; ``masked``: it is a precursor masked in practice.
    """
    penalty = STEP_PENALTY * (n_steps - 1)
    if top and masked and share >= HIGH_SHARE:
        return round(HIGH_SCORE + 0.1 * min(share, 1.0) - penalty, 3)
    if (top or masked) and share >= MEDIUM_SHARE:
        return round(MEDIUM_SCORE - penalty, 3)
    return None


@dataclass(frozen=True, slots=True)
class Hit:
    """A listed substance reached from a declared parent, with what decides its weight."""

    key: str
    steps: tuple[str, ...]
    share: float
    top: bool
    masked: bool


@dataclass(frozen=True, slots=True)
class _Target:
    """What a declared parent needs to reach a listed substance that can be evidence."""

    heavy_atoms: int  # the listed parent's (the largest, when several share a core)
    needs: tuple[tuple[str, int], ...]  # elements other than oxygen, at least these counts
    core: Any  # compiled SMARTS of :func:`~precursorwatch.chem.reactions.kept_core`


def _build_targets(index: ListIndex) -> tuple[_Target, ...]:
    """The listed substances a derivative can score against (UN Table I / EU category 1 or
    masked in practice), one per kept core, smallest core first."""
    masked = masked_skeletons()
    by_core: dict[str, _Target] = {}
    for key in sorted({k for keys in index.by_skeleton.values() for k in keys}):
        ident, _ = molecule.identity(index.substance(key).smiles)
        if ident is None:
            continue
        top = bool(TOP_CATEGORY_CODES.intersection(index.list_codes(key)))
        if not (top or ident.skeleton in masked):
            continue
        smarts = kept_core(ident.parent)
        core = molecule.compile_smarts(smarts)
        if core is None:
            continue
        needs = {
            e: n for e, n in molecule.composition_counts(ident.composition).items() if e != "O"
        }
        heavy = int(ident.parent.GetNumHeavyAtoms())
        old = by_core.get(smarts)
        if old is not None:  # one target for both: what either needs at least
            heavy = max(heavy, old.heavy_atoms)
            needs = {e: min(n, needs[e]) for e, n in old.needs if e in needs}
        by_core[smarts] = _Target(heavy, tuple(sorted(needs.items())), core)
    return tuple(sorted(by_core.values(), key=lambda t: t.core.GetNumAtoms()))


def could_be_evidence(ident: molecule.Identity, index: ListIndex) -> bool:
    """False only when no product of ``ident``'s parent can be derivative evidence, without
    running the transforms (a cheap check that spares many ordinary structures them).

    A product scores only if it is a top-category or masked listed substance carrying at least
    :data:`MEDIUM_SHARE` of the declared parent (protecting groups aside), and all but the
    terminal oxygens of a product, with their bonds, were on the declared parent
    (:func:`~precursorwatch.chem.reactions.kept_core`). So the parent must contain such a
    substance's kept core, have its elements, and, unless a protecting group can come off, be
    at most ``1 / MEDIUM_SHARE`` times its size.
    """
    mol = ident.parent
    most = int(mol.GetNumHeavyAtoms()) * min(HIGH_SHARE, MEDIUM_SHARE)
    have: dict[str, int] | None = None
    bounded: bool | None = None
    for target in index.derived("derivative-targets", _build_targets):
        if most > target.heavy_atoms:
            if bounded is None:
                bounded = not may_lose_protecting_group(mol)
            if bounded:
                continue
        if have is None:
            have = molecule.composition_counts(ident.composition)
        if any(have.get(e, 0) < n for e, n in target.needs):
            continue
        if mol.HasSubstructMatch(target.core):
            return True
    return False


def derivative_hits(ident: molecule.Identity, index: ListIndex) -> list[Hit]:
    """Every listed substance up to two transforms make of ``ident``'s parent, unweighed.

    ``[]`` when the structure is too large or nothing listed is reached.
    """
    result = derivatives_of(ident)
    if not result.heavy_atoms:
        return []
    masked = masked_skeletons()
    hits = []
    for product in result.products:
        if product.composition not in index.compositions:
            continue  # no listed substance has these atoms: skip its InChIKey
        skeleton = product.inchikey.split("-")[0]
        keys = index.by_inchikey.get(product.inchikey) or index.by_skeleton.get(skeleton)
        if not keys:
            continue
        # protecting groups (Boc, Cbz, benzyl) do not count against the share
        carried = max(1, result.heavy_atoms - product.protecting_atoms)
        for key in sorted(keys):
            top = bool(TOP_CATEGORY_CODES.intersection(index.list_codes(key)))
            hits.append(
                Hit(key, product.steps, product.heavy_atoms / carried, top, skeleton in masked)
            )
    return hits


def _possible_hits(ident: molecule.Identity, index: ListIndex) -> list[Hit]:
    """:func:`derivative_hits`, or ``[]`` at once when :func:`could_be_evidence` says none
    can count."""
    return derivative_hits(ident, index) if could_be_evidence(ident, index) else []


def match_derivative(
    declared: Declared, index: ListIndex, budget: StructureBudget | None = None
) -> list[Evidence]:
    """``derivative`` evidence for listed substances reached in one or two steps.

    Nothing is emitted for a structure that is itself listed (the identity matchers cover it)
    or that cannot be parsed; one evidence per listed substance, from its best path. Once
    ``budget`` is spent the remaining structures are not compared (it counts them).
    """
    found: dict[tuple[str, str], Evidence] = {}
    for s in declared_structures(declared):
        ident = s.identity
        if ident is None or index.keys_by_skeleton(ident):
            continue
        if budget is not None and not budget.allows():
            continue
        for hit in index.of_structure("derivative", ident, partial(_possible_hits, ident, index)):
            score = derivative_score(
                share=hit.share, top=hit.top, masked=hit.masked, n_steps=len(hit.steps)
            )
            if score is None:
                continue
            name = index.substance(hit.key).name
            path = ", then ".join(hit.steps)
            steps = "one simple step" if len(hit.steps) == 1 else f"{len(hit.steps)} simple steps"
            ev = Evidence(
                "derivative",
                hit.key,
                score,
                f"{describe_structure(s)} becomes {name} in {steps} ({path}): a possible "
                "designer precursor",
                index.list_codes(hit.key),
                s.component,
                s.share,
                s.smiles,
            )
            old = found.get((s.component, hit.key))
            if old is None or ev.score > old.score:
                found[(s.component, hit.key)] = ev
    return list(found.values())
