"""Judging one distinct declaration: every matcher's evidence, then one risk tier and reason.

This is the whole decision, read top to bottom: :func:`judge` runs the matchers of
:data:`~precursorwatch.engine.matchers.MATCHERS` on what was declared (description, CAS
numbers, HS code, structures), adds the notes of what could not be read, and scores the
evidence (:func:`verdict`: :func:`~precursorwatch.engine.scoring.score_line` under the triage
rules of :mod:`~precursorwatch.engine.triage`). It is a function of the
declaration and the list index: no files, no database, no processes, no clocks of its own.
Whoever runs it (:mod:`precursorwatch.run`) adds memos, caches, workers, timings and the
time budget of the structure comparisons (:mod:`~precursorwatch.engine.budget`) from outside.

The structure matchers read only a declaration's structures, and a structure is often
declared several ways (by name, by CAS number, as a component); their evidence can be kept
per :func:`structure_signature` in a mapping the caller owns (``structure_evidence``), so that
each structure is matched once.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import asdict, replace

from precursorwatch.engine.budget import StructureBudget
from precursorwatch.engine.index import ListIndex
from precursorwatch.engine.matchers import MATCHERS, Declared, Matcher
from precursorwatch.engine.matchers.derivative import match_derivative
from precursorwatch.engine.matchers.similar import match_similar
from precursorwatch.engine.matchers.structure import match_structures
from precursorwatch.engine.scoring import score_line
from precursorwatch.models import Evidence, LineResult
from precursorwatch.serial import compact_json

#: Matchers that read only ``declared.structures`` and ``declared.cas_known``, by the name
#: their evidence is kept under per structure signature.
STRUCTURE_MATCHERS: dict[Matcher, str] = {
    match_structures: "structure",
    match_derivative: "derivative",
    match_similar: "similar",
}

#: The structure matchers whose comparisons a :class:`StructureBudget` bounds, by name (the
#: identity matcher is exact and cheap: it always runs whole).
BUDGETED_MATCHERS: dict[
    str, Callable[[Declared, ListIndex, StructureBudget | None], list[Evidence]]
] = {
    "derivative": match_derivative,
    "similar": match_similar,
}

#: Evidence of the structure matchers for one structure signature: matcher name -> evidence.
StructureEvidence = dict[str, list[Evidence]]


def judge(
    declared: Declared,
    index: ListIndex,
    *,
    structure_evidence: MutableMapping[str, StructureEvidence] | None = None,
    budget: StructureBudget | None = None,
) -> LineResult:
    """The judged result of one declaration (its ``line_id`` empty: lines get theirs later).

    ``structure_evidence``, when given, is read and filled per :func:`structure_signature`.
    ``budget``, when given, bounds the time of the structure comparisons (the result then says
    what was left out). Never raises on what a user declared: what could not be read becomes
    a note in the result.
    """
    evidence = collect_evidence(
        declared, index, structure_evidence=structure_evidence, budget=budget
    )
    return verdict(declared, evidence, index, budget=budget)


def verdict(
    declared: Declared,
    evidence: list[Evidence],
    index: ListIndex,
    *,
    budget: StructureBudget | None = None,
) -> LineResult:
    """The scored result of ``declared`` from its ``evidence``: the notes of what could not be
    read (and of comparisons a spent ``budget`` left out), and whether anything identified a
    chemical, go with it."""
    stopped = [budget.note()] if budget is not None and budget.stopped else []
    result = score_line(
        evidence,
        index,
        notes=declared_notes(declared) + stopped,
        identified=is_identified(declared),
        hs=declared.hs,
        described=bool(declared.description is not None and declared.description.text.strip()),
    )
    # what was written wrong (an unreadable InChI, a key of the wrong shape) is a warning of
    # every line of the declaration, not part of the reason
    warned = declared.description.warnings if declared.description is not None else ()
    return replace(result, warnings=warned) if warned else result


def is_identified(declared: Declared) -> bool:
    """Whether anything declared identifies a chemical, listed or not: a valid CAS number (in
    its field or in the description), a readable structure, or a component of the description
    that a resolver knew or that is close to a listed name. False for "white powder",
    "samples", "N/A" or an empty description without a CAS number (triage rule unidentified).
    """
    if any(r.valid for r in declared.cas):
        return True
    if any(s.identity is not None for s in declared.structures):
        return True
    d = declared.description
    return d is not None and bool(
        d.cas_in_text or any(c.identified or c.fuzzy for c in d.components)
    )


def collect_evidence(
    declared: Declared,
    index: ListIndex,
    *,
    structure_evidence: MutableMapping[str, StructureEvidence] | None = None,
    budget: StructureBudget | None = None,
) -> list[Evidence]:
    """Every matcher's evidence for ``declared``, in the order of ``MATCHERS``.

    ``budget`` (started here) bounds the derivative and similarity comparisons; what a spent
    budget cut short is not kept in ``structure_evidence`` (a later line compares again).
    """
    if budget is not None:
        budget.start()
    evidence: list[Evidence] = []
    by_structure: StructureEvidence | None = None
    for matcher in MATCHERS:
        name = STRUCTURE_MATCHERS.get(matcher)
        if name is None:
            evidence.extend(matcher(declared, index))
            continue
        if by_structure is None:
            memo = {} if structure_evidence is None else structure_evidence
            by_structure = memo.setdefault(structure_signature(declared), {})
        found = by_structure.get(name)
        if found is None:
            budgeted = BUDGETED_MATCHERS.get(name)
            found = (
                matcher(declared, index) if budgeted is None else budgeted(declared, index, budget)
            )
            if budget is None or not budget.stopped:
                by_structure[name] = found
        evidence.extend(found)
    return evidence


def declared_notes(declared: Declared) -> list[str]:
    """What could not be read of ``declared``: failed CAS check digits, unusable SMILES and
    the description's own notes (e.g. OPSIN was not available)."""
    notes = [
        f"CAS {r.written} is not a valid CAS number (its check digit is wrong)"
        for r in declared.cas
        if not r.valid
    ]
    notes += [
        f"The structure (SMILES) given could not be used: {s.problem}"
        for s in declared.structures
        if s.origin == "smiles" and s.identity is None
    ]
    if declared.description is not None:
        notes += list(declared.description.notes)
    return notes


def structure_signature(declared: Declared) -> str:
    """What the structure matchers read of ``declared``, as a key (JSON text).

    A CAS number's PubChem structure that is the same SMILES as a declared structure adds
    nothing (the matchers drop it as a duplicate), so it is left out of the key.
    """
    own = {s.smiles for s in declared.structures}
    structures = [
        [s.smiles, s.origin, s.component, s.share, None if s.known is None else asdict(s.known)]
        for s in declared.structures
    ]
    extra = [
        [cas, k.smiles] for cas, k in declared.cas_known.items() if k.smiles and k.smiles not in own
    ]
    return compact_json([structures, extra])
