"""Cross-line alerts over a frame of screened lines: who is assembling a kit.

:func:`run_checks` takes screened lines (one manifest, or a manifest plus the stored lines of
earlier screenings) with the columns ``line_id``, ``screening_id`` (optional), ``date``
(optional; a line without one counts as ``today``), ``consignee``, ``matched_key``,
``description``, ``cas``, ``quantity``, ``unit``, ``lists`` (``;``-separated text or a
sequence) and ``risk``, folds the consignees into parties, and runs the route, cumulative and
structuring checks of :mod:`precursorwatch.intel.checks` on each party's lines dated in the
window ``(today - window_days, today]``. It returns the alerts and the notices a user should
read (a manifest without a consignee column raises no alert and one notice).

A line fills a role through its ``matched_key`` when its risk is high or medium (identity,
designer form, fuzzy name), or through :class:`~precursorwatch.intel.routes.Recogniser` (names
and CAS numbers of reagents that are not listed). :func:`alert_to_dict` gives the JSON contract
of DESIGN.md §5 (``kind``, ``consignee``, ``line_ids``, ``screening_ids``, ``risk``, ``reason``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from precursorwatch.intel.checks import cumulative_alerts, route_alerts, structuring_alerts
from precursorwatch.intel.consignee import fold_name
from precursorwatch.intel.recognise import Recogniser
from precursorwatch.intel.records import Alert, Line
from precursorwatch.intel.routes import Limit, RouteBook
from precursorwatch.manifest.quantities import parse_quantity
from precursorwatch.models import Watchlist

__all__ = [
    "ALERT_KEYS",
    "NO_CONSIGNEE",
    "Alert",
    "CrossLineResult",
    "alert_to_dict",
    "densities_from_watchlist",
    "find_alerts",
    "limits_from_watchlist",
    "merge_limits",
    "run_checks",
]

#: The keys of one object of the ``alerts`` array (DESIGN.md §5, contract), in order.
ALERT_KEYS: tuple[str, ...] = ("kind", "consignee", "line_ids", "screening_ids", "risk", "reason")
#: The notice of a manifest without consignees.
NO_CONSIGNEE = "cross-line checks need a consignee: this input has no consignee column"
_FILLING_RISKS = frozenset({"high", "medium"})
_RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
_PER_TRANSACTION = frozenset({"", "transaction", "shipment", "consignment", "export", "import"})


@dataclass(frozen=True, slots=True)
class CrossLineResult:
    """The alerts (highest risk first) and the notices of one run of the checks."""

    alerts: tuple[Alert, ...]
    notices: tuple[str, ...] = ()
    #: Folded party key -> its line records (for a consignee's history).
    parties: Mapping[str, tuple[Line, ...]] = field(default_factory=dict)


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """Exactly the contract's keys: kind, consignee, line_ids, screening_ids, risk, reason."""
    return {
        "kind": alert.kind,
        "consignee": alert.consignee,
        "line_ids": list(alert.line_ids),
        "screening_ids": list(alert.screening_ids),
        "risk": alert.risk,
        "reason": alert.reason,
    }


def limits_from_watchlist(watchlist: Watchlist) -> tuple[Limit, ...]:
    """Every threshold above 0 of the loaded lists, as annual ("year") or per-transaction limits.

    A ``per`` other than year or a transaction word (e.g. month) is left out.
    """
    out = []
    for code in sorted(watchlist.lists):
        for entry in watchlist.lists[code].entries:
            for t in entry.thresholds:
                per = t.per.strip().lower()
                if t.quantity <= 0 or not t.unit:
                    continue
                kind = "year" if per in ("year", "calendar year") else ""
                kind = kind or ("transaction" if per in _PER_TRANSACTION else "")
                if kind:
                    out.append(
                        Limit(entry.substance_key, t.quantity, t.unit, kind, code, t.source, t.note)
                    )
    return tuple(out)


def merge_limits(*groups: Iterable[Limit]) -> tuple[Limit, ...]:
    """Limits of later groups replace earlier ones for the same substance, period and list."""
    merged: dict[tuple[str, str, str], Limit] = {}
    for group in groups:
        for lim in group:
            merged[(lim.substance, lim.per, lim.list_code)] = lim
    return tuple(merged.values())


def densities_from_watchlist(watchlist: Watchlist) -> dict[str, float]:
    """Substance key -> density (kg/L), to compare litres with kilograms."""
    return {k: s.density_kg_per_l for k, s in watchlist.substances.items() if s.density_kg_per_l}


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _lists(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(v) for v in value if str(v))
    return tuple(c.strip() for c in _text(value).split(";") if c.strip())


def _day(value: Any, today: date) -> tuple[date, bool]:
    if isinstance(value, datetime):
        return value.date(), True
    if isinstance(value, date):
        return value, True
    text = _text(value)
    if not text:
        return today, False
    stamp = pd.to_datetime(text, errors="coerce")
    return (today, False) if pd.isna(stamp) else (stamp.date(), True)


def _prepare(
    frame: pd.DataFrame, book: RouteBook, densities: Mapping[str, float], today: date
) -> tuple[list[Line], int]:
    """Line records of the lines that name a consignee; and how many name none."""
    recogniser = Recogniser(book)
    columns = {c: frame[c].tolist() for c in frame.columns}
    n = len(frame)

    def col(name: str) -> list[Any]:
        return columns.get(name, [""] * n)

    has_risk = "risk" in columns
    folded: dict[str, tuple[str, str]] = {}
    lines: list[Line] = []
    blank = 0
    rows = zip(
        col("line_id"),
        col("screening_id"),
        col("date"),
        col("consignee"),
        col("matched_key"),
        col("description"),
        col("cas"),
        col("quantity"),
        col("unit"),
        col("lists"),
        col("risk"),
        col("destination"),
        strict=True,
    )
    for i, (lid, sid, day, who, key, desc, cas, qty, unit, lists, risk, dest) in enumerate(rows):
        spelling = " ".join(_text(who).split())
        if not spelling:
            blank += 1
            continue
        if spelling not in folded:
            folded[spelling] = (fold_name(spelling).key or spelling.casefold(), spelling)
        party = folded[spelling][0]
        matched = _text(key)
        fills = matched if (not has_risk or _text(risk).lower() in _FILLING_RISKS) else ""
        agent = recogniser.agent_for(fills, _text(desc), _text(cas))
        substance = fills or agent
        if not substance:
            continue
        name = book.agents[agent].name if agent else matched
        value, symbol, _warning = parse_quantity(_text(qty), _text(unit))
        density = densities.get(substance) or (
            book.agents[agent].density_kg_per_l if agent else None
        )
        when, dated = _day(day, today)
        lines.append(
            Line(
                i,
                _text(lid) or str(i + 1),
                _text(sid),
                when,
                dated,
                party,
                spelling,
                agent,
                substance,
                name,
                value,
                symbol,
                density,
                _lists(lists),
                _text(dest).casefold(),
            )
        )
    return lines, blank


def run_checks(
    lines: pd.DataFrame,
    routes: RouteBook,
    *,
    today: date,
    window_days: int = 180,
    limits: Iterable[Limit] | None = None,
    densities: Mapping[str, float] | None = None,
    registered: Mapping[str, Collection[str]] | None = None,
) -> CrossLineResult:
    """Route, cumulative and structuring alerts over screened ``lines`` (module docstring).

    ``limits`` default to the routes file's; pass ``merge_limits(routes.limits,
    limits_from_watchlist(watchlist))`` to use the loaded lists' thresholds too, and
    ``densities_from_watchlist(watchlist)`` to compare litres with kilograms. ``registered``
    maps a party (any spelling) to the substance keys it is registered or licensed for: its
    annual totals of those raise no cumulative alert. Never raises on odd cell values.
    """
    if "consignee" not in lines.columns:
        return CrossLineResult((), (NO_CONSIGNEE,))
    chosen = tuple(limits) if limits is not None else routes.limits
    prepared, blank = _prepare(lines, routes, densities or {}, today)
    notices: list[str] = []
    if blank == len(lines) and len(lines):
        return CrossLineResult((), ("cross-line checks need a consignee: no line names one",))
    if blank:
        notices.append(
            f"{blank} lines name no consignee and were left out of the cross-line checks"
        )
    since = today - timedelta(days=window_days - 1)
    registry = {fold_name(name).key: frozenset(keys) for name, keys in (registered or {}).items()}
    parties: dict[str, list[Line]] = {}
    for ln in prepared:
        if ln.day <= today:
            parties.setdefault(ln.party, []).append(ln)
    alerts: list[Alert] = []
    unreadable = 0
    limited = {lim.substance for lim in chosen}
    for party, mine in parties.items():
        recent = [ln for ln in mine if ln.day >= since]
        if not recent:
            continue
        unreadable += sum(1 for ln in recent if ln.substance in limited and ln.value is None)
        alerts += route_alerts(recent, routes)
        years = {ln.day.year for ln in recent}
        alerts += cumulative_alerts(
            mine, chosen, routes, years=years, registered=registry.get(party, frozenset())
        )
        alerts += structuring_alerts(mine, chosen, routes, since=since)
    if unreadable:
        notices.append(
            f"{unreadable} lines of thresholded substances have no readable quantity: "
            "the cumulative and structuring checks left them out"
        )
    alerts.sort(key=lambda a: (_RISK_ORDER.get(a.risk, 9), -a.score, a.consignee, a.kind))
    return CrossLineResult(tuple(alerts), tuple(notices), {p: tuple(v) for p, v in parties.items()})


def find_alerts(
    lines: pd.DataFrame,
    routes: RouteBook,
    *,
    today: date,
    window_days: int = 180,
    limits: Iterable[Limit] | None = None,
    densities: Mapping[str, float] | None = None,
    registered: Mapping[str, Collection[str]] | None = None,
) -> list[Alert]:
    """The alerts of :func:`run_checks` (its notices dropped)."""
    return list(
        run_checks(
            lines,
            routes,
            today=today,
            window_days=window_days,
            limits=limits,
            densities=densities,
            registered=registered,
        ).alerts
    )
