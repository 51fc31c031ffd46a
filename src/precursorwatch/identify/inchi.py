"""InChI strings and InChIKeys written anywhere in a description (pure string work).

An InChI holds no spaces but commas, brackets, semicolons and slashes in its layers, so it is
taken out of the text before the text is split into components; an InChIKey is three blocks
of capital letters. What a label calls an InChIKey but is not of its shape is kept as
malformed, for a per-line warning. RDKit reads the InChI strings (in
:mod:`precursorwatch.chem.molecule`); :mod:`~precursorwatch.identify.describe` looks the keys
up.

A manifest's own InChI and InChIKey columns travel with the description in one text
(:func:`with_structure_fields`, split again by :func:`find_inchi`), so that each distinct
declaration is still identified once and cached by one text.
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

    ``malformed`` holds what a label or the InChIKey column called an InChIKey but is not of
    its shape; ``not_inchi`` what the InChI column holds that is neither an InChI nor an
    InChIKey."""

    inchis: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()
    rest: str = ""
    not_inchi: tuple[str, ...] = ()


#: Between the description and the InChI and InChIKey columns in the text identified for a
#: line. A control character: manifest cleaning removes them from every declared field, so
#: no declared text holds one.
FIELD_SEPARATOR = "\x1e"
#: Longest column value kept whole (longer InChIs are refused by RDKit's bound anyway): the
#: text identified, cached and shown in warnings stays small whatever a cell holds.
MAX_COLUMN_CHARS = 20_000
_NO_SPACE = re.compile(r"\s+")
#: "InChIKey=" or "StdInChIKey:" written before a key in a column.
_KEY_LABEL = re.compile(r"^(?:std)?inchikey[:=]", re.IGNORECASE)


def with_structure_fields(description: str, inchi: str = "", inchikey: str = "") -> str:
    """The text identified for a line: its description, then its InChI and InChIKey columns
    (each without white space) after :data:`FIELD_SEPARATOR`; the description alone when both
    columns are empty."""
    inchi = _NO_SPACE.sub("", inchi[:MAX_COLUMN_CHARS])
    inchikey = _NO_SPACE.sub("", inchikey[:MAX_COLUMN_CHARS])
    if not inchi and not inchikey:
        return description
    return FIELD_SEPARATOR.join((description, inchi, inchikey))


def _column_values(inchi: str, inchikey: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(inchis, keys, malformed keys, not an InChI)`` of the InChI and InChIKey columns. Either
    column may hold either kind (a key in the InChI column is a key); 'InChI=' may be left
    out before '1S/'; a key's letters may be lower case."""
    inchis: list[str] = []
    keys: list[str] = []
    malformed: list[str] = []
    not_inchi: list[str] = []
    for value, is_key_column in ((inchi, False), (inchikey, True)):
        value = _KEY_LABEL.sub("", value, count=1)
        if not value:
            continue
        if INCHIKEY_SHAPE.match(value.upper()):
            keys.append(value.upper())
        elif value[:6].lower() == "inchi=":
            inchis.append("InChI=" + value[6:])
        elif value[:1].isdigit() and "/" in value:  # "1S/C9H10O/..." without its prefix
            inchis.append("InChI=" + value)
        elif is_key_column:
            malformed.append(value)
        else:
            not_inchi.append(value)
    return inchis, keys, malformed, not_inchi


def find_inchi(text: str) -> InchiMentions:
    """InChI strings and InChIKeys anywhere in ``text`` (labelled or bare), in order, and
    those of the InChI and InChIKey columns joined to it by :func:`with_structure_fields`."""
    if text.count(FIELD_SEPARATOR) >= 2:
        description, inchi, inchikey = text.rsplit(FIELD_SEPARATOR, 2)
        found = find_inchi(description)
        given, given_keys, bad_keys, not_inchi = _column_values(inchi, inchikey)
        return InchiMentions(
            tuple(dict.fromkeys((*found.inchis, *given))),
            tuple(dict.fromkeys((*found.keys, *given_keys))),
            (*found.malformed, *bad_keys),
            found.rest,
            tuple(not_inchi),
        )
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
