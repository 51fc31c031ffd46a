"""Pure string work on declarations: CAS numbers, name folding, grade and salt words, mixtures.

Nothing here knows chemistry beyond words; :mod:`~precursorwatch.identify.resolve` decides what a
cleaned name *is*. Word lists are data with a comment saying where they come from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --- CAS registry numbers -------------------------------------------------------------------

#: A CAS-like token: 2-7 digits, 2 digits, 1 check digit, hyphens or spaces optional.
_CAS_TOKEN = re.compile(r"(?<![\d.,])(\d{2,7})[\s-]?(\d{2})[\s-]?(\d)(?![\d.,%])")
#: Words that introduce a CAS number ("CAS:", "CAS No.", "CAS RN", "CAS-Nr.").
_CAS_PREFIX = re.compile(
    r"\bcas\s*(?:-?\s*(?:no|nr|number|rn|reg(?:istry)?)\b\.?)?\s*[:#.]?\s*", re.IGNORECASE
)


#: What separates the CAS numbers of one field: ; / , | two spaces, or a space before one.
_CAS_LIST_SPLIT = re.compile(r"[;/,|]|\s{2,}|\s(?=\d{2,7}-)")
_CAS_PUNCTUATION = re.compile(r"[\s.-]")
#: A hyphenated CAS number in free text (not part of a longer number, code or percentage).
_HYPHENATED_CAS = re.compile(r"(?<![\w.,-])(\d{2,7})-(\d{2})-(\d)(?![\w.,-]|\s*%)")
#: "CAS 67-64-1", "(CAS No. 67-64-1)" and a bracketed "(67-64-1)" in a description.
_CAS_MENTION = re.compile(r"[(\[]?\s*\bcas\b[^0-9()\[\]]{0,12}\d{2,7}-\d{2}-\d\s*[)\]]?", re.I)
_BRACKETED_CAS = re.compile(
    r"\(\s*\d{2,7}-\d{2}-\d\s*\)|\[\s*(?:cas[^0-9\]]{0,12})?\d{2,7}-\d{2}-\d\s*\]", re.I
)
_SPACES = re.compile(r"\s{2,}")
_NOT_DIGIT = re.compile(r"\D")


def cas_check_ok(cas: str) -> bool:
    """True when ``cas`` (``NNNNNNN-NN-N``) carries a correct check digit (CAS's own rule)."""
    digits = cas.replace("-", "")
    if not digits.isdigit() or not 5 <= len(digits) <= 10:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * i for i, d in enumerate(reversed(body), start=1))
    return total % 10 == check


@dataclass(frozen=True, slots=True)
class CasReading:
    """A CAS number as written and as understood: ``cas`` is re-hyphenated, zeros stripped."""

    written: str
    cas: str
    valid: bool


def format_cas(digits: str) -> str:
    """Re-hyphenate a run of digits as a CAS number, leading zeros removed ('' if too short)."""
    digits = digits.lstrip("0")
    if len(digits) < 5 or not digits.isdigit():
        return ""
    return f"{digits[:-3]}-{digits[-3:-1]}-{digits[-1]}"


#: Dash-like characters word processors put in CAS numbers ("67–64–1").
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-")
)


def read_cas(text: str) -> list[CasReading]:
    """Every CAS number in a CAS field, in order, however it is written.

    Accepts ``108-24-7``, ``108247``, ``108 24 7``, ``CAS: 108-24-7``, ``0108-24-7`` and lists
    separated by ``;``, ``/`` or ``,``. A token whose check digit fails is returned with
    ``valid=False`` (an invalid CAS is itself evidence); text with no CAS-like token gives [].
    """
    return list(_read_cas(text))


@lru_cache(maxsize=65_536)
def _read_cas(text: str) -> tuple[CasReading, ...]:
    """:func:`read_cas`, cached per distinct text (manifests repeat their CAS numbers)."""
    if not text or not text.strip():
        return ()
    cleaned = _CAS_PREFIX.sub(" ", text.translate(_DASHES))
    readings: list[CasReading] = []
    for token in _CAS_LIST_SPLIT.split(cleaned):
        token = token.strip().strip(".:()[] ")
        if not token:
            continue
        digits = _CAS_PUNCTUATION.sub("", token)
        if digits.isdigit() and 5 <= len(digits.lstrip("0")) <= 10:
            cas = format_cas(digits)
            readings.append(CasReading(token, cas, cas_check_ok(cas)))
    return tuple(readings)


def cas_in_text(text: str) -> list[CasReading]:
    """CAS numbers written inside a description ("Acetone CAS 67-64-1"): hyphenated form only.

    Only hyphenated tokens are taken from free text, so quantities and HS codes are not
    mistaken for CAS numbers.
    """
    found = []
    text = text.translate(_DASHES)
    for m in _HYPHENATED_CAS.finditer(text):
        cas = format_cas("".join(m.groups()))
        if cas:
            found.append(CasReading(m.group(0), cas, cas_check_ok(cas)))
    return found


def strip_cas_from_text(text: str) -> str:
    """The description without "CAS 67-64-1"-style mentions."""
    text = _CAS_MENTION.sub(" ", text)
    text = _BRACKETED_CAS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


# --- HS / CN codes ---------------------------------------------------------------------------


def normalise_hs(text: str) -> str:
    """Digits of an HS/CN code ("2915.24.00", "2915 24 00" -> "29152400"); '' when none."""
    digits = _NOT_DIGIT.sub("", text or "")
    return digits if len(digits) >= 4 else ""


# --- folding ---------------------------------------------------------------------------------

#: Invisible and control characters removed from text: C0/C1 controls except tab and line
#: breaks, soft hyphen, zero-width and bidirectional controls, BOMs inside text, tag characters.
CONTROL_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_WHITESPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[\W_]+")
#: German transliterations (Essigsäure -> Essigsaeure) used to index both spellings.
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
#: Letters that NFKD does not decompose.
_EXTRA_LATIN = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"}
)


#: Punctuation and digits of the scripts of the trade that NFKC leaves as they are: the
#: ideographic comma and enumeration comma, CJK lenticular and tortoise-shell brackets, the
#: Arabic comma, semicolon, percent sign and decimal/thousands separators, and the digits of
#: Arabic (U+0660), Persian/Urdu (U+06F0), Devanagari (U+0966) and Thai (U+0E50). Commas and
#: semicolons get a space after them, as a component separator has in Latin text (full-width
#: ，；： are given theirs here too, before NFKC would make them bare ASCII).
_WORLD_PUNCTUATION = str.maketrans(
    {
        "\uff0c": ", ",  # ，
        "\u3001": ", ",  # 、
        "\uff1b": "; ",  # ；
        "\uff1a": ": ",  # ：
        "\u3010": "(",  # 【
        "\u3011": ")",  # 】
        "\u3014": "(",  # 〔
        "\u3015": ")",  # 〕
        "\u060c": ", ",  # Arabic comma
        "\u061b": "; ",  # Arabic semicolon
        "\u066a": "%",  # Arabic percent sign
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
        **{chr(base + i): str(i) for base in (0x0660, 0x06F0, 0x0966, 0x0E50) for i in range(10)},
    }
)


def clean_text(text: str) -> str:
    """Remove invisible/control characters and collapse whitespace; keep case and accents.

    Full-width forms are folded (NFKC: （）％ＡＢＣ１２３ -> ()%ABC123), and the punctuation and
    digits of other scripts that NFKC keeps are made ASCII (:data:`_WORLD_PUNCTUATION`).
    """
    text = text or ""
    if not text.isascii():
        # and again after NFKC, which makes some of them (vertical forms: ︹ -> 〔, ︑ -> 、):
        # cleaning clean text changes nothing
        text = unicodedata.normalize("NFKC", text.translate(_WORLD_PUNCTUATION))
        text = text.translate(_WORLD_PUNCTUATION)
    text = CONTROL_CHARS.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


#: Arabic-script letters written two ways (Persian ی ک ۀ beside Arabic ي ك ة, the final ى),
#: and the tatweel (a stretching stroke, not a letter): one form each.
_ARABIC_LETTERS = str.maketrans(
    {
        "\u06cc": "\u064a",
        "\u0649": "\u064a",
        "\u06a9": "\u0643",
        "\u0629": "\u0647",
        "\u06c0": "\u0647",
        "\u0640": None,
    }
)
#: The Arabic definite article ال at the start of a word of three letters or more after it:
#: "الأسيتون" and "أسيتون" are the same name.
_ARABIC_ARTICLE = re.compile(r"(?<!\w)\u0627\u0644(?=\w{3})")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-fold and strip diacritics: 'Essigsäure-Anhydrid' -> 'essigsaure-anhydrid'.

    Arabic script: hamza seats and vowel marks go with the diacritics, Persian and Arabic
    letter forms are made one (:data:`_ARABIC_LETTERS`) and the article ال is dropped.
    """
    text = clean_text(text).casefold().translate(_EXTRA_LATIN)
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not folded.isascii() and any("\u0600" <= c <= "\u06ff" for c in folded):
        folded = _ARABIC_ARTICLE.sub("", folded.translate(_ARABIC_LETTERS))
    return folded


def compact(text: str) -> str:
    """The folded text with only letters and digits: 'P-2-P' and 'p2p' both give 'p2p'.

    Letters of every script are kept (Greek, Cyrillic names are declared too).
    """
    return _NOT_ALNUM.sub("", fold(text))


def fold_variants(name: str) -> set[str]:
    """The compact keys a name is indexed under: plain folding and German transliteration."""
    lowered = clean_text(name).casefold()
    return {k for k in (compact(lowered), compact(lowered.translate(_GERMAN))) if k}


# --- grade, packaging, salt, hydrate and stereo words ----------------------------------------

#: Grade/purity/packaging words removed before a name is looked up (trade usage in EN, DE, FR,
#: ES, IT, NL, PL, PT manifests; pharmacopoeia abbreviations USP/BP/EP/Ph. Eur.).
_GRADE_WORDS = (
    r"[a-z]+ grade|grade|in water|in ethanol|in methanol|aqueous|w[aä]ss(?:e)?rig|"
    r"technical grade|tech(?:nical|nisch|nique|nico|nica)?\.?|reagent grade|reagent|"
    r"analytical grade|for analysis|p\.\s?a\.|a\.?c\.?s\.?|puriss\.?|pure|purum|rein|"
    r"puro|pura|czysty|cz\.?d\.?a\.?|zuiver|food grade|pharma(?:ceutical)? grade|"
    r"industrial grade|usp|bp|ep|ph\.?\s?eur\.?|extra pure|laboratory grade|lab grade|"
    r"hplc grade|glacial|anhydrous|wasserfrei|anhydre|anhidro|anidro|bezwodny|"
    r"qualit[eé] technique|grado t[eé]cnico|in bulk|bulk|liquid|solid|powder|crystals?|"
    r"crystalline|flakes|pellets|granules?|solution|l[oö]sung|soluci[oó]n|soluzione|"
    r"oplossing|roztw[oó]r|solu[cç][aã]o|mixture|mix|blend|gemisch|m[eé]lange|mezcla|"
    r"miscela|mengsel|mieszanina|mistura|sample|samples|min\.?|max\.?|approx\.?|ca\.?|"
    r"teknik|teknis|murni"  # Turkish, Indonesian
)
#: The same in other scripts and with other letters (searched only in text that has some).
_GRADE_WORDS_WORLD = (
    # Chinese, Japanese and Korean grade, content and label words (工业级 industrial grade,
    # 分析纯 analytical reagent, 含量 content, 纯度/純度/순도 purity, 品名 product name …)
    r"工业级|工業級|试剂级|試劑級|分析纯|分析純|化学纯|化學純|优级纯|優級純|医药级|醫藥級|"
    r"食品级|食品級|电子级|電子級|工业用|工業用|药用|藥用|试剂|試劑|試薬|特級|含量|纯度|純度|"
    r"规格|規格|品名|货名|貨名|名称|名稱|包装|包裝|技术级|공업용|시약|순도|함량|"
    # Russian/Ukrainian (техн. technical, ч./чда/хч/осч reagent grades), Turkish, Indonesian,
    # Vietnamese, Arabic and Persian trade words for grade and purity
    r"техн\.?|технический|техническая|технічний|ч\.?д\.?а\.?|х\.?ч\.?|о\.?с\.?ч\.?|ч\.|"
    r"saflık|công nghiệp|tinh khiết|نقاوة|درجة صناعية|صنعتی|خلوص"
)
#: Units written after a number: Latin, Cyrillic, Arabic and Persian ones end at a word
#: boundary; Chinese, Japanese and Korean ones need none (公斤 kg, 千克 kg, 吨 t, 升 L …).
_UNITS_WORD = r"kg|g|mg|µg|t|mt|l|lt|ltr|litres?|liters?|ml|gal|lbs?"
_UNITS_WORD_WORLD = r"кг|г|т|л|мл|كغ|كجم|كيلوغرام|كيلو|لتر|طن|کیلوگرم|کیلو|لیتر|تن"
_UNITS_CJK = r"公斤|千克|毫升|公升|升|克|吨|噸|キログラム|キロ|リットル|킬로그램|킬로|리터|톤"
_PACKAGING = (
    r"(?:\d+\s*[x×*]\s*)?\d+(?:[.,]\d+)?\s*(?:(?:{units})\b{cjk})"
    r"(?:\s+(?:drums?|bags?|cans?|bottles?|ibcs?|containers?|sacks?|tanks?|jerrycans?|"
    r"canisters?|pails?|totes?|fässer|fass|f[uû]ts?|bidones?|fusti))?"
)
_CONTAINERS = (
    r"\b(?:in\s+)?(?:steel\s+|plastic\s+|hdpe\s+)?(?:drums?|bags?|ibcs?|totes?|iso\s*tanks?|"
    r"flexitanks?|bottles?|cans?|jerrycans?|pails?|sacks?|cylinders?|tins?|cartons?|boxes|"
    r"kegs?|carboys?|ampoules?|vials?|varil|bidon|karung|jeriken{world})\b"
)
#: Russian/Ukrainian, Arabic, Persian, Korean and Turkish drums, bags, cans.
_CONTAINERS_WORLD = (
    r"|бочк[аиеу]|бочках|бочка|мешк[аиеу]|мешках|мешок|канистр\w*|цистерн\w*|"
    r"براميل|برميل|أكياس|كيس|جالون|بشکه|کیسه|드럼|çuval"
)


class _Words:
    """A word pattern in two forms: the Latin words alone, searched in ASCII text (most of a
    manifest, at the speed it always had), and with the words of other scripts."""

    def __init__(self, ascii_only: str, world: str) -> None:
        self.ascii = re.compile(ascii_only, re.IGNORECASE)
        self.world = re.compile(world, re.IGNORECASE)

    def __call__(self, text: str) -> re.Pattern[str]:
        return self.ascii if text.isascii() else self.world


_PACKAGING_WORDS = _Words(
    _PACKAGING.format(units=_UNITS_WORD, cjk=""),
    _PACKAGING.format(units=f"{_UNITS_WORD}|{_UNITS_WORD_WORLD}", cjk=f"|{_UNITS_CJK}"),
)
_CONTAINER_WORDS = _Words(_CONTAINERS.format(world=""), _CONTAINERS.format(world=_CONTAINERS_WORLD))
_GRADE = _Words(
    rf"(?<![\w-])(?:{_GRADE_WORDS})(?![\w-])",
    rf"(?<![\w-])(?:{_GRADE_WORDS}|{_GRADE_WORDS_WORLD})(?![\w-])",
)
#: Comparison signs of a content statement ("含量≥98.5%") left once the share is taken.
_COMPARISON = re.compile(r"[≥≤≧≦><]=?")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_PERCENT = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*%\s*(?:w/w|v/v|wt\.?|vol\.?|m/m|\(w/w\))?"
    r"|(?<![\w%])%\s?(\d+(?:[.,]\d+)?)(?![\d%])",  # Turkish writes the sign first: %50
    re.IGNORECASE,
)

#: Salt words after a base name ("ephedrine hydrochloride", "Ephedrinhydrochlorid").
_SALT_SUFFIX = (
    r"\s*[,(]?\s*\b((?:mono|di|tri)?hydrochloride|hydrochlorid|chlorhydrate|clorhidrato|cloridrato|"
    r"chlorowodorek|hcl|hydrobromide|hbr|sulfate|sulphate|hemisulfate|sulfat|sulfato|solfato|"
    r"siarczan|tartrate|bitartrate|hydrogen tartrate|tartrat|maleate|hydrogen maleate|"
    r"citrate|phosphate|mesylate|oxalate|fumarate|hydroiodide|sodium salt|potassium salt|"
    r"salt|sodium|potassium|natriumsalz|kaliumsalz|"
    # Turkish, Indonesian, Vietnamese
    r"hidroklorur|hidroklorid|hidroklorida|hydroclorid|maleat|tartarat{world})\)?\s*$"
)
_SALT_WORDS = _Words(
    _SALT_SUFFIX.format(world=""),
    _SALT_SUFFIX.format(
        world="|гидрохлорид|гідрохлорид|хлоргидрат|сульфат|малеат|тартрат|гидробромид|фосфат|"
        "цитрат|hidroklorür|sülfat|هيدروكلوريد|هیدروکلراید|هیدروکلرید|سولفات|كبريتات|"
        "हाइड्रोक्लोराइड|सल्फेट|ไฮโดรคลอไรด์|ซัลเฟต"
    ),
)
#: Chinese, Japanese and Korean salt words written onto the name, after it (麻黄碱盐酸盐,
#: プソイドエフェドリン塩酸塩, 에페드린염산염) or before it (盐酸麻黄碱, 塩酸エフェドリン,
#: 염산에페드린, 马来酸麦角新碱).
_SALT_SUFFIX_CJK = re.compile(
    r"\s*(盐酸盐|鹽酸鹽|硫酸盐|硫酸鹽|氢溴酸盐|氫溴酸鹽|马来酸盐|馬來酸鹽|酒石酸盐|酒石酸鹽|"
    r"磷酸盐|磷酸鹽|枸橼酸盐|柠檬酸盐|塩酸塩|硫酸塩|マレイン酸塩|酒石酸塩|リン酸塩|"
    r"염산염|황산염|말레산염|타르타르산염|인산염)\s*$"
)
_SALT_PREFIX_CJK = re.compile(
    r"^(盐酸|鹽酸|硫酸|氢溴酸|氫溴酸|马来酸|馬來酸|酒石酸|磷酸|枸橼酸|柠檬酸|檸檬酸|"
    r"塩酸|マレイン酸|リン酸|염산|황산|말레산|타르타르산|인산)\s*(?=\w\w)"
)
_HYDRATE_CJK = re.compile(
    r"\s*(一水合物|二水合物|半水合物|水合物|一水物|二水物|水和物|일수화물|수화물)$"
)
#: Arabic salt words before the name ("هيدروكلوريد السودوإيفيدرين").
_SALT_PREFIX_ARABIC = re.compile(r"^(هيدروكلوريد|كلورهيدرات|كبريتات|هیدروکلراید)\s+(?=\S)")
#: A Cyrillic salt word: the name before it is in the genitive ("эфедрина гидрохлорид").
_CYRILLIC_SALT = re.compile(r"[а-яіїєё]", re.IGNORECASE)
_GENITIVE = re.compile(r"(?<=[а-яіїєё]{3})[ауя]$", re.IGNORECASE)
#: French/Spanish/Italian/Portuguese salt prefixes ("chlorhydrate d'éphédrine").
_SALT_PREFIX = re.compile(
    r"^(chlorhydrate|clorhidrato|cloridrato|sulfate|sulfato|solfato|tartrate|tartrato)"
    r"\s+(?:de\s+la\s+|de\s+l['’]|de\s+|d['’]|di\s+|della\s+|del\s+|do\s+|da\s+)?",
    re.IGNORECASE,
)
_HYDRATE = re.compile(
    r"\s*[,(]?\s*\b(mono|di|tri|tetra|penta|hexa|hemi|sesqui)?hydrat[e]?\b\)?", re.IGNORECASE
)
_STEREO_PREFIX = re.compile(
    r"^\s*(\((?:[+\-±]|[RSEZrs]|\d[RS](?:,\s*\d[RS])*|\d+[RS],\s*\d+[RS])\)|"
    r"(?:dl|d|l|rac|levo|dextro)(?=-)|racemic|rac\.?)\s*-?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NameParts:
    """A description reduced to a name to look up, with what was removed and recognised."""

    name: str
    salt: str = ""
    hydrate: str = ""
    stereo: str = ""
    share: float | None = None
    #: The text with only its share, quantities and containers taken off, grade words kept:
    #: for names that hold such a word ("Lugol's solution 5 %" -> "Lugol's solution").
    bare: str = ""


def _share(text: str) -> tuple[str, float | None]:
    m = _PERCENT.search(text)
    if not m:
        return text, None
    value = float((m.group(1) or m.group(2)).replace(",", "."))
    text = (text[: m.start()] + " " + text[m.end() :]).strip()
    return text, (value / 100 if 0 < value <= 100 else None)


#: Words left dangling once packaging is removed ("Acetone in 200 L drums" -> "Acetone in").
_DANGLING = re.compile(
    r"^(?:in|of|im|en|em|w|na|packed|verpackt|de|di|von|du|da|do)\b\s*|\s*\b(?:in|of|im|en|em|w|"
    r"na|packed|verpackt|x|в|در|في)$",
    re.IGNORECASE,
)


def _trim(text: str) -> str:
    """Collapse spaces, drop empty brackets, dangling words and unbalanced edge brackets."""
    text = _EMPTY_BRACKETS.sub(" ", text)
    text = _WHITESPACE.sub(" ", text).strip(" ,;:-–")
    for _ in range(3):
        before = text
        text = _DANGLING.sub("", text).strip(" ,;:-–")
        if text.endswith(")") and text.count("(") < text.count(")"):
            text = text[:-1]
        if text.startswith("(") and text.count("(") > text.count(")"):
            text = text[1:]
        if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
            text = text[1:-1]
        if text == before:  # a round that changed nothing: the next ones would not either
            break
    return text.strip(" ,;:-–")


@lru_cache(maxsize=65536)
def clean_name(text: str) -> NameParts:
    """Strip grade/packaging/concentration words and recognise salt, hydrate and stereo words.

    ``"Ephedrine hydrochloride USP, 25 kg drums"`` -> name ``"Ephedrine"``, salt
    ``"hydrochloride"``. Returns the input (cleaned) when nothing is recognised.
    """
    text = before = strip_cas_from_text(clean_text(text))
    text, share = _share(text)
    world = not text.isascii()  # the words of other scripts are looked for only where any is
    if world or "<" in text or ">" in text:
        text = _COMPARISON.sub(" ", text)
    text = _PACKAGING_WORDS(text).sub(" ", text)
    text = _CONTAINER_WORDS(text).sub(" ", text)
    bare = _trim(text) if share is not None or text != before else ""
    text = _GRADE(text).sub(" ", text)
    text = _trim(text)
    salt = hydrate = stereo = ""
    m = _HYDRATE.search(text)
    if m and m.start() > 0:
        hydrate = m.group(0).strip(" ,()")
        text = (text[: m.start()] + text[m.end() :]).strip(" ,;-")
    m = _HYDRATE_CJK.search(text) if world else None
    if m and m.start() > 0:
        hydrate = m.group(1)
        text = text[: m.start()]
    for _ in range(2):
        m = _SALT_WORDS(text).search(text) or (_SALT_SUFFIX_CJK.search(text) if world else None)
        if not (m and m.start() > 0):
            break  # the text is unchanged: a second search would find nothing either
        salt = (m.group(1) + (" " + salt if salt else "")).strip()
        text = text[: m.start()].strip(" ,;-")
        if _CYRILLIC_SALT.search(m.group(1)):  # "эфедрина гидрохлорид": the genitive
            text = _GENITIVE.sub("", text)
    for prefix in (
        (_SALT_PREFIX, _SALT_PREFIX_CJK, _SALT_PREFIX_ARABIC) if world else (_SALT_PREFIX,)
    ):
        m = prefix.match(text)
        if m and len(text) > m.end():
            salt = m.group(1)
            text = text[m.end() :].strip()
            break
    m = _STEREO_PREFIX.match(text)
    if m and len(text) > m.end() + 2:
        stereo = m.group(1)
        text = text[m.end() :].strip()
    return NameParts(_trim(text), salt.lower(), hydrate.lower(), stereo, share, bare)


#: "w/w", "v/v", "wt/wt", "m/m": removed before splitting (their slash separates nothing).
_SHARE_BASIS = re.compile(r"\(?\b(?:[wvm]|wt)\s*/\s*(?:[wvm]|wt)\b\)?", re.IGNORECASE)
#: A letter with the marks written on it (Devanagari and Thai vowel signs are marks).
_LETTER = r"[^\W\d_][\u0300-\u036f\u0900-\u0903\u093a-\u094f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]*"
#: Two letters of any script, or one ideograph (碘 iodine): a part without them (a share, a
#: number) is not a component.
_TWO_LETTERS = re.compile(rf"(?:{_LETTER}){{2,}}|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Separators between mixture components; "w/w" and "v/v" are protected first.
_COMPONENT_SPLIT = re.compile(
    r"\s*(?:/|(?<!\()\+(?!\))|;|&|,\s(?!\d)|\bund\b|\bet\b|\band\b|\bwith\b|"
    r"\bmit\b|\bavec\b|\bcon\b)\s*",
    re.IGNORECASE,
)


def split_components(text: str) -> list[str]:
    """Split a mixture description into component texts (shares stay with their component).

    ``"acetone 40 % / ethyl acetate 60 %"`` -> ``["acetone 40 %", "ethyl acetate 60 %"]``.
    A single substance gives a one-element list. Systematic names are not split at their
    locant commas ("1,3-benzodioxole" has no space after the comma).
    """
    text = clean_text(text)
    protected = _SHARE_BASIS.sub(" ", text)
    parts = [p.strip() for p in _COMPONENT_SPLIT.split(protected)]
    parts = [p for p in parts if _TWO_LETTERS.search(p)]
    return parts or [text]
