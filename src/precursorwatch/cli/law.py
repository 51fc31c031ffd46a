"""Commands on the law's dates: what changed in the lists, by act and day, and what is coming."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from precursorwatch.cli.common import DbOption, errors, lists_app, open_store, out
from precursorwatch.errors import InputError


def day_option(text: str | None, option: str) -> date | None:
    """``text`` as a day, None when not given; InputError (exit 2) naming the option when it is
    not a real YYYY-MM-DD day."""
    from precursorwatch.run.asof import read_as_of

    if text is None:
        return None
    if not text.strip():
        raise InputError(f"{option} is empty: write the day as YYYY-MM-DD, e.g. 2026-01-10")
    return read_as_of(text, option)


@lists_app.command("changes")
def lists_changes(
    since: Annotated[
        str | None, typer.Option("--since", help="Only changes on or after this day (YYYY-MM-DD).")
    ] = None,
    list_code: Annotated[
        str | None, typer.Option("--list", help="Only this list, e.g. EU-CAT1.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Additions, removals and threshold changes of the lists, each with its act and day;
    changes dated after today are published but not yet in force."""
    from precursorwatch.lists.changes import list_changes
    from precursorwatch.run.service import watchlist_of

    with errors():
        start = day_option(since, "--since")
        watchlist = watchlist_of(open_store(db))
        code = list_code.upper() if list_code else None
        if code is not None and code not in watchlist.lists:
            raise InputError(
                f"--list {list_code!r}: no such list; known: {', '.join(sorted(watchlist.lists))}"
            )
        changes = list_changes(watchlist, since=start, list_code=code)
    today = date.today()
    table = Table(
        title=f"Changes of the lists{f' since {start}' if start else ''}", header_style="bold"
    )
    for col in ("day", "list", "change", "substance", "act", "in force"):
        table.add_column(col, overflow="fold")
    for c in changes:
        table.add_row(
            c.day.isoformat(),
            c.list_code,
            c.kind,
            c.substance_name,
            c.act or "(act not recorded)",
            "yes" if c.day <= today else f"from {c.day.isoformat()}",
        )
    out.print(table)
    out.print(f"{len(changes)} changes.")
