"""The records the cross-line checks pass around, and the pieces of their sentences.

:class:`Line` is one screened line as the checks see it (party folded, agent recognised,
quantity parsed); :class:`Alert` is one alert, with the list codes it rests on so a caller can
withhold it from users who may not see a confidential list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from precursorwatch.intel.consignee import display_name, folded_as
from precursorwatch.manifest.quantities import to_kilograms, to_litres


@dataclass(frozen=True, slots=True)
class Line:
    """One screened line as the checks see it."""

    index: int
    line_id: str
    screening_id: str
    day: date
    dated: bool
    party: str
    spelling: str
    agent: str
    substance: str
    name: str
    value: float | None
    unit: str
    density: float | None
    lists: tuple[str, ...]
    destination: str = ""

    def amount(self, unit: str) -> float | None:
        """The quantity in ``unit`` ("kg" or "L" families), or None when it cannot be said."""
        if self.value is None or not self.unit:
            return None
        if unit.strip().lower() in {"l", "litre", "liter", "litres", "liters"}:
            return to_litres(self.value, self.unit, self.density)
        kg = to_kilograms(self.value, self.unit, self.density)
        factor = to_kilograms(1.0, unit)
        return None if kg is None or not factor else kg / factor


@dataclass(frozen=True, slots=True)
class Alert:
    """A cross-line alert. ``lists`` are the list codes its lines and threshold rest on, so a
    caller can withhold it from users who may not see a confidential list."""

    kind: str
    consignee: str
    line_ids: tuple[str, ...]
    screening_ids: tuple[str, ...]
    risk: str
    reason: str
    folded_as: str = ""
    lists: tuple[str, ...] = ()
    score: float = 0.0
    drug: str = ""
    route: str = ""
    substance: str = ""
    sources: tuple[str, ...] = ()


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def refs(lines: Sequence[Line], most: int = 3) -> str:
    """ "line 3 of screening S1, 2026-05-01; line 7, …; 2 more", oldest first."""
    lines = sorted(lines, key=lambda ln: (ln.day, ln.index))
    parts = []
    for ln in lines[:most]:
        text = f"line {ln.line_id}"
        if ln.screening_id:
            text += f" of screening {ln.screening_id}"
        if ln.dated:
            text += f", {ln.day.isoformat()}"
        parts.append(text)
    if len(lines) > most:
        parts.append(f"{len(lines) - most} more")
    return "; ".join(parts)


def make_alert(
    kind: str,
    lines: Sequence[Line],
    risk: str,
    reason: str,
    *,
    score: float,
    extra_lists: Iterable[str] = (),
    drug: str = "",
    route: str = "",
    substance: str = "",
    sources: tuple[str, ...] = (),
) -> Alert:
    ordered = sorted(dict.fromkeys(lines), key=lambda ln: (ln.day, ln.index))
    spellings = [ln.spelling for ln in ordered]
    return Alert(
        kind=kind,
        consignee=display_name(spellings),
        line_ids=tuple(dict.fromkeys(ln.line_id for ln in ordered)),
        screening_ids=tuple(dict.fromkeys(ln.screening_id for ln in ordered if ln.screening_id)),
        risk=risk,
        reason=reason,
        folded_as=folded_as(spellings),
        lists=tuple(sorted({c for ln in ordered for c in ln.lists} | set(extra_lists))),
        score=score,
        drug=drug,
        route=route,
        substance=substance,
        sources=sources,
    )


def span(lines: Sequence[Line]) -> str:
    dated = [ln.day for ln in lines if ln.dated]
    if len(dated) < 2:
        return "in these shipments"
    days = (max(dated) - min(dated)).days
    return "on the same day" if days == 0 else f"within {days} days"
