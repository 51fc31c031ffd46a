"""Frozen dataclasses of the domain: list data in, declarations in, evidence and results out.

Nothing here does I/O or chemistry; every other module passes these around.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

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
    "unidentified",
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


def _in_window(day: str, start: str, end: str) -> bool:
    """Whether ISO day ``day`` falls in [``start``, ``end``): '' start = always, '' end = open."""
    return (not start or start <= day) and (not end or day < end)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A quantity above which a list's rules apply (0 means every transaction).

    ``applies_from`` / ``applies_until`` (YYYY-MM-DD, the second exclusive) and ``act`` date a
    threshold that changed while its entry stayed; '' means the entry's own dates.
    """

    quantity: float
    unit: str
    per: str = ""
    note: str = ""
    source: str = ""
    applies_from: str = ""
    applies_until: str = ""
    act: str = ""


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A substance on one list: its category, what the entry covers, its thresholds.

    A family entry (e.g. "esters of BMK glycidic acid") carries ``family_smarts``: any
    structure containing that pattern is a member.

    Dates are ISO text (YYYY-MM-DD). ``applies_from`` is the day the entry applies from and
    ``act`` the act that listed it; '' means the list's defaults (:meth:`ListDef.entry_from`,
    :meth:`ListDef.entry_act`: listed on or before the list's ``applies_from``, under its base
    act). ``applies_until`` is the first day an entry the law removed no longer applies,
    ``removed_by`` the act that removed it.
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
    applies_from: str = ""
    applies_until: str = ""
    act: str = ""
    removed_by: str = ""


@dataclass(frozen=True, slots=True)
class ListDef:
    """One list (UN-T1, EU-CAT2A, a firm's own list …) at one version.

    ``applies_from`` (YYYY-MM-DD) is the first day the list's data speaks for, and the date of
    every entry that gives none (it was listed on or before that day); ``act`` is the base act
    of those entries. '' (a user's list without dates): every entry applies on every day.
    """

    code: str
    title: str
    legal_basis: str = ""
    effective_date: str = ""
    source: str = ""
    confidential: bool = False
    entries: tuple[ListEntry, ...] = ()
    content_hash: str = ""
    version: int = 0
    applies_from: str = ""
    act: str = ""

    def entry_from(self, entry: ListEntry) -> str:
        """The day ``entry`` applies from: its own date, else the list's ('' = always)."""
        return entry.applies_from or self.applies_from

    def entry_act(self, entry: ListEntry) -> str:
        """The act that listed ``entry``: its own, else the list's default ('' = unknown)."""
        return entry.act or self.act

    def known_on(self, day: date) -> bool:
        """Whether the list's data speaks for ``day`` (not before its ``applies_from``)."""
        return not self.applies_from or self.applies_from <= day.isoformat()

    def in_force(self, entry: ListEntry, day: date) -> bool:
        """Whether ``entry`` of this list applies on ``day``."""
        return _in_window(day.isoformat(), self.entry_from(entry), entry.applies_until)

    def as_of(self, day: date) -> ListDef:
        """This list as it applied on ``day``: the entries in force, each with the thresholds
        in force (a threshold without dates follows its entry). Hash and version are kept."""
        iso = day.isoformat()
        entries = []
        for e in self.entries:
            start = self.entry_from(e)
            if not _in_window(iso, start, e.applies_until):
                continue
            kept = tuple(
                t
                for t in e.thresholds
                if _in_window(iso, t.applies_from or start, t.applies_until or e.applies_until)
            )
            entries.append(e if kept == e.thresholds else dataclasses.replace(e, thresholds=kept))
        return dataclasses.replace(self, entries=tuple(entries))


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

    def as_of(self, day: date) -> Watchlist:
        """The lists as they applied on ``day``: only the entries (and thresholds) in force.

        Every substance is kept, so a structure not yet listed that day can still be judged
        as a derivative or a look-alike; :meth:`unknown_on` names the lists whose data does not
        reach back to ``day`` (only their dated entries are in force then).
        """
        return Watchlist(
            substances=self.substances,
            lists={code: d.as_of(day) for code, d in self.lists.items()},
        )

    def unknown_on(self, day: date) -> tuple[str, ...]:
        """Codes of the lists whose data starts after ``day`` (a screening should warn)."""
        return tuple(code for code, d in sorted(self.lists.items()) if not d.known_on(day))

    def coming(self, day: date, days: int = 365) -> tuple[ListEntry, ...]:
        """Entries not in force on ``day`` that apply within ``days`` days after it, soonest
        first (an act published but not yet applicable)."""
        start, end = day.isoformat(), (day + timedelta(days=days)).isoformat()
        found = [
            (d.entry_from(e), code, e)
            for code, d in self.lists.items()
            for e in d.entries
            if start < d.entry_from(e) <= end
        ]
        return tuple(e for _, _, e in sorted(found, key=lambda f: (f[0], f[1], f[2].substance_key)))

    def listed_from(self, key: str, code: str) -> str:
        """The day substance ``key`` is (or was) listed from on list ``code`` ('' = always or
        not on that list): what a reason says about a substance not yet listed on a day."""
        listdef = self.lists.get(code)
        if listdef is None:
            return ""
        starts = [listdef.entry_from(e) for e in listdef.entries if e.substance_key == key]
        return min(starts, default="")


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
    #: InChI and InChIKey as declared in columns of their own (issue 18); '' when none.
    inchi: str = ""
    inchikey: str = ""
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


#: Canonical input columns the engine reads (others are carried through untouched); the
#: optional ``inchi`` and ``inchikey`` columns are read too when a frame has them.
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
