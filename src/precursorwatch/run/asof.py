"""The day whose law a screening applies (``as_of``), as every entry point reads and says it.

The command line (``--as-of``), the API (``as_of`` in ``POST /v1/screen``, the form field of
``POST /v1/screenings``) and the upload page all read the day with :func:`read_as_of` and warn
with :func:`unknown_lists_note`, so they refuse the same input with the same words and warn
about the same lists. The screening records the day (``screening.as_of``, YYYY-MM-DD).
"""

from __future__ import annotations

from datetime import date

from precursorwatch.errors import InputError
from precursorwatch.lists.dates import parse_day
from precursorwatch.models import Watchlist

#: What a day must look like, as the error messages say it.
DAY_FORM = "YYYY-MM-DD, e.g. 2026-01-10"
#: The days a screening may be as of: wide of any law the lists hold, and far enough from
#: the calendar's end that a year ahead (the listings coming) is still a day.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def read_as_of(text: str | None, field: str = "as_of") -> date | None:
    """``text`` as a day; None when it is absent or blank (the caller applies today's law).

    Raises InputError (exit 2, HTTP 422) naming ``field`` when ``text`` is not a real
    calendar day written YYYY-MM-DD ("2026-13-45", "tomorrow", "10/01/2026"), or is a day
    outside :data:`FIRST_DAY` .. :data:`LAST_DAY`.
    """
    if text is None or not text.strip():
        return None
    day = parse_day(text.strip())
    if day is None:
        raise InputError(f"{field} {text[:40]!r} is not a date: write it as {DAY_FORM}")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(
            f"{field} {text.strip()!r} is out of range: give a day from {FIRST_DAY} to "
            f"{LAST_DAY}, as {DAY_FORM}"
        )
    return day


def unknown_lists_note(watchlist: Watchlist, day: date) -> str:
    """The warning of a screening as of ``day`` when some lists' data starts later (only their
    dated entries apply then); '' when every list is known for that day."""
    unknown = watchlist.unknown_on(day)
    if not unknown:
        return ""
    return (
        f"the lists {', '.join(unknown)} are not known for {day.isoformat()}: their data "
        "starts later, so only their dated entries are applied"
    )


def law_day_text(day: str) -> str:
    """A stored ``as_of`` (YYYY-MM-DD) as people read it: "10 Jan 2026" ('' when not set)."""
    parsed = parse_day(day)
    if parsed is None:
        return day
    return f"{parsed.day} {_MONTHS[parsed.month - 1]} {parsed.year}"  # not the locale's
