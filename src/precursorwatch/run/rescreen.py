"""Re-screening: stored declarations screened again against the current lists, and the lines
whose risk went up reported (a shipment cleared last month that contains a substance scheduled
today).

The stored declarations are read in batches and screened with one :class:`Screener`; nothing
stored is changed, and one audit event ("rescreen.completed") records the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from precursorwatch.models import RISKS, DeclarationLine, LineResult
from precursorwatch.run.screener import Screener
from precursorwatch.store import (
    ScreeningSummary,
    Store,
    iter_screening_lines,
    list_screenings,
    record_audit,
)

#: Lines screened per batch.
BATCH = 5_000
#: Risk tiers from lowest to highest.
RISK_ORDER: dict[str, int] = {risk: len(RISKS) - i for i, risk in enumerate(RISKS)}


@dataclass(frozen=True, slots=True)
class RiskIncrease:
    """One stored line whose risk is higher under the current lists than when screened."""

    screening_id: str
    screened_at: datetime
    actor: str
    line: DeclarationLine
    before: LineResult
    after: LineResult


@dataclass(frozen=True, slots=True)
class RescreenReport:
    """What a re-screening checked and found."""

    since: datetime
    lines_checked: int
    list_versions: dict[str, str]
    increases: list[RiskIncrease] = field(default_factory=list)


def risk_went_up(before: str, after: str) -> bool:
    """True when ``after`` is a higher tier than ``before`` (unknown tiers count as none)."""
    return RISK_ORDER.get(after, 0) > RISK_ORDER.get(before, 0)


def since_datetime(since: date | datetime) -> datetime:
    """Midnight UTC of a date; an aware datetime unchanged; a naive one taken as UTC."""
    if isinstance(since, datetime):
        return since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    return datetime.combine(since, time.min, tzinfo=UTC)


def _batches(
    rows: Iterator[tuple[str, DeclarationLine, LineResult]], size: int
) -> Iterator[list[tuple[str, DeclarationLine, LineResult]]]:
    batch: list[tuple[str, DeclarationLine, LineResult]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def rescreen(
    store: Store,
    *,
    since: date | datetime,
    screener: Screener | None = None,
    actor: str = "system",
    batch_size: int = BATCH,
) -> RescreenReport:
    """Screen every line stored since ``since`` again; return the lines whose risk went up.

    ``screener`` defaults to one over the store's current lists. Raises StoreError when the
    database fails; a store with no screenings gives an empty report.
    """
    if screener is None:
        from precursorwatch.run.service import make_screener

        screener = make_screener(store)
    start = since_datetime(since)
    with store.session(write=False) as session:
        summaries: dict[str, ScreeningSummary] = {
            s.screening_id: s
            for s in list_screenings(session=session, since=start, limit=1_000_000_000)
        }
    increases: list[RiskIncrease] = []
    checked = 0
    with store.session(write=False) as session:
        rows = iter_screening_lines(session=session, since=start)
        for batch in _batches(rows, batch_size):
            after = screener.screen_lines([line for _, line, _ in batch])
            checked += len(batch)
            for (screening_id, line, before), now in zip(batch, after, strict=True):
                if risk_went_up(before.risk, now.risk):
                    summary = summaries.get(screening_id)
                    increases.append(
                        RiskIncrease(
                            screening_id=screening_id,
                            screened_at=summary.created_at if summary else start,
                            actor=summary.actor if summary else "",
                            line=line,
                            before=before,
                            after=now,
                        )
                    )
    versions = screener.watchlist.versions()
    with store.session() as session:
        record_audit(
            session=session,
            actor=actor,
            action="rescreen.completed",
            detail={
                "since": start.isoformat(),
                "lines_checked": checked,
                "risk_increases": len(increases),
                "list_versions": versions,
                "lines": [[i.screening_id, i.line.line_id or str(i.line.row)] for i in increases],
            },
        )
    return RescreenReport(
        since=start, lines_checked=checked, list_versions=versions, increases=increases
    )
