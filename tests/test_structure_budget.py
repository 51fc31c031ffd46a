"""Issue 19: a time budget per line for structure work.

A declaration can name many structures; before the budget, a description of forty InChI
strings of ergotamine look-alikes took 7.3 s of comparison (bench/redteam_findings.py has the
look-alikes). Here, with the real RDKit and the bundled lists: a spent budget leaves the
remaining comparisons out, the line still finds what identity finds, its reason says what
was left out, and a stopped result is not kept in the store's cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rdkit import Chem

from precursorwatch.engine.budget import STOPPED_NOTE, StructureBudget, was_stopped
from precursorwatch.lists.load import load_bundled
from precursorwatch.models import DeclarationLine, LineResult, Watchlist
from precursorwatch.run.screener import Screener
from precursorwatch.run.service import StoreResolutionCache, make_screener, open_ready_store
from precursorwatch.settings import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from redteam_findings import ergot_lookalikes

P2P_SMILES = "CC(=O)Cc1ccccc1"


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture(scope="module")
def watchlist() -> Watchlist:
    return load_bundled()


def inchi(smiles: str) -> str:
    return str(Chem.MolToInchi(Chem.MolFromSmiles(smiles)))


def lookalikes_line(n: int, *extra: str) -> DeclarationLine:
    """One line whose description is ``n`` InChI strings of ergotamine look-alikes."""
    parts = [*extra, *(inchi(s) for s in ergot_lookalikes(n))]
    return DeclarationLine(row=1, line_id="L1", description="; ".join(parts))


def screen_one(screener: Screener, line: DeclarationLine) -> LineResult:
    (result,) = screener.screen_lines([line])
    return result


def test_a_budget_allows_until_its_time_then_counts_what_it_refuses() -> None:
    budget = StructureBudget(2.5, Ticks())
    budget.start()  # deadline 3.5
    assert [budget.allows() for _ in range(4)] == [True, True, False, False]
    assert budget.stopped and budget.skipped == 2
    assert budget.note().startswith(STOPPED_NOTE) and "2 comparison(s)" in budget.note()
    budget.start()
    assert not budget.stopped and budget.note() == ""


def test_with_time_each_look_alike_is_compared(watchlist: Watchlist) -> None:
    result = screen_one(Screener(watchlist, use_opsin=False), lookalikes_line(3))
    assert result.match_type == "similar" and result.flagged
    assert not was_stopped(result.reason)
    assert sum(e.kind == "similar" for e in result.evidence) >= 3


def test_a_spent_budget_leaves_comparisons_out_and_says_so(watchlist: Watchlist) -> None:
    screener = Screener(watchlist, use_opsin=False, structure_seconds=0.0)
    result = screen_one(screener, lookalikes_line(3))
    assert not any(e.kind in ("similar", "derivative") for e in result.evidence)
    assert was_stopped(result.reason)
    assert "may have been missed" in result.reason


def test_identity_is_found_whatever_the_budget(watchlist: Watchlist) -> None:
    # P2P among forty look-alikes: the identity matcher is exact and cheap and always runs
    line = lookalikes_line(40, inchi(P2P_SMILES))
    result = screen_one(Screener(watchlist, use_opsin=False, structure_seconds=0.0), line)
    assert result.matched_key == "1-phenyl-2-propanone" and result.risk == "high"
    assert result.match_type.startswith("structure")
    assert was_stopped(result.reason)


def test_a_stopped_result_is_not_kept_in_the_store_cache(tmp_db_url: str) -> None:
    store = open_ready_store(get_settings(database_url=tmp_db_url))
    hurried = make_screener(store, use_opsin=False)
    hurried.structure_seconds = 0.0
    line = lookalikes_line(2)
    assert was_stopped(screen_one(hurried, line).reason)
    # a later screening with time compares them: nothing stopped came from the cache
    patient = Screener(hurried.watchlist, use_opsin=False, cache=StoreResolutionCache(store))
    result = screen_one(patient, line)
    assert not was_stopped(result.reason)
    assert any(e.kind == "similar" for e in result.evidence)
