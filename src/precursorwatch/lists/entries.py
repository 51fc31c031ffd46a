"""List files (YAML or CSV) to list definitions: entries, coverage, families, thresholds and
dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from precursorwatch.chem.molecule import (
    smarts_error,
    smiles_matches_smarts,
)
from precursorwatch.lists.checks import (
    CODE_RE,
    CSV_COLUMNS,
    CSV_DATE_COLUMNS,
    DATE_RE,
    ENTRY_FIELDS,
    INLINE_FIELDS,
    LIST_FIELDS,
    SUBSTANCES_FILE,
    THRESHOLD_FIELDS,
    FileCheck,
    SourceRef,
)
from precursorwatch.lists.dates import (
    ENTRY_DATE_FIELDS,
    LIST_DATE_FIELDS,
    THRESHOLD_DATE_FIELDS,
    read_dates,
)
from precursorwatch.lists.substances import parse_substance
from precursorwatch.lists.yamlfile import LINE_KEY, LINES_KEY, line_of, read_text, read_yaml
from precursorwatch.models import (
    COVERAGE_WORDS,
    ListDef,
    ListEntry,
    Substance,
    Threshold,
)


def parse_thresholds(
    ctx: FileCheck, raw: Mapping[str, Any], key: str, entry_from: str = ""
) -> tuple[Threshold, ...]:
    items = raw.get("thresholds") or []
    if not isinstance(items, list):
        raise ctx.fail("must be a list", key, "thresholds", line_of(raw, "thresholds"))
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ctx.fail("items must be mappings", key, "thresholds", line_of(raw, "thresholds"))
        ctx.check_fields(item, THRESHOLD_FIELDS, key)
        line = line_of(item) or line_of(raw)
        qty = item.get("quantity")
        if isinstance(qty, bool) or not isinstance(qty, int | float) or qty < 0:
            raise ctx.fail("threshold quantity must be a number >= 0", key, "thresholds", line)
        unit = ctx.text(item, "unit", key)
        if qty > 0 and not unit:
            raise ctx.fail("a threshold above 0 needs a unit", key, "thresholds", line)
        source = ctx.text(item, "source", key)
        if source:
            ctx.check_sources((source,), key, "thresholds", line)
        dates = read_dates(
            item, THRESHOLD_DATE_FIELDS, ctx.failer(item, key, field="thresholds", line=line)
        )
        if entry_from and dates["applies_from"] and dates["applies_from"] < entry_from:
            msg = f"a threshold cannot apply before its entry (applies_from {entry_from})"
            raise ctx.fail(msg, key, "thresholds", line)
        out.append(
            Threshold(
                float(qty),
                unit,
                ctx.text(item, "per", key),
                ctx.text(item, "note", key),
                source,
                applies_from=dates["applies_from"],
                applies_until=dates["applies_until"],
                act=dates["act"],
            )
        )
    return tuple(out)


def parse_entry(
    ctx: FileCheck,
    raw: Mapping[str, Any],
    code: str,
    known: Mapping[str, Substance],
    inline: dict[str, Substance],
    label: str,
    default_from: str = "",
) -> ListEntry:
    line = line_of(raw)
    if "substance" in raw:
        ctx.check_fields(raw, ENTRY_FIELDS, label)
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
        ctx.check_fields(raw, (ENTRY_FIELDS - {"substance"}) | INLINE_FIELDS, label)
        sub = parse_substance(
            ctx,
            {k: v for k, v in raw.items() if k in INLINE_FIELDS | {LINE_KEY, LINES_KEY}},
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
                f"{problem}; correct the pattern",
                key,
                "family_smarts",
                line_of(raw, "family_smarts"),
            )
        sub = known.get(key) or inline[key]
        if sub.smiles and smiles_matches_smarts(sub.smiles, smarts) is False:
            msg = "family_smarts does not match the entry's own substance; correct the pattern"
            raise ctx.fail(msg, key, "family_smarts", line)
    source = ctx.text(raw, "source", key)
    if source:
        ctx.check_sources((source,), key, "source", line_of(raw, "source"))
    dates = read_dates(raw, ENTRY_DATE_FIELDS, ctx.failer(raw, key))
    until = dates["applies_until"]
    if until and not dates["applies_from"] and until <= default_from:
        raise ctx.fail(
            f"{until} is not after the list's applies_from {default_from}; give the entry its "
            "own applies_from",
            key,
            "applies_until",
            line_of(raw, "applies_until"),
        )
    return ListEntry(
        list_code=code,
        substance_key=key,
        category=ctx.text(raw, "category", key),
        covers=covers,
        family_smarts=smarts,
        family_name=family_name,
        thresholds=parse_thresholds(ctx, raw, key, dates["applies_from"]),
        source=source,
        note=ctx.text(raw, "note", key),
        applies_from=dates["applies_from"],
        applies_until=dates["applies_until"],
        act=dates["act"],
        removed_by=dates["removed_by"],
    )


def resolve_code(ctx: FileCheck, code: str) -> str:
    if not CODE_RE.match(code):
        raise ctx.fail(
            f"list code {code!r} must be upper case letters, digits and hyphens (e.g. FIRM-1); "
            "give one with --code",
            "",
            "code",
        )
    return code


def yaml_list(
    ctx: FileCheck, known: Mapping[str, Substance], code: str | None, confidential: bool | None
) -> tuple[ListDef, dict[str, Substance]]:
    data = read_yaml(ctx.path)
    ctx.check_fields(data, LIST_FIELDS, "")
    own_sources = data.get("sources")
    if isinstance(own_sources, dict) and ctx.sources is not None:
        # a user's list may name its own sources: `sources: {ID: title}` or `{ID: {title: ..}}`
        ctx.sources = {
            **ctx.sources,
            **{
                str(k): SourceRef(str(k), "") for k in own_sources if k not in (LINE_KEY, LINES_KEY)
            },
        }
    list_code = resolve_code(ctx, code or ctx.text(data, "code", "") or ctx.path.stem.upper())
    date = ctx.text(data, "effective_date", "")
    if date and not DATE_RE.match(date):
        msg = "must be YYYY, YYYY-MM or YYYY-MM-DD"
        raise ctx.fail(msg, "", "effective_date", line_of(data, "effective_date"))
    flag = data.get("confidential", False)
    if not isinstance(flag, bool):
        raise ctx.fail("must be true or false", "", "confidential", line_of(data, "confidential"))
    source = ctx.text(data, "source", "")
    if source:
        ctx.check_sources((source,), "", "source", line_of(data, "source"))
    defaults = read_dates(data, LIST_DATE_FIELDS, ctx.failer(data, ""))
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ctx.fail(
            "must be a non-empty list of entries", "", "entries", line_of(data, "entries")
        )
    inline: dict[str, Substance] = {}
    entries: list[ListEntry] = []
    for i, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict):
            raise ctx.fail("each entry must be a mapping", f"#{i}")
        entry = parse_entry(ctx, raw, list_code, known, inline, f"#{i}", defaults["applies_from"])
        if any(e.substance_key == entry.substance_key for e in entries):
            raise ctx.fail(
                "duplicate entry for this substance", entry.substance_key, "substance", line_of(raw)
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
        applies_from=defaults["applies_from"],
        act=defaults["act"],
    )
    return listdef, inline


def csv_list(
    ctx: FileCheck, known: Mapping[str, Substance], code: str | None, confidential: bool | None
) -> tuple[ListDef, dict[str, Substance]]:
    list_code = resolve_code(ctx, code or ctx.path.stem.upper())
    delimiter = "\t" if ctx.path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(read_text(ctx.path)), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    for column in header:
        if column not in CSV_COLUMNS + CSV_DATE_COLUMNS:
            msg = f"unknown column; use {', '.join(CSV_COLUMNS + CSV_DATE_COLUMNS)}"
            raise ctx.fail(msg, "", column, 1)
    for column in ("key", "name"):
        if column not in header:
            raise ctx.fail("required column is missing", "", column, 1)
    reader.fieldnames = header
    inline: dict[str, Substance] = {}
    entries: list[ListEntry] = []
    for row in reader:
        line = reader.line_num
        cells: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
        dated = {k: (v or "").strip() for k, v in row.items() if k in CSV_DATE_COLUMNS}
        dates = read_dates(
            dated, frozenset(CSV_DATE_COLUMNS), ctx.failer(dated, cells.get("key", ""), line=line)
        )
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
            raw[LINE_KEY] = line
            sub = parse_substance(ctx, raw, label=f"row {line}")
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
        entries.append(
            ListEntry(
                list_code,
                key,
                category=cells.get("category", ""),
                applies_from=dates["applies_from"],
                applies_until=dates["applies_until"],
                act=dates["act"],
            )
        )
    if not entries:
        raise ctx.fail("the file has no rows", "", "", 1)
    listdef = ListDef(
        code=list_code,
        title=f"{list_code} (imported from {ctx.path.name})",
        confidential=bool(confidential),
        entries=tuple(entries),
    )
    return listdef, inline
