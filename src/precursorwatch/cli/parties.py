"""Commands about parties: consignee (a consignee's shipments, yearly totals and alerts)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from precursorwatch.cli.common import DbOption, app, errors, open_store, out, settings_for
from precursorwatch.errors import PrecursorWatchError


@app.command()
def consignee(
    name: Annotated[str, typer.Argument(help="The consignee, in any spelling.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only screenings from DATE (YYYY-MM-DD).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    db: DbOption = None,
) -> None:
    """A consignee's shipments, totals per substance per year, and cross-line alerts.

    Case, punctuation, accents, scripts and legal forms of the name are folded. Exit 0 when
    there is no alert, 1 when there is, 2 on bad input or when no shipment names the party.
    """
    from datetime import UTC, date, datetime

    from precursorwatch.report.alerts import print_alerts
    from precursorwatch.run.alerts import AlertRules, alert_json
    from precursorwatch.run.consignees import consignee_history, history_json
    from precursorwatch.run.service import watchlist_of

    with errors():
        if format not in ("table", "json"):
            raise PrecursorWatchError(f"--format must be table or json (got {format!r})")
        start = None
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError:
                raise PrecursorWatchError(
                    f"--since {since!r} is not a date: give it as YYYY-MM-DD"
                ) from None
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        settings = settings_for(db)
        store = open_store(db)
        rules = AlertRules.for_watchlist(watchlist_of(store), settings.alert_window_days)
        history = consignee_history(store, rules, name, since=start)
    if format == "json":
        sys.stdout.write(json.dumps(history_json(history, rules), indent=1) + "\n")
        raise typer.Exit(1 if history.alerts else 0)
    folded = f" ({', '.join(history.folded)} folded)" if history.folded else ""
    out.print(f"{history.name!r} is the party {history.party!r}{folded}.", highlight=False)
    if history.folded_as:
        out.print(history.folded_as, highlight=False)
    totals = Table(title="totals per substance and year", header_style="bold")
    for col in ("year", "substance", "shipments", "kg", "L", "without quantity"):
        totals.add_column(col)
    for t in history.totals:
        totals.add_row(
            str(t.year),
            Text(t.name),
            str(t.shipments),
            f"{t.kg:g}",
            f"{t.litres:g}",
            str(t.unreadable),
        )
    out.print(totals)
    shipments = Table(title="shipments", header_style="bold")
    for col in ("screened", "screening", "line", "consignee", "declared", "quantity", "risk"):
        shipments.add_column(col, overflow="fold")
    for s in history.shipments:
        quantity = f"{s.quantity:g} {s.unit}".strip() if s.quantity is not None else ""
        shipments.add_row(
            s.created_at.strftime("%Y-%m-%d %H:%M"),
            s.screening_id[:12],
            Text(s.line_id),
            Text(s.consignee),
            Text(s.description),
            Text(quantity),
            s.risk,
        )
    out.print(shipments)
    for notice in history.notices:
        out.print(f"notice: {notice}", highlight=False)
    print_alerts(out, [alert_json(a, rules.book) for a in history.alerts])
    raise typer.Exit(1 if history.alerts else 0)
