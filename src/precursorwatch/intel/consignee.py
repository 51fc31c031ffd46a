"""Consignees recognised as the same party: one key for every spelling of a name.

:func:`fold_name` folds, in order: compatibility forms (full-width letters), Cyrillic and Greek
letters (transliterated by the tables below, BGN/PCGN-like), accents (NFKD, marks dropped), case
(``casefold``: ß -> ss), ``&`` -> "and", punctuation and spacing, and legal forms at either end
of the name (Ltd, Limited, GmbH, S.A., LLC, Inc, Co., 有限公司, ООО, Sp. z o.o., S.r.l., B.V.,
AG, Pvt Ltd, FZE, LLP …), repeatedly ("Acme Co., Ltd." -> "acme"). Nothing else is folded:
spelling mistakes ("Acme Chemcials") stay different parties, because merging two firms is worse
than missing one merge. :func:`group_consignees` groups spellings by key and
:func:`folded_as` says, for an alert, which spellings were taken as one party and why.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

#: Cyrillic letters (Russian, Ukrainian, Belarusian, Bulgarian, Serbian, Macedonian) -> Latin.
# fmt: off
_CYRILLIC: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "ѓ": "gj", "е": "e",
    "ё": "e", "є": "ye", "ж": "zh", "з": "z", "ѕ": "dz", "и": "i", "і": "i", "ї": "yi", "й": "y",
    "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "ћ": "c", "ќ": "kj", "у": "u", "ў": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "џ": "dz", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}
#: Greek letters -> Latin (ELOT 743-like; accents are dropped first by NFKD).
_GREEK: dict[str, str] = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}
# fmt: on
_TRANSLIT: dict[int, str] = {ord(k): v for k, v in {**_CYRILLIC, **_GREEK}.items()}

#: Legal forms as folded token sequences, stripped at either end of a name. Sources: the usual
#: company-law abbreviations of the trading countries (EU, UK, US, CN, RU/UA, IN, AE, JP, KR …).
_LEGAL_FORMS_TEXT = """
ltd; limited; ltda; co; company; corp; corporation; inc; incorporated; llc; l l c; llp; lp; plc;
pvt; private; pvt ltd; private limited; pty; pty ltd; proprietary limited; pte; pte ltd;
co ltd; company limited; limited liability company; sdn bhd; bhd; tbk; pt; cv;
gmbh; gmbh and co kg; gmbh co kg; mbh; ag; kg; kgaa; ohg; ug; e k; ek; se;
s a; sa; s a s; sas; sarl; s a r l; sasu; eurl; snc; sci;
s p a; spa; s r l; srl; s r l s; srls; s a s di;
s l; sl; s l u; slu; s a u; sau; s a de c v; sa de cv; s de r l; s de rl de cv;
b v; bv; n v; nv; vof; cv; bvba; sprl; srl; asbl;
sp z o o; sp z oo; sp zoo; spzoo; spolka z o o; s a sp k; sp j; sp k;
s r o; sro; a s; as; spol s r o; k s; v o s;
kft; zrt; nyrt; bt; d o o; doo; d d; dd; a d; ad; ood; eood; eood;
oy; oyj; ab; publ; aps; a s; asa; hf; ehf; ky;
ooo; oao; zao; pao; ao; tov; pat; prat; ip; chp; fzе; fze; fzco; fz llc; fz co; llc fz; dmcc;
jsc; pjsc; ojsc; cjsc; k k; kk; kabushiki kaisha; yk; gk; goshi kaisha;
the; group; holding; holdings; intl; international
"""
_LEGAL_FORMS: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split()) for form in _LEGAL_FORMS_TEXT.replace("\n", " ").split(";") if form.strip()
)
_LONGEST_FORM = max(len(f) for f in _LEGAL_FORMS)
#: Legal forms written in CJK scripts (no spaces around them), longest first.
_CJK_FORMS: tuple[str, ...] = tuple(
    sorted(
        (
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "集团",
            "公司",
            "株式会社",
            "有限会社",
            "(株)",
            "（株）",
            "주식회사",
            "(주)",
            "（주）",
            "유한회사",
        ),
        key=len,
        reverse=True,
    )
)
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class FoldedName:
    """One spelling of a party and its folded key, with what the folding changed."""

    text: str
    key: str
    #: What was folded away: "case", "punctuation", "legal form", "transliteration", "accents".
    folded: tuple[str, ...]


def _strip_cjk_forms(text: str) -> tuple[str, bool]:
    stripped = False
    changed = True
    while changed:
        changed = False
        core = text.strip()
        for form in _CJK_FORMS:
            if core.endswith(form) and len(core) > len(form):
                text, stripped, changed = core[: -len(form)], True, True
                break
            if core.startswith(form) and len(core) > len(form):
                text, stripped, changed = core[len(form) :], True, True
                break
    return text, stripped


def _strip_forms(tokens: list[str]) -> tuple[list[str], bool]:
    """Drop legal forms from both ends, longest first, never emptying the name."""
    stripped = False
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for size in range(min(_LONGEST_FORM, len(tokens) - 1), 0, -1):
            if tuple(tokens[-size:]) in _LEGAL_FORMS:
                tokens, stripped, changed = tokens[:-size], True, True
                break
            if tuple(tokens[:size]) in _LEGAL_FORMS:
                tokens, stripped, changed = tokens[size:], True, True
                break
    return tokens, stripped


def _plain(text: str) -> str:
    """Transliterated, accent-free, case-folded text (punctuation kept)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLIT)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold()


def fold_name(text: str) -> FoldedName:
    """Fold one consignee spelling (see the module docstring). Blank text folds to key ''."""
    raw = " ".join(str(text).split())
    folded: list[str] = []
    nfkc = unicodedata.normalize("NFKC", raw)
    if any(ord(c) in _TRANSLIT or ord(c.lower()) in _TRANSLIT for c in nfkc):
        folded.append("transliteration")
    if any(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", nfkc)):
        folded.append("accents")
    if nfkc != nfkc.casefold():
        folded.append("case")
    core, cjk_stripped = _strip_cjk_forms(nfkc)
    plain = _plain(core).replace("&", " and ")
    tokens = [t for t in _NON_WORD.split(plain.replace("_", " ")) if t]
    if _NON_WORD.sub("", plain) != plain.replace(" ", "") or "&" in core:
        folded.append("punctuation")
    tokens, stripped = _strip_forms(tokens)
    if stripped or cjk_stripped:
        folded.append("legal form")
    return FoldedName(raw, " ".join(tokens), tuple(folded))


def group_consignees(names: Iterable[str]) -> dict[str, list[str]]:
    """Folded key -> the distinct spellings seen with it, in order of first appearance.

    Blank names are left out.
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        text = " ".join(str(name).split())
        if not text:
            continue
        key = fold_name(text).key
        spellings = groups.setdefault(key, [])
        if text not in spellings:
            spellings.append(text)
    return groups


def display_name(spellings: Iterable[str]) -> str:
    """The spelling to show for a party: the most frequent one, the first seen on a tie."""
    counts = Counter(spellings)
    return max(counts, key=lambda s: counts[s]) if counts else ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def folded_as(spellings: Iterable[str]) -> str:
    """One sentence saying which spellings were taken as one party and what was folded.

    '' when there is only one spelling. E.g. "'ACME Chemicals Ltd.', 'Acme Chemicals Limited'
    and 'acme chemicals' are one party (case, punctuation and legal forms folded)."
    """
    distinct = list(dict.fromkeys(" ".join(str(s).split()) for s in spellings if str(s).strip()))
    if len(distinct) < 2:
        return ""
    kinds: dict[str, None] = {}
    for name in distinct:
        for kind in fold_name(name).folded:
            kinds.setdefault(kind, None)
    order = ["case", "punctuation", "accents", "transliteration", "legal form"]
    labels = [k + ("s" if k == "legal form" else "") for k in order if k in kinds]
    quoted = [f"'{s}'" for s in distinct]
    how = f" ({_join(labels)} folded)" if labels else ""
    return f"{_join(quoted)} are one party{how}."
