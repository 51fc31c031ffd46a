"""The terminal table of a screening: flagged lines first, what they declared, and why.

By default only the flagged lines (high, then medium) are listed, then the count of lines per
risk (and of goods that name no chemical); ``show_all`` lists the other tiers too. The columns
are sized for a person reading at 120 columns: the reason, which is what they read, gets most
of the width and wraps; the line, risk and quantity never wrap; the listed substance carries
its CAS number, lists and how it was found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
#: Risk tiers listed by default (the others are counted).
FLAGGED_TIERS = ("high", "medium")
_RISK_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "none": "dim"}


def _quantity(row: Mapping[Any, Any]) -> str:
    qty, unit = str(row.get("quantity") or ""), str(row.get("unit") or "")
    return f"{qty} {unit}".strip() if qty else ""


def _substance(row: Mapping[Any, Any]) -> str:
    """'Acetic anhydride' / 'CAS 108-24-7' / 'UN-T1 EU-CAT2A · name', one per line."""
    name = str(row.get("matched_name") or "")
    how = str(row.get("match_type") or "")
    if not name:
        return how
    parts = [name]
    if row.get("matched_cas"):
        parts.append(f"CAS {row['matched_cas']}")
    lists = str(row.get("lists") or "").replace(";", " ")
    parts.append(" · ".join(p for p in (lists, how) if p))
    return "\n".join(parts)


def results_table(rows: Sequence[Mapping[Any, Any]]) -> Any:
    """A rich table of result rows (already ordered and cut), one style per risk tier."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, header_style="bold", expand=True)
    table.add_column("line", no_wrap=True, max_width=10)
    table.add_column("risk", no_wrap=True, min_width=6)
    table.add_column("declared goods", ratio=3, min_width=12, overflow="fold")
    table.add_column("quantity", no_wrap=True, max_width=14)
    table.add_column("listed substance", ratio=3, min_width=14, overflow="fold")
    table.add_column("reason", ratio=8, min_width=30, overflow="fold")
    for r in rows:
        values = (
            str(r["line_id"]),
            str(r["risk"]),
            str(r.get("description") or ""),
            _quantity(r),
            _substance(r),
            str(r["reason"]),
        )
        # Text, not str: user text such as "[/]" or "[link=...]" is not rich markup
        table.add_row(*(Text(v) for v in values), style=_RISK_STYLES.get(str(r["risk"]), ""))
    return table


def counts_line(counts: Mapping[str, int], unidentified: int) -> str:
    """'60 lines screened: 9 high, 3 medium, 1 low (1 unidentified: the goods name no
    chemical), 47 none; 12 flagged'."""
    lines = sum(counts.values())
    tiers = []
    for risk in (*RISK_ORDER, *sorted(set(counts) - set(RISK_ORDER))):
        n = int(counts.get(risk, 0))
        text = f"{n} {risk}"
        if risk == "low" and unidentified:
            text += f" ({unidentified} unidentified: the goods name no chemical)"
        tiers.append(text)
    flagged = sum(int(counts.get(r, 0)) for r in FLAGGED_TIERS)
    return f"{lines} lines screened: {', '.join(tiers)}; {flagged} flagged"


def print_results(
    console: Any,
    rows: Sequence[Mapping[Any, Any]],
    *,
    counts: Mapping[str, int],
    unidentified: int = 0,
    limit: int,
    show_all: bool = False,
) -> None:
    """Print the table of ``rows`` (at most ``limit`` per tier, already cut), what was left
    out, and the counts per risk."""
    listed = len(rows)
    if listed:
        console.print(results_table(rows))
    in_tiers = sum(int(n) for r, n in counts.items() if show_all or r in FLAGGED_TIERS)
    if in_tiers > listed:
        console.print(
            f"… {in_tiers - listed} more lines (at most {limit} per risk are listed; "
            "use -o FILE for the full report)",
            highlight=False,
        )
    if not show_all:
        rest = sum(int(n) for r, n in counts.items() if r not in FLAGGED_TIERS)
        if rest:
            console.print(
                f"{rest} lines not flagged are not listed (--all lists them)", highlight=False
            )
    console.print(counts_line(counts, unidentified), highlight=False)


def table_rows(frame: pd.DataFrame, *, limit: int, show_all: bool) -> list[dict[Any, Any]]:
    """The rows the table lists: flagged tiers (every tier with ``show_all``), high first, at
    most ``limit`` per tier, input order kept within a tier."""
    tiers = RISK_ORDER if show_all else FLAGGED_TIERS
    parts = [
        frame[frame["risk"] == risk].head(limit) for risk in tiers if (frame["risk"] == risk).any()
    ]
    return pd.concat(parts).to_dict("records") if parts else []


def print_table(
    frame: pd.DataFrame, *, console: Any = None, limit: int = 200, show_all: bool = False
) -> None:
    """The table of a whole result frame (:class:`~precursorwatch.run.streaming.TableSink`
    prints the same for a streamed file)."""
    from rich.console import Console

    counts = {str(k): int(v) for k, v in frame["risk"].value_counts().items()} if len(frame) else {}
    unidentified = int((frame["match_type"] == "unidentified").sum()) if len(frame) else 0
    print_results(
        console or Console(),
        table_rows(frame, limit=limit, show_all=show_all),
        counts=counts,
        unidentified=unidentified,
        limit=limit,
        show_all=show_all,
    )


class TableSink:
    """Keeps what the terminal table shows: the first ``limit`` lines of each flagged risk tier
    (of every tier with ``show_all``), the count of lines per risk and of goods that name no
    chemical."""

    def __init__(self, limit: int = 200, *, show_all: bool = False) -> None:
        self.limit = limit
        self.show_all = show_all
        self.kept: dict[str, list[pd.DataFrame]] = {}
        self._count: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.unidentified = 0
        self.lines = 0
        self.flagged = 0

    def __call__(self, chunk: pd.DataFrame, out: pd.DataFrame) -> None:
        """Count the chunk's lines and keep its first lines of tiers not yet full."""
        self.lines += len(out)
        self.flagged += int(out["flagged"].sum()) if len(out) else 0
        self.unidentified += int((out["match_type"] == "unidentified").sum()) if len(out) else 0
        for risk, part in out.groupby("risk", sort=False):
            self.counts[str(risk)] += len(part)
            if not self.show_all and risk not in FLAGGED_TIERS:
                continue
            room = self.limit - self._count[str(risk)]
            if room > 0:
                self.kept.setdefault(str(risk), []).append(part.head(room))
                self._count[str(risk)] += min(room, len(part))

    def print(self, console: Any) -> None:
        """Print the table as :func:`~precursorwatch.report.terminal.print_table` does for a
        whole result frame."""
        frames = [
            f
            for risk in sorted(self.kept, key=lambda r: RISK_ORDER.get(r, 4))
            for f in self.kept[risk]
        ]
        rows = pd.concat(frames).to_dict("records") if frames else []
        print_results(
            console,
            rows,
            counts=dict(self.counts),
            unidentified=self.unidentified,
            limit=self.limit,
            show_all=self.show_all,
        )
