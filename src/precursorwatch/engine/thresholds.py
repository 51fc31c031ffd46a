"""Quantity against a list's thresholds, converting units (litres <-> kilograms by density).

:func:`compare` reads a line's quantity (its share, for a component of a mixture) against
every threshold of a substance's list entries and says which comparisons decide the risk of a
consignment (:mod:`precursorwatch.engine.triage` raises a line over one of them);
:func:`quantity_sentence` words them for the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from precursorwatch.engine.index import LIST_LABELS, ListIndex
from precursorwatch.manifest.quantities import parse_quantity, to_kilograms, to_litres
from precursorwatch.models import ListEntry, Threshold

#: Words of a threshold's ``per`` that make it apply to a consignment crossing a border.
CROSS_BORDER_WORDS: tuple[str, ...] = ("import", "export")
#: Words of a threshold's ``per`` for trade within one country: not the consignment's threshold
#: when the same entry has a cross-border one (triage rule ``domestic-threshold``).
DOMESTIC_WORDS: tuple[str, ...] = ("domestic",)
#: Words of a threshold's ``per`` that make it apply only under a condition the screening does
#: not check (triage rule ``designated-country``).
CONDITIONAL_WORDS: tuple[str, ...] = ("designated",)
_LITRES = frozenset({"l", "litre", "liter", "litres", "liters"})
#: How a line's origin and destination name the United States (case-folded, dots dropped):
#: the US lists' domestic thresholds apply to trade within it (21 CFR 1310.04(f)).
_US_NAMES = frozenset({"us", "usa", "united states", "united states of america"})

#: What a line's route says of its trade, for an entry with domestic and cross-border
#: thresholds: within one country, across a border, or not said (origin or destination blank).
DOMESTIC, CROSS_BORDER, NOT_SAID = "domestic", "cross-border", "not-said"


def trade_of(origin: str, destination: str) -> str:
    """:data:`DOMESTIC` when origin and destination are both the United States,
    :data:`CROSS_BORDER` when both are given otherwise, :data:`NOT_SAID` when one is blank."""
    o, d = (x.strip().casefold().replace(".", "") for x in (origin, destination))
    if not o or not d:
        return NOT_SAID
    return DOMESTIC if o in _US_NAMES and d in _US_NAMES else CROSS_BORDER


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def _has(per: str, words: tuple[str, ...]) -> bool:
    low = per.lower()
    return any(w in low for w in words)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The line's quantity against one threshold of one list entry.

    ``amount`` is in the threshold's unit (its share of the goods for a mixture component);
    ``decides``: the comparison can make the line high; ``conditional``: it applies only under
    a condition not checked here (it is shown, and decides nothing).
    """

    list_code: str
    threshold: Threshold
    amount: float
    target: str
    decides: bool
    conditional: bool

    @property
    def over(self) -> bool:
        return self.amount > self.threshold.quantity


@dataclass(frozen=True, slots=True)
class QuantityCheck:
    """A line's quantity as read and its comparisons with a substance's thresholds."""

    value: float
    unit: str
    share: float | None
    comparisons: tuple[Comparison, ...]

    @property
    def over(self) -> bool:
        """Over a threshold that decides the risk of a consignment."""
        return any(c.decides and c.over for c in self.comparisons)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A positive threshold of a substance as a consignment's quantity is compared with it."""

    list_code: str
    threshold: Threshold
    litres: bool
    conditional: bool


def _plan(entries: tuple[ListEntry, ...], trade: str = NOT_SAID) -> tuple[_Planned, ...]:
    """The thresholds a quantity is compared with, in list order: positive ones; of an entry
    with a domestic and an import/export threshold, the domestic one for a ``trade`` within the
    country, else the import/export one (rule domestic-threshold)."""
    planned = []
    for entry in entries:
        cross_border = any(
            _has(t.per, CROSS_BORDER_WORDS) and not _has(t.per, CONDITIONAL_WORDS)
            for t in entry.thresholds
        )
        domestic = any(_has(t.per, DOMESTIC_WORDS) for t in entry.thresholds)
        for t in entry.thresholds:
            if t.quantity <= 0:
                continue
            if cross_border and domestic:
                within = trade == DOMESTIC
                if _has(t.per, DOMESTIC_WORDS) != within and not _has(t.per, CONDITIONAL_WORDS):
                    continue
            conditional = _has(t.per, CONDITIONAL_WORDS)
            planned.append(_Planned(entry.list_code, t, t.unit.lower() in _LITRES, conditional))
    return tuple(planned)


def _plans(index: ListIndex, trade: str = NOT_SAID) -> dict[str, tuple[tuple[_Planned, ...], bool]]:
    """Per listed key: its planned thresholds, and whether it has any threshold at all."""
    wl = index.watchlist
    keys = {e.substance_key for d in wl.lists.values() for e in d.entries}
    by_key: dict[str, list[ListEntry]] = {k: [] for k in keys}
    for code in sorted(wl.lists):
        for e in wl.lists[code].entries:
            by_key[e.substance_key].append(e)
    return {
        k: (_plan(tuple(entries), trade), any(e.thresholds for e in entries))
        for k, entries in by_key.items()
    }


def _plans_for(index: ListIndex, trade: str) -> dict[str, tuple[tuple[_Planned, ...], bool]]:
    return index.derived(f"threshold-plans:{trade}", lambda i: _plans(i, trade))


def has_trade_choice(index: ListIndex, key: str) -> bool:
    """Whether an entry of ``key`` has both a domestic and an import/export threshold, so that
    the line's origin and destination choose between them."""
    return _plans_for(index, DOMESTIC).get(key) != _plans_for(index, CROSS_BORDER).get(key)


def has_thresholds(index: ListIndex, key: str) -> bool:
    """Whether any list entry of ``key`` has a threshold: without one, :func:`compare` finds
    nothing whatever the quantity, so it need not be read."""
    found = _plans_for(index, NOT_SAID).get(key)
    return found is not None and found[1] and key in index.watchlist.substances


def compare(
    index: ListIndex,
    key: str,
    quantity: str,
    unit: str,
    share: float | None = None,
    trade: str = NOT_SAID,
) -> QuantityCheck | None:
    """The declared quantity (``share`` of it, for a mixture component) against each positive
    threshold of ``key``'s entries; ``None`` when the quantity cannot be read.

    A zero threshold ("every quantity is regulated") is no comparison: the triage rules read it
    as a class of substance. Of an entry's domestic and import/export thresholds, ``trade``
    (:func:`trade_of`) chooses one: the domestic one only for trade within the United States.
    A threshold whose units cannot be compared (a volume against a mass without a known
    density) is left out.
    """
    value, norm_unit, _warning = parse_quantity(quantity, unit)
    if value is None or not norm_unit or key not in index.watchlist.substances:
        return None
    plan = _plans_for(index, trade).get(key, ((), False))[0]
    part = share if share is not None and 0 < share < 1 else None
    amount_declared = value * part if part is not None else value
    density = index.substance(key).density_kg_per_l
    found: list[Comparison] = []
    for p in plan:
        if p.litres:
            amount, target = to_litres(amount_declared, norm_unit, density), "L"
        else:
            amount, target = to_kilograms(amount_declared, norm_unit, density), "kg"
        if amount is not None:
            found.append(
                Comparison(
                    p.list_code, p.threshold, amount, target, not p.conditional, p.conditional
                )
            )
    return QuantityCheck(value, norm_unit, part, tuple(dict.fromkeys(found)))


def _amount_phrase(check: QuantityCheck, c: Comparison) -> str:
    """'400 L', '6,400 kg (≈ 5,926 L)', '40 % of 7,200 kg (≈ 2,880 kg)'."""
    declared = f"{_fmt(check.value)} {check.unit}"
    if check.share is not None:
        return f"{check.share:.0%} of {declared} (≈ {_fmt(c.amount)} {c.target})"
    if check.unit == c.target:
        return declared
    return f"{declared} (≈ {_fmt(c.amount)} {c.target})"


def quantity_sentence(check: QuantityCheck | None) -> str:
    """'Quantity: 400 L is over the EU category 2A threshold of 100 L per year.' ('' when
    nothing was compared). Thresholds that apply only under a condition not checked here are
    named together at the end, with what they apply to."""
    if check is None or not check.comparisons:
        return ""
    parts = []
    for c in check.comparisons:
        if c.conditional:
            continue
        t = c.threshold
        label = LIST_LABELS.get(c.list_code, c.list_code)
        side = "over" if c.over else "under"
        per = f" per {t.per}" if t.per else ""
        parts.append(
            f"{_amount_phrase(check, c)} is {side} the {label} threshold of "
            f"{_fmt(t.quantity)} {t.unit}{per}"
        )
    conditional = [c for c in check.comparisons if c.conditional]
    if conditional:
        first = conditional[0]
        label = LIST_LABELS.get(first.list_code, first.list_code)
        limits = ", ".join(
            dict.fromkeys(f"{_fmt(c.threshold.quantity)} {c.threshold.unit}" for c in conditional)
        )
        said = "" if parts else f"{_amount_phrase(check, first)}; "
        many = len(conditional) > 1
        parts.append(
            f"{said}the {label} threshold{'s' if many else ''} ({limits}) "
            f"appl{'y' if many else 'ies'} only to exports to designated countries, which are "
            "not checked here"
        )
    return "Quantity: " + "; ".join(dict.fromkeys(parts)) + "."


def trade_sentence(trade: str) -> str:
    """Which of a US entry's thresholds applied, and why, for the reason."""
    if trade == DOMESTIC:
        return "The US domestic threshold applies: origin and destination are in the United States."
    if trade == CROSS_BORDER:
        return "The US import/export threshold applies: the goods cross the US border."
    return (
        "The US import/export threshold applies: origin or destination not given "
        "(within the United States the lower domestic threshold would apply)."
    )
