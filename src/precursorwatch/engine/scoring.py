"""Evidence -> one risk tier, the best match and one plain sentence per line.

Weights and cut-offs are data (below). ``high``: identity established (CAS, exact name,
structure) or a mismatch pointing at a listed substance; ``medium``: a fuzzy name, a
derivative, an HS code alone, a substance only on a confidential monitoring list; ``low``: a
similarity hint or a shared HS code; ``none``: nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from precursorwatch.engine.index import ListIndex
from precursorwatch.models import MATCH_TYPES, Evidence, LineResult

#: The risk each kind of evidence carries before caps (DESIGN.md §2).
BASE_RISK: dict[str, str] = {
    "cas": "high",
    "structure-identical": "high",
    "name": "high",
    "structure-parent": "high",
    "mismatch": "high",
    "derivative": "medium",
    "fuzzy-name": "medium",
    "hs-code": "medium",
    "similar": "low",
}
#: Evidence scoring under this is one tier lower (a shared HS code is only a hint).
WEAK_SCORE: dict[str, float] = {"hs-code": 0.4, "derivative": 0.0, "similar": 0.0}
RANK: dict[str, int] = {"high": 3, "medium": 2, "low": 1, "none": 0}
_LOWER = {"high": "medium", "medium": "low", "low": "low", "none": "none"}


def evidence_risk(ev: Evidence, index: ListIndex) -> str:
    """The risk one piece of evidence supports, after the caps that apply to it."""
    risk = BASE_RISK.get(ev.kind, "low")
    if ev.score < WEAK_SCORE.get(ev.kind, 0.0):
        risk = _LOWER[risk]
    if ev.kind == "derivative" and ev.score >= 0.8:
        risk = "high"
    if ev.kind == "similar" and ev.score >= 0.6:
        risk = "medium"
    if risk == "high" and index.confidential_only(ev.substance_key):
        risk = "medium"
    return risk


#: Evidence that the declared goods ARE a listed substance (or are said to be, by their CAS);
#: at equal risk it outranks evidence that they lead to one or resemble one.
IDENTITY_KINDS = frozenset({"cas", "structure-identical", "name", "structure-parent", "mismatch"})


def _order(ev: Evidence, risk: str) -> tuple[int, int, float, int]:
    kind_rank = MATCH_TYPES.index(ev.kind) if ev.kind in MATCH_TYPES else len(MATCH_TYPES)
    mismatch_first = 1 if ev.kind == "mismatch" else 0
    identity = 1 if ev.kind in IDENTITY_KINDS else 0
    return (RANK[risk], identity, ev.score + 0.1 * mismatch_first, -kind_rank)


def score_line(
    evidence: Sequence[Evidence], index: ListIndex, *, notes: Sequence[str] = (), line_id: str = ""
) -> LineResult:
    """Combine a line's evidence into its :class:`LineResult` (risk ``none`` when empty).

    ``notes`` (an invalid CAS, an unparsable SMILES, OPSIN unavailable) are appended to the
    reason so the officer sees what could not be used.
    """
    note_text = " ".join(n.rstrip(".") + "." for n in notes if n)
    if not evidence:
        return LineResult(
            line_id=line_id,
            flagged=False,
            risk="none",
            reason=note_text or "No listed substance found.",
            warnings=(),
        )
    risks = [evidence_risk(e, index) for e in evidence]
    best_i = max(range(len(evidence)), key=lambda i: _order(evidence[i], risks[i]))
    best, risk = evidence[best_i], risks[best_i]
    sub = index.substance(best.substance_key)
    others = sorted(
        {
            index.substance(e.substance_key).name
            for e, r in zip(evidence, risks, strict=True)
            if e.substance_key != best.substance_key and RANK[r] >= RANK["medium"]
        }
    )
    lists_phrase = index.lists_phrase(best.substance_key)
    listed = f" ({lists_phrase})" if lists_phrase and lists_phrase not in best.detail else ""
    sentence = f"{_capital(best.detail)}{listed}."
    if others:
        sentence += f" Also found: {', '.join(others)}."
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
        evidence=tuple(sorted(evidence, key=lambda e: -_order(e, evidence_risk(e, index))[0])),
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
