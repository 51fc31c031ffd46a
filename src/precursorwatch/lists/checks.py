"""Validation of one list file: the field sets and formats, and the context that names the
file, entry, field and line in every error."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from precursorwatch.errors import ListFileError
from precursorwatch.identify.normalise import cas_check_ok, compact
from precursorwatch.lists.dates import (
    ENTRY_DATE_FIELDS,
    LIST_DATE_FIELDS,
    THRESHOLD_DATE_FIELDS,
)
from precursorwatch.lists.yamlfile import LINE_KEY, LINES_KEY, line_of


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source ID of ``sources.yaml``: what was read, where, and what it confirmed."""

    id: str
    title: str
    url: str = ""
    note: str = ""


SUBSTANCES_FILE = "substances.yaml"
SOURCES_FILE = "sources.yaml"
#: Language key of names given without a language (``synonyms`` of a user's list).
UNDETERMINED_LANGUAGE = "und"

KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
SOURCE_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
CAS_RE = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")
INCHIKEY_RE = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
#: An ISO 639 language code, with an ISO 15924 script where one language has two ("zh-Hant").
LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?$")
HS_RE = re.compile(r"^\d{4,10}$")
DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


SUBSTANCE_FIELDS = frozenset(
    {"key", "name", "cas", "other_cas", "smiles", "inchikey", "names", "abbreviations"}
    | {"ambiguous", "natural_sources", "hs_codes", "density_kg_per_l", "notes", "sources"}
)
INLINE_FIELDS = SUBSTANCE_FIELDS | {"synonyms"}
ENTRY_FIELDS = (
    frozenset(
        {"substance", "category", "covers", "family_name", "family_smarts", "thresholds"}
        | {"source", "note"}
    )
    | ENTRY_DATE_FIELDS
)
LIST_FIELDS = (
    frozenset(
        {"code", "title", "legal_basis", "effective_date", "source", "confidential", "entries"}
        | {"sources"}
    )
    | LIST_DATE_FIELDS
)
THRESHOLD_FIELDS = frozenset({"quantity", "unit", "per", "note", "source"}) | THRESHOLD_DATE_FIELDS
CSV_COLUMNS = ("key", "name", "cas", "smiles", "synonyms", "category")
#: Optional date columns of a CSV list (the entry's ``applies_from``, ``applies_until``, ``act``).
CSV_DATE_COLUMNS = ("applies_from", "applies_until", "act")


def cas_shape_and_digit_ok(cas: str) -> bool:
    """True when ``cas`` has the CAS RN shape and its check digit is right."""
    return CAS_RE.match(cas) is not None and cas_check_ok(cas)


def fold_name(name: str) -> str:
    """A name as the screening index compares it (letters and digits, no case or accents)."""
    return compact(name)


class FileCheck:
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
                raise self.fail("required field is missing", entry, field, line_of(raw, field))
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(
                f"must be text, not {type(value).__name__}", entry, field, line_of(raw, field)
            )
        return str(value).strip()

    def texts(self, raw: Mapping[str, Any], field: str, entry: str) -> tuple[str, ...]:
        value = raw.get(field)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail("must be a list, e.g. [a, b]", entry, field, line_of(raw, field))
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                msg = f"list items must be text, not {type(item).__name__}"
                raise self.fail(msg, entry, field, line_of(raw, field))
            if str(item).strip():
                out.append(str(item).strip())
        if len({" ".join(x.casefold().split()) for x in out}) != len(out):
            raise self.fail("a value is repeated", entry, field, line_of(raw, field))
        return tuple(out)

    def check_sources(self, ids: tuple[str, ...], entry: str, field: str, line: int) -> None:
        if self.sources is None:
            return
        for sid in ids:
            if sid not in self.sources:
                msg = f"unknown source ID {sid!r}; add it to {SOURCES_FILE} or use a known ID"
                raise self.fail(msg, entry, field, line)

    def failer(
        self, raw: Mapping[str, Any], entry: str, *, field: str = "", line: int = 0
    ) -> Callable[[str, str], ListFileError]:
        """``fail(message, name)`` for :func:`~precursorwatch.lists.dates.read_dates`: the error
        names ``entry`` and ``field`` (default: the date field) at ``line`` (default: its own)."""

        def fail(message: str, name: str) -> ListFileError:
            where = line or line_of(raw, name)
            prefix = f"{name}: " if field else ""
            return self.fail(prefix + message, entry, field or name, where)

        return fail

    def check_fields(self, raw: Mapping[str, Any], allowed: frozenset[str], entry: str) -> None:
        unknown = sorted(str(k) for k in raw if k not in (LINE_KEY, LINES_KEY) and k not in allowed)
        if unknown:
            msg = f"unknown field; allowed: {', '.join(sorted(allowed))}"
            raise self.fail(msg, entry, unknown[0], line_of(raw, unknown[0]))


def check_cas(ctx: FileCheck, cas: str, entry: str, field: str, line: int) -> None:
    if not CAS_RE.match(cas):
        msg = f"{cas!r} is not a CAS number (digits-2digits-1digit, e.g. 108-24-7)"
        raise ctx.fail(msg, entry, field, line)
    if not cas_shape_and_digit_ok(cas):
        msg = f"CAS {cas} fails its check digit; correct the number (a typo is likely)"
        raise ctx.fail(msg, entry, field, line)


# --- substances -----------------------------------------------------------------------------
