"""The PubChem look-up index file gives the in-memory table's answers, is found again by the
next process, and gives way to the in-memory table when it cannot be written. Real
``chemicals`` table, real SQLite."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from precursorwatch.identify import resolve
from precursorwatch.identify.pubchem import PubchemIndex, build, row_of


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return resolve._pubchem_db()


@pytest.fixture(scope="module")
def index(table, tmp_path_factory: pytest.TempPathFactory) -> PubchemIndex:  # type: ignore[no-untyped-def]
    return PubchemIndex(build(tmp_path_factory.mktemp("pubchem") / "index.sqlite", table))


def test_the_index_answers_as_the_table_does(table, index: PubchemIndex) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    names = [*rng.sample(sorted(table.name_index), 5000), "acetone", "no such chemical"]
    for name in names:
        meta = table.search_name(name.lower(), autoload=False)
        assert index.by_name(name.lower()) == (row_of(meta) if meta else None), name
    for cas in [*rng.sample(sorted(table.CAS_index), 2000), 1]:
        meta = table.search_CAS(cas, autoload=False)
        assert index.by_cas(cas) == (row_of(meta) if meta else None), cas
    for key in rng.sample(sorted(k for k in table.InChI_key_index if k), 2_000):
        assert index.by_inchikey(key) == row_of(table.search_InChI_key(key, autoload=False))
    acetone = index.by_cas(67641)
    assert acetone is not None and acetone.name == "acetone" and acetone.cas == "67-64-1"


@pytest.fixture
def fresh_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The resolvers' look-ups chosen again under this test's settings, and again after."""
    resolve._table.cache_clear()
    yield
    monkeypatch.undo()
    resolve._table.cache_clear()


def test_the_resolvers_use_the_index_in_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_table: None
) -> None:
    monkeypatch.setenv("PRECURSORWATCH_CACHE_DIR", str(tmp_path / "cache"))
    path = resolve.pubchem_index_path()
    assert path.parent == tmp_path / "cache" and not path.exists()
    acetone = resolve.pubchem_by_name("Acetone")
    assert path.exists() and isinstance(resolve._table(), PubchemIndex)
    assert acetone is not None and acetone.cas == "67-64-1"
    assert resolve.pubchem_by_cas("67-64-1") == acetone
    assert resolve.pubchem_by_inchikey(acetone.inchikey) == acetone
    built = path.stat().st_mtime_ns
    assert resolve.prepare_pubchem_index() == path and path.stat().st_mtime_ns == built


def test_an_unwritable_cache_dir_falls_back_to_the_table_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_table: None
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PRECURSORWATCH_CACHE_DIR", str(blocker / "cache"))
    acetone = resolve.pubchem_by_name("acetone")
    assert not isinstance(resolve._table(), PubchemIndex)
    assert acetone is not None and acetone.cas == "67-64-1"
