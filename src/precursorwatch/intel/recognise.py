"""Which route agent a screened line is: by the engine's ``matched_key``, else by CAS or name.

So that "nitroethane, 25 kg" fills a role even when the screening engine says "none" (a list
set without the US List I, say), and the reagents no list names (2-phenylethyl bromide,
propionyl chloride, aniline, o-toluidine …) are seen at all: the agent's names from
``routes.yaml``, case-folded and accent-free, as whole words of the description, or its CAS
number (re-hyphenated) in the CAS column.
"""

from __future__ import annotations

import re
import unicodedata

from precursorwatch.intel.routes import RouteBook


def fold_text(text: str) -> str:
    """Case-folded, accent-free text with runs of white space as one space."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("\u2019", "'").split())


class Recogniser:
    """Which agent a screened line is: by ``matched_key``, else by CAS or name.

    Names are those the routes file gives (the reagents that are not listed everywhere, and
    keys the loaded lists may lack); an agent's ``exclude`` phrases ("povidone" for iodine)
    cancel a name match. A ``matched_key`` of the engine wins over both.
    """

    def __init__(self, book: RouteBook) -> None:
        self.by_key: dict[str, str] = {}
        self.by_cas: dict[str, str] = {}
        patterns: list[tuple[str, str]] = []
        for agent in book.agents.values():
            for k in agent.keys:
                self.by_key.setdefault(k, agent.id)
            for c in agent.cas:
                self.by_cas.setdefault(c, agent.id)
            patterns.extend((fold_text(n), agent.id) for n in agent.names)
        patterns.sort(key=lambda p: len(p[0]), reverse=True)
        self._names = patterns
        self._excludes = {
            a.id: tuple(fold_text(e) for e in a.exclude) for a in book.agents.values()
        }
        alternatives = "|".join(re.escape(p) for p, _a in patterns) or r"(?!x)x"
        self._regex = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w])")
        self._lookup = {p: a for p, a in reversed(patterns)}

    def agent_for(self, matched_key: str, description: str = "", cas: str = "") -> str:
        """The agent id the line is, or '' when it is none of them."""
        if matched_key and matched_key in self.by_key:
            return self.by_key[matched_key]
        cas_norm = normalise_cas(cas)
        if cas_norm in self.by_cas:
            return self.by_cas[cas_norm]
        if not description:
            return ""
        text = fold_text(description)
        for found in self._regex.finditer(text):
            agent = self._lookup.get(found.group(0), "")
            if agent and not any(e in text for e in self._excludes.get(agent, ())):
                return agent
        return ""


def normalise_cas(text: str) -> str:
    """A CAS number as ``NNNNNNN-NN-N`` (digits re-hyphenated), or '' when there is none."""
    digits = re.sub(r"[^\d]", "", str(text or ""))
    if not 5 <= len(digits) <= 10:
        return ""
    return f"{int(digits[:-3])}-{digits[-3:-1]}-{digits[-1]}"
