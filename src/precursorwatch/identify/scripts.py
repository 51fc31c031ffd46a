"""Listed names inside Chinese, Japanese, Korean and Thai text, which has no spaces.

"盐酸麻黄碱" (ephedrine hydrochloride), "麻黄碱盐酸盐", "苯乙酸钠" (sodium phenylacetate),
"醋酸酐含量98%" have no word boundary between the name and what is around it, so the word
scanner of :mod:`~precursorwatch.identify.describe` cannot find the name. Here a listed name
written in one of those scripts is found inside the text, longest names first, and accepted
only at a boundary: where the text around it is punctuation, a digit, a space or Latin text,
or one of the words that may be written onto a name (salt and hydrate words, grade, content,
unit and package words, dosage forms; the words of a natural product: 油 oil, 提取物 extract).

Anything else written onto a name makes it another substance, and the name is refused there:
冰醋酸 is not 醋酸酐, 二甲苯 (xylene) is not 甲苯 (toluene), 硫酸钠 (sodium sulfate) is not
硫酸 (sulphuric acid), 邻氨基苯甲酸甲酯 (methyl anthranilate) is not 邻氨基苯甲酸. A metal
written after an acid's name makes its salt (苯乙酸钠), except after hydrochloric and sulphuric
acid, whose salts no list covers (Regulation (EC) No 273/2004, Annex I, category 3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from precursorwatch.identify.normalise import fold

#: Characters of the scripts written without spaces between words: CJK ideographs, kana,
#: Hangul (syllables and the jamo NFKD decomposes them into) and Thai.
_UNSPACED_CHAR = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u0e00-\u0e7f]"
)
#: Characters a name may not run across (its span in the text is one word or phrase).
_SEPARATOR = re.compile(r"[,;:()\[\]/|]")


def _words(*groups: str) -> tuple[str, ...]:
    """Words folded as names are (Japanese voiced marks and Thai marks dropped), longest first."""
    words = {fold(w) for g in groups for w in g.split()}
    return tuple(sorted(words, key=len, reverse=True))


#: Words that may stand before a listed name: salt words (盐酸麻黄碱), "anhydrous" (无水乙醚)
#: and grade words.
_BEFORE = _words(
    "盐酸 鹽酸 硫酸 氢溴酸 氫溴酸 马来酸 馬來酸 酒石酸 磷酸 枸橼酸 柠檬酸 檸檬酸 塩酸 "
    "マレイン酸 リン酸 염산 황산 말레산 타르타르산 인산",
    "无水 無水 精制 精製 高纯 高純 工业 工業 试剂 試劑 医药 醫藥 天然 合成 粗 纯 純",
)
#: Words that may stand after a listed name.
_AFTER = _words(
    # salts and hydrates
    "盐酸盐 鹽酸鹽 硫酸盐 硫酸鹽 氢溴酸盐 氫溴酸鹽 马来酸盐 馬來酸鹽 酒石酸盐 酒石酸鹽 磷酸盐 "
    "磷酸鹽 盐 鹽 塩酸塩 硫酸塩 マレイン酸塩 酒石酸塩 リン酸塩 塩 염산염 황산염 말레산염 염 "
    "一水合物 二水合物 半水合物 水合物 一水物 二水物 水和物 일수화물 수화물",
    # grade, content, form and dosage words
    "工业级 工業級 试剂级 試劑級 分析纯 分析純 化学纯 化學純 医药级 醫藥級 食品级 食品級 "
    "工业用 工業用 药用 藥用 原料药 原料藥 原料 含量 纯度 純度 规格 規格 溶液 水溶液 试剂 "
    "試劑 試薬 粉末 粉 结晶 結晶 晶体 晶體 片 胶囊 膠囊 注射液 颗粒 顆粒 液 "
    "工業用 特級 一級 純品 순도 함량 공업용 시약 용액 분말 정",
    # units and packages
    "公斤 千克 毫升 公升 升 克 吨 噸 桶 袋 瓶 箱 罐 包 件 槽车 槽車 キロ 缶 本 드럼 통 포대 "
    "킬로그램 킬로 리터 톤",
    # natural products: oil, essential oil, extract, herb, resin
    "精油 油 提取物 提取液 浸膏 萃取物 草 干草 乾草 根 树皮 樹皮 エキス 油 추출물 오일",
)
#: Metals written after an acid's name to make its salt (苯乙酸钠 sodium phenylacetate).
_METALS = _words("钠 鈉 钾 鉀 钙 鈣 铵 銨 ナトリウム カリウム カルシウム 나트륨 칼륨 칼슘")
#: Acids whose salts no list covers: a metal after them names another substance (硫酸钠).
_SALTS_NOT_COVERED = frozenset(fold(w) for w in ["盐酸", "鹽酸", "塩酸", "염산", "硫酸", "황산"])


class NameTables(Protocol):
    """The watch lists' folded names (:func:`~precursorwatch.identify.normalise.compact`)."""

    @property
    def by_name(self) -> Mapping[str, set[str]]: ...
    @property
    def by_natural_source(self) -> Mapping[str, set[str]]: ...


#: Per name table (kept with the table it was built from): the listed names with a character
#: of an unspaced script, longest first, with their substance keys.
_TABLES: dict[int, tuple[object, tuple[tuple[str, tuple[str, ...], bool], ...]]] = {}


def _unspaced_names(index: NameTables) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    cached = _TABLES.get(id(index.by_name))
    if cached is not None and cached[0] is index.by_name:
        return cached[1]
    names: dict[str, tuple[tuple[str, ...], bool]] = {}
    for table, natural in ((index.by_name, False), (index.by_natural_source, True)):
        for key, subs in table.items():
            if len(key) >= 2 and _UNSPACED_CHAR.search(key) and key not in names:
                names[key] = (tuple(sorted(subs)), natural)
    ordered = tuple(
        (k, keys, natural)
        for k, (keys, natural) in sorted(names.items(), key=lambda kv: (-len(kv[0]), kv[0]))
    )
    _TABLES[id(index.by_name)] = (index.by_name, ordered)
    return ordered


def _starts_with(text: str, words: Sequence[str]) -> str:
    return next((w for w in words if text.startswith(w)), "")


def _ends_with(text: str, words: Sequence[str]) -> str:
    return next((w for w in words if text.endswith(w)), "")


def _open_before(text: str) -> bool:
    """True when a name may start right after ``text`` (the folded text before it); not
    after a hyphen, which joins it to a locant or a prefix ("1-苯基-1-丙酮" is not 丙酮)."""
    if text.endswith("-"):
        return False
    if not text or not _UNSPACED_CHAR.match(text[-1]):
        return True
    word = _ends_with(text, _BEFORE)
    return bool(word) and _open_before(text[: -len(word)])


def _open_after(text: str, name: str) -> bool:
    """True when a listed ``name`` may end right before ``text`` (the folded text after it)."""
    if not text or not _UNSPACED_CHAR.match(text[0]):
        return True
    word = _starts_with(text, _AFTER)
    if not word and name not in _SALTS_NOT_COVERED:
        word = _starts_with(text, _METALS)
    return bool(word) and _open_after(text[len(word) :], "")


def in_unspaced_text(index: NameTables, text: str) -> tuple[tuple[str, ...], str, bool]:
    """The substances of the longest listed name written in an unspaced script inside
    ``text`` at a boundary (module docstring), that name, and whether it is a natural source
    ("黄樟油" sassafras oil); ``((), "", False)`` when there is none."""
    folded = fold(text)
    if not _UNSPACED_CHAR.search(folded):
        return (), "", False
    # the letters and digits of the text, with where each stands, to compare with the
    # compacted names ("1-苯基-2-丙酮" is indexed as "1苯基2丙酮")
    kept = [(c, i) for i, c in enumerate(folded) if c.isalnum()]
    letters = "".join(c for c, _ in kept)
    taken = [False] * len(letters)
    for name, keys, natural in _unspaced_names(index):
        start = letters.find(name)
        while start >= 0:
            end = start + len(name)
            a, b = kept[start][1], kept[end - 1][1] + 1
            if (
                not any(taken[start:end])
                and not _SEPARATOR.search(folded[a:b])
                and _open_before(folded[:a].rstrip(" "))
                and _open_after(folded[b:].lstrip(" "), name)
            ):
                return keys, name, natural
            for j in range(start, end):
                taken[j] = True
            start = letters.find(name, start + 1)
    return (), "", False
