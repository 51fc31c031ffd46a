"""Rows for the results table (flagged lines first, depictions for structure hits), the
Jinja2 templates, and the standalone HTML report built from them.

All text reaches HTML through Jinja2's autoescaping; user text is also defused against
formula injection (a report opened in a spreadsheet program stays inert).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi.templating import Jinja2Templates

from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.report.writers import defuse
from precursorwatch.web.depict import hit_svg
from precursorwatch.web.state import AppState
from precursorwatch.web.work import ScreeningView

TEMPLATES_DIR = Path(__file__).parent / "templates"
RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
#: Depictions drawn per page at most (RDKit's common-substructure search costs time).
MAX_DEPICTIONS = 200


@cache
def get_templates() -> Jinja2Templates:
    """The pages' templates (autoescaping on), built on first use."""
    return Jinja2Templates(directory=str(TEMPLATES_DIR))


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    line: DeclarationLine
    result: LineResult
    svg: str

    @property
    def cells(self) -> dict[str, str]:
        """The user-supplied text of the line, defused against formula injection."""
        d, r = self.line, self.result
        return {
            "line_id": defuse(r.line_id),
            "description": defuse(d.description),
            "cas": defuse(d.cas),
            "quantity": defuse(f"{d.quantity:g} {d.unit}" if d.quantity is not None else d.unit),
            "consignee": defuse(d.consignee),
        }


def ordered(view: ScreeningView) -> list[tuple[DeclarationLine, LineResult]]:
    """Lines flagged first (high, medium, low, none), input order kept within a tier."""
    pairs = list(zip(view.lines, view.results, strict=True))
    return sorted(pairs, key=lambda p: RISK_ORDER.get(p[1].risk, 4))


def rows(state: AppState, view: ScreeningView) -> list[Row]:
    """The table rows of a screening, with the structure depiction of each structure hit."""
    pairs = ordered(view)
    wanted = [(d, r) for d, r in pairs if r.match_type in STRUCTURE_TYPES and r.matched_key][
        :MAX_DEPICTIONS
    ]
    svgs: dict[int, str] = {}
    if wanted:
        substances = state.screener().watchlist.substances
        for d, r in wanted:
            svgs[id(r)] = hit_svg(d, r, substances)
    return [Row(d, r, svgs.get(id(r), "")) for d, r in pairs]


def render_report(state: AppState, view: ScreeningView, *, role: str) -> str:
    """The standalone HTML report of a screening (inline styles, no scripts)."""
    template = get_templates().get_template("report.html")
    return template.render(summary=view.summary, rows=rows(state, view), role=role)
