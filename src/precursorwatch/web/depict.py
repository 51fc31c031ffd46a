"""Structure pictures for the pages and reports: which hits get one, and the SVG to inline.

Drawing is :mod:`precursorwatch.chem.depict`'s job (bounded in atoms, fragments and search
time); this module picks the two structures (the declared one, from the line's SMILES or from
what its name resolved to, and the listed substance's), keeps the pictures already drawn, and
spends at most a time budget per page: once it is spent the remaining hits show a
placeholder, so no page or report waits on drawing, and none fails because of one line.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

from precursorwatch.models import STRUCTURE_MATCH_TYPES as STRUCTURE_TYPES
from precursorwatch.models import DeclarationLine, LineResult, Substance

log = logging.getLogger(__name__)

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*", re.S)
_UNSAFE = re.compile(r"<\s*(script|foreignObject|iframe)|\son\w+\s*=|javascript:", re.I)
#: Seconds of drawing one page or report may spend (pictures already drawn cost nothing).
PAGE_BUDGET_S = 3.0
#: Pictures kept (declared, listed, legend) -> SVG, least recently used dropped first.
CACHE_SIZE = 512


class _Pictures:
    """A small thread-safe LRU of drawn pictures."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            svg = self._items.get(key)
            if svg is not None:
                self._items.move_to_end(key)
            return svg

    def put(self, key: tuple[str, str, str], svg: str) -> None:
        with self._lock:
            self._items[key] = svg
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_PICTURES = _Pictures(CACHE_SIZE)


class Budget:
    """Seconds of drawing left for one page."""

    def __init__(self, seconds: float = PAGE_BUDGET_S) -> None:
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline


def inline_svg(svg: str) -> str:
    """SVG text fit to inline in HTML: the XML declaration dropped; '' when it holds anything
    scriptable (never expected from RDKit, refused all the same)."""
    body = _XML_DECL.sub("", svg)
    return "" if _UNSAFE.search(body) else body


def _drawn(declared: str, listed: str, legend: str, budget: Budget | None) -> str:
    """The picture of a pair (or of ``listed`` alone when ``declared`` is ''), from the cache
    or drawn now; a placeholder when the budget is spent or drawing failed."""
    from precursorwatch.chem.depict import depict, depict_pair, placeholder

    key = (declared, listed, legend)
    cached = _PICTURES.get(key)
    if cached is not None:
        return cached
    width = 640 if declared else 320
    if budget is not None and budget.spent():
        return placeholder(legend, "not drawn: this page's drawing time is spent", width=width)
    try:
        if declared:
            svg = depict_pair(declared, listed, listed_legend=legend)
        else:
            svg = depict(listed, legend=legend)
    except Exception:  # one bad picture must not break a page: log it, draw a placeholder
        log.exception("depiction failed")
        return placeholder(legend, "not drawn: drawing failed", width=width)
    _PICTURES.put(key, svg)
    return svg


def hit_svg(
    line: DeclarationLine,
    result: LineResult,
    substances: Mapping[str, Substance],
    budget: Budget | None = None,
) -> str:
    """Inline SVG for a structure-based hit: the declared structure beside the listed one,
    common part highlighted; the listed one alone when the declared structure is unknown;
    '' for other hits and for substances without a structure (or hidden ones)."""
    if result.match_type not in STRUCTURE_TYPES or not result.matched_key:
        return ""
    listed = substances.get(result.matched_key)
    if listed is None or not listed.smiles:
        return ""
    declared = next(
        (
            e.structure
            for e in result.evidence
            if e.kind in STRUCTURE_TYPES and e.substance_key == result.matched_key and e.structure
        ),
        line.smiles,
    )
    return inline_svg(_drawn(declared, listed.smiles, listed.name, budget))


def substance_svg(substance: Substance) -> str:
    """SVG text of a listed substance ('' for inorganics, which have no structure)."""
    if not substance.smiles:
        return ""
    return _drawn("", substance.smiles, substance.name, None)
