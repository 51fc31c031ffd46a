"""``substances.yaml`` and ``sources.yaml``: each chemical once, each source once, validated."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from precursorwatch.chem.molecule import (
    inchikey_from_smiles,
    parse_smiles,
)
from precursorwatch.lists.checks import (
    HS_RE,
    INCHIKEY_RE,
    KEY_RE,
    LANG_RE,
    SOURCE_ID_RE,
    SOURCES_FILE,
    SUBSTANCE_FIELDS,
    UNDETERMINED_LANGUAGE,
    FileCheck,
    SourceRef,
    check_cas,
    fold_name,
)
from precursorwatch.lists.yamlfile import LINE_KEY, LINES_KEY, line_of, read_yaml
from precursorwatch.models import (
    OtherCas,
    Substance,
)


def load_sources(path: Path) -> dict[str, SourceRef]:
    """Read ``sources.yaml`` (``sources: {ID: {title, url, note}}``).

    Raises ListFileError when the file is missing, malformed or an ID is badly formed.
    """
    data = read_yaml(path)
    ctx = FileCheck(path, None)
    ctx.check_fields(data, frozenset({"sources"}), "")
    raw = data.get("sources")
    if not isinstance(raw, dict):
        raise ctx.fail("must be a mapping of source IDs", "", "sources", line_of(data, "sources"))
    out: dict[str, SourceRef] = {}
    for sid, body in raw.items():
        if sid in (LINE_KEY, LINES_KEY):
            continue
        if not isinstance(sid, str) or not SOURCE_ID_RE.match(sid):
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


def sources_beside(path: Path) -> dict[str, SourceRef] | None:
    beside = path.parent / SOURCES_FILE
    return load_sources(beside) if beside.is_file() and beside != path else None


def parse_substance(ctx: FileCheck, raw: Mapping[str, Any], *, label: str) -> Substance:
    """One substance mapping -> Substance (fields checked; InChIKey computed when not given)."""
    line = line_of(raw)
    key = ctx.text(raw, "key", label, required=True)
    if not KEY_RE.match(key):
        msg = f"key {key!r} must be a lower-case slug of letters, digits and hyphens"
        raise ctx.fail(msg, key, "key", line)
    ctx.lines[key] = line
    name = ctx.text(raw, "name", key, required=True)
    cas = ctx.text(raw, "cas", key)
    if cas:
        check_cas(ctx, cas, key, "cas", line_of(raw, "cas"))
    other: list[OtherCas] = []
    raw_other = raw.get("other_cas") or []
    if not isinstance(raw_other, list):
        raise ctx.fail("must be a list of {cas, form}", key, "other_cas", line_of(raw, "other_cas"))
    for item in raw_other:
        if not isinstance(item, dict):
            raise ctx.fail(
                "items must be {cas: ..., form: ...}", key, "other_cas", line_of(raw, "other_cas")
            )
        ctx.check_fields(item, frozenset({"cas", "form"}), key)
        ocas = ctx.text(item, "cas", key, required=True)
        check_cas(ctx, ocas, key, "other_cas", line_of(item) or line_of(raw, "other_cas"))
        other.append(OtherCas(ocas, ctx.text(item, "form", key, required=True)))
    smiles, inchikey = ctx.text(raw, "smiles", key), ctx.text(raw, "inchikey", key)
    if smiles:
        _, reason = parse_smiles(smiles)
        if reason:
            raise ctx.fail(f"{reason}; correct the SMILES", key, "smiles", line_of(raw, "smiles"))
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
    elif inchikey and not INCHIKEY_RE.match(inchikey):
        raise ctx.fail(
            f"{inchikey!r} is not an InChIKey", key, "inchikey", line_of(raw, "inchikey")
        )
    names: dict[str, tuple[str, ...]] = {}
    raw_names = raw.get("names") or {}
    if not isinstance(raw_names, dict):
        raise ctx.fail("must be a mapping language: [names]", key, "names", line_of(raw, "names"))
    for lang in raw_names:
        if lang in (LINE_KEY, LINES_KEY):
            continue
        if not isinstance(lang, str) or not LANG_RE.match(lang):
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
                "must be a number", key, "density_kg_per_l", line_of(raw, "density_kg_per_l")
            )
        if not 0 < raw_density < 25:
            msg = "must be a density in kg/L (0 < d < 25)"
            raise ctx.fail(msg, key, "density_kg_per_l", line_of(raw, "density_kg_per_l"))
        density = float(raw_density)
    hs_codes = ctx.texts(raw, "hs_codes", key)
    for code in hs_codes:
        if not HS_RE.match(code):
            msg = f"HS/CN code {code!r} must be 4 to 10 digits without dots or spaces"
            raise ctx.fail(msg, key, "hs_codes", line)
    sources = ctx.texts(raw, "sources", key)
    ctx.check_sources(sources, key, "sources", line_of(raw, "sources"))
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
    own = {fold_name(n) for n in substance.all_names()}
    for amb in substance.ambiguous:
        if fold_name(amb) not in own:
            msg = f"{amb!r} is declared ambiguous but is not one of this substance's names"
            raise ctx.fail(msg, key, "ambiguous", line)
    return substance


def check_shared(ctx: FileCheck, subs: Mapping[str, Substance], fixed: frozenset[str]) -> None:
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
        for folded in dict.fromkeys(fold_name(n) for n in sub.all_names()):
            name_owners.setdefault(folded, []).append(key)
    for folded, keys in name_owners.items():
        if len(keys) < 2:
            continue
        for key in keys:
            declared = {fold_name(a) for a in subs[key].ambiguous}
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
    ctx = FileCheck(path, sources if sources is not None else sources_beside(path))
    data = read_yaml(path)
    ctx.check_fields(data, frozenset({"substances"}), "")
    raw = data.get("substances")
    if not isinstance(raw, list):
        raise ctx.fail(
            "must be a list of substances", "", "substances", line_of(data, "substances")
        )
    out: dict[str, Substance] = {}
    for i, item in enumerate(raw, start=1):
        label = f"#{i}"
        if not isinstance(item, dict):
            raise ctx.fail("each substance must be a mapping", label)
        ctx.check_fields(item, SUBSTANCE_FIELDS, str(item.get("key") or label))
        sub = parse_substance(ctx, item, label=label)
        if sub.key in out:
            raise ctx.fail("duplicate substance key", sub.key, "key", line_of(item))
        out[sub.key] = sub
    check_shared(ctx, out, frozenset())
    return out


# --- lists ----------------------------------------------------------------------------------
