"""Quantity against a list's thresholds, converting units (litres <-> kilograms by density)."""

from __future__ import annotations

from precursorwatch.engine.index import LIST_LABELS, ListIndex
from precursorwatch.manifest.quantities import parse_quantity, to_kilograms, to_litres


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def has_thresholds(index: ListIndex, key: str) -> bool:
    """Whether any list entry of ``key`` has a threshold: without one, :func:`threshold_note`
    is '' whatever the quantity, so it need not be read."""
    if key not in index.watchlist.substances:
        return False
    return any(entry.thresholds for entry in index.watchlist.entries_for(key))


def threshold_note(index: ListIndex, key: str, quantity: str, unit: str) -> str:
    """One sentence on the declared quantity against the thresholds of ``key``'s entries.

    '' when the quantity cannot be read, the substance has no threshold, or the units cannot
    be compared (a volume threshold against a mass without a known density).
    """
    value, norm_unit, _warning = parse_quantity(quantity, unit)
    if value is None or not norm_unit or key not in index.watchlist.substances:
        return ""
    density = index.substance(key).density_kg_per_l
    notes = []
    for entry in index.watchlist.entries_for(key):
        for t in entry.thresholds:
            label = LIST_LABELS.get(entry.list_code, entry.list_code)
            if t.quantity == 0:
                notes.append(f"{label} has no threshold: every quantity is regulated")
                continue
            unit_l = t.unit.lower()
            if unit_l in {"l", "litre", "liter", "litres", "liters"}:
                amount = to_litres(value, norm_unit, density)
                target = "L"
            else:
                amount = to_kilograms(value, norm_unit, density)
                target = "kg"
            if amount is None:
                continue
            per = f" per {t.per}" if t.per else ""
            side = "over" if amount > t.quantity else "under"
            converted = "" if norm_unit == target else f" (≈ {_fmt(amount)} {target})"
            notes.append(
                f"{_fmt(value)} {norm_unit}{converted} is {side} the "
                f"{label} threshold of {_fmt(t.quantity)} {t.unit}{per}"
            )
    notes = list(dict.fromkeys(notes))
    return ("Quantity: " + "; ".join(notes) + ".") if notes else ""
