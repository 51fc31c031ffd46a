"""Similarity evidence: close structural relatives of listed substances (a hint, not identity).

Morgan-fingerprint Tanimoto against every listed organic substance (fingerprints computed once
per index), then, for the few candidates above the cut-off, the maximum common substructure:
its coverage of the listed substance and of the declared one. Low risk by default; medium when
both the similarity and the coverage are high. The cut-offs were chosen with
``bench/designer.py`` (alert rate on ~70,000 PubChem compounds, recall on the designer set).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from precursorwatch.chem import molecule
from precursorwatch.chem.similarity import (
    CommonPart,
    common_part,
    fingerprint,
    heavy_atoms,
    tanimoto_many,
)
from precursorwatch.engine.budget import StructureBudget
from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers.base import Declared, describe_structure, with_measure
from precursorwatch.engine.matchers.derivative import declared_structures
from precursorwatch.models import Evidence

#: Candidates need at least this Tanimoto similarity (low-risk evidence from here).
LOW_TANIMOTO = 0.5
#: Medium risk needs this Tanimoto similarity ...
MEDIUM_TANIMOTO = 0.65
#: ... and the common substructure must cover this share of the listed substance ...
MEDIUM_COVERAGE = 0.9
#: ... and at least this share of the declared structure (a big molecule merely containing a
#: listed fragment is not a relative of it).
MIN_DECLARED_COVERAGE = 0.6
#: Listed substances smaller than this are not compared (solvents and reagents: similarity to
#: acetone or methylamine means nothing).
MIN_LISTED_HEAVY_ATOMS = 8
#: Declared structures larger than this are not compared (bounded work).
MAX_DECLARED_HEAVY_ATOMS = 80
#: The common substructure is searched for on at most this many best candidates.
MAX_CANDIDATES = 3
#: Seconds allowed to one maximum-common-substructure search. The searches that end take at
#: most 0.09 s here (the 1M benchmark's 19, the designer set's and the PubChem table's); one
#: that has not ended by then (dihydroergotamine against ergotamine) does not end in 30 s.
MCS_TIMEOUT_S = 0.25


@dataclass(frozen=True, slots=True)
class _Reference:
    keys: tuple[str, ...]
    smiles: tuple[str, ...]
    mols: tuple[Any, ...]
    fps: list[Any]


def _reference(index: ListIndex) -> _Reference:
    """Listed organic substances with their parents and fingerprints, once per index."""
    return index.derived("similar-reference", _build_reference)


def _build_reference(index: ListIndex) -> _Reference:
    keys, smiles_of, mols, fps = [], [], [], []
    for key in sorted({k for ks in index.by_inchikey.values() for k in ks}):
        smiles = index.substance(key).smiles
        ident, _ = molecule.identity(smiles) if smiles else (None, "")
        if ident is None or heavy_atoms(ident.parent) < MIN_LISTED_HEAVY_ATOMS:
            continue
        keys.append(key)
        smiles_of.append(ident.parent_smiles)
        mols.append(ident.parent)
        fps.append(fingerprint(ident.parent))
    return _Reference(tuple(keys), tuple(smiles_of), tuple(mols), fps)


def similar_score(tanimoto: float, coverage: float, declared_coverage: float) -> float | None:
    """The score of a similar listed substance, or ``None`` when it is not evidence.

    Medium (>= 0.6) when the Tanimoto similarity, the common substructure's coverage of the
    listed substance and its coverage of the declared structure all pass their cut-offs; low
    (0.2-0.5) when only the similarity does.
    """
    if tanimoto < LOW_TANIMOTO:
        return None
    if (
        tanimoto >= MEDIUM_TANIMOTO
        and coverage >= MEDIUM_COVERAGE
        and declared_coverage >= MIN_DECLARED_COVERAGE
    ):
        return round(0.6 + 0.3 * (tanimoto - MEDIUM_TANIMOTO) / (1 - MEDIUM_TANIMOTO), 3)
    return round(0.2 + 0.3 * tanimoto, 3)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A listed substance like the declared structure, with the measured similarity."""

    key: str
    tanimoto: float
    coverage: float
    declared_coverage: float
    measured: bool = True
    #: The common-substructure search ran out of time (so coverage was not measured).
    search_stopped: bool = False


#: Common substructures found, by (declared parent, listed parent) canonical SMILES: the salts
#: of one large molecule (an ergot alkaloid's tartrate, mesylate and base) share one search,
#: which can take its whole time limit.
_COMMON: dict[tuple[str, str], CommonPart] = {}
_COMMON_SIZE = 4096


def _common_part(ident: molecule.Identity, listed_smiles: str, listed: Any) -> CommonPart:
    key = (ident.parent_smiles, listed_smiles)
    found = _COMMON.get(key)
    if found is None:
        if len(_COMMON) >= _COMMON_SIZE:
            _COMMON.clear()
        found = _COMMON[key] = common_part(ident.parent, listed, timeout_s=MCS_TIMEOUT_S)
    return found


def similar_candidates(ident: molecule.Identity, index: ListIndex) -> list[Candidate]:
    """The listed substances at or above :data:`LOW_TANIMOTO` (at most
    :data:`MAX_CANDIDATES`, best first) with their common-substructure coverages, compared
    with ``ident``'s standardised parent.

    Returns ``[]`` for a structure over :data:`MAX_DECLARED_HEAVY_ATOMS` heavy atoms.
    """
    ref = _reference(index)
    mol = ident.parent
    if not ref.keys or not 0 < heavy_atoms(mol) <= MAX_DECLARED_HEAVY_ATOMS:
        return []
    # kept on the identity: a structure named by several descriptions is compared once
    sims = tanimoto_many(ident.memo("morgan", lambda: fingerprint(mol)), ref.fps)
    if max(sims) < LOW_TANIMOTO:  # most structures: nothing to rank
        return []
    ranked = sorted((i for i, t in enumerate(sims) if t >= LOW_TANIMOTO), key=lambda i: -sims[i])[
        :MAX_CANDIDATES
    ]
    out = []
    for i in ranked:
        if sims[i] < MEDIUM_TANIMOTO:
            # below the medium cut-off coverage cannot change the verdict (low either way),
            # so the expensive common-substructure search is skipped
            out.append(Candidate(ref.keys[i], sims[i], 0.0, 0.0, measured=False))
            continue
        listed = ref.mols[i]
        common = _common_part(ident, ref.smiles[i], listed)
        if not common.complete:
            # what a stopped search found depends on the machine's speed: not a measurement,
            # so the verdict stays what the similarity alone gives (low), on every machine
            out.append(Candidate(ref.keys[i], sims[i], 0.0, 0.0, False, search_stopped=True))
            continue
        out.append(
            Candidate(
                ref.keys[i],
                sims[i],
                common.n_atoms / heavy_atoms(listed),
                common.n_atoms / heavy_atoms(mol),
            )
        )
    return out


def _measure(c: Candidate, name: str) -> str:
    """What was measured of a resemblance, in plain terms (kept in the evidence's detail)."""
    said = f"fingerprint similarity (Tanimoto) {c.tanimoto:.2f}; the part they share "
    if c.search_stopped:
        return said + f"was not measured: the comparison ran out of time ({MCS_TIMEOUT_S} s)"
    if not c.measured:
        return said + f"was not measured (it matters only from a similarity of {MEDIUM_TANIMOTO})"
    return said + (
        f"is {c.coverage * 100:.0f} % of {name} and {c.declared_coverage * 100:.0f} % of the "
        "declared structure"
    )


def match_similar(
    declared: Declared, index: ListIndex, budget: StructureBudget | None = None
) -> list[Evidence]:
    """``similar`` evidence for the listed substances most like each declared structure.

    Nothing for a structure that is itself listed, unparsable or over
    :data:`MAX_DECLARED_HEAVY_ATOMS` heavy atoms. Once ``budget`` is spent the remaining
    structures are not compared (it counts them).
    """
    found: list[Evidence] = []
    for s in declared_structures(declared):
        ident = s.identity
        if ident is None or index.keys_by_skeleton(ident):
            continue
        if budget is not None and not budget.allows():
            continue
        candidates = index.of_structure("similar", ident, partial(similar_candidates, ident, index))
        for c in candidates:
            score = similar_score(c.tanimoto, c.coverage, c.declared_coverage)
            if score is None:
                continue
            name = index.substance(c.key).name
            alike = f"{c.tanimoto * 100:.0f} % alike"
            phrase = f"{describe_structure(s)} resembles {name} in structure, {alike}"
            found.append(
                Evidence(
                    "similar",
                    c.key,
                    score,
                    with_measure(phrase, _measure(c, name)),
                    index.list_codes(c.key),
                    s.component,
                    s.share,
                    s.smiles,
                )
            )
    return found
