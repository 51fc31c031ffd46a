"""The benchmark's generator and runner on 2,000 lines (no timing assertions: speed is
measured by ``make bench``, not by the test suite)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from generate import generate  # noqa: E402
from run import bench, own_peak_mib, table  # noqa: E402


def test_generator_is_seeded_and_realistic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    generate(a, 2_000, seed=3)
    generate(b, 2_000, seed=3)
    assert a.read_bytes() == b.read_bytes()
    with a.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2_000
    descriptions = {r["Goods Description"] for r in rows}
    assert 50 < len(descriptions) < 400  # heavy repetition
    no_cas = sum(1 for r in rows if not r["CAS No"]) / len(rows)
    assert 0.25 < no_cas < 0.42


def test_bench_runs_the_default_command_first_then_variants_and_naive(tmp_path: Path) -> None:
    rows = bench([2_000], runs=1, variants=["default", "no-record"], tmp=tmp_path)
    assert [(r["variant"], r["state"]) for r in rows] == [
        ("default", "cold"), ("default", "warm"), ("no-record", "cold"), ("no-record", "warm"),
    ]  # fmt: skip
    for r in rows:
        assert r["wall"] > 0 and r["naive"] > 0 and r["peak_mb"] > 0
        assert r["flagged"] > 0
    recorded = {r["state"]: r for r in rows if r["variant"] == "default"}
    unrecorded = {r["state"]: r for r in rows if r["variant"] == "no-record"}
    assert recorded["warm"]["store_mb"] > 0 and recorded["warm"]["record"] > 0
    assert unrecorded["warm"]["record"] == 0 and unrecorded["warm"]["store_mb"] < 0.5
    text = table(rows, 1)
    assert "| 2,000 | default | cold |" in text and "x naive" in text


def test_a_screening_process_does_not_report_the_peak_of_its_parent() -> None:
    ballast = b"x" * (300 * 1024 * 1024)  # written, so resident: this peak is >= 300 MiB
    assert own_peak_mib() >= 300
    probe = (
        f"import resource, sys; sys.path.insert(0, {str(BENCH)!r}); from run import own_peak_mib;"
        " print(own_peak_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    own, inherited = (float(x) for x in out.stdout.split())
    del ballast
    assert inherited >= 300  # what ru_maxrss says: the parent's peak, carried into the child
    assert own < 100  # the child's own program: an interpreter and one module
