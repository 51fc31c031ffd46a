"""The CLI through typer's runner on a fresh store: exit codes, contract, lists, keys."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).parent.parent / "sample_shipments"
CHECKER = Path(__file__).parent.parent.parent / "shared" / "tools" / "check_contract.py"


def test_screen_writes_the_contract_and_exits_1_when_flagged(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = SAMPLES / "customs_import_declaration.csv"
    out = tmp_path / "out.csv"
    code, _ = run("screen", str(manifest), "-o", str(out))
    assert code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 60
    assert rows[0]["line_id"] == "1"
    if CHECKER.exists():
        done = subprocess.run(
            [sys.executable, str(CHECKER), str(manifest), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout


def test_screen_exits_0_when_nothing_is_flagged(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "clean.csv"
    manifest.write_text("description,qty\ncotton t-shirts,10\nLED lamps,4\n", encoding="utf-8")
    code, output = run("screen", str(manifest), "--format", "csv")
    assert code == 0
    # clothes and lamps name no chemical: not flagged, but not "checked and clear" either
    assert "false,low" in output and ",unidentified," in output


def test_bad_input_exits_2_with_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, output = run("screen", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in output
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip at all")
    code, output = run("screen", str(bad))
    assert code == 2 and "Traceback" not in output


def test_substance_shows_acetic_anhydride_with_its_lists(run) -> None:  # type: ignore[no-untyped-def]
    code, output = run("substance", "108-24-7")
    assert code == 0
    assert "Acetic anhydride" in output
    for listed in ("UN-T1", "EU-CAT2A"):
        assert listed in output


def test_list_import_refuses_bad_files_and_versions_good_ones(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "firm.csv"
    good.write_text(
        "key,name,cas,smiles,synonyms,category\nacetone,,,,,watch\n",
        encoding="utf-8",
    )
    code, output = run("lists", "import", str(good), "--code", "FIRM-1")
    assert code == 0 and "new" in output
    code, output = run("lists", "import", str(good), "--code", "FIRM-1")
    assert code == 0 and "unchanged" in output
    good.write_text(
        good.read_text() + "xylazine,Xylazine,7361-61-7,Cc1cccc(C)c1NC1=NCCCS1,,watch\n"
    )
    code, output = run("lists", "import", str(good), "--code", "FIRM-1")
    assert code == 0 and "version 2" in output
    code, output = run("lists", "diff", "FIRM-1")
    assert code == 0 and "added" in output and "xylazine" in output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "key,name,cas,smiles,synonyms,category\nxylazine,Xylazine,7361-61-8,,,watch\n",
        encoding="utf-8",
    )
    code, output = run("lists", "import", str(bad), "--code", "FIRM-1")
    assert code == 2
    assert "bad.csv" in output and "cas" in output.lower()
    code, output = run("lists", "show", "FIRM-1")
    assert "v2" in output


def test_keys_create_prints_the_key_alone_on_the_last_line(run) -> None:  # type: ignore[no-untyped-def]
    code, output = run("keys", "create", "--role", "officer", "--name", "desk 4")
    assert code == 0
    last = output.strip().splitlines()[-1]
    assert last.startswith("pw_") and " " not in last
