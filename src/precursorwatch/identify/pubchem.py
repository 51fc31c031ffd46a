"""The PubChem identifiers table of ``chemicals`` as a read-only SQLite file, built once.

Loading the table into memory costs every screening process ~1.2 s and ~200 MB. The index
file answers the three look-ups the resolvers make (exact name, CAS number, InChIKey) in a
few microseconds each, in any number of processes: forked workers and API workers open their
own read-only connection. It is written from the loaded table's own dictionaries, so it gives
exactly the answers the table gives (later rows win, as in the table), and its file name
carries a digest of the ``chemicals`` version, its source files and :data:`FORMAT`: another
release of the table gets another file. ``precursorwatch init`` builds it; so does the first
look-up that finds none. It holds nothing of the lists or of any screening.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Bump when the file's layout changes (the digest, hence the file name, changes with it).
FORMAT = "1"


@dataclass(frozen=True, slots=True)
class KnownChemical:
    """A chemical the PubChem table knows: its preferred name, CAS, SMILES and InChIKey."""

    name: str
    cas: str
    smiles: str
    inchikey: str


def source_digest(folder: Path) -> str:
    """A digest of :data:`FORMAT`, the ``chemicals`` version and the table's source files in
    ``folder`` (name, size and modification time of each ``.tsv``)."""
    h = hashlib.sha256(f"{FORMAT}|{importlib.metadata.version('chemicals')}".encode())
    for path in sorted(folder.glob("*.tsv")):
        st = path.stat()
        h.update(f"|{path.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def row_of(meta: Any) -> KnownChemical:
    """The :class:`KnownChemical` of one of the table's ChemicalMetadata objects."""
    return KnownChemical(
        str(meta.common_name or meta.iupac_name or ""),
        str(meta.CASs),
        str(meta.smiles or ""),
        str(meta.InChI_key or ""),
    )


_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE chemical (id INTEGER PRIMARY KEY, name TEXT, cas TEXT, smiles TEXT, inchikey TEXT);
CREATE TABLE by_name (key TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE by_cas (key INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE TABLE by_inchikey (key TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
"""


def build(path: Path, db: Any) -> Path:
    """Write the index of ``db`` (the loaded ``chemicals`` table) to ``path``; returns it.

    Written beside ``path`` and renamed into place, so a reader never sees half a file and
    two processes building at once both end with a whole one. Raises ``OSError`` or
    ``sqlite3.Error`` when the directory cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    ids: dict[int, int] = {}
    rows: list[tuple[int, str, str, str, str]] = []

    def row_id(meta: Any) -> int:
        key = id(meta)
        if key not in ids:
            ids[key] = len(ids) + 1
            known = row_of(meta)
            rows.append((ids[key], known.name, known.cas, known.smiles, known.inchikey))
        return ids[key]

    # sorted keys fill each B-tree page in order (twice as fast as the table's order); names
    # are looked up in lower case, so the table's keys in other cases are not kept
    names = [(k, row_id(m)) for k, m in sorted(db.name_index.items()) if m and k == k.lower()]
    cas = [(k, row_id(m)) for k, m in sorted(db.CAS_index.items()) if m]
    keys = [(k, row_id(m)) for k, m in sorted(db.InChI_key_index.items()) if m and k]
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(_SCHEMA)
        conn.executemany("INSERT INTO chemical VALUES (?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO by_name VALUES (?, ?)", names)
        conn.executemany("INSERT INTO by_cas VALUES (?, ?)", cas)
        conn.executemany("INSERT INTO by_inchikey VALUES (?, ?)", keys)
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)
    return path


_ROW = "SELECT c.name, c.cas, c.smiles, c.inchikey FROM chemical AS c JOIN "
_BY_NAME = _ROW + "by_name AS k ON c.id = k.id WHERE k.key = ?"
_BY_CAS = _ROW + "by_cas AS k ON c.id = k.id WHERE k.key = ?"
_BY_INCHIKEY = _ROW + "by_inchikey AS k ON c.id = k.id WHERE k.key = ?"


class PubchemIndex:
    """Read-only look-ups in an index file; each process (and fork) opens its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # immutable: no locks, no journal look-ups (the file never changes once renamed)
            uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._pid = os.getpid()
            self._lock = threading.Lock()
        return self._conn

    def _one(self, sql: str, key: str | int) -> KnownChemical | None:
        with self._lock:
            found = self._db().execute(sql, (key,)).fetchone()
        return None if found is None else KnownChemical(*found)

    def by_name(self, name: str) -> KnownChemical | None:
        """The chemical one of whose synonyms is ``name`` (in lower case); None when none is."""
        return self._one(_BY_NAME, name)

    def by_cas(self, cas: int) -> KnownChemical | None:
        """The chemical of a CAS number written as an integer (digits without hyphens)."""
        return self._one(_BY_CAS, cas)

    def by_inchikey(self, inchikey: str) -> KnownChemical | None:
        """The chemical of a full InChIKey; None when unknown."""
        return self._one(_BY_INCHIKEY, inchikey)
