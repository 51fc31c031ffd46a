"""What every matcher sees: one identified declaration, and the protocol they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from precursorwatch.chem.molecule import Identity
from precursorwatch.engine.index import ListIndex
from precursorwatch.identify.describe import DescriptionId
from precursorwatch.identify.normalise import CasReading
from precursorwatch.identify.pubchem import KnownChemical
from precursorwatch.models import Evidence


@dataclass(frozen=True, slots=True)
class StructureId:
    """A structure found for a declaration: where it came from and its identity layers."""

    smiles: str
    origin: str
    identity: Identity | None
    component: str = ""
    share: float | None = None
    problem: str = ""
    known: KnownChemical | None = None


@dataclass(frozen=True, slots=True)
class Declared:
    """One distinct declaration as identified: description, CAS, HS code and structures."""

    description: DescriptionId | None
    cas: tuple[CasReading, ...] = ()
    cas_known: Mapping[str, KnownChemical] = field(default_factory=dict)
    hs: str = ""
    structures: tuple[StructureId, ...] = ()


def describe_structure(s: StructureId) -> str:
    """How a reason names a structure: by where it came from (SMILES, CAS, name)."""
    if s.origin == "smiles":
        return "the declared structure"
    if s.component.startswith("CAS "):
        return f"the chemical with {s.component}"
    if s.origin == "opsin":
        return f"the systematic name '{s.component}'"
    if s.origin == "inchi":  # the formula layer says which InChI: the whole can be long
        return f"the declared InChI ({s.component.split('/')[1] if '/' in s.component else '?'})"
    if s.origin == "inchikey":
        return f"the chemical with InChIKey {s.component}"
    return f"'{s.component}'" if s.component else "the declared chemical"


#: Between the plain phrase of an evidence's detail (what the reason says) and the measure
#: behind it (kept in the evidence for whoever wants the figures), for the kinds in
#: :data:`MEASURED_KINDS`.
MEASURED = " Measured: "
#: Evidence kinds whose detail may carry a measure after :data:`MEASURED`.
MEASURED_KINDS = frozenset({"similar"})


def with_measure(phrase: str, measure: str) -> str:
    """An evidence detail: the plain ``phrase`` the reason shows, then the ``measure``."""
    return f"{phrase}.{MEASURED}{measure}"


def reason_part(ev: Evidence) -> str:
    """What the reason says of ``ev``: its detail without the measure."""
    if ev.kind in MEASURED_KINDS and MEASURED in ev.detail:
        return ev.detail.rpartition(MEASURED)[0].rstrip(".")
    return ev.detail


class Matcher(Protocol):
    """A function from a declaration to the evidence it finds (empty when none)."""

    def __call__(self, declared: Declared, index: ListIndex, /) -> list[Evidence]: ...
