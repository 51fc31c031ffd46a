"""What changed in the law, by act and date: additions, removals and threshold changes.

Pure: reads the dates the list files carry (``applies_from``, ``applies_until``, ``act``,
``removed_by`` on entries and thresholds, and the list's defaults, see :mod:`precursorwatch.models`)
and answers "what changed since our last review?" and "what is about to become controlled?"
(a change dated after today is an act published but not yet applicable). An entry without a
date of its own was listed on or before its list's ``applies_from`` by an act not recorded: it
is not a change. Which entries applied on a given day is
:meth:`precursorwatch.models.Watchlist.as_of`; which apply soon,
:meth:`~precursorwatch.models.Watchlist.coming`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from precursorwatch.models import ListDef, ListEntry, Threshold, Watchlist

__all__ = ["CHANGE_KINDS", "ListChange", "list_changes"]

#: The kinds of change, in the order a day's changes are listed.
CHANGE_KINDS: tuple[str, ...] = ("added", "removed", "threshold-added", "threshold-removed")


@dataclass(frozen=True, slots=True)
class ListChange:
    """One change of one list on one day, by one act ('' when the act is not recorded).

    ``threshold`` is set for threshold changes; ``summary`` is one plain sentence.
    """

    day: date
    kind: str
    list_code: str
    substance_key: str
    substance_name: str
    act: str
    category: str = ""
    threshold: Threshold | None = None
    summary: str = ""


def _threshold_text(t: Threshold) -> str:
    per = f" per {t.per}" if t.per else ""
    if t.quantity == 0:
        return f"no threshold{per} (every quantity)"
    return f"threshold {t.quantity:g} {t.unit}{per}"


def _entry_changes(listdef: ListDef, entry: ListEntry, name: str) -> list[ListChange]:
    code, key = listdef.code, entry.substance_key
    out: list[ListChange] = []
    if entry.applies_from:
        act = listdef.entry_act(entry)
        by = f" by {act}" if act else ""
        out.append(
            ListChange(
                date.fromisoformat(entry.applies_from),
                "added",
                code,
                key,
                name,
                act,
                entry.category,
                summary=f"{name} is on {code} from {entry.applies_from}{by}.",
            )
        )
    if entry.applies_until:
        by = f" by {entry.removed_by}" if entry.removed_by else ""
        out.append(
            ListChange(
                date.fromisoformat(entry.applies_until),
                "removed",
                code,
                key,
                name,
                entry.removed_by,
                entry.category,
                summary=f"{name} is off {code} from {entry.applies_until}{by}.",
            )
        )
    start = listdef.entry_from(entry)
    for t in entry.thresholds:
        act = t.act or listdef.entry_act(entry)
        by = f" by {act}" if act else ""
        if t.applies_from and t.applies_from != start:
            out.append(
                ListChange(
                    date.fromisoformat(t.applies_from),
                    "threshold-added",
                    code,
                    key,
                    name,
                    act,
                    entry.category,
                    t,
                    f"{name} on {code}: {_threshold_text(t)} from {t.applies_from}{by}.",
                )
            )
        if t.applies_until and t.applies_until != entry.applies_until:
            out.append(
                ListChange(
                    date.fromisoformat(t.applies_until),
                    "threshold-removed",
                    code,
                    key,
                    name,
                    t.act,
                    entry.category,
                    t,
                    f"{name} on {code}: {_threshold_text(t)} ends on {t.applies_until}.",
                )
            )
    return out


def list_changes(
    watchlist: Watchlist, since: date | None = None, list_code: str | None = None
) -> list[ListChange]:
    """Every dated change of the lists on or after ``since`` (all when None), of one list
    (``list_code``) or all, in order of day, kind, list and substance name.

    Changes after today are included: they are what is coming. An unknown ``list_code``
    gives an empty list (the caller says so).
    """
    found: list[ListChange] = []
    for code, listdef in sorted(watchlist.lists.items()):
        if list_code is not None and code != list_code:
            continue
        for entry in listdef.entries:
            sub = watchlist.substances.get(entry.substance_key)
            name = sub.name if sub is not None else entry.substance_key
            found.extend(_entry_changes(listdef, entry, name))
    if since is not None:
        found = [c for c in found if c.day >= since]
    order = {kind: i for i, kind in enumerate(CHANGE_KINDS)}
    found.sort(key=lambda c: (c.day, order[c.kind], c.list_code, c.substance_name.casefold()))
    return found
