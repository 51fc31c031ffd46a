"""What every command shares: the Typer apps, the consoles, the store and error handling.

Exit codes (scanners rely on them): 0 screened and nothing flagged, 1 screened and at least one
line flagged, 2 usage or input error (nothing screened; one line on stderr, no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.settings import Settings, get_settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Screen shipment declarations against drug-precursor watch lists.",
)
lists_app = typer.Typer(no_args_is_help=True, help="Show, import, compare and export lists.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")
app.add_typer(lists_app, name="lists")
app.add_typer(keys_app, name="keys")

#: Piped output gets a wide console so reasons are not folded into a narrow column.
#: Markup is off: names, titles and descriptions come from users and may hold "[/]".
out = Console(width=None if sys.stdout.isatty() else 180, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: the embedded SQLite store; env PRECURSORWATCH_DATABASE_URL).",
    ),
]


def settings_for(db: str | None) -> Settings:
    return get_settings(database_url=db)


@contextmanager
def errors() -> Iterator[None]:
    """Library errors -> one line on stderr and exit code 2; never a traceback."""
    try:
        yield
    except PrecursorWatchError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except (OSError, UnicodeError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def open_store(db: str | None) -> Any:
    from precursorwatch.run.service import open_ready_store

    return open_ready_store(settings_for(db))


def print_summaries(store: Any) -> None:
    from precursorwatch.store import list_summaries

    with store.session() as session:
        rows = list_summaries(session=session)
    table = Table(header_style="bold")
    for col in ("code", "title", "version", "entries", "substances", "effective", "hash"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.code + (" (confidential)" if r.confidential else ""),
            r.title,
            str(r.version),
            str(r.entries),
            str(r.substances),
            r.effective_date,
            r.content_hash[:12],
        )
    out.print(table)
