"""What a role may see: the one place where confidential facts are taken out of what an
operator receives.

Every answer built for a key goes through :class:`Visibility` (results of a screening, stored
or fresh, in every format; substances, lists, a screening's list versions; pictures), built
once per version of the lists:

* An operator's hit on a substance that no public list names keeps its risk (and ``flagged``)
  but the matched substance, CAS, lists, evidence and reason give way to :data:`REFER`
  wording. A substance dropped from a confidential list is named by no public list either,
  so it stays hidden.
* A hit on a substance that public lists name too shows the public part: confidential list
  codes are removed from ``lists`` and the evidence, evidence about hidden substances is
  dropped, and a list phrase written into a text ("... (UN Table I and SECRET-X)") is
  rewritten without the confidential list.
* Last, every text of the result is searched for every confidential term (codes, titles,
  the names, keys, CAS numbers and SMILES of hidden substances): a text that still holds one
  is replaced, whatever field it is in, so a new field or a new matcher's wording cannot
  leak what the rules above did not foresee.

Officers and admins see everything.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from precursorwatch.engine.index import LIST_LABELS
from precursorwatch.models import Evidence, LineResult, Substance, Watchlist

#: What an operator sees in place of a confidential hit.
REFER = "refer to the competent authority"
REFER_REASON = (
    "This line matches an entry of a list for official use only: "
    "refer to the competent authority before shipping."
)
#: Roles that see confidential lists.
TRUSTED_ROLES: frozenset[str] = frozenset({"officer", "admin"})
#: Terms shorter than this are not searched for in texts (a two-letter abbreviation would
#: match inside ordinary words); they are still removed where they are fields of their own.
MIN_TERM = 4
#: Fields of a result that carry the reader's own input back (never redacted text).
_OWN_FIELDS = frozenset({"line_id", "flagged", "risk", "score", "match_type"})


def sees_confidential(role: str) -> bool:
    """True for officers and admins."""
    return role in TRUSTED_ROLES


def _phrase(codes: Sequence[str]) -> str:
    labels = [LIST_LABELS.get(c, c) for c in codes]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _substance_terms(s: Substance) -> list[str]:
    terms = [s.key, s.name, s.cas, s.smiles, s.inchikey, *s.abbreviations]
    terms += [o.cas for o in s.other_cas]
    terms += [n for names in s.names.values() for n in names]
    return [t for t in terms if t]


class Visibility:
    """The facts of one version of the lists an operator may not receive, and the means to
    take them out of any answer."""

    def __init__(self, watchlist: Watchlist, hidden_substances: Iterable[Substance] = ()) -> None:
        lists = watchlist.lists
        self.confidential = frozenset(c for c, d in lists.items() if d.confidential)
        codes_of: dict[str, list[str]] = {}
        for code in sorted(lists):
            for entry in lists[code].entries:
                codes_of.setdefault(entry.substance_key, []).append(code)
        self.codes_of = {k: tuple(dict.fromkeys(v)) for k, v in codes_of.items()}
        #: Substances some public list names: the only ones an operator may learn of.
        self.public_keys = frozenset(
            k for k, cs in self.codes_of.items() if any(c not in self.confidential for c in cs)
        )
        #: Every substance of the current lists (what officers may look up).
        self.known_keys = frozenset(self.codes_of)
        terms: set[str] = set()
        for code in self.confidential:
            terms.update({code, lists[code].title, LIST_LABELS.get(code, code)})
        hidden = [s for k, s in watchlist.substances.items() if k not in self.public_keys]
        for s in [*hidden, *hidden_substances]:
            if s.key not in self.public_keys:
                terms.update(_substance_terms(s))
        self.terms = frozenset(t for t in terms if len(t) >= MIN_TERM)
        ordered = sorted(self.terms, key=len, reverse=True)
        self._secret = (
            re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE) if ordered else None
        )
        self._names = {k: s.name for k, s in watchlist.substances.items()}

    # --- texts ---------------------------------------------------------------------------

    def leaks(self, text: str) -> bool:
        """True when ``text`` holds a confidential term."""
        return self._secret is not None and self._secret.search(text) is not None

    def _public_codes(self, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(c for c in codes if c not in self.confidential)

    def _rephrase(self, text: str, key: str) -> str:
        """``text`` with the list phrase of substance ``key`` told without confidential lists."""
        codes = self.codes_of.get(key, ())
        if not codes or not any(c in self.confidential for c in codes):
            return text
        # the engine orders codes its own way: try the phrase of every order it may have used
        full_forms = {_phrase(codes), _phrase(sorted(codes, key=_label_order))}
        public = _phrase([c for c in sorted(codes, key=_label_order) if c not in self.confidential])
        for full in sorted(full_forms, key=len, reverse=True):
            text = text.replace(f" ({full})", f" ({public})" if public else "")
            text = text.replace(full, public)
        return text

    # --- results ---------------------------------------------------------------------------

    def _refer(self, result: LineResult) -> LineResult:
        return self._scrub_fields(
            dataclasses.replace(
                result,
                matched_key="",
                matched_name=REFER,
                matched_cas="",
                lists=(),
                evidence=(),
                reason=REFER_REASON,
            )
        )

    def _evidence(self, evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
        kept = []
        for ev in evidence:
            if ev.substance_key and ev.substance_key not in self.public_keys:
                continue
            codes = self._public_codes(ev.list_codes)
            if ev.list_codes and not codes:
                continue
            detail = self._rephrase(ev.detail, ev.substance_key)
            if self.leaks(detail):
                name = self._names.get(ev.substance_key, ev.substance_key)
                listed = f" ({_phrase(codes)})" if codes else ""
                detail = f"{ev.kind} evidence for {name}{listed}"
            structure = "" if self.leaks(ev.structure) else ev.structure
            kept.append(
                dataclasses.replace(ev, list_codes=codes, detail=detail, structure=structure)
            )
        return tuple(kept)

    def result(self, result: LineResult) -> LineResult:
        """``result`` as an operator may see it."""
        if not self.confidential and self._secret is None:
            return result  # nothing is confidential
        if result.matched_key and result.matched_key not in self.public_keys:
            return self._refer(result)
        public_lists = self._public_codes(result.lists)
        if result.lists and not public_lists:
            return self._refer(result)
        evidence = self._evidence(result.evidence)
        reason = self._rephrase(result.reason, result.matched_key)
        if self.leaks(reason) or len(evidence) != len(result.evidence):
            best = next((e for e in evidence if e.substance_key == result.matched_key), None)
            detail = best.detail if best is not None else result.matched_name
            listed = f" ({_phrase(public_lists)})" if public_lists else ""
            if listed and listed in detail:
                listed = ""
            reason = f"{detail[:1].upper()}{detail[1:]}{listed}." if detail else ""
        if evidence == result.evidence and reason == result.reason and public_lists == result.lists:
            return self._scrub_fields(result)
        shown = dataclasses.replace(result, lists=public_lists, evidence=evidence, reason=reason)
        return self._scrub_fields(shown)

    def _scrub_fields(self, result: LineResult) -> LineResult:
        """Any text field still holding a confidential term is replaced (the last net)."""
        if self._secret is None:
            return result
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(result):
            if f.name in _OWN_FIELDS or f.name == "evidence":
                continue
            value = getattr(result, f.name)
            if isinstance(value, str) and self.leaks(value):
                changes[f.name] = REFER_REASON if f.name == "reason" else ""
            elif isinstance(value, tuple) and any(
                isinstance(v, str) and self.leaks(v) for v in value
            ):
                changes[f.name] = tuple(
                    v for v in value if not (isinstance(v, str) and self.leaks(v))
                )
        evidence = tuple(e for e in result.evidence if not self.leaks(_evidence_text(e)))
        if len(evidence) != len(result.evidence):
            changes["evidence"] = evidence
        return dataclasses.replace(result, **changes) if changes else result

    def results(self, results: Iterable[LineResult]) -> list[LineResult]:
        """:meth:`result` over many."""
        return [self.result(r) for r in results]

    # --- lists, substances, versions -------------------------------------------------------

    def versions(self, versions: Mapping[str, str]) -> dict[str, str]:
        """A screening's list versions without the confidential lists."""
        return {c: v for c, v in versions.items() if c not in self.confidential}

    def substance_visible(self, key: str, role: str) -> bool:
        """Whether ``role`` may look substance ``key`` up (operators: only a substance some
        public list names; officers and admins: any the store holds)."""
        return sees_confidential(role) or key in self.public_keys


def _evidence_text(e: Evidence) -> str:
    return " ".join((e.substance_key, e.detail, e.component, e.structure, *e.list_codes))


def _label_order(code: str) -> tuple[int, str]:
    order = list(LIST_LABELS)
    return (order.index(code) if code in order else len(order), code)


def for_role(vis: Visibility, role: str, results: Iterable[LineResult]) -> list[LineResult]:
    """``results`` as ``role`` may see them."""
    items = list(results)
    return items if sees_confidential(role) else vis.results(items)
