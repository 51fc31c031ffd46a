"""Rows for the results table (flagged lines first, depictions for structure hits), the
pages' Jinja2 templates, and the standalone HTML report (rendered by
:mod:`precursorwatch.report.html`).

A table is read from the store in one pass, a batch at a time, keeping at most ``limit`` rows
per risk tier: a page shows :data:`PAGE_ROWS` lines and the HTML report
:data:`REPORT_ROWS` (flagged lines first), and says how many more the CSV and XLSX reports
hold. Pictures are drawn within a time budget per page (:mod:`precursorwatch.web.depict`).

All text reaches HTML through Jinja2's autoescaping; user text is also defused against
formula injection (a report opened in a spreadsheet program stays inert).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from fastapi.templating import Jinja2Templates

from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.report.html import Row, render_report_html
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.web import review, work
from precursorwatch.web.depict import Budget, hit_svg
from precursorwatch.web.state import AppState

TEMPLATES_DIR = Path(__file__).parent / "templates"
RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
#: Depictions drawn per page at most (RDKit's common-substructure search costs time).
MAX_DEPICTIONS = 200
#: Lines a screening page shows, and the standalone HTML report holds, at most.
PAGE_ROWS = 2_000
REPORT_ROWS = 20_000


@cache
def get_templates() -> Jinja2Templates:
    """The pages' templates (autoescaping on), built on first use."""
    return Jinja2Templates(directory=str(TEMPLATES_DIR))


@dataclass(frozen=True)
class Table:
    """The rows shown of a screening, and how many lines it has in all."""

    rows: list[Row]
    total: int

    @property
    def omitted(self) -> int:
        """Lines not shown."""
        return self.total - len(self.rows)


def table(state: AppState, key: ApiKeyInfo, summary: ScreeningSummary, limit: int) -> Table:
    """At most ``limit`` rows of a screening, flagged first (input order within a tier), as
    ``key`` may see them, with the pictures of structure hits."""
    tiers: dict[int, list[tuple[DeclarationLine, LineResult]]] = {}
    total = 0
    for lines, results in work.batches(state, key, summary.screening_id):
        for d, r in zip(lines, results, strict=True):
            total += 1
            tier = tiers.setdefault(RISK_ORDER.get(r.risk, 4), [])
            if len(tier) < limit:
                tier.append((d, r))
    shown = [pair for t in sorted(tiers) for pair in tiers[t]][:limit]
    budget = Budget()
    substances = state.screener().watchlist.substances
    decisions = review.decided(state, summary.screening_id)
    rows = []
    drawn = 0
    for d, r in shown:
        svg = ""
        if drawn < MAX_DEPICTIONS and r.match_type in STRUCTURE_TYPES and r.matched_key:
            svg, drawn = hit_svg(d, r, substances, budget), drawn + 1
        rows.append(Row(d, r, svg, *review.row_decision(decisions.get(r.line_id))))
    return Table(rows, total)


def omitted_note(t: Table) -> str:
    """A sentence on the lines a table leaves out ('' when none)."""
    if not t.omitted:
        return ""
    return (
        f"{t.omitted:,} more lines are not shown here: the CSV and XLSX reports hold all "
        f"{t.total:,}."
    )


def render_report(state: AppState, key: ApiKeyInfo, summary: ScreeningSummary) -> str:
    """The standalone HTML report of a screening (inline styles, no scripts): the same
    :func:`~precursorwatch.report.html.render_report_html` the command line writes with."""
    t = table(state, key, summary, REPORT_ROWS)
    text = render_report_html(summary, t.rows)
    note = omitted_note(t)
    if note:
        text = text.replace("</body>", f'<p class="omitted">{escape(note)}</p>\n</body>', 1)
    return text
