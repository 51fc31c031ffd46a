"""Misspellings of listed names: the fuzzy match, and what it must not take for a slip.

Only names nothing else identified are compared (:mod:`~precursorwatch.identify.describe`),
with cut-offs that grow with the name's length. A difference that is a morpheme, not a
typing slip, makes another substance and is refused: another locant or count (1-苯基-1-丙酮
is not 1-苯基-2-丙酮), a block inserted at one place (манганат калия is not перманганат
калия, 邻氨基苯甲酸甲酯 is not 邻氨基苯甲酸), another word of a name of several (maleik
anhidrit is not asetik anhidrit).

Only names in the Latin script are compared: there the PubChem table knows the ordinary
chemicals by name, so a name close to a listed one but of another chemical (butanol, not
butanone) is identified before any fuzzy match is tried. In other scripts nothing knows the
ordinary chemicals' names, and one letter makes another substance (бутанол is butanol,
бутанон butanone; 甲醇 methanol, 乙醇 ethanol): a name there is found exactly or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from precursorwatch.identify.normalise import compact, fold


def fuzzy_cutoff(length: int) -> float | None:
    """The least ``fuzz.ratio`` a name of ``length`` letters needs; None: too short to guess.

    One typo in an n-letter word scores about 100*(1-1/n) with ``fuzz.ratio``: the cut-offs
    admit one typo in short names and two in long ones, and nothing under six letters (an
    abbreviation is matched exactly or not at all).
    """
    if length < 6:
        return None
    if length <= 8:
        return 83.0
    if length <= 14:
        return 85.0
    return 86.0


_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _block_apart(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by a digit (another locant) or by a block of two
    letters or more (one ideograph) inserted in one of them, not by typing slips: a morpheme
    that makes another substance, not a misspelling ("манганат калия" / "перманганат калия",
    邻氨基苯甲酸甲酯 / 邻氨基苯甲酸, กรดอะซิติก / กรดฟีนิลอะซิติก)."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    rest_a, rest_b = len(a) - head - tail, len(b) - head - tail
    if any(c.isdigit() for c in a[head : head + rest_a] + b[head : head + rest_b]):
        return True  # another locant or count: an isomer or homologue (1-苯基-1-丙酮)
    if min(rest_a, rest_b) > 0:
        return False
    inserted = (a if rest_a else b)[head : head + max(rest_a, rest_b)]
    # one ideograph is a morpheme of its own (過 per-, 甲 methyl-, 冰 glacial)
    return len(inserted) >= 2 or bool(inserted and _IDEOGRAPH.match(inserted))


#: The least ``fuzz.ratio`` of two words of a name for one to be a misspelling of the other.
_WORD_CUTOFF = 70.0


def _word_swapped(name: str, listed: str) -> bool:
    """True when ``name`` and the ``listed`` name have the same words but one, which differs
    too much to be a slip: another word, another compound ("maleik anhidrit" is maleic
    anhydride, not "asetik anhidrit")."""
    a, b = fold(name).split(), fold(listed).split()
    if len(a) != len(b) or len(a) < 2:
        return False
    return any(fuzz.ratio(x, y) < _WORD_CUTOFF for x, y in zip(a, b, strict=True) if x != y)


def fuzzy_matches(
    names: Sequence[str], listed: Sequence[str], keys: Sequence[str]
) -> list[tuple[str, str, float] | None]:
    """For each of ``names``: the substance key, listed name and similarity (0-100) of the
    listed name it is a misspelling of, or None. ``listed`` and ``keys`` run in parallel."""
    queries = [compact(n) for n in names]
    choices = [compact(n) for n in listed]
    scores = process.cdist(queries, choices, scorer=fuzz.ratio, score_cutoff=80.0, workers=1)
    found: list[tuple[str, str, float] | None] = []
    for row, name in enumerate(names):
        cutoff = fuzzy_cutoff(len(queries[row]))
        best = int(scores[row].argmax())
        score = float(scores[row][best])
        if (
            cutoff is None
            or not queries[row].isascii()  # see the module docstring: Latin script only
            or score < cutoff
            or _block_apart(queries[row], choices[best])
            or _word_swapped(name, listed[best])
        ):
            found.append(None)
        else:
            found.append((keys[best], listed[best], round(score, 1)))
    return found
