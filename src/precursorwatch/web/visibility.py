"""What a role may see: operators never learn a confidential list's code or entries.

An operator's hit on a confidential list keeps its risk (and ``flagged``) but the matched
substance, CAS, lists, evidence and reason give way to :data:`REFER` wording. When the matched
substance is also on a public list, the public part is shown and the confidential part removed.
Applied when results are read (JSON, CSV, XLSX, HTML, pages), so a stored screening shows each
reader what their role allows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from precursorwatch.models import Evidence, LineResult

#: What an operator sees in place of a confidential hit.
REFER = "refer to the competent authority"
REFER_REASON = (
    "This line matches an entry of a list for official use only: "
    "refer to the competent authority before shipping."
)
#: Roles that see confidential lists.
TRUSTED_ROLES: frozenset[str] = frozenset({"officer", "admin"})


def sees_confidential(role: str) -> bool:
    """True for officers and admins."""
    return role in TRUSTED_ROLES


def _public(codes: Iterable[str], confidential: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in codes if c not in confidential)


def _public_evidence(
    evidence: Iterable[Evidence], confidential: frozenset[str]
) -> tuple[Evidence, ...]:
    kept = []
    for ev in evidence:
        codes = _public(ev.list_codes, confidential)
        if ev.list_codes and not codes:
            continue
        kept.append(dataclasses.replace(ev, list_codes=codes))
    return tuple(kept)


def _touches(result: LineResult, confidential: frozenset[str]) -> bool:
    if any(c in confidential for c in result.lists):
        return True
    return any(c in confidential for ev in result.evidence for c in ev.list_codes)


def visible_result(result: LineResult, role: str, confidential: frozenset[str]) -> LineResult:
    """``result`` as ``role`` may see it (unchanged for officers, admins and public hits)."""
    if sees_confidential(role) or not confidential or not _touches(result, confidential):
        return result
    public_lists = _public(result.lists, confidential)
    if result.lists and not public_lists:
        return dataclasses.replace(
            result,
            matched_key="",
            matched_name=REFER,
            matched_cas="",
            lists=(),
            evidence=(),
            reason=REFER_REASON,
        )
    evidence = _public_evidence(result.evidence, confidential)
    reason = result.reason
    if any(c in reason for c in confidential) or len(evidence) != len(result.evidence):
        best = next((e for e in evidence if e.substance_key == result.matched_key), None)
        listed = f" ({', '.join(public_lists)})" if public_lists else ""
        detail = best.detail if best is not None else result.matched_name
        reason = f"{detail[:1].upper()}{detail[1:]}{listed}." if detail else ""
    return dataclasses.replace(result, lists=public_lists, evidence=evidence, reason=reason)


def visible_results(
    results: Iterable[LineResult], role: str, confidential: frozenset[str]
) -> list[LineResult]:
    """:func:`visible_result` over many results."""
    return [visible_result(r, role, confidential) for r in results]
