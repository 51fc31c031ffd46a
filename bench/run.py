"""``make bench``: screen generated manifests cold and warm; compare with the naive screener.

For each size (default 10k, 100k and 1M lines; ``bench/generate.py`` makes them, seeded) and
each of ``--runs`` runs (default 3; the table gives medians): a fresh SQLite store, a *cold*
screening (nothing cached), a *warm* one (the same file again: the store's caches filled),
and the naive screener (``bench/naive.py``) on the same file. Every screening runs in its own
process, as ``precursorwatch screen FILE -o OUT.csv --no-record --workers N`` does, and
reports its wall time, peak memory (its own and its workers') and seconds per stage.

    python bench/run.py [--sizes 10000,100000,1000000] [--runs 3] [--workers 2] [--record]

Wall time is each process's whole life, from its start to its exit (interpreter, imports,
store, screening), for the naive screener as for precursorwatch, so the ratio compares like
with like. The stage columns, seconds inside the screening: read (manifest parsing),
identify (names, CAS, OPSIN, structures, cache look-ups, opening the store), match (the
matchers), score (scoring and broadcasting results to lines), write (the CSV report, and the
store when ``--record``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def own_peak_mib() -> float:
    """This process's peak resident memory in MiB, since it started its program.

    Not ``ru_maxrss``: Linux carries the peak of the process that started this one across
    fork and exec into it, so every screening started by a bench parent that had built the
    PubChem index read at least that parent's 510 MB. ``VmHWM`` in ``/proc/self/status`` is
    the high-water mark of this program's own memory. Where there is no ``/proc``, falls
    back to ``ru_maxrss`` (an upper bound).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def screen_once(manifest: Path, db: str, out: Path, workers: int, record: bool) -> dict[str, Any]:
    """In this process: screen ``manifest`` to ``out`` as the CLI does; measurements."""
    from precursorwatch.run.service import make_screener, open_ready_store, screen_file
    from precursorwatch.run.streaming import CsvSink
    from precursorwatch.settings import get_settings

    t0 = time.perf_counter()
    store = open_ready_store(get_settings(database_url=db))
    screener = make_screener(store, workers=workers)
    setup = time.perf_counter() - t0
    with out.open("w", encoding="utf-8") as fh:
        done = screen_file(
            manifest,
            store=store,
            screener=screener,
            keep_results=False,
            record=record,
            sinks=[CsvSink(fh)],
        )
    wall = time.perf_counter() - t0
    # forked workers report their own peak; OPSIN's JVMs (exec'd from here) at most this
    # process's peak as they started, which own_peak_mib already counts
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    s = done.seconds
    return {
        "wall": wall,
        "lines": done.line_count,
        "flagged": done.flagged_count,
        "peak_mb": max(own_peak_mib(), kids),
        "read": s.get("read", 0.0),
        "identify": s.get("identify", 0.0) + setup,
        "match": s.get("match", 0.0),
        "score": s.get("score", 0.0) + s.get("broadcast", 0.0),
        "write": s.get("CsvSink", 0.0) + s.get("StoreSink", 0.0),
    }


def _child(args: list[str]) -> dict[str, Any]:
    """One screening in a process of its own; ``wall`` is that process's whole life (start,
    imports, store, screening, exit), measured as :func:`naive_once` measures the naive one."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bench child failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["screen"], result["wall"] = result["wall"], wall
    return result


def naive_once(manifest: Path, out: Path) -> float:
    """Wall seconds of the naive screener on ``manifest`` (in its own process)."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(HERE / "naive.py"), str(manifest), str(out)],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - t0


def bench(
    sizes: list[int], runs: int, workers: int, record: bool, tmp: Path
) -> list[dict[str, Any]]:
    """Every size, cold and warm, ``runs`` times; one row of medians per size and state."""
    sys.path.insert(0, str(HERE))
    from generate import generate

    rows = []
    for size in sizes:
        manifest = tmp / f"manifest-{size}.csv"
        generate(manifest, size, seed=7)
        found: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
        naive: list[float] = []
        for run in range(runs):
            db = f"sqlite:///{tmp / f'store-{size}-{run}.sqlite'}"
            for state in ("cold", "warm"):
                args = ["--one", str(manifest), db, str(tmp / "out.csv"), str(workers)]
                found[state].append(_child([*args, "1" if record else "0"]))
                sys.stderr.write(
                    f"{size} {state} run {run + 1}: {found[state][-1]['wall']:.2f} s\n"
                )
            naive.append(naive_once(manifest, tmp / "naive.csv"))
            (tmp / f"store-{size}-{run}.sqlite").unlink(missing_ok=True)
        naive_s = statistics.median(naive)
        for state, results in found.items():
            row: dict[str, Any] = {"lines": size, "state": state}
            for key in ("wall", "peak_mb", "read", "identify", "match", "score", "write"):
                row[key] = statistics.median(r[key] for r in results)
            row["flagged"] = results[0]["flagged"]
            row["naive"] = naive_s
            rows.append(row)
        manifest.unlink(missing_ok=True)
    return rows


def table(rows: list[dict[str, Any]], runs: int, workers: int) -> str:
    """The markdown table of :func:`bench` rows."""
    head = (
        "| lines | run | wall s | lines/s | peak MB | read | identify | match | score | write "
        "| naive s | x naive |\n|" + " --- |" * 12
    )
    out = [head]
    for r in rows:
        out.append(
            f"| {r['lines']:,} | {r['state']} | {r['wall']:.2f} | {r['lines'] / r['wall']:,.0f} "
            f"| {r['peak_mb']:.0f} | {r['read']:.2f} | {r['identify']:.2f} | {r['match']:.2f} "
            f"| {r['score']:.2f} | {r['write']:.2f} | {r['naive']:.2f} "
            f"| {r['wall'] / r['naive']:.1f} |"
        )
    out.append(f"\nmedians of {runs} runs, --workers {workers}")
    return "\n".join(out)


def prepare() -> str:
    """Build what an installation has before its first screening, outside the timings: the
    package's bytecode, and the PubChem look-up index that ``precursorwatch init`` builds (a
    file form of the ``chemicals`` table; nothing of the lists or of any screening). A cold
    run still starts from a fresh store."""
    import compileall

    import precursorwatch
    from precursorwatch.identify.resolve import prepare_pubchem_index_said

    # the bytecode a regular (not editable) pip install compiles, so no timed run compiles
    # the package's sources
    compileall.compile_dir(Path(precursorwatch.__file__).parent, quiet=1)
    said = prepare_pubchem_index_said()
    return f"PubChem look-up index (once per installation, as `precursorwatch init`): {said}"


def main(argv: list[str] | None = None) -> int:
    """Command line; ``--one`` is the per-process measurement the parent runs."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--one":
        manifest, db, out, workers, record = argv[1:6]
        result = screen_once(Path(manifest), db, Path(out), int(workers), record == "1")
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--record", action="store_true", help="also keep every line in the store")
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    sys.stdout.write(prepare() + "\n")
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        rows = bench(sizes, a.runs, a.workers, a.record, Path(tmp))
    sys.stdout.write(table(rows, a.runs, a.workers) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
