"""Exact JSON round-trips of the domain dataclasses for the store's JSON columns.

``to_json`` turns any of the frozen dataclasses of :mod:`precursorwatch.models` into plain
JSON values (tuples become lists, mappings become objects); ``from_json(cls, data)`` rebuilds
the dataclass with the right tuple, mapping and nested types, so ``from_json(type(x),
to_json(x)) == x``. Unknown keys in stored data are ignored and missing ones take the field's
default, so payloads written by other versions stay readable. ``compact_json`` and
``read_json`` are the fast JSON text of the values the screening writes and reads by the tens
of thousands (the cache's values, the structure matchers' keys).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar

import orjson

from precursorwatch.models import Evidence, ListDef, Substance

T = TypeVar("T")


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text, by orjson (several times cheaper than ``json.dumps``
    on the cache's values: bench/README.md), read back to the same values. Keys that are
    not strings become strings, as ``json.dumps`` makes them; raises TypeError for a value
    JSON cannot hold."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def read_json(text: str | bytes) -> Any:
    """The values of JSON ``text``: by orjson, or by ``json.loads`` where orjson refuses the
    text (``NaN`` and ``Infinity``, which ``json.dumps`` writes); raises ValueError when
    neither can read it."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_Converter = Callable[[Any], Any]


_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (dataclass, mapping, tuple, list or scalar)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [to_json(v) for v in value]
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def from_json(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild dataclass ``cls`` from what :func:`to_json` made of it.

    Raises TypeError/ValueError when ``data`` does not fit ``cls`` (a corrupt payload).
    """
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    kwargs = {name: convert(data[name]) for name, convert in plan if name in data}
    return cls(**kwargs)


_PLANS: dict[type, tuple[tuple[str, _Converter], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, _Converter], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))


def _identity(value: Any) -> Any:
    return value


def _converter(hint: Any) -> _Converter:
    """How to turn a JSON value back into a value of type ``hint``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        cls = hint
        return lambda v: from_json(cls, v)
    if origin is tuple:
        item = _converter(args[0]) if args else _identity
        if item is _identity:
            return lambda v: tuple(v)
        return lambda v: tuple(item(x) for x in v)
    if origin in (Mapping, dict, typing.Mapping, typing.Dict):  # noqa: UP006
        value_conv = _converter(args[1]) if len(args) == 2 else _identity
        return lambda v: {k: value_conv(x) for k, x in v.items()}
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            conv = _converter(inner[0])
            if conv is _identity:
                return _identity
            return lambda v: None if v is None else conv(v)
        return _identity
    if hint is float:
        return lambda v: None if v is None else float(v)
    return _identity


def listdef_to_dict(listdef: ListDef) -> dict[str, Any]:
    """``ListDef`` -> JSON object (entries, thresholds and tuples as lists)."""
    result: dict[str, Any] = to_json(listdef)
    return result


def listdef_from_dict(data: Mapping[str, Any]) -> ListDef:
    """JSON object -> ``ListDef``; the exact inverse of :func:`listdef_to_dict`."""
    return from_json(ListDef, data)


def substance_to_dict(substance: Substance) -> dict[str, Any]:
    """``Substance`` -> JSON object (the ``names`` mapping of tuples as lists)."""
    result: dict[str, Any] = to_json(substance)
    return result


def substance_from_dict(data: Mapping[str, Any]) -> Substance:
    """JSON object -> ``Substance``; the exact inverse of :func:`substance_to_dict`."""
    return from_json(Substance, data)


#: Date fields of lists, entries and thresholds that the hash leaves out while empty, so a list
#: without dates keeps the hash it had before lists had dates (no new version on upgrade).
_OPTIONAL_DATE_FIELDS = ("applies_from", "applies_until", "act", "removed_by")


def _drop_empty_dates(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not (k in _OPTIONAL_DATE_FIELDS and v == "")}


def content_hash(listdef: ListDef, substances: Mapping[str, Substance]) -> str:
    """SHA-256 of a list's content and of every substance its entries name.

    The list's own ``content_hash`` and ``version`` fields are left out: they describe the
    stored version, not its content; so are empty date fields. Substances the list does not
    name do not count.
    """
    body = _drop_empty_dates(
        listdef_to_dict(dataclasses.replace(listdef, content_hash="", version=0))
    )
    body["entries"] = [
        {
            **_drop_empty_dates(entry),
            "thresholds": [_drop_empty_dates(t) for t in entry["thresholds"]],
        }
        for entry in body["entries"]
    ]
    keys = sorted({e.substance_key for e in listdef.entries})
    named = {k: substance_to_dict(substances[k]) for k in keys if k in substances}
    text = json.dumps({"list": body, "substances": named}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The fields of one piece of evidence, in the order its JSON form keeps them.
_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))


def evidence_to_dict(ev: Evidence) -> dict[str, Any]:
    """JSON-able form of one piece of evidence (lists as arrays); no deep copy, it is flat."""
    d = {name: getattr(ev, name) for name in _EVIDENCE_FIELDS}
    d["list_codes"] = list(ev.list_codes)
    return d


def evidence_from_dicts(items: Sequence[Mapping[str, Any]]) -> list[Evidence]:
    """The evidence :func:`evidence_to_dict` made JSON of."""
    return [Evidence(**{**e, "list_codes": tuple(e["list_codes"])}) for e in items]
