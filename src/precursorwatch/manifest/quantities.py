"""Declared quantities: turn free text such as "1.200,50 kg" or "2 x 25 L" into a number and a unit.

Parsing never raises on user text: it returns ``(value, unit, warning)`` and says in the warning
what it could not read. Conversions go through one lazily built pint registry; mass and volume
convert into each other only through a density.

Number conventions (declarations come from every locale):

- ``1,5`` and ``1.200,50`` are read with a decimal comma, ``1,200.50`` with a decimal point;
- ``1,200`` is ambiguous (1.2 in German, 1200 in English). Without a hint it is read as 1200 —
  the larger reading, because screening against thresholds must not under-count — with a
  warning; ``decimal_comma=True`` (e.g. for a semicolon-delimited European CSV) reads it as 1.2;
- ``25.000`` is read as 25 unless ``decimal_comma=True``, when it is 25000.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

#: Largest plausible declared quantity in any unit; beyond this the value is refused.
MAX_QUANTITY = 1e12
#: Longest quantity text read (longer text is refused with a warning, keeping parsing linear).
MAX_TEXT = 100

#: Spellings of units -> normalised symbol (lower-cased keys, trailing dots removed).
# fmt: off
UNIT_ALIASES: dict[str, str] = {
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramm",
                     "kilogramme", "kilogrammes", "kgm"), "kg"),
    **dict.fromkeys(("g", "gr", "grs", "gm", "gms", "gram", "grams", "gramm", "gramme",
                     "grammes"), "g"),
    **dict.fromkeys(("mg", "milligram", "milligrams", "milligramm"), "mg"),
    **dict.fromkeys(("t", "to", "mt", "tne", "tonne", "tonnes", "ton", "tons", "tonnen",
                     "metric ton", "metric tons", "metric tonne", "metric tonnes"), "t"),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "lb"),
    **dict.fromkeys(("oz", "ounce", "ounces"), "oz"),
    **dict.fromkeys(("l", "lt", "ltr", "ltrs", "lts", "litre", "litres", "liter", "liters",
                     "litro", "litros"), "L"),
    **dict.fromkeys(("ml", "millilitre", "millilitres", "milliliter", "milliliters"), "mL"),
    **dict.fromkeys(("cl", "centilitre", "centiliter"), "cL"),
    **dict.fromkeys(("hl", "hectolitre", "hectoliter"), "hL"),
    **dict.fromkeys(("m3", "m³", "cbm", "cubic metre", "cubic meter", "cubic metres",
                     "cubic meters"), "m3"),
    **dict.fromkeys(("gal", "gals", "gallon", "gallons", "us gal", "usg"), "gal"),
}
# fmt: on

#: Normalised symbol -> pint unit name (pint's ``gallon`` is the US liquid gallon).
# fmt: off
PINT_NAMES: dict[str, str] = {
    "kg": "kilogram", "g": "gram", "mg": "milligram", "t": "metric_ton", "lb": "pound",
    "oz": "ounce", "L": "liter", "mL": "milliliter", "cL": "centiliter", "hL": "hectoliter",
    "m3": "meter ** 3", "gal": "gallon",
}
# fmt: on

_NUM = r"[-+]?(?:\d+(?:[.,'\u00a0\u202f ]\d+)*|[.,]\d+)(?:[eE][-+]?\d+)?"
_UNIT = r"(?P<u>(?:[^\W\d_][^\n]*)?)"
_SIMPLE = re.compile(rf"^(?P<q>{_NUM})\s*{_UNIT}$")
_TIMES = r"(?:[x×*]|of)"
_PACKS = re.compile(
    rf"^(?P<n>\d+)\s*(?P<pack>[^\W\d_]+\.?)?\s*{_TIMES}\s*(?P<q>{_NUM})\s*{_UNIT}$",
    re.IGNORECASE,
)
_PACKS_AFTER = re.compile(
    rf"^(?P<q>{_NUM})\s*(?P<u>[^\W\d_]+)\s*{_TIMES}\s*(?P<n>\d+)\s*(?P<pack>[^\W\d_]*)$",
    re.IGNORECASE,
)
_ANY_NUMBER = re.compile(rf"{_NUM}(?:\s*[^\W\d_]+)?")
# Only plain unit words reach pint: its parser evaluates expressions ("m**9**9**9" never ends).
_SAFE_UNIT = re.compile(r"[^\W\d_]{1,24}(?:[ _][^\W\d_]{1,24}){0,2}[23³]?")


@functools.cache
def unit_registry() -> Any:
    """The one pint UnitRegistry of the process, built on first use: building it is costly,
    and only a process that converts units needs it."""
    import pint

    return pint.UnitRegistry()


def normalise_unit(unit: str) -> tuple[str, str]:
    """Return ``(symbol, warning)`` for a unit as written; '' for no unit.

    Known mass and volume spellings become their symbol (``kgs`` -> ``kg``, ``Liter`` -> ``L``);
    anything else (``drums``, ``pcs``) is kept lower-cased with a warning that it is not a mass
    or volume.
    """
    text = " ".join(unit.strip().split()).rstrip(".").strip()
    if not text:
        return "", ""
    symbol = UNIT_ALIASES.get(text.casefold())
    if symbol is None and text.casefold().endswith("s"):
        symbol = UNIT_ALIASES.get(text.casefold()[:-1])
    if symbol is not None:
        return symbol, ""
    if _dimension(text) in ("mass", "volume"):
        return text, ""
    word = text.casefold()
    return word, f"unit {word!r} is not a mass or volume"


def parse_number(text: str, *, decimal_comma: bool | None = None) -> tuple[float | None, str]:
    """Read a number written in any common locale; ``(None, warning)`` when it is not one."""
    raw = text.strip()
    s = re.sub(r"[\s'\u00a0\u202f]", "", raw)
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    scientific = re.fullmatch(r"(.*?)[eE]([-+]?\d+)", s)
    s, exponent = (scientific[1], scientific[2]) if scientific else (s, "0")
    warning = ""
    if not re.fullmatch(r"[\d.,]+", s) or not any(c.isdigit() for c in s):
        return None, f"quantity {raw!r} is not a number"
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        if s.count(decimal) > 1:
            return None, f"quantity {raw!r} is not a number"
        s = s.replace(thousands, "").replace(decimal, ".")
    elif commas or dots:
        sep = "," if commas else "."
        head, _, tail = s.rpartition(sep)
        grouped = len(tail) == 3 and head.replace(sep, "").isdigit() and head.lstrip("0") != ""
        if s.count(sep) > 1:
            if not re.fullmatch(rf"\d{{1,3}}(?:\{sep}\d{{3}})+", s):
                return None, f"quantity {raw!r} is not a number"
            s = s.replace(sep, "")
        elif grouped and len(head) <= 3 and sep == "," and decimal_comma is not True:
            s = s.replace(",", "")
            if decimal_comma is None:
                warning = f"quantity {raw!r} read as {s} (comma taken as thousands separator)"
        elif grouped and len(head) <= 3 and sep == "." and decimal_comma is True:
            s = s.replace(".", "")
        else:
            s = s.replace(",", ".")
    try:
        value = sign * float(f"{s}e{exponent}")
    except ValueError:
        return None, f"quantity {raw!r} is not a number"
    return value, warning


def parse_quantity(
    text: str, unit: str = "", *, decimal_comma: bool | None = None
) -> tuple[float | None, str, str]:
    """Return ``(value, unit symbol, warning)`` for a declared quantity; never raises.

    ``unit`` is the manifest's unit column, used when the text carries no unit. ``"2 x 25 kg"``
    and ``"4 drums of 200 L"`` are multiplied out. Empty text gives ``(None, "", "")``; text
    that is not a quantity, and absurd values (negative, NaN, infinite, over 1e12), give a
    ``None`` value and a warning; an unknown unit keeps the value and warns.
    """
    text = " ".join(str(text).split())
    if not text:
        return None, "", ""
    if len(text) > MAX_TEXT:
        return None, "", f"quantity {text[:20]!r}... is too long to be a quantity"
    warnings: list[str] = []
    count = 1
    m = _PACKS.match(text)
    if m is not None and not m["u"].strip() and m["pack"] and _dimension(m["pack"].rstrip(".")):
        m = None  # "25 kg x 2": the unit came first
    m = m or _PACKS_AFTER.match(text)
    if m is not None:
        count = int(m["n"])
    else:
        m = _SIMPLE.match(text)
    if m is None:
        found = _ANY_NUMBER.search(text)
        if found is None:
            return None, "", f"quantity {text!r} is not a number"
        warnings.append(f"quantity {text!r} read as {found.group(0)!r}")
        m = _SIMPLE.match(found.group(0))
        if m is None:  # pragma: no cover - _ANY_NUMBER matches only what _SIMPLE accepts
            return None, "", f"quantity {text!r} is not a number"
    value, number_warning = parse_number(m["q"], decimal_comma=decimal_comma)
    if number_warning:
        warnings.append(number_warning)
    written_unit = m["u"].strip()
    if written_unit and unit.strip() and normalise_unit(written_unit) != normalise_unit(unit):
        warnings.append(f"unit column says {unit.strip()!r}, quantity says {written_unit!r}")
    symbol, unit_warning = normalise_unit(written_unit or unit)
    if unit_warning:
        warnings.append(unit_warning)
    if value is not None:
        value *= count
        if math.isnan(value) or math.isinf(value) or value < 0 or value > MAX_QUANTITY:
            warnings.append(f"quantity {text!r} is not plausible")
            value = None
    return value, symbol, "; ".join(warnings)


#: Dimension and factor (to kilograms or litres) of each normalised symbol, exactly as pint
#: computes them (tests compare every one with pint), so that the common units never build
#: the registry (half a second per process).
# fmt: off
_SYMBOLS: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "mg": ("mass", 1e-06), "t": ("mass", 1000.0),
    "lb": ("mass", 0.4535923700000001), "oz": ("mass", 0.028349523125000005),
    "L": ("volume", 1.0), "mL": ("volume", 0.001), "cL": ("volume", 0.01),
    "hL": ("volume", 100.0), "m3": ("volume", 999.9999999999999),
    "gal": ("volume", 3.785411783999999),
}
# fmt: on
_BASE_UNIT = {"mass": "kilogram", "volume": "liter"}


def _symbol(unit: str) -> str:
    """The normalised symbol of a unit written as a symbol or one of its aliases ('' if not)."""
    return unit if unit in PINT_NAMES else UNIT_ALIASES.get(unit.casefold(), "")


@functools.lru_cache(maxsize=4096)
def _dimension(unit: str) -> str:
    """``"mass"``, ``"volume"`` or ``""`` for a unit symbol or any unit pint can parse."""
    known = _SYMBOLS.get(_symbol(unit))
    if known is not None:
        return known[0]
    name = PINT_NAMES.get(_symbol(unit))
    if not name and not _SAFE_UNIT.fullmatch(unit):
        return ""
    try:
        dims = unit_registry().parse_units(name or unit).dimensionality
    except Exception:  # pint raises many kinds of error on unknown text
        return ""
    if dims == {"[mass]": 1}:
        return "mass"
    if dims == {"[length]": 3}:
        return "volume"
    return ""


@functools.lru_cache(maxsize=4096)
def _factor(unit: str, target: str) -> float | None:
    """How many ``target`` units one ``unit`` is, or ``None`` when they do not convert."""
    known = _SYMBOLS.get(_symbol(unit))
    if known is not None and _BASE_UNIT[known[0]] == target:
        return known[1]
    return _pint_factor(unit, target)


def _pint_factor(unit: str, target: str) -> float | None:
    """:func:`_factor` computed by pint."""
    name = PINT_NAMES.get(_symbol(unit))
    ureg = unit_registry()
    try:
        return float(ureg.Quantity(1.0, name or unit).to(target).magnitude)
    except Exception:  # unknown unit or wrong dimension
        return None


def _usable(value: float, density: float | None) -> bool:
    finite = isinstance(value, (int, float)) and math.isfinite(value)
    return finite and (density is None or (math.isfinite(density) and density > 0))


def to_kilograms(value: float, unit: str, density_kg_per_l: float | None = None) -> float | None:
    """``value`` in ``unit`` as kilograms; volumes need a density; ``None`` when impossible."""
    if not unit or not _usable(value, density_kg_per_l):
        return None
    dimension = _dimension(unit)
    if dimension == "mass":
        factor = _factor(unit, "kilogram")
        return None if factor is None else value * factor
    if dimension == "volume" and density_kg_per_l is not None:
        factor = _factor(unit, "liter")
        return None if factor is None else value * factor * density_kg_per_l
    return None


def to_litres(value: float, unit: str, density_kg_per_l: float | None = None) -> float | None:
    """``value`` in ``unit`` as litres; masses need a density; ``None`` when impossible."""
    if not unit or not _usable(value, density_kg_per_l):
        return None
    dimension = _dimension(unit)
    if dimension == "volume":
        factor = _factor(unit, "liter")
        return None if factor is None else value * factor
    if dimension == "mass" and density_kg_per_l is not None:
        factor = _factor(unit, "kilogram")
        return None if factor is None else value * factor / density_kg_per_l
    return None
