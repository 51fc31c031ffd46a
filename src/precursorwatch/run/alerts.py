"""Cross-line alerts where a screening is run or read: this screening's lines and the stored
lines of the same parties within the window.

:class:`AlertRules` holds what the checks need from the current lists (the routes, the
thresholds, the densities) and the window. :class:`AlertSink` is a sink of
:func:`~precursorwatch.run.streaming.stream_screen`: it keeps, chunk by chunk, only the lines
that can matter (a flagged listed substance, or a reagent the routes name), so a file of any
size costs the checks what its chemicals cost. :func:`screening_alerts` then reads the stored
lines of the parties those lines name (:func:`~precursorwatch.store.parties.party_lines`)
and runs :func:`~precursorwatch.intel.alerts.run_checks` over both; it keeps the alerts this
screening's lines take part in (an alert the stored lines raise alone belongs to an earlier
screening). An alert's reason cites this screening's lines as "line 3, <date>" and stored ones
as "line 7 of screening <id>, <date>"; its ``screening_ids`` are the earlier screenings',
oldest first, then this one's (when it is recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from precursorwatch.intel.alerts import (
    NO_CONSIGNEE,
    Alert,
    CrossLineResult,
    alert_to_dict,
    densities_from_watchlist,
    limits_from_watchlist,
    merge_limits,
    run_checks,
)
from precursorwatch.intel.consignee import fold_name
from precursorwatch.intel.recognise import Recogniser
from precursorwatch.intel.routes import Limit, RouteBook, load_routes
from precursorwatch.models import DeclarationLine, LineResult, Watchlist
from precursorwatch.store import Store
from precursorwatch.store.access import screening_lines
from precursorwatch.store.parties import PartyLine, party_lines

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "FRAME_COLUMNS",
    "AlertRules",
    "AlertSink",
    "Recognised",
    "ScreeningAlerts",
    "alert_json",
    "file_alerts",
    "frame_of_party_lines",
    "party_key",
    "screening_alerts",
    "stored_screening_alerts",
]

DEFAULT_WINDOW_DAYS = 180
#: The columns of the frames handed to the checks.
FRAME_COLUMNS: tuple[str, ...] = (
    "line_id",
    "screening_id",
    "date",
    "consignee",
    "description",
    "cas",
    "quantity",
    "unit",
    "destination",
    "matched_key",
    "risk",
    "lists",
)
_FILLING = ("high", "medium")
_SEP = "\x1f"
#: Distinct (description, CAS) pairs whose agent a sink remembers.
_MEMO = 200_000
#: Stored lines handed to a sink at once.
_BATCH = 50_000


@lru_cache(maxsize=4)
def _bundled_routes(known_keys: frozenset[str]) -> RouteBook:
    """The bundled routes file, read once per set of known substance keys (~0.2 s)."""
    return load_routes(known_keys=known_keys)


def party_key(name: str) -> str:
    """The folded key of a consignee spelling, as the checks fold it ('' for a blank one)."""
    text = " ".join(str(name).split())
    return (fold_name(text).key or text.casefold()) if text else ""


def utc_today() -> date:
    """Today's date in UTC (stored screenings are dated by their UTC time)."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class AlertRules:
    """What the checks need of the current lists, and the window in days."""

    book: RouteBook
    limits: tuple[Limit, ...]
    densities: Mapping[str, float]
    window_days: int = DEFAULT_WINDOW_DAYS

    @classmethod
    def for_watchlist(
        cls, watchlist: Watchlist, window_days: int = DEFAULT_WINDOW_DAYS
    ) -> AlertRules:
        """The bundled routes and the thresholds and densities of ``watchlist``'s lists."""
        book = _bundled_routes(frozenset(watchlist.substances))
        return cls(
            book,
            merge_limits(book.limits, limits_from_watchlist(watchlist)),
            densities_from_watchlist(watchlist),
            max(1, int(window_days)),
        )

    def since(self, today: date) -> datetime:
        """The earliest screening time the checks of ``today`` read: January 1st of the year
        the window starts in (calendar-year totals count the whole year)."""
        start = today - timedelta(days=self.window_days - 1)
        return datetime(start.year, 1, 1, tzinfo=UTC)

    def check(self, frame: pd.DataFrame, today: date) -> CrossLineResult:
        """:func:`run_checks` over ``frame`` with these rules."""
        return run_checks(
            frame,
            self.book,
            today=today,
            window_days=self.window_days,
            limits=self.limits,
            densities=self.densities,
        )


@dataclass(frozen=True)
class ScreeningAlerts:
    """The alerts of one screening (highest risk first) and what its user should read."""

    alerts: tuple[Alert, ...] = ()
    notices: tuple[str, ...] = ()


def alert_json(alert: Alert, book: RouteBook) -> dict[str, Any]:
    """The contract's keys (``kind``, ``consignee``, ``line_ids``, ``screening_ids``, ``risk``,
    ``reason``), then how the consignee's spellings were folded, the drug of a route alert
    and the labels of its sources."""
    return {
        **alert_to_dict(alert),
        "folded_as": alert.folded_as,
        "drug": alert.drug,
        "sources": book.source_labels(alert.sources),
    }


class Recognised:
    """Whether a "description\x1fCAS" pair names a chemical of the routes, memoised."""

    def __init__(self, book: RouteBook) -> None:
        self.recogniser = Recogniser(book)
        self._memo: dict[str, bool] = {}

    def __call__(self, pair: str) -> bool:
        hit = self._memo.get(pair)
        if hit is None:
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            description, _, cas = pair.partition(_SEP)
            hit = self._memo[pair] = bool(self.recogniser.agent_for("", description, cas))
        return hit

    def row(self, description: str, cas: str, risk: str, matched_key: str) -> bool:
        """Whether a line can take part in an alert (see :class:`AlertSink`)."""
        return bool(matched_key and risk in _FILLING) or self(f"{description}{_SEP}{cas}")

    def line(self, line: PartyLine) -> bool:
        """:meth:`row` of a stored line."""
        return self.row(line.description, line.cas, line.risk, line.matched_key)


class AlertSink:
    """Keeps the lines of each screened chunk that can take part in an alert: a listed
    substance found at high or medium risk, or a chemical a route names (by name or CAS)."""

    def __init__(self, rules: AlertRules) -> None:
        self.rules = rules
        self.recognised = Recognised(rules.book)
        self.frames: list[pd.DataFrame] = []
        self.lines = 0

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Keep the chunk's candidate lines in the checks' columns."""
        self.lines += len(out)
        if len(out):
            self.frames.append(candidates(chunk, out, self.recognised))

    def frame(self) -> pd.DataFrame:
        """Every kept line, in input order."""
        if not self.frames:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in FRAME_COLUMNS})
        return pd.concat(self.frames, ignore_index=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as text ('' where absent or missing), indexed 0..n-1."""
    if name not in frame.columns:
        return pd.Series([""] * len(frame), dtype=object)
    return frame[name].reset_index(drop=True).fillna("").astype(str)


def candidates(
    chunk: pd.DataFrame, out: pd.DataFrame, recognised: Callable[[str], bool]
) -> pd.DataFrame:
    """The lines of ``chunk`` (canonical input) and ``out`` (their results, row for row) that
    can fill a role or count towards a threshold, in the checks' columns. ``recognised``
    says whether a "description\x1fCAS" pair names a chemical of the routes."""
    risk, key = _column(out, "risk"), _column(out, "matched_key")
    description, cas = _column(chunk, "description"), _column(chunk, "cas")
    pairs = description + _SEP + cas
    named = {p for p in pairs.unique() if recognised(p)}
    keep = np.flatnonzero(
        (risk.isin(_FILLING) & (key != "")).to_numpy() | pairs.isin(named).to_numpy()
    )
    columns = {
        "line_id": _column(out, "line_id"),
        "consignee": _column(chunk, "consignee"),
        "description": description,
        "cas": cas,
        "quantity": _column(chunk, "quantity"),
        "unit": _column(chunk, "unit"),
        "destination": _column(chunk, "destination"),
        "matched_key": key,
        "risk": risk,
        "lists": _column(out, "lists"),
    }
    data = {name: values.take(keep).tolist() for name, values in columns.items()}
    data["screening_id"] = [""] * len(keep)
    data["date"] = [""] * len(keep)
    return pd.DataFrame({c: pd.Series(data[c], dtype=object) for c in FRAME_COLUMNS})


def frame_of_party_lines(lines: Sequence[PartyLine]) -> pd.DataFrame:
    """Stored party lines in the checks' columns, dated by their screening's UTC day."""
    rows = {
        "line_id": [ln.line_id for ln in lines],
        "screening_id": [ln.screening_id for ln in lines],
        "date": [ln.created_at.astimezone(UTC).date() for ln in lines],
        "consignee": [ln.consignee for ln in lines],
        "description": [ln.description for ln in lines],
        "cas": [ln.cas for ln in lines],
        "quantity": [_quantity_text(ln.quantity) for ln in lines],
        "unit": [ln.unit for ln in lines],
        "destination": [ln.destination for ln in lines],
        "matched_key": [ln.matched_key for ln in lines],
        "risk": [ln.risk for ln in lines],
        "lists": [";".join(ln.lists) for ln in lines],
    }
    return pd.DataFrame({c: pd.Series(rows[c], dtype=object) for c in FRAME_COLUMNS})


def _quantity_text(value: float | None) -> str:
    if value is None or value != value:
        return ""
    return f"{value:.15g}"


def _identity(alert: Alert) -> tuple[Any, ...]:
    return (
        alert.kind,
        alert.route,
        alert.substance,
        alert.line_ids,
        alert.screening_ids,
        alert.reason,
    )


def screening_alerts(
    store: Store,
    rules: AlertRules,
    lines: pd.DataFrame,
    *,
    screening_id: str = "",
    today: date | None = None,
    has_consignee: bool = True,
    until: datetime | None = None,
    owner_key_id: str | None = None,
) -> ScreeningAlerts:
    """The alerts a screening's ``lines`` (the checks' columns; e.g. :meth:`AlertSink.frame`)
    take part in, with the stored lines of the same parties in the window ending ``today``.

    ``screening_id``: the screening's stored id ('' when not recorded): last in each alert's
    ``screening_ids``, and left out of the stored lines read. ``has_consignee`` False (the
    input has no consignee column): no alert, and the one notice that cross-line checks need
    a consignee. ``until``: read only
    screenings created until then (a stored screening read later). ``owner_key_id``: read only
    the screenings of that API key.
    """
    if not has_consignee:
        return ScreeningAlerts((), (NO_CONSIGNEE,))
    today = today or utc_today()
    current = lines.assign(screening_id="", date=today)
    keys = {party_key(c) for c in _column(current, "consignee")} - {""}
    stored: list[PartyLine] = []
    recognised = Recognised(rules.book)
    if keys:
        with store.session(write=False) as session:
            stored = party_lines(
                session=session,
                keys=keys,
                fold=party_key,
                since=rules.since(today),
                until=until,
                owner_key_id=owner_key_id,
                exclude={screening_id} if screening_id else (),
                where=recognised.row,  # only the lines that can take part in an alert
            )
    earlier = frame_of_party_lines(stored)
    found = rules.check(pd.concat([earlier, current], ignore_index=True), today)
    alerts = found.alerts
    if stored and alerts:
        theirs = {_identity(a) for a in rules.check(earlier, today).alerts}
        alerts = tuple(a for a in alerts if _identity(a) not in theirs)
    if screening_id:  # this screening's lines are cited as "line 3"; its id goes last
        alerts = tuple(replace(a, screening_ids=(*a.screening_ids, screening_id)) for a in alerts)
    return ScreeningAlerts(alerts, found.notices)


def _frames(pairs: Sequence[tuple[DeclarationLine, LineResult]]) -> tuple[pd.DataFrame, ...]:
    """Stored declarations and their results as a chunk and its result frame."""
    chunk = pd.DataFrame(
        {
            "description": [d.description for d, _ in pairs],
            "cas": [d.cas for d, _ in pairs],
            "quantity": [_quantity_text(d.quantity) for d, _ in pairs],
            "unit": [d.unit for d, _ in pairs],
            "destination": [d.destination for d, _ in pairs],
            "consignee": [d.consignee for d, _ in pairs],
        }
    )
    out = pd.DataFrame(
        {
            "line_id": [r.line_id for _, r in pairs],
            "risk": [r.risk for _, r in pairs],
            "matched_key": [r.matched_key for _, r in pairs],
            "lists": [";".join(r.lists) for _, r in pairs],
        }
    )
    return chunk, out


def stored_screening_alerts(
    store: Store,
    rules: AlertRules,
    *,
    screening_id: str,
    created_at: datetime,
    owner_key_id: str | None = None,
) -> ScreeningAlerts:
    """The alerts of a stored screening as of when it was made: its lines and the lines of
    the same parties stored until then (a screening's page shows these). A screening whose
    lines name no consignee has none, and no notice."""
    sink = AlertSink(rules)
    named = False
    with store.session(write=False) as session:
        batch: list[tuple[DeclarationLine, LineResult]] = []
        for pair in screening_lines(session=session, screening_id=screening_id):
            batch.append(pair)
            named = named or bool(pair[0].consignee.strip())
            if len(batch) >= _BATCH:
                sink(*_frames(batch))
                batch = []
        if batch:
            sink(*_frames(batch))
    if not named:
        return ScreeningAlerts()
    return screening_alerts(
        store,
        rules,
        sink.frame(),
        screening_id=screening_id,
        today=created_at.astimezone(UTC).date(),
        until=created_at,
        owner_key_id=owner_key_id,
    )


def file_alerts(
    store: Store,
    sink: AlertSink,
    *,
    columns: Collection[str],
    screening_id: str,
    today: date | None = None,
) -> ScreeningAlerts:
    """The alerts of a file just screened with ``sink`` among its sinks; ``columns``: the
    fields the manifest was found to have (``ManifestInfo.columns``)."""
    return screening_alerts(
        store,
        sink.rules,
        sink.frame(),
        screening_id=screening_id,
        today=today,
        has_consignee="consignee" in columns,
    )
