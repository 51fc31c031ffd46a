"""List files -> validated substances and list definitions, with a content hash per version.

Pure: reads YAML/CSV files and returns :mod:`precursorwatch.models` values; no database. A file
with any error is refused whole with :class:`~precursorwatch.errors.ListFileError`, whose
message names the file, the line, the entry and the field, and says what to do. Checked: YAML
syntax, required and unknown fields, key slugs, list codes, CAS format and check digit (``cas``
and ``other_cas``), SMILES parse, recorded InChIKey = computed InChIKey, family SMARTS compile
(and match their own substance), substance keys, coverage words, source IDs, names shared by
two substances without an ``ambiguous`` declaration, CAS numbers shared by two substances, and
duplicates. The schema is in ``lists/README.md``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from precursorwatch.chem.molecule import (
    inchikey_from_smiles,
    parse_smiles,
    smarts_error,
    smiles_matches_smarts,
)
from precursorwatch.errors import ListFileError
from precursorwatch.identify.normalise import cas_check_ok, compact
from precursorwatch.lists.diff import (
    FieldChange,
    ListDiff,
    content_hash,
    diff_lists,
    listdef_from_dict,
    listdef_to_dict,
    substance_from_dict,
    substance_to_dict,
)
from precursorwatch.models import (
    COVERAGE_WORDS,
    ListDef,
    ListEntry,
    OtherCas,
    Substance,
    Threshold,
    Watchlist,
)

__all__ = [
    "FieldChange",
    "ListDiff",
    "SourceRef",
    "bundled_lists_dir",
    "content_hash",
    "diff_lists",
    "listdef_from_dict",
    "listdef_to_dict",
    "load_bundled",
    "load_list_file",
    "load_sources",
    "load_substances",
    "substance_from_dict",
    "substance_to_dict",
]

SUBSTANCES_FILE = "substances.yaml"
SOURCES_FILE = "sources.yaml"
#: Language key of names given without a language (``synonyms`` of a user's list).
UNDETERMINED_LANGUAGE = "und"

_KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
_SOURCE_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
_CAS_RE = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
_INCHIKEY_RE = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_HS_RE = re.compile(r"^\d{4,10}$")
_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_LINE = "__line__"  # the line where a YAML mapping starts
_LINES = "__lines__"  # the line of each of its keys

_SUBSTANCE_FIELDS = frozenset(
    {"key", "name", "cas", "other_cas", "smiles", "inchikey", "names", "abbreviations"}
    | {"ambiguous", "natural_sources", "hs_codes", "density_kg_per_l", "notes", "sources"}
)
_INLINE_FIELDS = _SUBSTANCE_FIELDS | {"synonyms"}
_ENTRY_FIELDS = frozenset(
    {"substance", "category", "covers", "family_name", "family_smarts", "thresholds"}
    | {"source", "note"}
)
_LIST_FIELDS = frozenset(
    {"code", "title", "legal_basis", "effective_date", "source", "confidential", "entries"}
    | {"sources"}
)
_THRESHOLD_FIELDS = frozenset({"quantity", "unit", "per", "note", "source"})
_CSV_COLUMNS = ("key", "name", "cas", "smiles", "synonyms", "category")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source ID of ``sources.yaml``: what was read, where, and what it confirmed."""

    id: str
    title: str
    url: str = ""
    note: str = ""


# --- YAML reading ---------------------------------------------------------------------------


#: libyaml's parser where PyYAML was built with it (about 5x faster on the bundled lists, which
#: every new store loads); the pure-Python one otherwise. Both are safe loaders.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that keeps dates as text, reads only true/false as booleans (not yes/no/on,
    which would turn Norwegian ``no`` into False), refuses duplicate keys and records the line
    of every mapping under ``__line__``."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":timestamp", ":bool"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        lines[key] = key_node.start_mark.line + 1
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    mapping[_LINES] = lines
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ListFileError("no such file; check the path", path=str(path)) from None
    except UnicodeDecodeError:
        raise ListFileError("not UTF-8 text; save the file as UTF-8", path=str(path)) from None
    except OSError as exc:
        raise ListFileError(f"cannot read the file ({exc.strerror})", path=str(path)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; raises ListFileError with the line of a syntax error."""
    text = _read_text(path)
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ListFileError(
            f"YAML syntax error{line}: {exc.problem or exc.context}; fix the indentation, "
            "quoting or punctuation there",
            path=str(path),
        ) from None
    except yaml.YAMLError as exc:
        raise ListFileError(f"YAML syntax error: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ListFileError(
            "the file must be a YAML mapping (field: value lines) at the top", path=str(path)
        )
    return data


# --- small checks ---------------------------------------------------------------------------


def _cas_check_ok(cas: str) -> bool:
    """True when ``cas`` has the CAS RN shape and its check digit is right."""
    return _CAS_RE.match(cas) is not None and cas_check_ok(cas)


def _fold(name: str) -> str:
    """A name as the screening index compares it (letters and digits, no case or accents)."""
    return compact(name)


class _Ctx:
    """Where we are in which file, and the source IDs known there (None: not checked)."""

    def __init__(self, path: Path, sources: Mapping[str, SourceRef] | None) -> None:
        self.path, self.sources = path, sources
        self.lines: dict[str, int] = {}  # substance key -> line where it is defined

    def fail(self, message: str, entry: str = "", field: str = "", line: int = 0) -> ListFileError:
        where = f"line {line}: " if line else ""
        return ListFileError(where + message, path=str(self.path), entry=entry, field=field)

    def text(
        self, raw: Mapping[str, Any], field: str, entry: str, *, required: bool = False
    ) -> str:
        value = raw.get(field)
        if value is None or value == "":
            if required:
                raise self.fail("required field is missing", entry, field, _line(raw, field))
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(
                f"must be text, not {type(value).__name__}", entry, field, _line(raw, field)
            )
        return str(value).strip()

    def texts(self, raw: Mapping[str, Any], field: str, entry: str) -> tuple[str, ...]:
        value = raw.get(field)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail("must be a list, e.g. [a, b]", entry, field, _line(raw, field))
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                msg = f"list items must be text, not {type(item).__name__}"
                raise self.fail(msg, entry, field, _line(raw, field))
            if str(item).strip():
                out.append(str(item).strip())
        if len({" ".join(x.casefold().split()) for x in out}) != len(out):
            raise self.fail("a value is repeated", entry, field, _line(raw, field))
        return tuple(out)

    def check_sources(self, ids: tuple[str, ...], entry: str, field: str, line: int) -> None:
        if self.sources is None:
            return
        for sid in ids:
            if sid not in self.sources:
                msg = f"unknown source ID {sid!r}; add it to {SOURCES_FILE} or use a known ID"
                raise self.fail(msg, entry, field, line)

    def check_fields(self, raw: Mapping[str, Any], allowed: frozenset[str], entry: str) -> None:
        unknown = sorted(str(k) for k in raw if k not in (_LINE, _LINES) and k not in allowed)
        if unknown:
            msg = f"unknown field; allowed: {', '.join(sorted(allowed))}"
            raise self.fail(msg, entry, unknown[0], _line(raw, unknown[0]))


def _line(raw: Mapping[str, Any], field: str = "") -> int:
    """The line of ``field`` in a YAML mapping, else of the mapping itself (0 when unknown)."""
    lines = raw.get(_LINES)
    if field and isinstance(lines, dict) and isinstance(lines.get(field), int):
        return int(lines[field])
    value = raw.get(_LINE, 0)
    return value if isinstance(value, int) else 0


def _check_cas(ctx: _Ctx, cas: str, entry: str, field: str, line: int) -> None:
    if not _CAS_RE.match(cas):
        msg = f"{cas!r} is not a CAS number (digits-2digits-1digit, e.g. 108-24-7)"
        raise ctx.fail(msg, entry, field, line)
    if not _cas_check_ok(cas):
        msg = f"CAS {cas} fails its check digit; correct the number (a typo is likely)"
        raise ctx.fail(msg, entry, field, line)


# --- substances -----------------------------------------------------------------------------


def load_sources(path: Path) -> dict[str, SourceRef]:
    """Read ``sources.yaml`` (``sources: {ID: {title, url, note}}``).

    Raises ListFileError when the file is missing, malformed or an ID is badly formed.
    """
    data = _read_yaml(path)
    ctx = _Ctx(path, None)
    ctx.check_fields(data, frozenset({"sources"}), "")
    raw = data.get("sources")
    if not isinstance(raw, dict):
        raise ctx.fail("must be a mapping of source IDs", "", "sources", _line(data, "sources"))
    out: dict[str, SourceRef] = {}
    for sid, body in raw.items():
        if sid in (_LINE, _LINES):
            continue
        if not isinstance(sid, str) or not _SOURCE_ID_RE.match(sid):
            raise ctx.fail("source IDs are upper case, digits and hyphens", str(sid))
        if not isinstance(body, dict):
            raise ctx.fail("must be a mapping with title, url, note", sid)
        ctx.check_fields(body, frozenset({"title", "url", "note"}), sid)
        out[sid] = SourceRef(
            sid,
            ctx.text(body, "title", sid, required=True),
            ctx.text(body, "url", sid),
            ctx.text(body, "note", sid),
        )
    return out


def _sources_beside(path: Path) -> dict[str, SourceRef] | None:
    beside = path.parent / SOURCES_FILE
    return load_sources(beside) if beside.is_file() and beside != path else None


def _parse_substance(ctx: _Ctx, raw: Mapping[str, Any], *, label: str) -> Substance:
    """One substance mapping -> Substance (fields checked; InChIKey computed when not given)."""
    line = _line(raw)
    key = ctx.text(raw, "key", label, required=True)
    if not _KEY_RE.match(key):
        msg = f"key {key!r} must be a lower-case slug of letters, digits and hyphens"
        raise ctx.fail(msg, key, "key", line)
    ctx.lines[key] = line
    name = ctx.text(raw, "name", key, required=True)
    cas = ctx.text(raw, "cas", key)
    if cas:
        _check_cas(ctx, cas, key, "cas", _line(raw, "cas"))
    other: list[OtherCas] = []
    raw_other = raw.get("other_cas") or []
    if not isinstance(raw_other, list):
        raise ctx.fail("must be a list of {cas, form}", key, "other_cas", _line(raw, "other_cas"))
    for item in raw_other:
        if not isinstance(item, dict):
            raise ctx.fail(
                "items must be {cas: ..., form: ...}", key, "other_cas", _line(raw, "other_cas")
            )
        ctx.check_fields(item, frozenset({"cas", "form"}), key)
        ocas = ctx.text(item, "cas", key, required=True)
        _check_cas(ctx, ocas, key, "other_cas", _line(item) or _line(raw, "other_cas"))
        other.append(OtherCas(ocas, ctx.text(item, "form", key, required=True)))
    smiles, inchikey = ctx.text(raw, "smiles", key), ctx.text(raw, "inchikey", key)
    if smiles:
        _, reason = parse_smiles(smiles)
        if reason:
            raise ctx.fail(f"{reason}; correct the SMILES", key, "smiles", _line(raw, "smiles"))
        computed = inchikey_from_smiles(smiles) or ""
        if inchikey and inchikey != computed:
            raise ctx.fail(
                f"recorded InChIKey {inchikey} differs from {computed}, computed from the "
                "SMILES; correct one of them",
                key,
                "inchikey",
                line,
            )
        inchikey = computed
    elif inchikey and not _INCHIKEY_RE.match(inchikey):
        raise ctx.fail(f"{inchikey!r} is not an InChIKey", key, "inchikey", _line(raw, "inchikey"))
    names: dict[str, tuple[str, ...]] = {}
    raw_names = raw.get("names") or {}
    if not isinstance(raw_names, dict):
        raise ctx.fail("must be a mapping language: [names]", key, "names", _line(raw, "names"))
    for lang in raw_names:
        if lang in (_LINE, _LINES):
            continue
        if not isinstance(lang, str) or not _LANG_RE.match(lang):
            raise ctx.fail(
                f"{lang!r} is not a language code (ISO 639: en, de, fr ...)", key, "names", line
            )
        names[lang] = ctx.texts(raw_names, lang, key)
    synonyms = ctx.texts(raw, "synonyms", key)
    if synonyms:
        names[UNDETERMINED_LANGUAGE] = names.get(UNDETERMINED_LANGUAGE, ()) + synonyms
    density: float | None = None
    raw_density = raw.get("density_kg_per_l")
    if raw_density is not None:
        if isinstance(raw_density, bool) or not isinstance(raw_density, int | float):
            raise ctx.fail(
                "must be a number", key, "density_kg_per_l", _line(raw, "density_kg_per_l")
            )
        if not 0 < raw_density < 25:
            msg = "must be a density in kg/L (0 < d < 25)"
            raise ctx.fail(msg, key, "density_kg_per_l", _line(raw, "density_kg_per_l"))
        density = float(raw_density)
    hs_codes = ctx.texts(raw, "hs_codes", key)
    for code in hs_codes:
        if not _HS_RE.match(code):
            msg = f"HS/CN code {code!r} must be 4 to 10 digits without dots or spaces"
            raise ctx.fail(msg, key, "hs_codes", line)
    sources = ctx.texts(raw, "sources", key)
    ctx.check_sources(sources, key, "sources", _line(raw, "sources"))
    substance = Substance(
        key=key,
        name=name,
        cas=cas,
        other_cas=tuple(other),
        smiles=smiles,
        inchikey=inchikey,
        names=names,
        abbreviations=ctx.texts(raw, "abbreviations", key),
        ambiguous=ctx.texts(raw, "ambiguous", key),
        natural_sources=ctx.texts(raw, "natural_sources", key),
        hs_codes=hs_codes,
        density_kg_per_l=density,
        notes=ctx.text(raw, "notes", key),
        sources=sources,
    )
    own = {_fold(n) for n in substance.all_names()}
    for amb in substance.ambiguous:
        if _fold(amb) not in own:
            msg = f"{amb!r} is declared ambiguous but is not one of this substance's names"
            raise ctx.fail(msg, key, "ambiguous", line)
    return substance


def _check_shared(ctx: _Ctx, subs: Mapping[str, Substance], fixed: frozenset[str]) -> None:
    """Refuse CAS numbers on two substances, and shared names not declared ``ambiguous``.

    Substances in ``fixed`` (already validated elsewhere, e.g. the bundled ones) need not
    declare a name they share with a new substance; the new one must.
    """
    cas_owner: dict[str, str] = {}
    name_owners: dict[str, list[str]] = {}
    for key, sub in subs.items():
        for cas in sub.all_cas():
            other = cas_owner.setdefault(cas, key)
            if other != key:
                blame = other if key in fixed else key
                raise ctx.fail(
                    f"CAS {cas} is recorded for both {other!r} and {key!r}; a CAS number names "
                    "one substance (reference the existing key instead)",
                    blame,
                    "cas",
                    ctx.lines.get(blame, 0),
                )
        for folded in dict.fromkeys(_fold(n) for n in sub.all_names()):
            name_owners.setdefault(folded, []).append(key)
    for folded, keys in name_owners.items():
        if len(keys) < 2:
            continue
        for key in keys:
            declared = {_fold(a) for a in subs[key].ambiguous}
            if key not in fixed and folded not in declared:
                others = ", ".join(repr(k) for k in keys if k != key)
                raise ctx.fail(
                    f"name {folded!r} is also a name of {others}; declare it in `ambiguous` on "
                    "both substances or remove it from one",
                    key,
                    "names",
                    ctx.lines.get(key, 0),
                )


def load_substances(
    path: Path, *, sources: Mapping[str, SourceRef] | None = None
) -> dict[str, Substance]:
    """Read and validate a substances file (``substances: [...]``), keyed by substance key.

    Source IDs are checked against ``sources`` or, when not given, the ``sources.yaml`` beside
    the file (not checked when there is none). Raises ListFileError on any error.
    """
    ctx = _Ctx(path, sources if sources is not None else _sources_beside(path))
    data = _read_yaml(path)
    ctx.check_fields(data, frozenset({"substances"}), "")
    raw = data.get("substances")
    if not isinstance(raw, list):
        raise ctx.fail("must be a list of substances", "", "substances", _line(data, "substances"))
    out: dict[str, Substance] = {}
    for i, item in enumerate(raw, start=1):
        label = f"#{i}"
        if not isinstance(item, dict):
            raise ctx.fail("each substance must be a mapping", label)
        ctx.check_fields(item, _SUBSTANCE_FIELDS, str(item.get("key") or label))
        sub = _parse_substance(ctx, item, label=label)
        if sub.key in out:
            raise ctx.fail("duplicate substance key", sub.key, "key", _line(item))
        out[sub.key] = sub
    _check_shared(ctx, out, frozenset())
    return out


# --- lists ----------------------------------------------------------------------------------


def _parse_thresholds(ctx: _Ctx, raw: Mapping[str, Any], key: str) -> tuple[Threshold, ...]:
    items = raw.get("thresholds") or []
    if not isinstance(items, list):
        raise ctx.fail("must be a list", key, "thresholds", _line(raw, "thresholds"))
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ctx.fail("items must be mappings", key, "thresholds", _line(raw, "thresholds"))
        ctx.check_fields(item, _THRESHOLD_FIELDS, key)
        line = _line(item) or _line(raw)
        qty = item.get("quantity")
        if isinstance(qty, bool) or not isinstance(qty, int | float) or qty < 0:
            raise ctx.fail("threshold quantity must be a number >= 0", key, "thresholds", line)
        unit = ctx.text(item, "unit", key)
        if qty > 0 and not unit:
            raise ctx.fail("a threshold above 0 needs a unit", key, "thresholds", line)
        source = ctx.text(item, "source", key)
        if source:
            ctx.check_sources((source,), key, "thresholds", line)
        out.append(
            Threshold(
                float(qty), unit, ctx.text(item, "per", key), ctx.text(item, "note", key), source
            )
        )
    return tuple(out)


def _parse_entry(
    ctx: _Ctx,
    raw: Mapping[str, Any],
    code: str,
    known: Mapping[str, Substance],
    inline: dict[str, Substance],
    label: str,
) -> ListEntry:
    line = _line(raw)
    if "substance" in raw:
        ctx.check_fields(raw, _ENTRY_FIELDS, label)
        key = ctx.text(raw, "substance", label, required=True)
        if key not in known and key not in inline:
            raise ctx.fail(
                f"unknown substance key {key!r}; add it to {SUBSTANCES_FILE}, correct the key, "
                "or define the substance inline (key, name, cas, smiles, synonyms)",
                key,
                "substance",
                line,
            )
    elif "key" in raw:
        ctx.check_fields(raw, (_ENTRY_FIELDS - {"substance"}) | _INLINE_FIELDS, label)
        sub = _parse_substance(
            ctx,
            {k: v for k, v in raw.items() if k in _INLINE_FIELDS | {_LINE, _LINES}},
            label=label,
        )
        key = sub.key
        if key in known or key in inline:
            msg = f"substance {key!r} is already defined; reference it with `substance: {key}`"
            raise ctx.fail(msg, key, "key", line)
        inline[key] = sub
    else:
        msg = "an entry needs `substance` (a known key) or an inline `key` and `name`"
        raise ctx.fail(msg, label, "", line)
    covers = ctx.texts(raw, "covers", key)
    bad = sorted(set(covers) - COVERAGE_WORDS)
    if bad:
        msg = f"unknown coverage word {bad[0]!r}; use {', '.join(sorted(COVERAGE_WORDS))}"
        raise ctx.fail(msg, key, "covers", line)
    family_name, smarts = ctx.text(raw, "family_name", key), ctx.text(raw, "family_smarts", key)
    if bool(family_name) != bool(smarts):
        msg = "family_name and family_smarts go together"
        raise ctx.fail(msg, key, "family_smarts" if family_name else "family_name", line)
    if smarts:
        problem = smarts_error(smarts)
        if problem:
            raise ctx.fail(
                f"{problem}; correct the pattern", key, "family_smarts", _line(raw, "family_smarts")
            )
        sub = known.get(key) or inline[key]
        if sub.smiles and smiles_matches_smarts(sub.smiles, smarts) is False:
            msg = "family_smarts does not match the entry's own substance; correct the pattern"
            raise ctx.fail(msg, key, "family_smarts", line)
    source = ctx.text(raw, "source", key)
    if source:
        ctx.check_sources((source,), key, "source", _line(raw, "source"))
    return ListEntry(
        list_code=code,
        substance_key=key,
        category=ctx.text(raw, "category", key),
        covers=covers,
        family_smarts=smarts,
        family_name=family_name,
        thresholds=_parse_thresholds(ctx, raw, key),
        source=source,
        note=ctx.text(raw, "note", key),
    )


def _resolve_code(ctx: _Ctx, code: str) -> str:
    if not _CODE_RE.match(code):
        raise ctx.fail(
            f"list code {code!r} must be upper case letters, digits and hyphens (e.g. FIRM-1); "
            "give one with --code",
            "",
            "code",
        )
    return code


def _yaml_list(
    ctx: _Ctx, known: Mapping[str, Substance], code: str | None, confidential: bool | None
) -> tuple[ListDef, dict[str, Substance]]:
    data = _read_yaml(ctx.path)
    ctx.check_fields(data, _LIST_FIELDS, "")
    own_sources = data.get("sources")
    if isinstance(own_sources, dict) and ctx.sources is not None:
        # a user's list may name its own sources: `sources: {ID: title}` or `{ID: {title: ..}}`
        ctx.sources = {
            **ctx.sources,
            **{str(k): SourceRef(str(k), "") for k in own_sources if k not in (_LINE, _LINES)},
        }
    list_code = _resolve_code(ctx, code or ctx.text(data, "code", "") or ctx.path.stem.upper())
    date = ctx.text(data, "effective_date", "")
    if date and not _DATE_RE.match(date):
        msg = "must be YYYY, YYYY-MM or YYYY-MM-DD"
        raise ctx.fail(msg, "", "effective_date", _line(data, "effective_date"))
    flag = data.get("confidential", False)
    if not isinstance(flag, bool):
        raise ctx.fail("must be true or false", "", "confidential", _line(data, "confidential"))
    source = ctx.text(data, "source", "")
    if source:
        ctx.check_sources((source,), "", "source", _line(data, "source"))
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ctx.fail("must be a non-empty list of entries", "", "entries", _line(data, "entries"))
    inline: dict[str, Substance] = {}
    entries: list[ListEntry] = []
    for i, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict):
            raise ctx.fail("each entry must be a mapping", f"#{i}")
        entry = _parse_entry(ctx, raw, list_code, known, inline, f"#{i}")
        if any(e.substance_key == entry.substance_key for e in entries):
            raise ctx.fail(
                "duplicate entry for this substance", entry.substance_key, "substance", _line(raw)
            )
        entries.append(entry)
    listdef = ListDef(
        code=list_code,
        title=ctx.text(data, "title", "", required=True),
        legal_basis=ctx.text(data, "legal_basis", ""),
        effective_date=date,
        source=source,
        confidential=flag if confidential is None else confidential,
        entries=tuple(entries),
    )
    return listdef, inline


def _csv_list(
    ctx: _Ctx, known: Mapping[str, Substance], code: str | None, confidential: bool | None
) -> tuple[ListDef, dict[str, Substance]]:
    list_code = _resolve_code(ctx, code or ctx.path.stem.upper())
    delimiter = "\t" if ctx.path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(_read_text(ctx.path)), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    for column in header:
        if column not in _CSV_COLUMNS:
            raise ctx.fail(f"unknown column; use {', '.join(_CSV_COLUMNS)}", "", column, 1)
    for column in ("key", "name"):
        if column not in header:
            raise ctx.fail("required column is missing", "", column, 1)
    reader.fieldnames = header
    inline: dict[str, Substance] = {}
    entries: list[ListEntry] = []
    for row in reader:
        line = reader.line_num
        cells: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k in _CSV_COLUMNS}
        key = cells.get("key", "")
        given = known.get(key)
        if (
            given is not None
            and not cells.get("smiles")
            and cells.get("cas", "") in ("", given.cas)
        ):
            pass  # a bundled substance, referenced by its key
        else:
            raw = {k: v for k, v in cells.items() if v and k != "category"}
            raw["synonyms"] = [s for s in cells.get("synonyms", "").split(";") if s.strip()]
            raw[_LINE] = line
            sub = _parse_substance(ctx, raw, label=f"row {line}")
            if sub.key in known or sub.key in inline:
                raise ctx.fail(
                    f"substance {sub.key!r} is already defined with other data; use its key "
                    "alone (empty cas/smiles) or choose another key",
                    sub.key,
                    "key",
                    line,
                )
            inline[sub.key] = sub
        if any(e.substance_key == key for e in entries):
            raise ctx.fail("duplicate entry for this substance", key, "key", line)
        entries.append(ListEntry(list_code, key, category=cells.get("category", "")))
    if not entries:
        raise ctx.fail("the file has no rows", "", "", 1)
    listdef = ListDef(
        code=list_code,
        title=f"{list_code} (imported from {ctx.path.name})",
        confidential=bool(confidential),
        entries=tuple(entries),
    )
    return listdef, inline


def load_list_file(
    path: Path,
    substances: Mapping[str, Substance],
    *,
    code: str | None = None,
    confidential: bool | None = None,
    sources: Mapping[str, SourceRef] | None = None,
) -> tuple[ListDef, dict[str, Substance]]:
    """Read and validate one list (YAML, or CSV ``key,name,cas,smiles,synonyms,category``).

    ``code`` overrides the file's code (default for CSV: the file stem upper-cased);
    ``confidential`` overrides its flag. Returns the list (``content_hash`` set, ``version``
    0) and the substances the file defines inline. Source IDs are checked against ``sources``
    or the ``sources.yaml`` beside the file. Raises ListFileError on any error.
    """
    ctx = _Ctx(path, sources if sources is not None else _sources_beside(path))
    reader = _csv_list if path.suffix.lower() in (".csv", ".tsv") else _yaml_list
    listdef, inline = reader(ctx, substances, code, confidential)
    if inline:
        _check_shared(ctx, {**substances, **inline}, frozenset(substances))
    digest = content_hash(listdef, {**substances, **inline})
    return dataclasses.replace(listdef, content_hash=digest, version=0), inline


def bundled_lists_dir() -> Path:
    """The repository's ``lists/`` directory; raises ListFileError when it is missing."""
    path = Path(__file__).resolve().parents[3] / "lists"
    if not (path / SUBSTANCES_FILE).is_file():
        raise ListFileError(
            f"the bundled lists directory is missing ({SUBSTANCES_FILE} not found); install "
            "precursorwatch from its source tree (pip install -e .) or pass a lists directory",
            path=str(path),
        )
    return path


def load_bundled(path: Path | None = None) -> Watchlist:
    """``substances.yaml`` plus every list file (``*.yaml``, ``*.csv``) of a lists directory.

    ``path`` defaults to :func:`bundled_lists_dir`. Raises ListFileError on any invalid file
    or when two files declare the same list code.
    """
    directory = path or bundled_lists_dir()
    sources = load_sources(directory / SOURCES_FILE)
    substances = load_substances(directory / SUBSTANCES_FILE, sources=sources)
    lists: dict[str, ListDef] = {}
    skip = {SUBSTANCES_FILE, SOURCES_FILE}
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".csv"))
    for file in (f for f in files if f.name not in skip):
        listdef, inline = load_list_file(file, substances, sources=sources)
        if listdef.code in lists:
            raise ListFileError(
                f"list code {listdef.code} is declared by two files; give each list its own code",
                path=str(file),
                field="code",
            )
        lists[listdef.code] = listdef
        substances.update(inline)
    return Watchlist(substances=substances, lists=lists)
