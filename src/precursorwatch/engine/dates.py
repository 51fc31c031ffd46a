"""The law of a day: which listings are in force, which are coming, and what a reason says.

A screening is judged against the lists as they applied on one day (``as_of``, today by
default). A substance whose listing applies only after that day is still recognised (by name,
CAS number or structure), but it is not listed yet: its line carries no list code, its reason
says from when and by which act it becomes listed, and its risk is at least medium when that
day is within :data:`COMING_DAYS` (an act published but not yet applicable), low otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from precursorwatch.models import Watchlist

if TYPE_CHECKING:
    from precursorwatch.engine.index import ListIndex

#: A listing that applies within this many days of the screening's day makes a line medium.
COMING_DAYS = 365


@dataclass(frozen=True, slots=True)
class Pending:
    """A listing of a substance that applies only after the screening's day."""

    list_code: str
    day: date
    act: str


def pending_listings(watchlist: Watchlist, day: date) -> dict[str, tuple[Pending, ...]]:
    """Substance key -> its listings that apply after ``day`` (soonest first), for the
    substances not listed at all on ``day``'s lists: a substance in force on another list is
    judged by that list."""
    in_force = {e.substance_key for d in watchlist.as_of(day).lists.values() for e in d.entries}
    found: dict[str, list[Pending]] = {}
    iso = day.isoformat()
    for code, listdef in sorted(watchlist.lists.items()):
        for e in listdef.entries:
            start = listdef.entry_from(e)
            if e.substance_key in in_force or not start or start <= iso:
                continue
            if e.applies_until and e.applies_until <= start:
                continue
            found.setdefault(e.substance_key, []).append(
                Pending(code, date.fromisoformat(start), listdef.entry_act(e))
            )
    return {k: tuple(sorted(v, key=lambda p: (p.day, p.list_code))) for k, v in found.items()}


def pending_verdict(
    risk: str, pending: tuple[Pending, ...], day: date, labels: dict[str, str]
) -> tuple[str, str]:
    """The risk and the sentence of a line whose substance is listed only after ``day``:
    medium when the first listing applies within :data:`COMING_DAYS`, else at most low."""
    first = pending[0]
    soon = first.day <= day + timedelta(days=COMING_DAYS)
    rank = {"none": 0, "low": 1, "medium": 2, "high": 3}
    new_risk = "medium" if soon else ("low" if rank[risk] >= rank["low"] else risk)
    where = "; ".join(
        f"{labels.get(p.list_code, p.list_code)} from {p.day.isoformat()}"
        + (f" ({p.act})" if p.act else "")
        for p in pending
    )
    return new_risk, f"Not listed on {day.isoformat()}: it becomes listed in {where}."


def law_of_the_day(index: ListIndex) -> list[list[str]]:
    """What an index built for one day holds of the law, as plain data for a cache key: the
    entries in force and the listings coming (each with whether it is within
    :data:`COMING_DAYS`). Two days with the same law give the same value."""
    law = sorted(
        [code, e.substance_key] for code, d in index.watchlist.lists.items() for e in d.entries
    )
    day = index.as_of or date.today()
    soon = day + timedelta(days=COMING_DAYS)
    for key, listings in sorted(index.pending.items()):
        law += [[key, p.list_code, p.day.isoformat(), str(p.day <= soon)] for p in listings]
    return law
