"""Explain one query (a name, SMILES or CAS): the evidence chain an officer reads.

Declared structure -> transform steps (each with its chemistry note and citation) -> listed
substance -> the lists naming it, plus an SVG of the declared structure beside the listed one
with the shared part highlighted. ``precursorwatch explain QUERY`` prints :meth:`Explanation.
lines`; the web page embeds :attr:`Explanation.svg`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from precursorwatch.chem import molecule
from precursorwatch.chem.depict import depict, depict_pair
from precursorwatch.chem.transforms import TRANSFORMS
from precursorwatch.engine.matchers.derivative import derivative_hits
from precursorwatch.errors import InputError
from precursorwatch.identify.describe import identify_descriptions
from precursorwatch.identify.normalise import read_cas
from precursorwatch.identify.resolve import pubchem_by_cas
from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.models import LineResult
from precursorwatch.run.results import results_from_frame
from precursorwatch.run.screener import Screener

_CAS_LIKE = re.compile(r"^\s*(?:CAS[:\s]*)?\d{2,7}-?\d{2}-?\d\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Step:
    """One transform on the way from the declared structure to the listed one."""

    name: str
    note: str
    citation: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the screening found for one query, and why.

    ``query_kind`` is ``smiles``, ``cas`` or ``name``; ``declared_smiles`` the structure the
    query was read as ('' when none was found); ``steps`` the transforms of a derivative match;
    ``svg`` the picture ('' when there is no structure to draw).
    """

    query: str
    query_kind: str
    declared_smiles: str
    result: LineResult
    steps: tuple[Step, ...] = ()
    listed_smiles: str = ""
    svg: str = ""

    def lines(self) -> list[str]:
        """The evidence chain as plain text lines, for a terminal."""
        r = self.result
        out = [f"query: {self.query} (read as {self.query_kind})"]
        out.append(f"declared structure: {self.declared_smiles or '(none found)'}")
        out += [f"warning: {w}" for w in r.warnings]  # e.g. an InChI that cannot be read
        if not r.flagged and r.risk == "none":
            out.append(f"verdict: not on any list ({r.reason})")
            return out
        for i, step in enumerate(self.steps, 1):
            out.append(f"step {i}: {step.name}: {step.note} [{step.citation}]")
        out.append(
            f"listed substance: {r.matched_name}"
            + (f" (CAS {r.matched_cas})" if r.matched_cas else "")
            + (f", {self.listed_smiles}" if self.listed_smiles else "")
        )
        out.append(f"lists: {', '.join(r.lists) or '-'}")
        out.append(f"verdict: {r.risk} risk, {r.match_type} (score {r.score:.2f}): {r.reason}")
        others = [e for e in r.evidence if e.substance_key != r.matched_key]
        for ev in others[:5]:
            out.append(f"also: {ev.kind} {ev.detail}")
        return out


def _kind(query: str) -> str:
    if _CAS_LIKE.match(query) and any(c.valid for c in read_cas(query)):
        return "cas"
    if " " not in query.strip():
        mol, _ = molecule.parse_smiles(query)
        if mol is not None and not query.isalpha():
            return "smiles"
    return "name"


def _declared_smiles(query: str, kind: str, screener: Screener) -> str:
    if kind == "smiles":
        return query.strip()
    if kind == "cas":
        cas = next(c.cas for c in read_cas(query) if c.valid)
        for hit in screener.index.by_cas.get(cas, []):
            smiles = screener.index.substance(hit.key).smiles
            if smiles:
                return smiles
        known = pubchem_by_cas(cas)
        return known.smiles if known is not None else ""
    found = identify_descriptions(
        [query],
        screener.index,
        use_opsin=screener.use_opsin,
        opsin_timeout_s=screener.opsin_timeout_s,
    )
    d = found.get(query)
    if d is None:
        return ""
    return next((c.smiles for c in d.components if c.smiles), "")


def _steps(declared_smiles: str, listed_key: str, screener: Screener) -> tuple[Step, ...]:
    ident, _ = molecule.identity(declared_smiles)
    if ident is None:
        return ()
    by_name = {t.name: t for t in TRANSFORMS}
    for hit in derivative_hits(ident, screener.index):  # first path first
        if hit.key == listed_key:
            return tuple(
                Step(n, by_name[n].note, by_name[n].citation) for n in hit.steps if n in by_name
            )
    return ()


def _legend(name: str, lists: tuple[str, ...], width: int = 60) -> str:
    """'name (UN-T1, EU-CAT1)' within ``width`` characters, shortening the name, not the lists."""
    codes = f" ({', '.join(lists)})" if lists else ""
    room = max(12, width - len(codes))
    short = name if len(name) <= room else name[: room - 1].rstrip() + "…"
    return short + codes


def explain(query: str, screener: Screener) -> Explanation:
    """Screen ``query`` (a name, SMILES or CAS number) and explain the verdict.

    Raises :class:`~precursorwatch.errors.InputError` when the query is empty. A query that
    resolves to nothing gives an explanation with risk ``none`` and no structure.
    """
    if not query or not query.strip():
        raise InputError("explain needs a query: a chemical name, a SMILES or a CAS number")
    query = query.strip()
    kind = _kind(query)
    column = {"smiles": "smiles", "cas": "cas", "name": "description"}[kind]
    result = results_from_frame(screener.screen_frame(pd.DataFrame({column: [query]})))[0]
    declared = _declared_smiles(query, kind, screener)
    listed = ""
    if result.matched_key:
        listed = screener.index.substance(result.matched_key).smiles
    steps: tuple[Step, ...] = ()
    if result.match_type == "derivative" and declared:
        steps = _steps(declared, result.matched_key, screener)
    if declared and listed and result.match_type in STRUCTURE_TYPES:
        svg = depict_pair(
            declared,
            listed,
            declared_legend="declared",
            listed_legend=_legend(result.matched_name, result.lists),
        )
    elif declared or listed:
        svg = depict(declared or listed, legend="declared" if declared else result.matched_name)
    else:
        svg = ""
    return Explanation(query, kind, declared, result, steps, listed, svg)
