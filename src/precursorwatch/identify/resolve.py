"""Name, CAS and InChIKey -> what a chemical *is*, from the PubChem identifiers table.

The table ships with the ``chemicals`` package (~70,000 compounds with synonyms): exact name,
CAS and InChIKey look-ups only — never its formula parser, which reads 'P2P' as P3.
Systematic names the table does not know go to OPSIN (:mod:`precursorwatch.identify.opsin`).
"""

from __future__ import annotations

import gc
import importlib.util
import sqlite3
import time
from functools import cache
from pathlib import Path
from typing import Any

from precursorwatch.errors import ResolverError
from precursorwatch.identify.normalise import cas_check_ok, clean_text
from precursorwatch.identify.pubchem import (
    KnownChemical,
    PubchemIndex,
    build,
    row_of,
    source_digest,
)
from precursorwatch.settings import get_settings

#: Bump when resolution logic changes: cached resolutions keyed with another version are ignored.
RESOLVER_VERSION = "5"


@cache
def _pubchem_db() -> Any:
    """The chemicals package's in-memory table, fully loaded once (~1.2 s, ~200 MB).

    Used to build the index file, and in its place when no index can be written. Its
    millions of objects live as long as the process: they are moved out of the garbage
    collector's reach (``gc.freeze``, after collecting what is garbage now), or every full
    collection of a screening walks them again (0.2 s each, 2.3 s per 200,000 new lines).
    """
    from chemicals.identifiers import pubchem_db

    pubchem_db.finish_loading()
    gc.collect()
    gc.freeze()
    return pubchem_db


class _InMemoryTable:
    """The loaded table behind the :class:`~precursorwatch.identify.pubchem.PubchemIndex`
    look-ups (when the index file cannot be written)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def by_name(self, name: str) -> KnownChemical | None:
        meta = self.db.search_name(name, autoload=False)
        return row_of(meta) if meta else None

    def by_cas(self, cas: int) -> KnownChemical | None:
        meta = self.db.search_CAS(cas, autoload=False)
        return row_of(meta) if meta else None

    def by_inchikey(self, inchikey: str) -> KnownChemical | None:
        meta = self.db.search_InChI_key(inchikey, autoload=False)
        return row_of(meta) if meta else None


def _chemicals_tables() -> Path:
    """The folder of the ``chemicals`` package's identifier tables (``identifiers.folder``),
    found without importing the package: its import loads some 80 modules (0.06 s), which a
    screening that reads the index file never needs."""
    spec = importlib.util.find_spec("chemicals")
    if spec is None or spec.origin is None:
        raise ResolverError("the 'chemicals' package is not installed; reinstall precursorwatch")
    return Path(spec.origin).parent / "Identifiers"


def pubchem_index_path() -> Path:
    """Where this installation's PubChem index file is (in the settings' ``cache_dir``)."""
    digest = source_digest(_chemicals_tables())
    return get_settings().cache_dir / f"pubchem-{digest}.sqlite"


def prepare_pubchem_index() -> Path:
    """Build the PubChem index file unless it exists (~8 s once); returns its path.

    Raises ``OSError`` or ``sqlite3.Error`` when the cache directory cannot be written.
    """
    path = pubchem_index_path()
    if not path.exists():
        build(path, _pubchem_db())
    return path


def prepare_pubchem_index_said() -> str:
    """:func:`prepare_pubchem_index`, said for a person: 'PATH (ready)' or 'PATH (built in
    6.4 s)'. Raises as it does."""
    existed, t0 = pubchem_index_path().exists(), time.perf_counter()
    path = prepare_pubchem_index()
    return f"{path} ({'ready' if existed else f'built in {time.perf_counter() - t0:.1f} s'})"


@cache
def _table() -> PubchemIndex | _InMemoryTable:
    """The look-ups: the index file (built now if missing), else the in-memory table."""
    try:
        return PubchemIndex(prepare_pubchem_index())
    except (OSError, sqlite3.Error):
        return _InMemoryTable(_pubchem_db())


def load_pubchem() -> None:
    """Open the PubChem look-ups now (before forking workers, which then share them)."""
    _table()


#: Functional-class words the PubChem synonyms map to one arbitrary member ("lactone" ->
#: trioxsalen, "anhydride" -> chromic anhydride, "aldehyde" -> acetaldehyde). A declaration
#: saying only "aldehyde" names a class, not a chemical (IUPAC functional class names).
GENERIC_CLASS_WORDS: frozenset[str] = frozenset(
    {
        "acid",
        "acids",
        "alcohol",
        "alcohols",
        "aldehyde",
        "aldehydes",
        "amide",
        "amides",
        "amine",
        "amines",
        "anhydride",
        "anhydrides",
        "ester",
        "esters",
        "ether",
        "ethers",
        "ketone",
        "ketones",
        "lactone",
        "lactones",
        "nitrile",
        "nitriles",
        "salt",
        "salts",
        "base",
        "bases",
        "oxide",
        "oxides",
        "solvent",
        "solvents",
        "hydrocarbon",
        "hydrocarbons",
        "phenol",
        "phenols",
    }
)


def pubchem_by_name(name: str) -> KnownChemical | None:
    """Exact (case-insensitive) synonym look-up in the PubChem table; None when unknown.

    Names of one or two characters are not looked up: the table holds element symbols and
    abbreviations that would turn noise into chemicals. Bare class words
    (:data:`GENERIC_CLASS_WORDS`) are not looked up either.
    """
    key = clean_text(name).lower()
    if len(key) < 3 or key in GENERIC_CLASS_WORDS:
        return None
    return _table().by_name(key)


def pubchem_by_cas(cas: str) -> KnownChemical | None:
    """The PubChem-table chemical with this CAS number; None when unknown or malformed."""
    if not cas_check_ok(cas):
        return None
    return _table().by_cas(int(cas.replace("-", "")))


def pubchem_by_inchikey(inchikey: str) -> KnownChemical | None:
    """The PubChem-table chemical with this full InChIKey; None when unknown."""
    if len(inchikey) != 27:
        return None
    return _table().by_inchikey(inchikey)
