"""List versions: a list's canonical JSON, its content hash, and what changed between two.

Pure. A list version is identified by :func:`content_hash` over the canonical JSON of its
metadata, entries and the substances they name (:func:`listdef_to_dict`,
:func:`substance_to_dict`, exact inverses included for the store). :func:`diff_lists` compares
two :class:`~precursorwatch.models.ListDef` values (and, when given, the substances their entries
name, so a changed synonym or SMILES is reported too); ``lists diff`` prints
:meth:`ListDiff.lines`. :mod:`precursorwatch.lists.load` re-exports all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from precursorwatch import serial
from precursorwatch.errors import ListFileError
from precursorwatch.models import ListDef, ListEntry, Substance, Threshold
from precursorwatch.serial import (
    listdef_from_dict,
    listdef_to_dict,
    substance_from_dict,
    substance_to_dict,
)

__all__ = [
    "FieldChange",
    "ListDiff",
    "content_hash",
    "diff_lists",
    "listdef_from_dict",
    "listdef_to_dict",
    "substance_from_dict",
    "substance_to_dict",
]

#: ListDef fields compared as list metadata (entries, hash and version are compared apart).
_METADATA_FIELDS: tuple[str, ...] = (
    "code",
    "title",
    "legal_basis",
    "effective_date",
    "source",
    "confidential",
    "applies_from",
    "act",
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
    "applies_from",
    "applies_until",
    "act",
    "removed_by",
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
        if value.applies_from or value.applies_until:
            text += f" {value.applies_from or '…'}..{value.applies_until or '…'}"
        if value.act:
            text += f" by {value.act}"
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


def content_hash(listdef: ListDef, substances: Mapping[str, Substance]) -> str:
    """SHA-256 (hex) of a canonical JSON of the list's metadata, entries and named substances.

    ``content_hash`` and ``version`` themselves are left out, so re-loading an unchanged file
    gives the same hash, and a changed synonym or SMILES of a named substance a new one.
    Raises ListFileError when an entry names a substance missing from ``substances``.
    """
    for key in sorted({e.substance_key for e in listdef.entries}):
        if key not in substances:
            raise ListFileError(
                f"list {listdef.code} names substance {key!r}, which is not defined",
                entry=key,
                field="substance",
            )
    return serial.content_hash(listdef, substances)
