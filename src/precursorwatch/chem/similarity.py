"""Structure similarity with RDKit: Morgan fingerprints, Tanimoto, maximum common substructure.

Pure functions over SMILES (the standardised parents); a parse failure returns ``None``
or an empty result and never raises. MCS searches stop at a deadline (fractions of a
second allowed).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator, rdFMCS

from precursorwatch.chem.molecule import quiet_rdkit

#: Morgan radius and size (ECFP4-like: radius 2, 2048 bits), as in
#: :mod:`precursorwatch.chem.molecule`.
MORGAN_RADIUS = 2
MORGAN_BITS = 2048


@lru_cache(maxsize=1)
def _generator() -> Any:
    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)


def fingerprint(mol: Chem.Mol) -> Any:
    """Morgan fingerprint (radius 2, 2048 bits) of ``mol`` as an RDKit bit vector."""
    with quiet_rdkit():
        return _generator().GetFingerprint(mol)


def tanimoto_many(fp: Any, others: list[Any]) -> list[float]:
    """Tanimoto similarity of ``fp`` to each fingerprint of ``others`` (empty list if none)."""
    return list(DataStructs.BulkTanimotoSimilarity(fp, others)) if others else []


def heavy_atoms(mol: Chem.Mol) -> int:
    """Number of heavy (non-hydrogen) atoms of ``mol``."""
    return int(mol.GetNumHeavyAtoms())


@dataclass(frozen=True, slots=True)
class CommonPart:
    """The maximum common substructure of two molecules.

    ``atoms_a``/``atoms_b`` are the matching atom indices in each molecule (empty when the
    search found nothing or timed out before finding anything); ``n_atoms`` their number.
    ``complete`` is False when the search hit its time limit: the part is then only the
    largest found so far, which depends on the machine's speed and the atoms' order.
    """

    smarts: str
    n_atoms: int
    atoms_a: tuple[int, ...]
    atoms_b: tuple[int, ...]
    complete: bool = True


class _Deadline(rdFMCS.MCSProgress):
    """Stops a common-substructure search at a wall-clock deadline. RDKit's own ``Timeout``
    counts whole seconds, and a search that will not end (dihydroergotamine against
    ergotamine: not finished after 30 s) would hold a worker or an API call for all of it."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.monotonic() + seconds

    def __call__(self, stat: Any, params: Any) -> bool:
        return time.monotonic() < self.deadline


def _mcs_parameters(timeout_s: float) -> Any:
    """The search of :func:`common_part`: the parameters ``rdFMCS.FindMCS`` sets for
    ``atomCompare=CompareElements, bondCompare=CompareOrder, ringMatchesRingOnly=True,
    completeRingsOnly=True`` (same parts found), with a deadline in fractions of a second."""
    params: Any = rdFMCS.MCSParameters()
    params.AtomTyper = rdFMCS.AtomCompare.CompareElements
    params.BondTyper = rdFMCS.BondCompare.CompareOrder
    params.AtomCompareParameters.RingMatchesRingOnly = True
    params.BondCompareParameters.RingMatchesRingOnly = True
    params.BondCompareParameters.CompleteRingsOnly = True
    params.Timeout = max(1, math.ceil(timeout_s))  # RDKit's own limit, a backstop
    params.ProgressCallback = _Deadline(timeout_s)
    return params


def common_part(a: Chem.Mol, b: Chem.Mol, *, timeout_s: float = 1.0) -> CommonPart:
    """Maximum common substructure of ``a`` and ``b``: elements and bond orders must agree,
    rings match only rings and only complete rings count (so a phenyl is not half a
    cyclohexane). Returns an empty :class:`CommonPart` when nothing is shared, and one that
    is not ``complete`` when the search ran out of its ``timeout_s`` seconds.
    """
    with quiet_rdkit():
        res = rdFMCS.FindMCS([a, b], _mcs_parameters(timeout_s))
        complete = not res.canceled
        if not res.smartsString or res.numAtoms == 0:
            return CommonPart("", 0, (), (), complete)
        query = Chem.MolFromSmarts(res.smartsString)
        if query is None:
            return CommonPart("", 0, (), (), complete)
        match_a = a.GetSubstructMatch(query)
        match_b = b.GetSubstructMatch(query)
    return CommonPart(res.smartsString, int(res.numAtoms), tuple(match_a), tuple(match_b), complete)
