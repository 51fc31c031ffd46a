"""The standalone HTML report of a screening: one page, inline styles, no scripts.

The web offers it as ``report.html`` and ``precursorwatch screen --format html`` writes it:
both render :func:`render_report_html`. Lines come flagged first (high, medium, low, none;
input order within a tier), each with what it declared, its verdict and, for a structure-based
hit, a picture of the declared structure beside the listed one (the caller draws it).

All text reaches HTML through Jinja2's autoescaping; user text is also defused against
formula injection (a report opened in a spreadsheet program stays inert).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from precursorwatch.models import STRUCTURE_MATCH_TYPES, DeclarationLine, LineResult, Substance
from precursorwatch.report.writers import defuse

TEMPLATES_DIR = Path(__file__).parent / "templates"
RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
#: Pictures drawn per report at most (RDKit's common-substructure search costs time).
MAX_PICTURES = 200

#: Draws the picture of one structure-based hit ('' for none): the web's ``hit_svg``, or
#: :func:`structure_picture`.
Picture = Callable[[DeclarationLine, LineResult], str]


class ReportRow(Protocol):
    """What the report reads of a line (the web's page rows are the same shape)."""

    @property
    def cells(self) -> dict[str, str]: ...
    @property
    def result(self) -> LineResult: ...
    @property
    def svg(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def decision_note(self) -> str: ...


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    line: DeclarationLine
    result: LineResult
    svg: str = ""
    #: The officer's newest decision on the line ('' for none), and who made it, when and
    #: why, in one sentence.
    decision: str = ""
    decision_note: str = ""

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


@dataclass(frozen=True)
class ReportSummary:
    """The head of a report written without a stored screening (the command line's): the
    store's screening summary has the same attributes."""

    input_name: str
    input_hash: str
    actor: str
    lines: int
    flagged: int
    by_risk: Mapping[str, int]
    list_versions: Mapping[str, str]
    screening_id: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: The day whose law was applied, YYYY-MM-DD.
    as_of: str = ""


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*", re.S)
_UNSAFE = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.I)


def structure_picture(substances: Mapping[str, Substance]) -> Picture:
    """A :data:`Picture` for a report written away from the web (the command line's): the
    declared structure beside the listed one, drawn by :mod:`precursorwatch.chem.depict`, as
    the web's ``hit_svg`` draws it for its pages (which keep and budget their pictures)."""

    def draw(line: DeclarationLine, result: LineResult) -> str:
        listed = substances.get(result.matched_key)
        if result.match_type not in STRUCTURE_MATCH_TYPES or listed is None or not listed.smiles:
            return ""
        from precursorwatch.chem.depict import depict, depict_pair

        declared = next(
            (
                e.structure
                for e in result.evidence
                if e.kind in STRUCTURE_MATCH_TYPES
                and e.substance_key == result.matched_key
                and e.structure
            ),
            line.smiles,
        )
        try:
            svg = (
                depict_pair(declared, listed.smiles, listed_legend=listed.name)
                if declared
                else depict(listed.smiles, legend=listed.name)
            )
        except Exception:  # a picture that cannot be drawn leaves its cell empty
            return ""
        body = _XML_DECL.sub("", svg)
        return "" if _UNSAFE.search(body) else body

    return draw


def ordered(
    lines: Sequence[DeclarationLine], results: Sequence[LineResult]
) -> list[tuple[DeclarationLine, LineResult]]:
    """Lines flagged first (high, medium, low, none), input order kept within a tier."""
    pairs = list(zip(lines, results, strict=True))
    return sorted(pairs, key=lambda p: RISK_ORDER.get(p[1].risk, 4))


def report_rows(
    lines: Sequence[DeclarationLine],
    results: Sequence[LineResult],
    picture: Picture | None = None,
) -> list[Row]:
    """The report's rows, with ``picture``'s drawing of the first :data:`MAX_PICTURES`
    structure-based hits."""
    pairs = ordered(lines, results)
    drawn = 0
    rows = []
    for d, r in pairs:
        svg = ""
        hit = r.match_type in STRUCTURE_MATCH_TYPES and bool(r.matched_key)
        if picture is not None and hit and drawn < MAX_PICTURES:
            svg, drawn = picture(d, r), drawn + 1
        rows.append(Row(d, r, svg))
    return rows


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(("html",)),
    )


def render_report_html(summary: Any, rows: Sequence[ReportRow], *, note: str = "") -> str:
    """The standalone HTML report: ``summary`` (a stored screening's summary or a
    :class:`ReportSummary`), the ``rows`` in the order shown, and a closing ``note`` (e.g.
    how many lines were left out)."""
    unidentified = sum(1 for r in rows if r.result.match_type == "unidentified")
    template = _environment().get_template("report.html")
    text: str = template.render(summary=summary, rows=rows, unidentified=unidentified, note=note)
    return text
