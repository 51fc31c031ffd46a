"""The three cross-line checks over one party's screened lines: route, cumulative, structuring.

Each takes the party's :class:`Line` records (already folded, recognised and converted) and
returns :class:`Alert` objects with one plain sentence each. :mod:`precursorwatch.intel.alerts`
prepares the lines from a frame and runs the checks.

- **route**: the party received every required role of a route (and at least ``min_roles``
  roles) among the lines in the window; quantities whose mole equivalents are within
  ``proportion_spread`` of each other "fit" the route and raise the score.
- **cumulative**: a calendar year's total of a substance over an annual threshold (EU Annex II
  style, e.g. acetic anhydride 100 L, red phosphorus 100 g), unless the party is registered for it.
- **structuring**: at least ``structuring_min_shipments`` shipments within
  ``structuring_days``, each between ``structuring_min_share`` of a per-transaction threshold and
  the threshold, together over it, from a party that never received that much in one shipment.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta

from precursorwatch.intel.consignee import display_name
from precursorwatch.intel.records import Alert, Line, fmt, join, make_alert, refs, span
from precursorwatch.intel.routes import Limit, Route, RouteBook


def _risk(score: float) -> str:
    return "high" if score >= 0.75 else "medium" if score >= 0.5 else "low"


def _fit(route: Route, filled: Mapping[str, list[Line]], book: RouteBook) -> bool | None:
    """Whether the roles' quantities fit the route's moles; None when fewer than two can say."""
    equivalents = []
    for role in route.roles:
        lines = filled.get(role.name, [])
        if not lines or role.moles is None:
            continue
        moles = 0.0
        for ln in lines:
            mass = book.agents[ln.agent].molar_mass
            kg = ln.amount("kg")
            if mass is None or kg is None:
                moles = -1.0
                break
            moles += kg * 1000.0 / mass
        if moles > 0:
            equivalents.append(moles / role.moles)
    if len(equivalents) < 2:
        return None
    return max(equivalents) / min(equivalents) <= book.settings.get("proportion_spread", 10.0)


def _filled(
    route: Route, by_agent: Mapping[str, list[Line]], default_kg: float
) -> dict[str, list[Line]]:
    """Role name -> its lines, for the roles whose lines reach the route's quantity floor."""
    floor = route.min_kg if route.min_kg is not None else default_kg
    out = {}
    for role in route.roles:
        lines = [ln for a in role.agents for ln in by_agent.get(a, [])]
        amounts = [ln.amount("kg") for ln in lines]
        if lines and (None in amounts or sum(a or 0.0 for a in amounts) >= floor):
            out[role.name] = lines
    return out


def route_alerts(lines: Sequence[Line], book: RouteBook) -> list[Alert]:
    """Route alerts for one party's lines (all within the window)."""
    by_agent: dict[str, list[Line]] = {}
    for ln in lines:
        if ln.agent:
            by_agent.setdefault(ln.agent, []).append(ln)
    out = []
    for route in book.routes:
        if not route.alert:
            continue
        filled = _filled(route, by_agent, book.settings.get("min_role_kg", 1.0))
        if len(filled) < route.min_roles or any(r.name not in filled for r in route.required):
            continue
        if route.countries and not any(
            ln.destination in route.countries for lns in filled.values() for ln in lns
        ):
            continue
        fit = _fit(route, filled, book)
        optional = sum(1 for r in route.roles if not r.required and r.name in filled)
        score = min(1.0, route.score + (0.25 if fit else 0.0) + 0.1 * min(optional, 2))
        cited = [ln for role in route.roles for ln in filled.get(role.name, [])]
        found = []
        for role in (r for r in route.roles if r.name in filled):
            names = list(dict.fromkeys(ln.name for ln in filled[role.name]))
            found.append(f"{join(names)} ({refs(filled[role.name])})")
        amounts = [
            sum(ln.amount("kg") or 0.0 for ln in filled[r.name])
            for r in route.roles
            if r.name in filled and r.moles is not None
        ]
        proportion = ""
        if fit is not None:
            listed = join([f"{fmt(a)} kg" for a in amounts if a > 0])
            proportion = (
                f"; the quantities ({listed}) {'fit' if fit else 'do not fit'} its proportions"
            )
        reason = (
            f"{display_name(ln.spelling for ln in cited)} received {join(found)} {span(cited)}: "
            f"the roles of the route to {route.drug} from {route.name}{proportion}; sources: "
            f"{'; '.join(book.source_labels(route.sources))}."
        )
        out.append(
            make_alert(
                "route",
                cited,
                _risk(score),
                reason,
                score=round(score, 2),
                drug=route.drug,
                route=route.key,
                sources=route.sources,
            )
        )
    return out


def _context(substance: str, agent: str, book: RouteBook) -> str:
    """ " (acetic anhydride is the precursor of heroin: sources)" for single-precursor routes."""
    for route in book.routes:
        if route.alert:
            continue
        agents = {a for role in route.roles for a in role.agents}
        keys = {k for a in agents for k in book.agents[a].keys}
        if agent in agents or substance in keys:
            labels = "; ".join(book.source_labels(route.sources))
            return f"; it is the precursor of {route.drug} ({labels})"
    return ""


def _limit_label(limit: Limit, book: RouteBook) -> str:
    source = book.source_labels([limit.source])[0] if limit.source else ""
    return f"{limit.list_code} threshold of {fmt(limit.quantity)} {limit.unit}" + (
        f" ({source})" if source else ""
    )


def cumulative_alerts(
    lines: Sequence[Line],
    limits: Iterable[Limit],
    book: RouteBook,
    *,
    years: Collection[int],
    registered: Collection[str] = (),
) -> list[Alert]:
    """Calendar-year totals over an annual threshold, for the ``years`` asked about."""
    out = []
    for limit in (lim for lim in limits if lim.per == "year"):
        if limit.substance in registered:
            continue
        for year in sorted(years):
            mine = [ln for ln in lines if ln.substance == limit.substance and ln.day.year == year]
            amounts = [(ln, ln.amount(limit.unit)) for ln in mine]
            counted = [(ln, a) for ln, a in amounts if a is not None]
            total = sum(a for _ln, a in counted)
            if total <= limit.quantity:
                continue
            cited = [ln for ln, _a in counted]
            context = _context(limit.substance, cited[0].agent, book)
            reason = (
                f"{display_name(ln.spelling for ln in cited)} received {fmt(total)} {limit.unit} "
                f"of {cited[0].name} in {year} in {len(cited)} shipment"
                f"{'s' if len(cited) > 1 else ''} ({refs(cited)}), over the "
                f"{_limit_label(limit, book)} per year{context}."
            )
            out.append(
                make_alert(
                    "cumulative",
                    cited,
                    "medium",
                    reason,
                    score=0.6,
                    substance=limit.substance,
                    extra_lists=(limit.list_code,),
                )
            )
    return out


def _best_window(
    shipments: list[tuple[Line, float]], days: int, need: int
) -> list[tuple[Line, float]]:
    """The latest run of shipments within ``days`` whose count and sum qualify ([] if none)."""
    best: list[tuple[Line, float]] = []
    start = 0
    for end in range(len(shipments)):
        while shipments[end][0].day - shipments[start][0].day > timedelta(days=days):
            start += 1
        run = shipments[start : end + 1]
        if len(run) >= need:
            best = run
    return best


def structuring_alerts(
    lines: Sequence[Line], limits: Iterable[Limit], book: RouteBook, *, since: date
) -> list[Alert]:
    """Shipments split under a per-transaction threshold (see the module docstring)."""
    days = int(book.settings.get("structuring_days", 30))
    share = book.settings.get("structuring_min_share", 0.5)
    need = int(book.settings.get("structuring_min_shipments", 2))
    out = []
    for limit in (lim for lim in limits if lim.per == "transaction" and lim.quantity > 0):
        mine = [(ln, ln.amount(limit.unit)) for ln in lines if ln.substance == limit.substance]
        known = [(ln, a) for ln, a in mine if a is not None]
        if not known or any(a >= limit.quantity for _ln, a in known):
            continue
        near = sorted(
            ((ln, a) for ln, a in known if a >= share * limit.quantity),
            key=lambda p: (p[0].day, p[0].index),
        )
        run = _best_window(near, days, need)
        total = sum(a for _ln, a in run)
        if not run or total <= limit.quantity or run[-1][0].day < since:
            continue
        cited = [ln for ln, _a in run]
        context = _context(limit.substance, cited[0].agent, book)
        reason = (
            f"{display_name(ln.spelling for ln in cited)} received {len(cited)} shipments of "
            f"{cited[0].name} {span(cited)} ({refs(cited)}), each under the "
            f"{_limit_label(limit, book)} per transaction but {fmt(total)} {limit.unit} together: "
            f"the pattern of splitting to stay under it{context}."
        )
        out.append(
            make_alert(
                "structuring",
                cited,
                "high",
                reason,
                score=0.8,
                substance=limit.substance,
                extra_lists=(limit.list_code,),
            )
        )
    return out
