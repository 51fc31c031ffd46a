"""Finding 1 of issue 19: every depiction is bounded, and no page or report fails because of
one line.

The review's attack: one line whose SMILES is P2P followed by twenty linked Si8 cages (it
screens as P2P, structure-parent); its HTML report grew the server from 0.3 to 8 GB in 26 s,
and with ten cages RDKit raised and the screening's page and reports answered 500.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _live_server import Live, live_server
from precursorwatch.chem.depict import MAX_DEPICT_ATOMS, depict, depict_pair, drawable, placeholder
from precursorwatch.chem.molecule import parse_smiles

CAGE = "[Si]12[Si]3[Si]4[Si]1[Si]5[Si]2[Si]3[Si]45"
P2P = "CC(=O)Cc1ccccc1"


def cage_smiles(copies: int) -> str:
    return f"{P2P}.{CAGE * copies}"


# --- the chemistry, in this process ----------------------------------------------------------


@pytest.mark.parametrize("copies", [1, 10, 12, 20])
def test_cages_are_drawn_quickly_in_bounded_memory(copies: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    svg = depict_pair(cage_smiles(copies), P2P, listed_legend="P2P")
    assert time.monotonic() - t0 < 2
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200


def test_only_the_largest_fragments_within_the_bound_are_drawn() -> None:
    mol, _ = parse_smiles(cage_smiles(20))
    assert mol is not None
    part, note = drawable(mol)
    assert part is not None and part.GetNumHeavyAtoms() == 10  # P2P; the 160-atom chain left
    assert note == "largest fragments only"
    whole, note = drawable(parse_smiles(P2P)[0])
    assert whole is not None and note == ""
    big, _ = parse_smiles("C1" + "C" * (MAX_DEPICT_ATOMS + 20) + "C1")
    assert drawable(big) == (None, f"not drawn: over {MAX_DEPICT_ATOMS} heavy atoms")


def test_what_cannot_be_drawn_is_a_placeholder_saying_why() -> None:
    assert "over 4,000 characters" in depict("C" * 100_000, legend="x")
    svg = depict("not a smiles", legend="<b>x</b>")
    assert "not drawn" in svg and "<b>" not in svg and "&lt;b&gt;" in svg
    assert "&lt;script&gt;" in placeholder("<script>", "n")


# --- through the server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_server(tmp_path_factory.mktemp("depict"), {"operator": ("operator", "op-1")}) as s:
        yield s


def _upload_cage(live: Live, copies: int) -> str:
    manifest = f"line_id,description,smiles\nC1,laboratory reagent,{cage_smiles(copies)}\n"
    up = live.upload("operator", "cage.csv", manifest.encode())
    assert up.status_code == 201, up.text
    return str(up.json()["screening_id"])


def test_the_cage_report_answers_quickly_and_the_server_stays_small(live: Live) -> None:
    sid = _upload_cage(live, 20)
    line = live.get("operator", f"/v1/screenings/{sid}").json()["lines"][0]
    assert line["matched_key"] == "1-phenyl-2-propanone"
    assert line["match_type"] == "structure-parent"
    peak = 0.0
    for _ in range(3):  # every later view used to lay the cages out again
        t0 = time.monotonic()
        report = live.get("operator", f"/v1/screenings/{sid}/report.html", timeout=30)
        assert report.status_code == 200 and time.monotonic() - t0 < 10
        assert "<svg" in report.text
        peak = max(peak, live.rss_mb())
    with live.signed_in("operator") as page:
        assert page.get(f"/screenings/{sid}").status_code == 200
    assert peak < 1500


def test_ten_cages_break_no_page_or_report(live: Live) -> None:
    sid = _upload_cage(live, 10)
    assert live.get("operator", f"/v1/screenings/{sid}/report.html").status_code == 200
    with live.signed_in("operator") as page:
        assert page.get(f"/screenings/{sid}").status_code == 200
        assert page.get(f"/screenings/{sid}/report.html").status_code == 200


def test_a_huge_structure_is_screened_by_name_and_says_so(live: Live) -> None:
    lines = [{"description": "acetic anhydride", "smiles": "C1" + "C" * 300 + "C1"}]
    got = live.screen("operator", lines).json()["lines"][0]
    assert got["matched_key"] == "acetic-anhydride"
    assert "302 heavy atoms (limit 200); not compared" in got["reason"], got


def test_the_test_can_fail(tmp_path: Path) -> None:
    """The bound is real: without it CoordGen takes gigabytes on the cages (checked in a
    child process with a 1.5 GB address-space limit, which it breaks)."""
    import subprocess
    import sys

    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000,) * 2)\n"
        "from rdkit import Chem; from rdkit.Chem import rdCoordGen\n"
        f"m = Chem.MolFromSmiles({cage_smiles(20)!r})\n"
        "rdCoordGen.AddCoords(m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode != 0
