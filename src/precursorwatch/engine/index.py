"""ListIndex: every look-up screening needs, built once from a :class:`Watchlist`.

By CAS (parent and labelled forms), by folded name (all languages, with and without
diacritics and German transliteration), by abbreviation (exact only), by natural source
("sassafras oil"), by InChIKey and connectivity block, by HS/CN code, family patterns, and the
folded names fuzzy matching compares against.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from precursorwatch.chem import molecule
from precursorwatch.engine.dates import Pending, pending_listings
from precursorwatch.identify.normalise import compact, fold, fold_variants, normalise_hs
from precursorwatch.models import ListEntry, Substance, Watchlist

#: Short labels of the bundled list codes, for reasons a person reads.
LIST_LABELS: dict[str, str] = {
    "UN-T1": "UN Table I",
    "UN-T2": "UN Table II",
    "EU-CAT1": "EU category 1",
    "EU-CAT2A": "EU category 2A",
    "EU-CAT2B": "EU category 2B",
    "EU-CAT3": "EU category 3",
    "EU-CAT4": "EU category 4",
    "US-DEA-L1": "US List I",
    "US-DEA-L2": "US List II",
    "EU-VML": "EU voluntary monitoring list",
}

#: Lists whose substances make a line high risk on identity alone (the rest: see scoring).
TOP_CATEGORY_CODES = frozenset({"UN-T1", "EU-CAT1"})


_NONE: frozenset[str] = frozenset()
_T = TypeVar("_T")
#: Numbers the indexes of a process, so a structure's memo tells their answers apart.
_TOKENS = itertools.count()


@dataclass(frozen=True, slots=True)
class CasHit:
    """A listed substance a CAS number names, and which form (parent, a salt …) it is."""

    key: str
    form: str


@dataclass(frozen=True, slots=True)
class Family:
    """A family entry: any structure containing ``smarts`` is a member of ``entry``."""

    entry: ListEntry
    smarts: str


@dataclass
class ListIndex:
    """Look-up tables over one :class:`Watchlist`; build with :func:`build_index`."""

    watchlist: Watchlist
    by_cas: dict[str, list[CasHit]] = field(default_factory=dict)
    by_name: dict[str, set[str]] = field(default_factory=dict)
    by_abbreviation: dict[str, set[str]] = field(default_factory=dict)
    by_natural_source: dict[str, set[str]] = field(default_factory=dict)
    by_inchikey: dict[str, set[str]] = field(default_factory=dict)
    by_skeleton: dict[str, set[str]] = field(default_factory=dict)
    by_hs: dict[str, set[str]] = field(default_factory=dict)
    families: list[Family] = field(default_factory=list)
    fuzzy_names: list[str] = field(default_factory=list)
    fuzzy_keys: list[str] = field(default_factory=list)
    compositions: set[str] = field(default_factory=set)
    max_name_tokens: int = 1
    #: The day whose law the index holds (None: every entry of the watchlist).
    as_of: date | None = None
    #: Substances listed only after :attr:`as_of`, with those listings (engine.dates).
    pending: dict[str, tuple[Pending, ...]] = field(default_factory=dict)
    _codes: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _token: int = field(default_factory=lambda: next(_TOKENS), repr=False)

    def derived(self, name: str, build: Callable[[ListIndex], _T]) -> _T:
        """``build(self)`` once per index: tables a matcher derives from the lists (reference
        fingerprints, designer-precursor targets), kept as long as the index lives."""
        if name not in self._derived:
            self._derived[name] = build(self)
        value: _T = self._derived[name]
        return value

    def of_structure(self, name: str, ident: molecule.Identity, compute: Callable[[], _T]) -> _T:
        """``compute()`` once per structure and index: what a matcher finds of ``ident``
        against these lists, kept on the identity (:meth:`molecule.Identity.memo`). A structure
        declared in several ways (by name, by CAS number, as a component of a mixture) is
        matched under each, and the later ones then need neither its parent molecule, which
        may have to be parsed and standardised again, nor the search."""
        return ident.memo(f"{name}@{self._token}", compute)

    def keys_by_inchikey(self, ident: molecule.Identity) -> Set[str]:
        """Listed keys whose parent has the full InChIKey of ``ident``'s parent.

        A structure whose heavy-atom composition no listed substance has cannot share its
        InChIKey: the answer is then empty without computing the key.
        """
        if ident.composition not in self.compositions:
            return _NONE
        return self.by_inchikey.get(ident.inchikey, _NONE)

    def keys_by_skeleton(self, ident: molecule.Identity) -> Set[str]:
        """Listed keys whose parent has ``ident``'s connectivity block (stereo ignored);
        empty, without an InChIKey, when the composition is not listed."""
        if ident.composition not in self.compositions:
            return _NONE
        return self.by_skeleton.get(ident.skeleton, _NONE)

    def substance(self, key: str) -> Substance:
        """The substance with ``key`` (KeyError when the watchlist has none)."""
        return self.watchlist.substances[key]

    def list_codes(self, key: str) -> tuple[str, ...]:
        """Codes of the lists naming ``key``, bundled lists first in a stable order."""
        codes = self._codes.get(key)
        if codes is None:  # the watchlist scans every entry: once per key
            order = list(LIST_LABELS)
            codes = self._codes[key] = tuple(
                sorted(
                    self.watchlist.list_codes_for(key),
                    key=lambda c: (order.index(c) if c in order else 99, c),
                )
            )
        return codes

    def confidential_only(self, key: str) -> bool:
        """True when every list naming ``key`` is confidential (a monitoring list)."""
        codes = self.watchlist.list_codes_for(key)
        return bool(codes) and all(self.watchlist.lists[c].confidential for c in codes)

    def lists_phrase(self, key: str) -> str:
        """'UN Table I, EU category 2A and US List II' for a reason sentence."""
        labels = [LIST_LABELS.get(c, c) for c in self.list_codes(key)]
        if len(labels) <= 1:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " and " + labels[-1]


def _add(table: dict[str, set[str]], name: str, key: str) -> None:
    for variant in fold_variants(name):
        table.setdefault(variant, set()).add(key)


def build_index(watchlist: Watchlist, *, as_of: date | None = None) -> ListIndex:
    """Build every look-up table of ``watchlist``; with ``as_of``, of the lists as they applied
    that day, where substances listed only later are still recognised (their listings in
    :attr:`ListIndex.pending`) but carry no list code."""
    pending: dict[str, tuple[Pending, ...]] = {}
    if as_of is not None:
        pending = pending_listings(watchlist, as_of)
        watchlist = watchlist.as_of(as_of)
    index = ListIndex(watchlist, as_of=as_of, pending=pending)
    listed = {e.substance_key for d in watchlist.lists.values() for e in d.entries} | set(pending)
    by_cas: dict[str, list[CasHit]] = defaultdict(list)
    fuzzy: dict[str, str] = {}
    for key in sorted(listed):
        sub = watchlist.substances.get(key)
        if sub is None:
            continue
        if sub.cas:
            by_cas[sub.cas].append(CasHit(key, "parent"))
        for other in sub.other_cas:
            by_cas[other.cas].append(CasHit(key, other.form))
        for name in sub.all_names():
            if name in sub.abbreviations:
                continue
            _add(index.by_name, name, key)
            folded = fold(name)
            index.max_name_tokens = max(index.max_name_tokens, len(folded.split()))
            if len(compact(name)) >= 5:
                fuzzy.setdefault(folded, key)
        for abbr in sub.abbreviations:
            _add(index.by_abbreviation, abbr, key)
        for natural in sub.natural_sources:
            _add(index.by_natural_source, natural, key)
        if sub.smiles:
            ident, _ = molecule.identity(sub.smiles)
            if ident is not None:
                index.compositions.add(ident.composition)
                index.by_inchikey.setdefault(ident.inchikey, set()).add(key)
                index.by_skeleton.setdefault(ident.skeleton, set()).add(key)
        for code in sub.hs_codes:
            digits = normalise_hs(code)
            if digits:
                index.by_hs.setdefault(digits, set()).add(key)
    index.by_cas = dict(by_cas)
    index.fuzzy_names = list(fuzzy)
    index.fuzzy_keys = [fuzzy[n] for n in index.fuzzy_names]
    for d in watchlist.lists.values():
        for entry in d.entries:
            if entry.family_smarts and molecule.compile_smarts(entry.family_smarts) is not None:
                index.families.append(Family(entry, entry.family_smarts))
    return index
