"""The date fields of list files: when a list, an entry or a threshold applies, and by which act.

Pure. :func:`read_dates` checks the optional ``applies_from`` / ``applies_until`` (YYYY-MM-DD,
a real calendar day, the second after the first and exclusive), ``act`` and ``removed_by``
(text; ``removed_by`` only with ``applies_until``) of one YAML mapping or CSV row, and returns
them as ISO text ('' when absent), the form :mod:`precursorwatch.models` keeps. Problems are
raised through the caller's ``fail(message, field)``, which names the file, entry and line.
The loader (:mod:`precursorwatch.lists.load`) calls it for list headers, entries and thresholds;
``lists/README.md`` documents the fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

__all__ = [
    "ENTRY_DATE_FIELDS",
    "LIST_DATE_FIELDS",
    "THRESHOLD_DATE_FIELDS",
    "check_window",
    "parse_day",
    "read_dates",
]

#: Date fields a list entry may carry.
ENTRY_DATE_FIELDS: frozenset[str] = frozenset(
    {"applies_from", "applies_until", "act", "removed_by"}
)
#: Date fields of a threshold (a threshold that changed while its entry stayed).
THRESHOLD_DATE_FIELDS: frozenset[str] = frozenset({"applies_from", "applies_until", "act"})
#: Date fields of a list header: the defaults of its entries.
LIST_DATE_FIELDS: frozenset[str] = frozenset({"applies_from", "act"})

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAYS = ("applies_from", "applies_until")

Fail = Callable[[str, str], Exception]


def parse_day(text: str) -> date | None:
    """``text`` as a calendar day when it is exactly YYYY-MM-DD and exists, else None."""
    if not _DAY_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_dates(raw: Mapping[str, Any], allowed: frozenset[str], fail: Fail) -> dict[str, str]:
    """The date fields in ``allowed`` of one mapping, checked, as ISO text ('' when absent).

    Raises what ``fail(message, field)`` returns when a day is not YYYY-MM-DD or not a
    calendar day, a field is not text, ``applies_until`` is not after ``applies_from``, or
    ``removed_by`` comes without ``applies_until``.
    """
    out: dict[str, str] = {}
    for name in sorted(allowed):
        value = raw.get(name)
        if value is None or value == "":
            out[name] = ""
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fail(f"must be text, not {type(value).__name__}", name)
        text = str(value).strip()
        if name in _DAYS:
            if not _DAY_RE.match(text):
                raise fail(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-05-18", name)
            if parse_day(text) is None:
                raise fail(f"{text} is not a calendar day; correct the month or the day", name)
        out[name] = text
    check_window(out.get("applies_from", ""), out.get("applies_until", ""), fail)
    if out.get("removed_by") and not out.get("applies_until"):
        raise fail(
            "removed_by needs applies_until, the first day the removed entry no longer applies",
            "removed_by",
        )
    return out


def check_window(start: str, end: str, fail: Fail, field: str = "applies_until") -> None:
    """Refuse a window whose end (exclusive) is not after its start; '' is open."""
    if start and end and end <= start:
        raise fail(
            f"{end} is not after applies_from {start}: applies_until is the first day the "
            "entry no longer applies",
            field,
        )
