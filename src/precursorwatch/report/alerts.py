"""Cross-line alerts on the terminal: printed after a screening's lines, and in a consignee's
history.

Alerts arrive as the JSON objects of ``screen --format json`` (``kind``, ``consignee``,
``line_ids``, ``screening_ids``, ``risk``, ``reason``, and ``folded_as`` when the consignee's
spellings were folded into one party). Every text is printed as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_RISK_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def _lines(alert: Mapping[str, Any]) -> str:
    ids = [str(i) for i in alert.get("line_ids") or ()]
    shown = ", ".join(ids[:12]) + (f" … ({len(ids)} lines)" if len(ids) > 12 else "")
    screenings = [str(s)[:12] for s in alert.get("screening_ids") or ()]
    if screenings:
        shown += "\nscreenings " + ", ".join(screenings)
    return shown


def alerts_table(alerts: Sequence[Mapping[str, Any]]) -> Any:
    """A rich table of alerts, one row each, highest risk first as given."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, header_style="bold", expand=True, title="cross-line alerts")
    table.add_column("alert", no_wrap=True, max_width=12)
    table.add_column("risk", no_wrap=True, min_width=6)
    table.add_column("consignee", ratio=2, min_width=12, overflow="fold")
    table.add_column("lines", ratio=2, min_width=8, overflow="fold")
    table.add_column("reason", ratio=8, min_width=30, overflow="fold")
    for a in alerts:
        reason = str(a.get("reason") or "")
        if a.get("folded_as"):
            reason += "\n" + str(a["folded_as"])
        values = (str(a["kind"]), str(a["risk"]), str(a["consignee"]), _lines(a), reason)
        table.add_row(*(Text(v) for v in values), style=_RISK_STYLES.get(str(a["risk"]), ""))
    return table


def print_alerts(console: Any, alerts: Sequence[Mapping[str, Any]]) -> None:
    """The alerts' table and a count line; one line saying there are none otherwise."""
    if not alerts:
        console.print("no cross-line alert", highlight=False)
        return
    console.print(alerts_table(alerts))
    kinds: dict[str, int] = {}
    for a in alerts:
        kinds[str(a["kind"])] = kinds.get(str(a["kind"]), 0) + 1
    parts = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    plural = "s" if len(alerts) > 1 else ""
    console.print(f"{len(alerts)} cross-line alert{plural}: {parts}", highlight=False)
