"""InChI strings and InChIKeys written anywhere in a description (pure string work).

An InChI holds no spaces but commas, brackets, semicolons and slashes in its layers, so it is
taken out of the text before the text is split into components; an InChIKey is three blocks
of capital letters. What a label calls an InChIKey but is not of its shape is kept as
malformed, for a per-line warning. RDKit reads the InChI strings (in
:mod:`precursorwatch.chem.molecule`); :mod:`~precursorwatch.identify.describe` looks the keys
up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHITESPACE = re.compile(r"\s+")

#: An InChI string: no spaces inside (its layers hold commas, brackets, semicolons, slashes).
_INCHI = re.compile(r"(?<![\w=])inchi=\S*", re.IGNORECASE)
#: A label introducing an InChIKey ("InChIKey:", "InChI Key =", "Std InChIKey").
_INCHIKEY_LABEL = re.compile(
    r"(?<![\w])(?:std\.?\s*)?inchi\s*-?\s*key\b\s*[:=#]?\s*(\S*)", re.IGNORECASE
)
#: A standard InChIKey: 14 letters, 8 letters + S/N + version A, one protonation letter.
_INCHIKEY = re.compile(r"(?<![A-Za-z0-9])[A-Z]{14}-[A-Z]{8}[SN]A-[A-Z](?![A-Za-z0-9])")
INCHIKEY_SHAPE = re.compile(r"^[A-Z]{14}-[A-Z]{8}[SN]A-[A-Z]$")
_TRAILING = ",;.:"


def _strip_token(token: str) -> str:
    """A token without the punctuation a sentence put after it, nor a closing bracket that
    opens outside it ("(InChI=1S/...)")."""
    for _ in range(4):
        before = token
        token = token.rstrip(_TRAILING)
        for opening, closing in ("()", "[]"):
            if token.endswith(closing) and token.count(opening) < token.count(closing):
                token = token[:-1]
        if token == before:
            break
    return token


@dataclass(frozen=True, slots=True)
class InchiMentions:
    """InChI strings and InChIKeys written in a description, and the text without them.

    ``malformed`` holds what a label called an InChIKey but is not of its shape."""

    inchis: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()
    rest: str = ""


def find_inchi(text: str) -> InchiMentions:
    """InChI strings and InChIKeys anywhere in ``text`` (labelled or bare), in order."""
    lowered = text.lower()
    if "inchi" not in lowered and not (
        len(text) >= 27 and text.count("-") >= 2 and _INCHIKEY.search(text)
    ):
        return InchiMentions(rest=text)
    inchis: list[str] = []
    keys: list[str] = []
    malformed: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _INCHI.finditer(text):
        token = _strip_token(m.group(0))
        inchis.append("InChI=" + token[len("inchi=") :])
        spans.append((m.start(), m.start() + len(token)))
    for m in _INCHIKEY_LABEL.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        token = _strip_token(m.group(1))
        if INCHIKEY_SHAPE.match(token):
            keys.append(token)
        else:
            malformed.append(token)
        spans.append((m.start(), m.start(1) + len(token)))
    for m in _INCHIKEY.finditer(text):
        if not any(a <= m.start() < b for a, b in spans):
            keys.append(m.group(0))
            spans.append((m.start(), m.end()))
    rest = text
    for a, b in sorted(spans, reverse=True):
        rest = rest[:a] + " " + rest[b:]
    rest = _WHITESPACE.sub(" ", rest).strip(" ,;:()[]")
    return InchiMentions(tuple(inchis), tuple(dict.fromkeys(keys)), tuple(malformed), rest)
