"""Identify what each distinct description names, once per distinct text.

Order of trust (DESIGN.md §2): InChI strings and InChIKeys written anywhere in the text (their
own components) -> the watch-list synonym index (all languages, abbreviations, natural
sources; each part of "ABBR (name)" / "name (ABBR)" is tried and a listed name wins, while a
chemical the PubChem table knows by its full name outranks a listed abbreviation) -> the
PubChem identifiers table (so an ordinary chemical with a close name is known to be *that*
chemical) -> OPSIN for systematic names (one batch; the whole text is offered before the
cleaned name, and inverted CAS index names are kept whole) -> the PubChem table for the parts
of a bracketed text -> listed names written inside a longer text (between words, or inside
Chinese, Japanese, Korean and Thai text, which has no spaces) -> fuzzy match against
watch-list names, only when nothing else knows the name, with cut-offs that grow with the
name's length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from precursorwatch.chem.molecule import smiles_from_inchi
from precursorwatch.errors import ResolverError
from precursorwatch.identify.fuzzy import fuzzy_matches
from precursorwatch.identify.inchi import InchiMentions, find_inchi
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
from precursorwatch.identify.resolve import pubchem_by_inchikey, pubchem_by_name
from precursorwatch.identify.scripts import in_unspaced_text
from precursorwatch.identify.systematic import bracket_pieces, looks_index_name, systematic_variants
from precursorwatch.identify.trade import systematic_for_trade_name


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

    @property
    def by_inchikey(self) -> Mapping[str, set[str]]:
        """Listed keys by the full InChIKey of their parent structure."""

    @property
    def by_skeleton(self) -> Mapping[str, set[str]]:
        """Listed keys by the connectivity block (first 14 letters) of that InChIKey."""


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
    """What a description names: its components, CAS numbers written in it, and notes.

    ``notes`` go into a line's reason (OPSIN was down, an InChIKey nobody knows);
    ``warnings`` into its warnings: what was written wrong and so not used (an InChI that
    cannot be read, an InChIKey of the wrong shape), so the reason reads as without it."""

    text: str
    components: tuple[ComponentId, ...] = ()
    cas_in_text: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)


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


def _pieces(whole: str) -> list[str]:
    """The parts of a bracketed text ("BMK (phenylacetone)"), each as written and cleaned."""
    out: list[str] = []
    if "(" not in whole and "[" not in whole:
        return out
    for piece in bracket_pieces(whole):
        for name in (piece, clean_name(piece).name):
            if name and name not in out:
                out.append(name)
    return out


def _first_pass(index: NameIndex, component: str) -> tuple[ComponentId, tuple[str, ...]]:
    """One component looked up in the watch lists and the PubChem table; and, when neither
    knows it, the names to offer OPSIN for it, best first (the whole text before the cleaned
    name: cleaning drops brackets and words a systematic name may need)."""
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
    names = list(dict.fromkeys(n for n in (whole, parts.name, parts.bare) if n))
    pieces = [p for p in _pieces(whole) if p not in names]
    abbreviation: tuple[tuple[str, ...], str, str] | None = None
    for candidate in (*names, *pieces):
        keys, via = _watch_lookup(index, candidate)
        if not keys:
            continue
        if via != "abbreviation":  # a listed name or natural source: it wins
            return replace(comp, watch_keys=keys, watch_via=via, watch_term=candidate), ()
        abbreviation = abbreviation or (keys, via, candidate)
    if abbreviation is not None:
        keys, via, term = abbreviation
        # "4-Aminopyridine (4-AP)", "PPA (polyphosphoric acid)": a chemical named in full
        # says what an abbreviation of several meanings stands for
        others = [p for p in pieces if compact(p) != compact(term)]
        known = _pubchem_lookup(others)
        if known is not None:
            return _known(comp, known), ()
        return replace(comp, watch_keys=keys, watch_via=via, watch_term=term), ()
    salted = f"{parts.name} {parts.salt}".strip()
    known = _pubchem_lookup(dict.fromkeys((whole, salted, parts.name)))
    if known is not None:
        return _known(comp, known), ()
    if not parts.name:
        return comp, ()  # only grade, packaging or salt words
    trade = systematic_for_trade_name(parts.name)
    offered = [n for text in names for n in systematic_variants(text) if looks_systematic(n)]
    return comp, tuple(dict.fromkeys([trade, *offered] if trade else offered))


def _known(comp: ComponentId, known: KnownChemical) -> ComponentId:
    return replace(
        comp,
        known_name=known.name,
        known_cas=known.cas,
        smiles=known.smiles,
        smiles_via="pubchem",
    )


def _shown(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _structure_mentions(
    index: NameIndex, mentions: InchiMentions
) -> tuple[list[ComponentId], list[str], list[str]]:
    """Components for the InChI strings and InChIKeys of a description, notes (for the reason)
    on valid keys nobody knows, and warnings on what cannot be read (an invalid InChI, a key
    of the wrong shape). An InChI gives a structure (RDKit, through
    :mod:`precursorwatch.chem`, bounded in length and atoms); a full InChIKey names a listed
    substance, or a chemical of the PubChem table (whose structure is then compared), and
    failing both its connectivity block may name a listed substance (another stereoisomer or
    isotopic form of it). The texts quoted hold no white space, so no warning holds the '; '
    that separates a line's warnings."""
    comps: list[ComponentId] = []
    notes: list[str] = []
    warnings: list[str] = []
    for inchi in mentions.inchis:
        smiles, problem = smiles_from_inchi(inchi)
        if smiles:
            comps.append(ComponentId(text=inchi, name=inchi, smiles=smiles, smiles_via="inchi"))
        else:
            warnings.append(f"InChI {_shown(inchi)!r} was not used: {problem}")
    for key in mentions.keys:
        listed = index.by_inchikey.get(key)
        if listed:
            comps.append(
                ComponentId(
                    text=key,
                    name=key,
                    watch_keys=tuple(sorted(listed)),
                    watch_via="inchikey",
                    watch_term=key,
                )
            )
            continue
        known = pubchem_by_inchikey(key)
        if known is not None and known.smiles:
            comps.append(
                replace(_known(ComponentId(text=key, name=key), known), smiles_via="inchikey")
            )
            continue
        same_connectivity = index.by_skeleton.get(key[:14])
        if same_connectivity:
            comps.append(
                ComponentId(
                    text=key,
                    name=key,
                    watch_keys=tuple(sorted(same_connectivity)),
                    watch_via="inchikey-connectivity",
                    watch_term=key,
                )
            )
            continue
        notes.append(f"InChIKey {key} is neither a listed substance's nor in the PubChem table")
    for bad in mentions.malformed:
        warnings.append(
            f"InChIKey {_shown(bad)!r} was not used: an InChIKey is 14 letters, a hyphen, 10 "
            "letters, a hyphen and 1 letter"
        )
    for bad in mentions.not_inchi:
        warnings.append(
            f"InChI column {_shown(bad)!r} was not used: it is neither an InChI "
            "(InChI=1S/...) nor an InChIKey"
        )
    return comps, notes, warnings


@dataclass(frozen=True, slots=True)
class FirstPass:
    """Descriptions after every look-up that needs no OPSIN (:func:`first_pass`).

    ``components`` holds each text's components; ``offered`` the names each unidentified
    component offers OPSIN, best first; ``pending`` all of them, for one OPSIN batch
    (:func:`finish` takes its answers); ``notes`` what the reason of each text says it could
    not use, ``warnings`` what was written wrong in it (its InChI strings and InChIKeys).
    """

    components: dict[str, list[ComponentId]]
    pending: frozenset[str]
    offered: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def waits_for_opsin(self, text: str) -> bool:
        """True when ``text`` has a component only OPSIN may identify."""
        return any(
            not c.identified and any(n in self.pending for n in names)
            for c, names in zip(
                self.components.get(text, ()), self.offered.get(text, ()), strict=False
            )
        )


def first_pass(texts: Iterable[str], index: NameIndex) -> FirstPass:
    """Split each distinct text into components and look each up in the watch-list index
    and the PubChem table; collect the names left for OPSIN. Never raises on user text.

    InChI strings and InChIKeys become components of their own first; an inverted CAS index
    name ("Benzene, (2-nitropropyl)-") is one component, not split at its commas."""
    firsts: dict[str, list[ComponentId]] = {}
    offered: dict[str, list[tuple[str, ...]]] = {}
    notes: dict[str, tuple[str, ...]] = {}
    warnings: dict[str, tuple[str, ...]] = {}
    for text in dict.fromkeys(texts):
        if not text or not text.strip():
            continue
        mentions = find_inchi(text)
        comps, text_notes, text_warnings = _structure_mentions(index, mentions)
        names: list[tuple[str, ...]] = [()] * len(comps)
        rest = mentions.rest
        if rest.strip():
            index_name = ", " in rest and looks_index_name(strip_cas_from_text(clean_text(rest)))
            for part in [rest] if index_name else split_components(rest):
                comp, offer = _first_pass(index, part)
                comps.append(comp)
                names.append(offer)
        firsts[text], offered[text] = comps, names
        if text_notes:
            notes[text] = tuple(text_notes)
        if text_warnings:
            warnings[text] = tuple(text_warnings)
    pending = frozenset(
        n
        for text, comps in firsts.items()
        for c, offer in zip(comps, offered[text], strict=True)
        if not c.identified
        for n in offer
    )
    return FirstPass(firsts, pending, offered, notes, warnings)


def finish(
    first: FirstPass,
    texts: Iterable[str],
    index: NameIndex,
    opsin: Mapping[str, str],
    opsin_note: str = "",
) -> dict[str, DescriptionId]:
    """The :class:`DescriptionId` of each of ``texts`` (texts of ``first``): OPSIN's
    structures (``opsin``: name -> SMILES) applied, then the PubChem table for the parts of a
    bracketed text, then listed names written inside a longer text, then fuzzy names.
    ``opsin_note`` says why OPSIN could not run ('' when it did); the descriptions that needed
    it carry it. Texts that wait for no OPSIN answer may be finished before the batch is back
    (pass an empty ``opsin``): the result is the same.
    """
    results: dict[str, DescriptionId] = {}
    unresolved: list[tuple[str, int]] = []
    for text in dict.fromkeys(texts):
        comps = first.components.get(text)
        if comps is None:
            continue
        offers = first.offered.get(text, [()] * len(comps))
        done = []
        waited = False
        for i, (comp, offer) in enumerate(zip(comps, offers, strict=True)):
            if not comp.identified and offer:
                waited = waited or any(n in first.pending for n in offer)
                parsed = next((n for n in offer if n in opsin), "")
                if parsed:
                    comp = replace(comp, name=parsed, smiles=opsin[parsed], smiles_via="opsin")
            if not comp.identified:
                comp = _after_opsin(index, comp)
                if not comp.identified:
                    unresolved.append((text, i))
            done.append(comp)
        notes = first.notes.get(text, ())
        if opsin_note and waited:
            notes = (*notes, opsin_note)
        results[text] = DescriptionId(
            text=text,
            components=tuple(done),
            cas_in_text=tuple(r.cas for r in cas_in_text(text)),
            notes=notes,
            warnings=first.warnings.get(text, ()),
        )
    _add_fuzzy(results, unresolved, index)
    return results


def _after_opsin(index: NameIndex, comp: ComponentId) -> ComponentId:
    """What a component OPSIN did not identify may still be: a chemical the PubChem table
    knows by one part of a bracketed text, or a listed name written inside it."""
    known = _pubchem_lookup(_pieces(strip_cas_from_text(clean_text(comp.text))))
    if known is not None:
        return _known(comp, known)
    keys, term = _in_text(index, comp.name)
    if keys:
        return replace(comp, watch_keys=keys, watch_via="in-text", watch_term=term)
    keys, term, natural = in_unspaced_text(index, comp.text)
    if keys:
        via = "natural-source" if natural else "in-text"
        return replace(comp, watch_keys=keys, watch_via=via, watch_term=term)
    return comp


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
    names = [results[t].components[i].name for t, i in unresolved]
    for (text, i), hit in zip(
        unresolved, fuzzy_matches(names, index.fuzzy_names, index.fuzzy_keys), strict=True
    ):
        if hit is None:
            continue
        d = results[text]
        comps = list(d.components)
        comps[i] = replace(comps[i], fuzzy=(hit,))
        results[text] = replace(d, components=tuple(comps))
