"""A consignee's history: its stored shipments, its totals per substance per calendar year,
and the alerts its lines raise now.

The name asked for is folded as the checks fold consignees
(:func:`~precursorwatch.intel.consignee.fold_name`: case, punctuation, accents,
transliteration, legal forms), so "ACME Chemicals Ltd." finds the lines of "acme chemicals"
too; the history says which spellings were taken as one party.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from precursorwatch.errors import InputError, QueryError
from precursorwatch.intel.consignee import fold_name, folded_as, group_consignees
from precursorwatch.intel.records import Alert, Line
from precursorwatch.run.alerts import (
    AlertRules,
    Recognised,
    alert_json,
    frame_of_party_lines,
    party_key,
    utc_today,
)
from precursorwatch.store import Store
from precursorwatch.store.parties import PartyLine, party_lines

__all__ = ["ConsigneeHistory", "YearTotal", "consignee_history", "history_json"]


@dataclass(frozen=True, slots=True)
class YearTotal:
    """What a party received of one substance in one calendar year.

    ``kg`` sums the shipments whose quantity converts to kilograms (litres too, where the
    substance's density is known), ``litres`` those in volume only, and ``unreadable``
    counts the shipments without a usable quantity. ``lists`` are the list codes the
    shipments' verdicts named.
    """

    year: int
    substance: str
    name: str
    shipments: int
    kg: float
    litres: float
    unreadable: int
    lists: tuple[str, ...]


@dataclass(frozen=True)
class ConsigneeHistory:
    """A party's history as of ``today``."""

    name: str
    #: The folded key every spelling of the party shares.
    party: str
    #: What folding the name asked for changed ("case", "legal form" ...).
    folded: tuple[str, ...]
    #: The spellings its stored lines use, most used first.
    spellings: tuple[str, ...]
    #: One sentence saying which spellings were taken as one party ('' for one spelling).
    folded_as: str
    shipments: tuple[PartyLine, ...]
    totals: tuple[YearTotal, ...]
    alerts: tuple[Alert, ...]
    notices: tuple[str, ...]
    today: date
    window_days: int


def _totals(
    shipments: Sequence[PartyLine], lines: Sequence[Line], rules: AlertRules
) -> list[YearTotal]:
    """Totals per (year, substance) of the checks' line records (``index`` is the line's
    position in ``shipments``)."""
    groups: dict[tuple[int, str], list[Line]] = {}
    for ln in lines:
        groups.setdefault((ln.day.year, ln.substance), []).append(ln)
    out = []
    for (year, substance), members in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        kg = litres = 0.0
        unreadable = 0
        lists: dict[str, None] = {}
        name = ""
        for ln in members:
            shipment = shipments[ln.index]
            if not name:
                same = shipment.matched_key == substance and shipment.matched_name
                name = shipment.matched_name if same else ln.name
            lists.update(dict.fromkeys(ln.lists))
            mass = ln.amount("kg")
            volume = None if mass is not None else ln.amount("L")
            if mass is not None:
                kg += mass
            elif volume is not None:
                litres += volume
            else:
                unreadable += 1
        agent = rules.book.agents.get(substance)
        out.append(
            YearTotal(
                year,
                substance,
                name or (agent.name if agent else substance),
                len(members),
                round(kg, 6),
                round(litres, 6),
                unreadable,
                tuple(lists),
            )
        )
    return out


def consignee_history(
    store: Store,
    rules: AlertRules,
    name: str,
    *,
    today: date | None = None,
    since: datetime | None = None,
    owner_key_id: str | None = None,
) -> ConsigneeHistory:
    """The stored shipments to the party ``name`` folds to (created from ``since`` on; all
    when None), its totals per substance per year, and the alerts of the window ending
    ``today`` (default: today, UTC). ``owner_key_id``: only the screenings of that API key.

    Raises InputError for a name that folds to nothing, QueryError when no stored line names
    the party.
    """
    text = " ".join(str(name).split())
    if not text:
        raise InputError("give a consignee name (any spelling: case and legal forms are folded)")
    folded = fold_name(text)
    key = party_key(text)
    today = today or utc_today()
    until = datetime.combine(today, datetime.max.time(), tzinfo=UTC)
    with store.session(write=False) as session:
        shipments = party_lines(
            session=session,
            keys={key},
            fold=party_key,
            since=since,
            until=until,
            owner_key_id=owner_key_id,
        )
    if not shipments:
        raise QueryError(
            f"no stored shipment to a consignee named {text[:200]!r} (folded: {key[:200]!r}); "
            "case, punctuation, accents, scripts and legal forms are folded, misspellings are not"
        )
    recognised = Recognised(rules.book)
    checked = [s for s in shipments if recognised.line(s)]  # the lines that can count
    found = rules.check(frame_of_party_lines(checked), today)
    records = [ln for lines in found.parties.values() for ln in lines]
    groups = group_consignees(s.consignee for s in shipments)
    counts: dict[str, int] = {}
    for s in shipments:
        spelling = " ".join(s.consignee.split())
        counts[spelling] = counts.get(spelling, 0) + 1
    spellings = sorted(groups.get(key, list(counts)), key=lambda s: -counts.get(s, 0))
    return ConsigneeHistory(
        name=text,
        party=key,
        folded=folded.folded,
        spellings=tuple(spellings),
        folded_as=folded_as(spellings),
        shipments=tuple(shipments),
        totals=tuple(_totals(checked, records, rules)),
        alerts=found.alerts,
        notices=found.notices,
        today=today,
        window_days=rules.window_days,
    )


def history_json(history: ConsigneeHistory, rules: AlertRules) -> dict[str, Any]:
    """The JSON object of ``GET /v1/consignees/{name}`` and ``consignee NAME --format json``."""
    return {
        "name": history.name,
        "party": history.party,
        "folded": list(history.folded),
        "spellings": list(history.spellings),
        "folded_as": history.folded_as,
        "as_of": history.today.isoformat(),
        "window_days": history.window_days,
        "shipments": [
            {
                "screening_id": s.screening_id,
                "screened_at": s.created_at.isoformat(),
                "line_id": s.line_id,
                "consignee": s.consignee,
                "description": s.description,
                "cas": s.cas,
                "quantity": s.quantity,
                "unit": s.unit,
                "destination": s.destination,
                "risk": s.risk,
                "matched_key": s.matched_key,
                "matched_name": s.matched_name,
                "lists": list(s.lists),
            }
            for s in history.shipments
        ],
        "totals": [
            {
                "year": t.year,
                "substance": t.substance,
                "name": t.name,
                "shipments": t.shipments,
                "kg": t.kg,
                "litres": t.litres,
                "unreadable": t.unreadable,
            }
            for t in history.totals
        ],
        "alerts": [alert_json(a, rules.book) for a in history.alerts],
        "notices": list(history.notices),
    }
