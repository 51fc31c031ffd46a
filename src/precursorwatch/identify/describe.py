"""Identify what each distinct description names, once per distinct text.

Order of trust (DESIGN.md §2): the watch-list synonym index (all languages, abbreviations,
natural sources) -> the PubChem identifiers table (so an ordinary chemical with a close name is
known to be *that* chemical) -> OPSIN for systematic names (one batch) -> listed names written
inside a longer text -> fuzzy match against watch-list names, only when nothing else knows
the name, with cut-offs that grow with the name's length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from rapidfuzz import fuzz, process

from precursorwatch.errors import ResolverError
from precursorwatch.identify.normalise import (
    cas_in_text,
    clean_name,
    clean_text,
    compact,
    fold,
    split_components,
    strip_cas_from_text,
)
from precursorwatch.identify.opsin import OpsinSession, looks_systematic, opsin_batch
from precursorwatch.identify.pubchem import KnownChemical
from precursorwatch.identify.resolve import pubchem_by_name


class NameIndex(Protocol):
    """The watch lists' names as identification looks them up (folded with
    :func:`~precursorwatch.identify.normalise.compact`; the engine's
    :class:`~precursorwatch.engine.index.ListIndex` is one)."""

    @property
    def by_name(self) -> Mapping[str, set[str]]: ...
    @property
    def by_abbreviation(self) -> Mapping[str, set[str]]: ...
    @property
    def by_natural_source(self) -> Mapping[str, set[str]]: ...
    @property
    def max_name_tokens(self) -> int:
        """The most words any listed name has."""

    @property
    def fuzzy_names(self) -> Sequence[str]:
        """Names a misspelling may be matched to, with :attr:`fuzzy_keys` their substances."""

    @property
    def fuzzy_keys(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class ComponentId:
    """One component of a description and everything the resolvers said about it."""

    text: str
    name: str
    share: float | None = None
    salt: str = ""
    stereo: str = ""
    hydrate: str = ""
    watch_keys: tuple[str, ...] = ()
    watch_via: str = ""
    watch_term: str = ""
    known_name: str = ""
    known_cas: str = ""
    smiles: str = ""
    smiles_via: str = ""
    fuzzy: tuple[tuple[str, str, float], ...] = ()

    @property
    def identified(self) -> bool:
        """True when a resolver said what this component is (listed or not)."""
        return bool(self.watch_keys or self.known_cas or self.smiles)


@dataclass(frozen=True, slots=True)
class DescriptionId:
    """What a description names: its components, CAS numbers written in it, and notes."""

    text: str
    components: tuple[ComponentId, ...] = ()
    cas_in_text: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def fuzzy_cutoff(length: int) -> float | None:
    """The least ``fuzz.ratio`` a name of ``length`` letters needs; None: too short to guess.

    One typo in an n-letter word scores about 100*(1-1/n) with ``fuzz.ratio``: the cut-offs
    admit one typo in short names and two in long ones, and nothing under six letters (an
    abbreviation is matched exactly or not at all).
    """
    if length < 6:
        return None
    if length <= 8:
        return 83.0
    if length <= 14:
        return 85.0
    return 86.0


def _watch_lookup(index: NameIndex, name: str) -> tuple[tuple[str, ...], str]:
    key = compact(name)
    if not key:
        return (), ""
    for table, via in (
        (index.by_name, "name"),
        (index.by_abbreviation, "abbreviation"),
        (index.by_natural_source, "natural-source"),
    ):
        hit = table.get(key)
        if hit:
            return tuple(sorted(hit)), via
    return (), ""


#: A name ending in -in (German, Dutch, Polish "Ephedrin") whose English form ends in -ine.
_GERMANIC_IN = re.compile(r"[a-z]in$")
_WORD_BREAK = re.compile(r"[\s,;:()\[\]]+")
_BRACKETED = re.compile(r"\s*\([^)]*\)?")


def _pubchem_lookup(texts: Iterable[str]) -> KnownChemical | None:
    for text in texts:
        if not text:
            continue
        known = pubchem_by_name(text)
        if known is None and _GERMANIC_IN.search(text):
            known = pubchem_by_name(text + "e")  # German/Dutch/Polish -in -> English -ine
        if known is not None:
            return known
    return None


#: A token after a listed name that makes it part of another chemical's name
#: ("toluene diisocyanate", "acetone cyanohydrin", "ether sulfate").
_CONTINUES_NAME = re.compile(r"(?:ate|ide|ite|ine|ene|ane|ol|yl|one|ic|acid|oxime|hydrin)$")
#: Words before a listed name that make it another substance ("petroleum ether").
_MODIFIES_NAME = re.compile(r"(?:yl|petroleum|crown|glycol|cellulose|poly.*)$")


def _embedded(tokens: list[str], start: int, end: int) -> bool:
    """True when tokens[start:end] is part of a longer chemical name, not a name of its own."""
    after = tokens[end] if end < len(tokens) else ""
    before = tokens[start - 1] if start > 0 else ""
    return bool(_CONTINUES_NAME.search(after) or _MODIFIES_NAME.search(before))


def _in_text(index: NameIndex, text: str) -> tuple[tuple[str, ...], str]:
    """A listed name written as whole words inside a longer text (longest first)."""
    tokens = [t for t in _WORD_BREAK.split(fold(text)) if t]
    for size in range(min(index.max_name_tokens, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            if _embedded(tokens, start, start + size):
                continue
            term = " ".join(tokens[start : start + size])
            key = compact(term)
            if size == 1 and len(key) >= 3 and key in index.by_abbreviation:
                return tuple(sorted(index.by_abbreviation[key])), term
            if len(key) < 4:
                continue
            hit = index.by_name.get(key) or index.by_natural_source.get(key)
            if hit:
                return tuple(sorted(hit)), term
    return (), ""


def _first_pass(index: NameIndex, component: str) -> ComponentId:
    parts = clean_name(component)
    whole = strip_cas_from_text(clean_text(component))
    comp = ComponentId(
        text=component,
        name=parts.name,
        share=parts.share,
        salt=parts.salt,
        stereo=parts.stereo,
        hydrate=parts.hydrate,
    )
    for candidate in (whole, parts.name):
        keys, via = _watch_lookup(index, candidate)
        if keys:
            return replace(comp, watch_keys=keys, watch_via=via, watch_term=candidate)
    salted = f"{parts.name} {parts.salt}".strip()
    unbracketed = _BRACKETED.sub(" ", parts.name).strip()
    known = _pubchem_lookup(dict.fromkeys((whole, salted, parts.name, unbracketed)))
    if known is not None:
        return replace(
            comp,
            known_name=known.name,
            known_cas=known.cas,
            smiles=known.smiles,
            smiles_via="pubchem",
        )
    return comp


@dataclass(frozen=True, slots=True)
class FirstPass:
    """Descriptions after every look-up that needs no OPSIN (:func:`first_pass`).

    ``components`` holds each text's components; ``pending`` the systematic-looking names
    still unidentified, for one OPSIN batch (:func:`finish` takes its answers).
    """

    components: dict[str, list[ComponentId]]
    pending: frozenset[str]

    def waits_for_opsin(self, text: str) -> bool:
        """True when ``text`` has a component only OPSIN may identify."""
        return any(
            not c.identified and c.name in self.pending for c in self.components.get(text, ())
        )


def first_pass(texts: Iterable[str], index: NameIndex) -> FirstPass:
    """Split each distinct text into components and look each up in the watch-list index
    and the PubChem table; collect the names left for OPSIN. Never raises on user text."""
    firsts: dict[str, list[ComponentId]] = {}
    for text in dict.fromkeys(texts):
        if not text or not text.strip():
            continue
        firsts[text] = [_first_pass(index, c) for c in split_components(text)]
    pending = frozenset(
        c.name
        for comps in firsts.values()
        for c in comps
        if not c.identified and looks_systematic(c.name)
    )
    return FirstPass(firsts, pending)


def finish(
    first: FirstPass,
    texts: Iterable[str],
    index: NameIndex,
    opsin: Mapping[str, str],
    opsin_note: str = "",
) -> dict[str, DescriptionId]:
    """The :class:`DescriptionId` of each of ``texts`` (texts of ``first``): OPSIN's
    structures (``opsin``: name -> SMILES) applied, then listed names written inside a
    longer text, then fuzzy names. ``opsin_note`` says why OPSIN could not run ('' when it
    did); the descriptions that needed it carry it. Texts that wait for no OPSIN answer may be
    finished before the batch is back (pass an empty ``opsin``): the result is the same.
    """
    results: dict[str, DescriptionId] = {}
    unresolved: list[tuple[str, int]] = []
    for text in dict.fromkeys(texts):
        comps = first.components.get(text)
        if comps is None:
            continue
        done = []
        for i, comp in enumerate(comps):
            if not comp.identified and comp.name in opsin:
                comp = replace(comp, smiles=opsin[comp.name], smiles_via="opsin")
            if not comp.identified:
                keys, term = _in_text(index, comp.name)
                if keys:
                    comp = replace(comp, watch_keys=keys, watch_via="in-text", watch_term=term)
                else:
                    unresolved.append((text, i))
            done.append(comp)
        waited = any(c.name in first.pending for c in done)
        results[text] = DescriptionId(
            text=text,
            components=tuple(done),
            cas_in_text=tuple(r.cas for r in cas_in_text(text)),
            notes=(opsin_note,) if opsin_note and waited else (),
        )
    _add_fuzzy(results, unresolved, index)
    return results


def identify_descriptions(
    texts: Sequence[str],
    index: NameIndex,
    *,
    use_opsin: bool = True,
    opsin_timeout_s: float = 60.0,
) -> dict[str, DescriptionId]:
    """Identify each distinct text of ``texts``; returns text -> :class:`DescriptionId`.

    Never raises on user text. When OPSIN cannot run, systematic names stay unresolved and
    each affected description carries a note saying so.
    """
    first = first_pass(texts, index)
    opsin, note = run_opsin(first, use_opsin=use_opsin, timeout_s=opsin_timeout_s)
    return finish(first, first.components, index, opsin, note)


def run_opsin(
    first: FirstPass, *, use_opsin: bool, timeout_s: float, session: OpsinSession | None = None
) -> tuple[dict[str, str], str]:
    """OPSIN's answers for ``first.pending`` (one batch, in ``session``'s JVM or in one
    started for it) and '' — or no answers and why."""
    if not use_opsin or not first.pending:
        return {}, ""
    names = sorted(first.pending)
    try:
        if session is None:
            return opsin_batch(names, timeout_s=timeout_s), ""
        return session.parse(names, timeout_s=timeout_s), ""
    except ResolverError as exc:
        return {}, str(exc)


def _add_fuzzy(
    results: dict[str, DescriptionId], unresolved: list[tuple[str, int]], index: NameIndex
) -> None:
    """Fuzzy-match unresolved component names against watch-list names in one vectorised call."""
    if not unresolved or not index.fuzzy_names:
        return
    queries = [compact(results[t].components[i].name) for t, i in unresolved]
    choices = [compact(n) for n in index.fuzzy_names]
    scores = process.cdist(queries, choices, scorer=fuzz.ratio, score_cutoff=80.0, workers=1)
    for row, (text, i) in enumerate(unresolved):
        cutoff = fuzzy_cutoff(len(queries[row]))
        if cutoff is None:
            continue
        best = int(scores[row].argmax())
        score = float(scores[row][best])
        if score < cutoff:
            continue
        d = results[text]
        comps = list(d.components)
        comps[i] = replace(
            comps[i], fuzzy=((index.fuzzy_keys[best], index.fuzzy_names[best], round(score, 1)),)
        )
        results[text] = replace(d, components=tuple(comps))
