"""Frozen dataclasses of the domain: list data in, declarations in, evidence and results out.

Nothing here does I/O or chemistry; every other module passes these around.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Languages the bundled synonym index must cover (ISO 639-1).
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl", "pl", "pt")

#: What a list entry can extend to beyond the named substance (legal "coverage" words).
COVERAGE_WORDS: frozenset[str] = frozenset(
    {
        "salts",
        "stereoisomers",
        "esters",
        "ethers",
        "amides",
        "carbamates",
        "halides",
        "acetals",
        "mixtures",
        "hydrates",
    }
)

#: Match types that rest on a structure: those hits are shown with a picture.
STRUCTURE_MATCH_TYPES: frozenset[str] = frozenset(
    {"structure-identical", "structure-parent", "derivative", "similar"}
)

#: The ``match_type`` values of the output contract (DESIGN.md §5), strongest first.
MATCH_TYPES: tuple[str, ...] = (
    "cas",
    "structure-identical",
    "name",
    "structure-parent",
    "mismatch",
    "derivative",
    "fuzzy-name",
    "hs-code",
    "similar",
)

RISKS: tuple[str, ...] = ("high", "medium", "low", "none")


@dataclass(frozen=True, slots=True)
class OtherCas:
    """A CAS number of a salt, hydrate or stereo form of a substance, labelled by its form."""

    cas: str
    form: str


@dataclass(frozen=True, slots=True)
class Substance:
    """One chemical, once, whatever lists it is on.

    ``smiles`` is empty for inorganics (acids, permanganate, phosphorus, iodine), which are
    matched as whole entities by CAS and name, never by structure.
    """

    key: str
    name: str
    cas: str = ""
    other_cas: tuple[OtherCas, ...] = ()
    smiles: str = ""
    inchikey: str = ""
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    abbreviations: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    natural_sources: tuple[str, ...] = ()
    hs_codes: tuple[str, ...] = ()
    density_kg_per_l: float | None = None
    notes: str = ""
    sources: tuple[str, ...] = ()

    def all_names(self) -> tuple[str, ...]:
        """Regulation name, every language's names and the abbreviations, in that order."""
        seen: dict[str, None] = {self.name: None}
        for names in self.names.values():
            for n in names:
                seen.setdefault(n, None)
        for n in self.abbreviations:
            seen.setdefault(n, None)
        return tuple(seen)

    def all_cas(self) -> tuple[str, ...]:
        """The parent CAS (when any) followed by the CAS of its labelled forms."""
        return tuple(c for c in (self.cas, *(o.cas for o in self.other_cas)) if c)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A quantity above which a list's rules apply (0 means every transaction)."""

    quantity: float
    unit: str
    per: str = ""
    note: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A substance on one list: its category, what the entry covers, its thresholds.

    A family entry (e.g. "esters of BMK glycidic acid") carries ``family_smarts``: any
    structure containing that pattern is a member.
    """

    list_code: str
    substance_key: str
    category: str = ""
    covers: tuple[str, ...] = ()
    family_smarts: str = ""
    family_name: str = ""
    thresholds: tuple[Threshold, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ListDef:
    """One list (UN-T1, EU-CAT2A, a firm's own list …) at one version."""

    code: str
    title: str
    legal_basis: str = ""
    effective_date: str = ""
    source: str = ""
    confidential: bool = False
    entries: tuple[ListEntry, ...] = ()
    content_hash: str = ""
    version: int = 0


@dataclass(frozen=True, slots=True)
class Watchlist:
    """Everything screening needs: the substances and the lists that name them."""

    substances: Mapping[str, Substance]
    lists: Mapping[str, ListDef]

    def entries_for(self, key: str) -> tuple[ListEntry, ...]:
        """Every list entry naming substance ``key``, in list-code order."""
        return tuple(
            e
            for code in sorted(self.lists)
            for e in self.lists[code].entries
            if e.substance_key == key
        )

    def list_codes_for(self, key: str) -> tuple[str, ...]:
        """The codes of the lists naming substance ``key``, in a stable order."""
        return tuple(dict.fromkeys(e.list_code for e in self.entries_for(key)))

    def versions(self) -> dict[str, str]:
        """List code -> ``v<version>:<hash prefix>``, recorded with every screening."""
        return {c: f"v{d.version}:{d.content_hash[:12]}" for c, d in sorted(self.lists.items())}


@dataclass(frozen=True, slots=True)
class DeclarationLine:
    """One manifest line as declared; ``row`` is its 1-based data-row number."""

    row: int
    line_id: str = ""
    description: str = ""
    cas: str = ""
    hs_code: str = ""
    quantity: float | None = None
    unit: str = ""
    smiles: str = ""
    origin: str = ""
    destination: str = ""
    consignor: str = ""
    consignee: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason to think a declaration is a listed substance.

    ``structure`` is the declared structure (SMILES) that structure-based evidence rests on,
    so a picture can show it beside the listed substance; '' for other evidence.
    """

    kind: str
    substance_key: str
    score: float
    detail: str
    list_codes: tuple[str, ...] = ()
    component: str = ""
    share: float | None = None
    structure: str = ""


@dataclass(frozen=True, slots=True)
class LineResult:
    """The verdict on one declaration line, in the shape of the output contract."""

    line_id: str
    flagged: bool
    risk: str
    matched_key: str = ""
    matched_name: str = ""
    matched_cas: str = ""
    lists: tuple[str, ...] = ()
    match_type: str = ""
    score: float = 0.0
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    warnings: tuple[str, ...] = ()


#: Canonical input columns the engine reads (others are carried through untouched).
INPUT_COLUMNS: tuple[str, ...] = (
    "line_id",
    "description",
    "cas",
    "hs_code",
    "quantity",
    "unit",
    "smiles",
)
#: The output contract's columns (DESIGN.md §5), in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "line_id",
    "flagged",
    "risk",
    "matched_key",
    "matched_name",
    "matched_cas",
    "lists",
    "match_type",
    "score",
    "reason",
)
