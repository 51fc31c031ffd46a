"""Evidence -> one risk tier, the best match and one plain sentence per distinct declaration.

The tiers are the triage rules' (:mod:`precursorwatch.engine.triage`, rules as data): what the
substance is, how it was found, and whether the goods name any chemical at all. The quantity
rules need each line's quantity: :func:`~precursorwatch.engine.triage.line_verdict` applies
them per line, after this.
"""

from __future__ import annotations

from collections.abc import Sequence

from precursorwatch.engine.dates import pending_verdict
from precursorwatch.engine.index import LIST_LABELS, ListIndex
from precursorwatch.engine.matchers.base import reason_part
from precursorwatch.engine.triage import (
    ESTABLISHED_KINDS,
    RANK,
    evidence_risk,
    is_chemical_heading,
    substance_sentence,
    tier,
)
from precursorwatch.models import MATCH_TYPES, Evidence, LineResult

__all__ = ["IDENTITY_KINDS", "RANK", "UNIDENTIFIED", "evidence_risk", "score_line"]

#: Evidence that the declared goods ARE a listed substance (or are said to be, by their CAS);
#: at equal risk it outranks evidence that they lead to one or resemble one.
IDENTITY_KINDS = ESTABLISHED_KINDS | {"mismatch"}

#: The reason of goods that name no identifiable chemical (rule unidentified).
UNIDENTIFIED = "The goods name no identifiable chemical: ask for the chemical name or CAS number."


def _order(ev: Evidence, risk: str) -> tuple[int, int, float, int]:
    kind_rank = MATCH_TYPES.index(ev.kind) if ev.kind in MATCH_TYPES else len(MATCH_TYPES)
    mismatch_first = 1 if ev.kind == "mismatch" else 0
    identity = 1 if ev.kind in IDENTITY_KINDS else 0
    return (RANK[risk], identity, ev.score + 0.1 * mismatch_first, -kind_rank)


def _pretty_hs(hs: str) -> str:
    return f"{hs[:4]}.{hs[4:6]}" if len(hs) >= 6 else hs


def _unflagged(
    line_id: str, note_text: str, *, identified: bool, hs: str, described: bool
) -> LineResult:
    """The result of a declaration without evidence: clear, not chemical goods, or
    unidentified (rules clear, not-chemical-goods, unidentified)."""
    if identified:  # what could not be read says more than "nothing found"
        risk, match_type = tier("clear"), ""
        reason = note_text or "No listed substance found."
    else:
        if described and hs and not is_chemical_heading(hs):
            risk, match_type = tier("not-chemical-goods"), ""
            reason = (
                f"No chemical named, and HS code {_pretty_hs(hs)} is not a chemicals heading: "
                "not chemical goods."
            )
        else:
            risk, match_type, reason = tier("unidentified"), "unidentified", UNIDENTIFIED
        reason += f" {note_text}" if note_text else ""
    return LineResult(
        line_id=line_id,
        flagged=RANK[risk] >= RANK["medium"],
        risk=risk,
        match_type=match_type,
        reason=reason,
    )


def _share_of(ev: Evidence, evidence: Sequence[Evidence]) -> str:
    """The share of a mixture's component, as "(20% of the goods)" after its name, once per
    substance (the largest share given for it); '' when none was declared."""
    shares = [e.share for e in evidence if e.substance_key == ev.substance_key and e.share]
    return f" ({max(shares):.0%} of the goods)" if shares and max(shares) < 1 else ""


def score_line(
    evidence: Sequence[Evidence],
    index: ListIndex,
    *,
    notes: Sequence[str] = (),
    line_id: str = "",
    identified: bool = True,
    hs: str = "",
    described: bool = True,
) -> LineResult:
    """Combine a line's evidence into its :class:`LineResult`.

    ``notes`` (an invalid CAS, an unparsable SMILES, OPSIN unavailable) are appended to the
    reason so the officer sees what could not be used. ``identified``: whether anything on the
    line identified a chemical (listed or not); when nothing did and the evidence gives less
    than medium, the line is ``unidentified`` (or, with ``described`` goods under an ``hs``
    code outside the chemical chapters, not chemical goods).
    """
    note_text = " ".join(n.rstrip(".") + "." for n in notes if n)
    risks = [evidence_risk(e, index) for e in evidence]
    best_i = max(range(len(evidence)), key=lambda i: _order(evidence[i], risks[i]), default=-1)
    if best_i < 0 or (not identified and RANK[risks[best_i]] < RANK["medium"]):
        result = _unflagged(line_id, note_text, identified=identified, hs=hs, described=described)
        if not evidence or result.match_type != "unidentified":
            return result
        # a hint (a shared HS code) on goods that name nothing: the hint goes in the reason
        hint = _capital(reason_part(evidence[best_i]))
        return LineResult(
            line_id=line_id,
            flagged=result.flagged,
            risk=result.risk,
            match_type=result.match_type,
            reason=f"{UNIDENTIFIED} {hint}." + (f" {note_text}" if note_text else ""),
            evidence=tuple(evidence),
        )
    best, risk = evidence[best_i], risks[best_i]
    sub = index.substance(best.substance_key)
    others = sorted(
        {
            index.substance(e.substance_key).name + _share_of(e, evidence)
            for e, r in zip(evidence, risks, strict=True)
            if e.substance_key != best.substance_key and RANK[r] >= RANK["medium"]
        }
    )
    phrase = reason_part(best)
    lists_phrase = index.lists_phrase(best.substance_key)
    listed = f" ({lists_phrase})" if lists_phrase and lists_phrase not in phrase else ""
    sentence = f"{_capital(phrase)}{listed}."
    if best.kind in ESTABLISHED_KINDS:
        said = substance_sentence(index, best.substance_key)
        sentence += f" {said}" if said else ""
    if others:
        sentence += f" Also found: {', '.join(others)}."
    if not identified:
        sentence += f" {UNIDENTIFIED}"
    pending = index.pending.get(sub.key)
    if pending and index.as_of is not None and not index.list_codes(sub.key):
        risk, said = pending_verdict(risk, pending, index.as_of, LIST_LABELS)
        sentence += f" {said}"
    if note_text:
        sentence += " " + note_text
    return LineResult(
        line_id=line_id,
        flagged=RANK[risk] >= RANK["medium"],
        risk=risk,
        matched_key=sub.key,
        matched_name=sub.name,
        matched_cas=sub.cas or (sub.other_cas[0].cas if sub.other_cas else ""),
        lists=index.list_codes(sub.key),
        match_type=best.kind,
        score=round(min(1.0, max(0.0, best.score)), 3),
        reason=sentence,
        evidence=tuple(
            e for _, e in sorted(zip(risks, evidence, strict=True), key=lambda p: -RANK[p[0]])
        ),
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
