"""Matchers: one module per kind of evidence, all behind the :class:`Matcher` protocol.

Built-ins register in :data:`MATCHERS` the same way a plugin would (append a callable).
"""

from __future__ import annotations

from precursorwatch.engine.matchers.base import Declared, Matcher, StructureId
from precursorwatch.engine.matchers.cas import match_cas
from precursorwatch.engine.matchers.derivative import match_derivative
from precursorwatch.engine.matchers.hs import match_hs
from precursorwatch.engine.matchers.mismatch import match_mismatch
from precursorwatch.engine.matchers.names import match_names
from precursorwatch.engine.matchers.similar import match_similar
from precursorwatch.engine.matchers.structure import match_structures

#: Every matcher the engine runs, in order; each sees the whole declaration.
MATCHERS: list[Matcher] = [
    match_cas,
    match_names,
    match_structures,
    match_hs,
    match_mismatch,
    match_derivative,
    match_similar,
]

__all__ = ["MATCHERS", "Declared", "Matcher", "StructureId"]
