"""List versions: a list's canonical JSON, its content hash, and what changed between two.

Pure. A list version is identified by :func:`content_hash` over the canonical JSON of its
metadata, entries and the substances they name (:func:`listdef_to_dict`,
:func:`substance_to_dict`, exact inverses included for the store). :func:`diff_lists` compares
two :class:`~precursorwatch.models.ListDef` values (and, when given, the substances their entries
name, so a changed synonym or SMILES is reported too); ``lists diff`` prints
:meth:`ListDiff.lines`. :mod:`precursorwatch.lists` re-exports all of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from precursorwatch.errors import ListFileError
from precursorwatch.models import ListDef, ListEntry, OtherCas, Substance, Threshold

#: ListDef fields compared as list metadata (entries, hash and version are compared apart).
_METADATA_FIELDS: tuple[str, ...] = (
    "code",
    "title",
    "legal_basis",
    "effective_date",
    "source",
    "confidential",
)
#: ListEntry fields compared per entry (list_code and substance_key identify the entry).
_ENTRY_FIELDS: tuple[str, ...] = (
    "category",
    "covers",
    "family_name",
    "family_smarts",
    "thresholds",
    "source",
    "note",
)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs; ``substance_key`` is ``""`` for the list's own metadata.

    ``field`` is an entry field (``covers``), a list field (``title``) or, for a change in the
    substance an entry names, ``substance.<field>`` (``substance.names``).
    """

    substance_key: str
    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ListDiff:
    """The difference between an old and a new version of one list."""

    code: str
    added: tuple[ListEntry, ...] = ()
    removed: tuple[ListEntry, ...] = ()
    changed: tuple[FieldChange, ...] = ()
    metadata: tuple[FieldChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the two versions are the same in every compared field."""
        return not (self.added or self.removed or self.changed or self.metadata)

    def changed_keys(self) -> tuple[str, ...]:
        """Keys of the substances whose entry (or substance record) changed, in order."""
        return tuple(dict.fromkeys(c.substance_key for c in self.changed))

    def lines(self) -> tuple[str, ...]:
        """One plain line per difference, for a terminal or an audit record."""
        out = [f"{self.code}: {c.field} {c.old!r} -> {c.new!r}" for c in self.metadata]
        out += [f"+ {e.substance_key} ({_entry_summary(e)})" for e in self.added]
        out += [f"- {e.substance_key} ({_entry_summary(e)})" for e in self.removed]
        out += [f"~ {c.substance_key}: {c.field} {c.old!r} -> {c.new!r}" for c in self.changed]
        return tuple(out)


def _render(value: object) -> str:
    """A stable, readable text form of a field value, for comparison and display."""
    if isinstance(value, Threshold):
        per = f"/{value.per}" if value.per else ""
        text = f"{value.quantity:g} {value.unit}{per}".strip()
        return (
            f"{text} ({value.note}) [{value.source}]" if value.note else f"{text} [{value.source}]"
        )
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_render(v)}" for k, v in value.items())
    if isinstance(value, tuple | list):
        return ", ".join(_render(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _entry_summary(entry: ListEntry) -> str:
    parts = [entry.category or "no category"]
    if entry.covers:
        parts.append("covers " + ", ".join(entry.covers))
    if entry.family_name:
        parts.append("family: " + entry.family_name)
    return "; ".join(parts)


def diff_lists(
    old: ListDef,
    new: ListDef,
    *,
    old_substances: Mapping[str, Substance] | None = None,
    new_substances: Mapping[str, Substance] | None = None,
) -> ListDiff:
    """Compare two versions of a list, entry by entry (entries are matched by substance key).

    When both substance mappings are given, each entry present in both versions also reports
    changes in the substance it names (names, CAS, SMILES …) as ``substance.<field>``. Never
    raises: a key missing from a mapping is compared as an absent substance.
    """
    metadata = tuple(
        FieldChange("", name, _render(getattr(old, name)), _render(getattr(new, name)))
        for name in _METADATA_FIELDS
        if getattr(old, name) != getattr(new, name)
    )
    old_by_key = {e.substance_key: e for e in old.entries}
    new_by_key = {e.substance_key: e for e in new.entries}
    added = tuple(e for k, e in new_by_key.items() if k not in old_by_key)
    removed = tuple(e for k, e in old_by_key.items() if k not in new_by_key)
    changed: list[FieldChange] = []
    for key, new_entry in new_by_key.items():
        old_entry = old_by_key.get(key)
        if old_entry is None:
            continue
        for name in _ENTRY_FIELDS:
            before, after = getattr(old_entry, name), getattr(new_entry, name)
            if before != after:
                changed.append(FieldChange(key, name, _render(before), _render(after)))
        if old_substances is not None and new_substances is not None:
            changed.extend(
                _substance_changes(key, old_substances.get(key), new_substances.get(key))
            )
    return ListDiff(new.code, added, removed, tuple(changed), metadata)


def _substance_changes(key: str, old: Substance | None, new: Substance | None) -> list[FieldChange]:
    if old == new:
        return []
    if old is None or new is None:
        return [
            FieldChange(key, "substance", "" if old is None else key, "" if new is None else key)
        ]
    out = []
    for f in fields(Substance):
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before != after:
            out.append(FieldChange(key, f"substance.{f.name}", _render(before), _render(after)))
    return out


# --- canonical JSON and hashing ---------------------------------------------------------------


def substance_to_dict(substance: Substance) -> dict[str, Any]:
    """``Substance`` -> JSON-able dict with every field (tuples as lists)."""
    out = dataclasses.asdict(substance)
    out["other_cas"] = [{"cas": o.cas, "form": o.form} for o in substance.other_cas]
    out["names"] = {lang: list(v) for lang, v in substance.names.items()}
    for name in ("abbreviations", "ambiguous", "natural_sources", "hs_codes", "sources"):
        out[name] = list(out[name])
    return out


def substance_from_dict(data: Mapping[str, Any]) -> Substance:
    """The exact inverse of :func:`substance_to_dict`; raises KeyError/TypeError on bad data."""
    density = data.get("density_kg_per_l")
    return Substance(
        key=data["key"],
        name=data["name"],
        cas=data.get("cas", ""),
        other_cas=tuple(OtherCas(o["cas"], o["form"]) for o in data.get("other_cas", ())),
        smiles=data.get("smiles", ""),
        inchikey=data.get("inchikey", ""),
        names={lang: tuple(v) for lang, v in data.get("names", {}).items()},
        abbreviations=tuple(data.get("abbreviations", ())),
        ambiguous=tuple(data.get("ambiguous", ())),
        natural_sources=tuple(data.get("natural_sources", ())),
        hs_codes=tuple(data.get("hs_codes", ())),
        density_kg_per_l=None if density is None else float(density),
        notes=data.get("notes", ""),
        sources=tuple(data.get("sources", ())),
    )


def _entry_to_dict(entry: ListEntry) -> dict[str, Any]:
    out = dataclasses.asdict(entry)
    out["covers"] = list(entry.covers)
    out["thresholds"] = [dataclasses.asdict(t) for t in entry.thresholds]
    return out


def listdef_to_dict(listdef: ListDef) -> dict[str, Any]:
    """``ListDef`` -> JSON-able dict with every field (entries and thresholds as lists)."""
    out = {f.name: getattr(listdef, f.name) for f in dataclasses.fields(ListDef)}
    out["entries"] = [_entry_to_dict(e) for e in listdef.entries]
    return out


def listdef_from_dict(data: Mapping[str, Any]) -> ListDef:
    """The exact inverse of :func:`listdef_to_dict`; raises KeyError/TypeError on bad data."""
    entries = tuple(
        ListEntry(
            list_code=e["list_code"],
            substance_key=e["substance_key"],
            category=e.get("category", ""),
            covers=tuple(e.get("covers", ())),
            family_smarts=e.get("family_smarts", ""),
            family_name=e.get("family_name", ""),
            thresholds=tuple(
                Threshold(
                    float(t["quantity"]),
                    t["unit"],
                    t.get("per", ""),
                    t.get("note", ""),
                    t.get("source", ""),
                )
                for t in e.get("thresholds", ())
            ),
            source=e.get("source", ""),
            note=e.get("note", ""),
        )
        for e in data.get("entries", ())
    )
    return ListDef(
        code=data["code"],
        title=data["title"],
        legal_basis=data.get("legal_basis", ""),
        effective_date=data.get("effective_date", ""),
        source=data.get("source", ""),
        confidential=bool(data.get("confidential", False)),
        entries=entries,
        content_hash=data.get("content_hash", ""),
        version=int(data.get("version", 0)),
    )


def content_hash(listdef: ListDef, substances: Mapping[str, Substance]) -> str:
    """SHA-256 (hex) of a canonical JSON of the list's metadata, entries and named substances.

    ``content_hash`` and ``version`` themselves are left out, so re-loading an unchanged file
    gives the same hash, and a changed synonym or SMILES of a named substance a new one.
    Raises ListFileError when an entry names a substance missing from ``substances``.
    """
    body = listdef_to_dict(dataclasses.replace(listdef, content_hash="", version=0))
    named: dict[str, Any] = {}
    for key in sorted({e.substance_key for e in listdef.entries}):
        if key not in substances:
            raise ListFileError(
                f"list {listdef.code} names substance {key!r}, which is not defined",
                entry=key,
                field="substance",
            )
        named[key] = substance_to_dict(substances[key])
    text = json.dumps({"list": body, "substances": named}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
