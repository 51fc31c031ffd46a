"""Systematic names as declarations write them: inverted CAS index names, and the parts of
"ABBR (name)" / "name (ABBR)" / "name [synonym]".

Pure string work (:mod:`~precursorwatch.identify.describe` decides what the parts are): a CAS
index name ("Benzene, (2-nitropropyl)-") is one name, not a mixture to split at its commas,
and OPSIN reads it as it is; a bracket written onto a word belongs to a systematic name.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")

#: The heading of a CAS index name: one word (locants and brackets allowed) or "<word> acid".
_INDEX_HEAD = re.compile(r"^[\w()\[\]',′-]+(?: acid)?$")
#: What follows the heading: substituent prefixes ending in a hyphen ("1-phenyl-",
#: "(2-nitropropyl)-", "α-[(1S)-1-(methylamino)ethyl]-"), stereo descriptors ("(αR)-"), or
#: ester, anhydride and salt words ("1,1-dimethylethyl ester", "sodium salt (1:1)").
_INDEX_SEGMENT = re.compile(
    r"^(?:\S+-|[\w ,'′()-]*\b(?:esters?|salt|anhydride|hydrochloride|hydrobromide|sulfate|"
    r"hydrate|oxime|hydrazone|ion)(?:\s*\(\d+:\d+\))?)$"
)
_INDEX_ANHYDRIDE = re.compile(r"^(?P<acid>\S+) acid, (?:1,1['′]-)?anhydride$", re.IGNORECASE)


def looks_index_name(text: str) -> bool:
    """True when ``text`` has the shape of an inverted CAS index name: a heading, then
    comma-separated substituents and modifications ("Benzene, (2-nitropropyl)-",
    "1-Piperidinecarboxylic acid, 4-(phenylamino)-, 1,1-dimethylethyl ester"). Such a text is
    one name: it is not split into mixture components at its commas."""
    segments = text.split(", ")
    if len(segments) < 2 or not _INDEX_HEAD.match(segments[0]):
        return False
    return all(_INDEX_SEGMENT.match(seg.strip()) for seg in segments[1:])


def systematic_variants(text: str) -> list[str]:
    """``text`` and the uninverted forms of a CAS index name that OPSIN does not read itself
    ("Propanoic acid, 1,1'-anhydride" -> "Propanoic anhydride"); OPSIN reads inverted index
    names ("2-Propanone, 1-phenyl-") as they are."""
    out = [text]
    m = _INDEX_ANHYDRIDE.match(text)
    if m:
        out.append(f"{m.group('acid')} anhydride")
    return out


def bracket_pieces(text: str) -> list[str]:
    """The parts of "ABBR (name)", "name (ABBR)", "name [synonym]": the text outside the
    brackets, then each bracketed group; [] when there is none. Only a group that opens after
    a space and closes at a space, a comma or the end counts (brackets nest inside it): a
    bracket written onto a word belongs to a systematic name ("(2-oxopropyl)benzene",
    "1-(2-phenylethyl)piperidin-4-one")."""
    groups: list[str] = []
    outside: list[str] = []
    depth, start, last = 0, -1, 0
    for i, ch in enumerate(text):
        if ch in "([":
            if depth == 0:
                start = i if i > 0 and text[i - 1].isspace() else -1
            depth += 1
        elif ch in ")]" and depth > 0:
            depth -= 1
            after = text[i + 1 : i + 2]
            if depth == 0 and start >= 0 and (not after or after.isspace() or after in ",;."):
                groups.append(text[start + 1 : i].strip())
                outside.append(text[last:start])
                last = i + 1
    if not groups or depth:
        return []
    outside.append(text[last:])
    rest = _WHITESPACE.sub(" ", " ".join(outside)).strip(" ,;:-")
    return [p for p in (rest, *groups) if p]
