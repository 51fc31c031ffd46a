"""Triage: what makes a line high, medium, low or none — the rules as data.

Risk comes from what the goods are (the lists and categories of the substance found), how
they were found (identity, a mislabelling, a masked form, a close name, an HS code, a
resemblance) and the line's context (its quantity against the lists' thresholds, the share of
the substance in a mixture, goods that name no chemical). Each :class:`Rule` of :data:`RULES`
says when it applies, the tier it gives, why, and where the law says so when it does; the
engine takes every tier from this table (:func:`tier`), so changing a tier here changes the
screening. ``docs/TRIAGE.md`` shows the same table, :func:`rules_markdown` (``tests/
test_triage.py`` keeps them equal).

A listed substance found by its identity is flagged (medium at least) in any quantity: the
contract's ``flagged`` (high or medium) keeps its meaning. High is earned: by the substance
(controlled in any quantity), by the quantity (over a threshold that applies to a
consignment), by a mislabelling, or by a masked form of a top-category precursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from precursorwatch.engine.index import LIST_LABELS, ListIndex
from precursorwatch.engine.thresholds import (
    NOT_SAID,
    compare,
    has_thresholds,
    has_trade_choice,
    quantity_sentence,
    trade_of,
    trade_sentence,
)
from precursorwatch.models import Evidence, Watchlist


@dataclass(frozen=True, slots=True)
class Rule:
    """One triage rule: when it applies, the tier it gives ('' when it gives none but shapes
    another rule's), why, and its source ('' when it is the maintainers' reasoning)."""

    id: str
    when: str
    risk: str
    why: str
    source: str = ""


RULES: tuple[Rule, ...] = (
    # --- what the substance is (its lists), when the goods are identified as it -----------
    Rule(
        "every-quantity",
        "Identified as a substance on EU category 1, or one a list regulates in every quantity "
        "(a zero threshold), or one on UN Table I or US List I with no threshold on any list "
        "(BMK, PMK, APAAN, ephedrine, safrole, the fentanyl precursors …)",
        "high",
        "These make the drugs themselves in one or two steps; no quantity of them is traded "
        "without a licence or a registered transaction, so any quantity is high.",
        "Regulation (EC) No 273/2004 Art. 3(2): a licence for category 1 in any quantity (E11); "
        "21 CFR 1310.04(g)(1): no threshold (S18)",
    ),
    Rule(
        "above-threshold",
        "Identified as a substance its lists regulate above a quantity: acetic anhydride, "
        "potassium permanganate, phenylacetic acid, the UN Table II and EU category 3 "
        "solvents and acids, the US List I and II chemicals with thresholds",
        "medium",
        "Traded legitimately in bulk every day: flagged in any quantity so an officer sees it, "
        "but high only when the quantity earns it (rule over-threshold).",
        "the thresholds of the list files (lists/*.yaml)",
    ),
    Rule(
        "over-threshold",
        "A line of an above-threshold substance whose quantity (its share, in a mixture) is "
        "over a threshold that applies to a consignment",
        "high",
        "Over a threshold the law asks for registration, a licence or a customer declaration: "
        "a quantity that matters for diversion (50,000 L of acetone, 400 L of acetic "
        "anhydride).",
        "the thresholds of the list files",
    ),
    Rule(
        "under-threshold",
        "A line of an above-threshold substance under every threshold that applies, or with no "
        "quantity that can be compared",
        "medium",
        "Still a listed substance, so still flagged, but below the quantities the law "
        "watches (half a litre of acetone, 1 L of acetic anhydride).",
    ),
    Rule(
        "domestic-threshold",
        "A list entry has a threshold for import or export and another for domestic transactions",
        "",
        "The line's origin and destination choose: both in the United States, the domestic "
        "threshold; otherwise, or when either is not given, the import or export threshold "
        "(the reason says which applied and why).",
        "21 CFR 1310.04(f) (S18)",
    ),
    Rule(
        "designated-country",
        "A threshold applies only to exports to designated countries (the US List II "
        "thresholds of hydrochloric and sulphuric acid)",
        "",
        "Shown in the reason, but it raises nothing: the screening does not check the "
        "destination against the designated countries.",
        "21 CFR 1310.04(f) (S18)",
    ),
    Rule(
        "mixture-share",
        "A listed substance is one component of a mixture with a stated share "
        "('acetone 40 % / ethyl acetate 60 %')",
        "",
        "Its share of the declared quantity is compared with the thresholds, which are "
        "quantities of the substance; a substance controlled in any quantity stays high at "
        "any share (the DEA regulates mixtures of APAAN, APAA and the glycidates at any "
        "concentration).",
        "S4, S11, S17",
    ),
    Rule(
        "other-listed",
        "Identified as a substance on a bundled list with no threshold recorded, and none of "
        "the above",
        "medium",
        "Listed, so flagged; nothing recorded says which quantity matters, so not high.",
    ),
    Rule(
        "own-list",
        "Identified as a substance only on lists the rules do not know (a user's own list)",
        "high",
        "Its owner listed it and the rules have no category to rank it by: identity makes it "
        "high, as it always did.",
    ),
    Rule(
        "confidential-only",
        "Every list naming the substance is confidential (a monitoring list)",
        "medium",
        "Monitoring lists name substances to watch, not scheduled ones: never above medium.",
        "EU voluntary monitoring list (E13)",
    ),
    # --- how the goods were found ---------------------------------------------------------
    Rule(
        "mismatch",
        "The CAS number names a listed substance and the description another chemical, or "
        "the description names a listed substance and the CAS number another chemical",
        "high",
        "A label that contradicts its CAS number is a classic concealment sign, whatever the "
        "substance or quantity.",
        "DESIGN.md §2",
    ),
    Rule(
        "masked-precursor",
        "One or two simple steps turn the declared structure into a UN Table I / EU category 1 "
        "precursor known to be masked in practice, which carries most of it (BMK and PMK "
        "glycidates, ketals, nitrostyrenes)",
        "high",
        "Designer precursors are made to escape the lists; they rank with what they become.",
        "chem/transforms.py (each transform's citation)",
    ),
    Rule(
        "derivative",
        "One or two steps give another top-category or masked listed substance",
        "medium",
        "A possible designer precursor, less certain than a known masked form.",
    ),
    Rule(
        "close-name",
        "The name is one or two letters from a listed name ('potassium permangante')",
        "medium",
        "Probably the substance misspelled, but its identity is not established, so neither "
        "the substance nor the quantity raises it.",
    ),
    Rule(
        "hs-code",
        "Only the HS code points at a listed substance, whose own subheading it is",
        "medium",
        "The tariff heading of a precursor on goods whose name says nothing: worth a question.",
    ),
    Rule(
        "hs-code-shared",
        "The HS subheading is shared by several listed substances, or the goods are "
        "identified as an unlisted chemical",
        "low",
        "A subheading holds many chemicals: only a hint.",
    ),
    Rule(
        "similar-close",
        "The structure is like a listed substance (fingerprint similarity at least 0.65) and "
        "their common part covers 90 % of the listed one and 60 % of the declared one",
        "medium",
        "A close relative that was not on the lists yet: worth a look.",
        "bench/designer.py (cut-offs)",
    ),
    Rule(
        "similar",
        "The structure resembles a listed substance less closely (similarity at least 0.5)",
        "low",
        "Resemblance alone is a hint, not evidence.",
        "bench/designer.py (cut-offs)",
    ),
    Rule(
        "other-evidence",
        "Evidence of a kind these rules do not know (a plug-in matcher's)",
        "low",
        "A hint until a rule says more.",
    ),
    # --- goods that name no chemical ------------------------------------------------------
    Rule(
        "unidentified",
        "Nothing on the line identifies a chemical: no name the lists, the PubChem table or "
        "OPSIN know, no valid CAS number, no readable structure ('white powder', 'samples', "
        "'N/A', an empty description) — and nothing above gives medium or more",
        "low",
        "Not screened, so not clear: the line gets a warning and asks for the chemical name or "
        "CAS number. Low, not flagged: nothing points at a listed substance.",
    ),
    Rule(
        "not-chemical-goods",
        "As unidentified, but the HS code is outside the chapters where precursors are "
        "declared (13 plant extracts, 27 mineral oils and coal-tar distillates, 28 inorganic "
        "and 29 organic chemicals, 30 medicines, 3301-3302 essential oils, 38 chemical "
        "preparations)",
        "none",
        "Machinery, metals, textiles, cosmetics or plastic articles: there is no chemical to "
        "ask for.",
        "Harmonized System 2022 nomenclature",
    ),
    Rule(
        "clear",
        "The goods are identified (a known chemical, a valid CAS number, a structure) and no "
        "list names them",
        "none",
        "Checked and clear.",
    ),
)

#: Rules by id.
RULE: Mapping[str, Rule] = {r.id: r for r in RULES}

RANK: Mapping[str, int] = {"high": 3, "medium": 2, "low": 1, "none": 0}

#: Lists under which a substance is controlled in any quantity (rule every-quantity).
EVERY_QUANTITY_LISTS = frozenset({"EU-CAT1"})
#: Lists whose substances are controlled in any quantity unless a list gives a threshold.
TOP_LISTS = ("UN-T1", "US-DEA-L1")
#: Evidence that the goods ARE the substance: it takes the substance's rule.
ESTABLISHED_KINDS = frozenset({"cas", "structure-identical", "name", "structure-parent"})
#: Scores from which a derivative, an HS code and a resemblance take the stronger rule.
SCORE_CUTS: Mapping[str, float] = {"derivative": 0.8, "hs-code": 0.4, "similar": 0.6}
#: HS chapters (2 digits) and headings (4) where precursors, their natural sources, medicines
#: and mixtures are declared: 13 plant extracts (ephedra), 27 mineral oils and coal-tar
#: distillates (toluol, benzol), 28 inorganic and 29 organic chemicals, 30 medicines, 3301
#: essential oils (sassafras oil) and 3302 their mixtures, 38 chemical preparations (3814
#: solvent mixtures).
CHEMICAL_HS_PREFIXES = frozenset({"13", "27", "28", "29", "30", "3301", "3302", "38"})


#: The per-line warning of goods that name no identifiable chemical (rule unidentified).
UNIDENTIFIED_WARNING = "the goods name no identifiable chemical: ask for its name or CAS number"


def tier(rule_id: str) -> str:
    """The tier rule ``rule_id`` gives (KeyError for an unknown rule)."""
    return RULE[rule_id].risk


def _classify(watchlist: Watchlist) -> dict[str, str]:
    classes: dict[str, str] = {}
    for key in {e.substance_key for d in watchlist.lists.values() for e in d.entries}:
        entries = watchlist.entries_for(key)
        codes = {e.list_code for e in entries}
        quantities = [t.quantity for e in entries for t in e.thresholds]
        if codes & EVERY_QUANTITY_LISTS or any(q <= 0 for q in quantities):
            classes[key] = "every-quantity"
        elif quantities:
            classes[key] = "above-threshold"
        elif codes.intersection(TOP_LISTS):
            classes[key] = "every-quantity"
        elif codes & LIST_LABELS.keys():
            classes[key] = "other-listed"
        else:
            classes[key] = "own-list"
    return classes


def substance_rule(index: ListIndex, key: str) -> str:
    """The rule for goods identified as ``key``: every-quantity, above-threshold,
    other-listed or own-list (computed once per index)."""
    classes = index.derived("triage-classes", lambda i: _classify(i.watchlist))
    return classes.get(key, "own-list")


def evidence_rule(ev: Evidence, index: ListIndex) -> str:
    """The rule one piece of evidence falls under (before the confidential-only cap)."""
    kind = ev.kind
    if kind in ESTABLISHED_KINDS:
        return substance_rule(index, ev.substance_key)
    if kind == "mismatch":
        return "mismatch"
    if kind == "derivative":
        return "masked-precursor" if ev.score >= SCORE_CUTS[kind] else "derivative"
    if kind == "fuzzy-name":
        return "close-name"
    if kind == "hs-code":
        return "hs-code" if ev.score >= SCORE_CUTS[kind] else "hs-code-shared"
    if kind == "similar":
        return "similar-close" if ev.score >= SCORE_CUTS[kind] else "similar"
    return "other-evidence"


def _confidential_only(index: ListIndex, key: str) -> bool:
    """:meth:`ListIndex.confidential_only`, kept per index (lines ask it again and again)."""
    known: dict[str, bool] = index.derived("triage-confidential", lambda _: {})
    if key not in known:
        known[key] = index.confidential_only(key)
    return known[key]


def evidence_risk(ev: Evidence, index: ListIndex) -> str:
    """The risk one piece of evidence supports: its rule's tier, capped by confidential-only."""
    risk = tier(evidence_rule(ev, index))
    cap = tier("confidential-only")
    if RANK[risk] > RANK[cap] and _confidential_only(index, ev.substance_key):
        return cap
    return risk


def substance_sentence(index: ListIndex, key: str) -> str:
    """What the substance's rule says of goods identified as it, for the reason ('' when
    nothing needs saying)."""
    rule = substance_rule(index, key)
    if _confidential_only(index, key):
        return ""
    if rule == "every-quantity":
        entries = index.watchlist.entries_for(key)
        codes = index.list_codes(key)
        zero = [e.list_code for e in entries if any(t.quantity <= 0 for t in e.thresholds)]
        if EVERY_QUANTITY_LISTS.intersection(codes):
            basis = " and ".join(LIST_LABELS[c] for c in sorted(EVERY_QUANTITY_LISTS & set(codes)))
        elif zero:
            basis = f"{LIST_LABELS.get(zero[0], zero[0])} has no threshold"
        else:
            top = [c for c in TOP_LISTS if c in codes]
            basis = f"{LIST_LABELS[top[0]]}, with no threshold on any list"
        return f"Controlled in any quantity ({basis})."
    if rule == "above-threshold":
        return "Flagged in any quantity, high only over a threshold."
    if rule == "other-listed":
        return "No threshold is recorded for it."
    return ""


def is_chemical_heading(hs: str) -> bool:
    """Whether HS code ``hs`` (digits) is in a chapter or heading where precursors are
    declared (:data:`CHEMICAL_HS_PREFIXES`)."""
    return hs[:2] in CHEMICAL_HS_PREFIXES or hs[:4] in CHEMICAL_HS_PREFIXES


def raisable(index: ListIndex, key: str, match_type: str, risk: str) -> bool:
    """Whether a line of this judged declaration becomes high over a threshold."""
    return (
        match_type in ESTABLISHED_KINDS
        and risk == tier("above-threshold")
        and substance_rule(index, key) == "above-threshold"
        and not _confidential_only(index, key)
    )


def best_share(evidence: Sequence[Mapping[str, Any]], key: str, kind: str) -> float | None:
    """The share of the goods (a mixture component's) that the best evidence of ``kind`` on
    ``key`` is about, from the evidence's JSON form; None when it is the whole (rule
    mixture-share)."""
    found = [e for e in evidence if e.get("substance_key") == key and e.get("kind") == kind]
    if not found:
        return None
    share = max(found, key=lambda e: float(e.get("score") or 0.0)).get("share")
    return float(share) if isinstance(share, int | float) and 0 < share < 1 else None


def line_verdict(
    index: ListIndex,
    *,
    key: str,
    match_type: str,
    risk: str,
    quantity: str,
    unit: str,
    share: float | None = None,
    origin: str = "",
    destination: str = "",
) -> tuple[str, str]:
    """One line of a judged, flagged declaration: its risk after the quantity rules and the
    quantity sentence for its reason ('' when none). ``origin`` and ``destination`` choose
    between a US entry's domestic and import/export thresholds (rule domestic-threshold)."""
    if RANK.get(risk, 0) < RANK["medium"] or not quantity or not has_thresholds(index, key):
        return risk, ""
    choice = has_trade_choice(index, key)
    trade = trade_of(origin, destination) if choice else NOT_SAID
    check = compare(index, key, quantity, unit, share, trade)
    if check is not None and check.over and raisable(index, key, match_type, risk):
        risk = tier("over-threshold")
    sentence = quantity_sentence(check)
    if sentence and choice:
        sentence += " " + trade_sentence(trade)
    return risk, sentence


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rules_markdown() -> str:
    """The rules as the Markdown table docs/TRIAGE.md shows."""
    lines = ["| rule | when | risk | why | source |", "| --- | --- | --- | --- | --- |"]
    for r in RULES:
        lines.append(
            f"| `{r.id}` | {_cell(r.when)} | {r.risk or '—'} | {_cell(r.why)} | "
            f"{_cell(r.source) or '—'} |"
        )
    return "\n".join(lines) + "\n"
