"""List files -> validated substances and list definitions, with a content hash per version.

Pure: reads YAML/CSV files and returns :mod:`precursorwatch.models` values; no database. A file
with any error is refused whole with :class:`~precursorwatch.errors.ListFileError`, whose
message names the file, the line, the entry and the field, and says what to do. Checked: YAML
syntax, required and unknown fields, key slugs, list codes, CAS format and check digit (``cas``
and ``other_cas``), SMILES parse, recorded InChIKey = computed InChIKey, family SMARTS compile
(and match their own substance), substance keys, coverage words, source IDs, names shared by
two substances without an ``ambiguous`` declaration, CAS numbers shared by two substances,
duplicates, and the dates of lists, entries and thresholds (:mod:`precursorwatch.lists.dates`).
The schema is in ``lists/README.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from precursorwatch.errors import ListFileError
from precursorwatch.lists.checks import (
    SOURCES_FILE,
    SUBSTANCES_FILE,
    FileCheck,
    SourceRef,
)
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
from precursorwatch.lists.entries import csv_list, yaml_list
from precursorwatch.lists.substances import (
    check_shared,
    load_sources,
    load_substances,
    sources_beside,
)
from precursorwatch.models import (
    ListDef,
    Substance,
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
    ctx = FileCheck(path, sources if sources is not None else sources_beside(path))
    reader = csv_list if path.suffix.lower() in (".csv", ".tsv") else yaml_list
    listdef, inline = reader(ctx, substances, code, confidential)
    if inline:
        check_shared(ctx, {**substances, **inline}, frozenset(substances))
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
