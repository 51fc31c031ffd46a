"""Cross-line alerts and a consignee's history as a key may see them, for the API and the pages.

Officers and admins see every stored screening and every alert. An operator sees only the
screenings made with its own key, never an alert that rests on a confidential list (a list
code of its lines or of its threshold, a substance no public list names, or a confidential
term in its sentence), shipments whose confidential match reads "refer to the competent
authority", and no yearly total of a substance no public list names.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from precursorwatch.intel.records import Alert
from precursorwatch.run.alerts import AlertRules, alert_json, stored_screening_alerts
from precursorwatch.run.consignees import (
    ConsigneeHistory,
    YearTotal,
    consignee_history,
    history_json,
)
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.store.parties import PartyLine
from precursorwatch.web.state import AppState
from precursorwatch.web.visibility import REFER, Visibility, sees_confidential

_ALERT_EXAMPLE: dict[str, Any] = {
    "kind": "route",
    "consignee": "ACME Chemicals Ltd.",
    "line_ids": ["7", "2"],
    "screening_ids": ["3f2a9c0d5e6b4a1f8c7d6e5f4a3b2c1d", "9b8a7c6d5e4f4a3b2c1d0e9f8a7b6c5d"],
    "risk": "high",
    "reason": (
        "ACME Chemicals Ltd. received benzaldehyde (line 7 of screening "
        "3f2a9c0d5e6b4a1f8c7d6e5f4a3b2c1d, 2026-05-01) and nitroethane (line 2 of screening "
        "9b8a7c6d5e4f4a3b2c1d0e9f8a7b6c5d, 2026-05-31) within 30 days: the roles of the route "
        "to amphetamine from benzaldehyde with nitroethane (through phenyl-2-nitropropene); "
        "sources: UNODC ST/NAR/34 (2006)."
    ),
    "folded_as": "'ACME Chemicals Ltd.' and 'acme chemicals' are one party (case, punctuation "
    "and legal forms folded).",
    "drug": "amphetamine",
    "sources": ["UNODC ST/NAR/34 (2006)"],
}


class AlertOut(BaseModel):
    """A cross-line alert: the contract's keys, then the folding, the drug and the sources."""

    model_config = {"json_schema_extra": {"examples": [_ALERT_EXAMPLE]}}

    kind: str = Field(description="route, cumulative or structuring.")
    consignee: str = Field(description="The party's most used spelling.")
    line_ids: list[str] = Field(description="The lines it rests on, oldest first.")
    screening_ids: list[str] = Field(description="The screenings of those lines, oldest first.")
    risk: str = Field(description="high, medium or low.")
    reason: str = Field(description="One plain sentence naming the lines, the drug and sources.")
    folded_as: str = Field(default="", description="Which spellings were taken as one party.")
    drug: str = Field(default="", description="The drug a route alert leads to.")
    sources: list[str] = Field(default_factory=list, description="A route alert's sources.")


class ShipmentOut(BaseModel):
    """One stored line of the party."""

    screening_id: str
    screened_at: datetime
    line_id: str
    consignee: str = Field(description="The spelling this line used.")
    description: str
    cas: str
    quantity: float | None
    unit: str
    destination: str
    risk: str
    matched_key: str
    matched_name: str
    lists: list[str]


class YearTotalOut(BaseModel):
    """What the party received of one substance in one calendar year."""

    year: int
    substance: str
    name: str
    shipments: int
    kg: float = Field(description="Shipments whose quantity converts to kilograms.")
    litres: float = Field(description="Shipments in volume whose density is not known.")
    unreadable: int = Field(description="Shipments without a usable quantity.")


class ConsigneeOut(BaseModel):
    """A party's history: shipments, totals per substance per year, and alerts."""

    name: str = Field(description="The name asked for.")
    party: str = Field(description="The folded key every spelling of the party shares.")
    folded: list[str] = Field(description="What folding the name changed: case, legal form ...")
    spellings: list[str] = Field(description="The spellings of its stored lines, most used first.")
    folded_as: str = Field(description="Which spellings were taken as one party ('' for one).")
    as_of: str = Field(description="The day the alerts' window ends (YYYY-MM-DD).")
    window_days: int
    shipments: list[ShipmentOut]
    totals: list[YearTotalOut]
    alerts: list[AlertOut]
    notices: list[str]


def rules_for(state: AppState) -> AlertRules:
    """The alert rules of the current lists (the routes file is read once per lists)."""
    return AlertRules.for_watchlist(state.screener().watchlist, state.settings.alert_window_days)


def alert_visible(vis: Visibility, alert: Alert) -> bool:
    """Whether an operator may see ``alert``: it rests on no confidential list or substance
    and its sentences hold no confidential term."""
    if any(code in vis.confidential for code in alert.lists):
        return False
    if alert.substance in vis.known_keys and alert.substance not in vis.public_keys:
        return False
    return not any(vis.leaks(text) for text in (alert.reason, alert.folded_as, alert.consignee))


def alerts_for(
    state: AppState, key: ApiKeyInfo, alerts: tuple[Alert, ...], rules: AlertRules
) -> list[AlertOut]:
    """``alerts`` as ``key`` may see them."""
    vis = None if sees_confidential(key.role) else state.visibility()
    return [
        AlertOut.model_validate(alert_json(a, rules.book))
        for a in alerts
        if vis is None or alert_visible(vis, a)
    ]


def _shipment(vis: Visibility, s: PartyLine) -> PartyLine:
    """A shipment as an operator may see it: a match no public list names is referred."""
    public = tuple(c for c in s.lists if c not in vis.confidential)
    hidden = (s.matched_key and s.matched_key not in vis.public_keys) or (s.lists and not public)
    if hidden or vis.leaks(s.matched_name):
        return replace(s, matched_key="", matched_name=REFER, lists=())
    return replace(s, lists=public)


def _total_visible(vis: Visibility, t: YearTotal) -> bool:
    if t.substance in vis.known_keys and t.substance not in vis.public_keys:
        return False
    return not (vis.leaks(t.name) or vis.leaks(t.substance))


def history_out(
    state: AppState, key: ApiKeyInfo, history: ConsigneeHistory, rules: AlertRules
) -> ConsigneeOut:
    """A consignee's history as ``key`` may see it."""
    if not sees_confidential(key.role):
        vis = state.visibility()
        history = replace(
            history,
            shipments=tuple(_shipment(vis, s) for s in history.shipments),
            totals=tuple(t for t in history.totals if _total_visible(vis, t)),
            alerts=tuple(a for a in history.alerts if alert_visible(vis, a)),
        )
    return ConsigneeOut.model_validate(history_json(history, rules))


def consignee_for(
    state: AppState, key: ApiKeyInfo, name: str, since: datetime | None = None
) -> ConsigneeOut:
    """The history of the party ``name`` folds to, as ``key`` may see it (operators: their
    own screenings only). Raises InputError (blank name) or QueryError (no stored line)."""
    rules = rules_for(state)
    owner = None if sees_confidential(key.role) else key.key_id
    history = consignee_history(state.store, rules, name, since=since, owner_key_id=owner)
    return history_out(state, key, history, rules)


def screening_alerts_for(
    state: AppState, key: ApiKeyInfo, summary: ScreeningSummary
) -> list[AlertOut]:
    """The cross-line alerts of a stored screening (as of when it was made), as ``key`` may
    see them; a screening's page shows them above its lines."""
    rules = rules_for(state)
    owner = None if sees_confidential(key.role) else key.key_id
    found = stored_screening_alerts(
        state.store,
        rules,
        screening_id=summary.screening_id,
        created_at=summary.created_at,
        owner_key_id=owner,
    )
    return alerts_for(state, key, found.alerts, rules)
