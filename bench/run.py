"""``make bench``: the command users type, cold and warm, against the naive screener.

For each size (default 10k, 100k and 1M lines; ``bench/generate.py`` makes them, seeded), each
*variant* of the command and each of ``--runs`` runs (default 3; the table gives medians): a
fresh SQLite store, a *cold* screening (nothing cached), a *warm* one (the same file again:
the store's caches filled), and the naive screener (``bench/naive.py``) on the same file. The
variants, the default first:

- ``default``: ``precursorwatch screen FILE -o OUT.csv``, what users type: the screening
  recorded in the store, new declarations judged on every core this process may use;
- ``no-record``: the same with ``--no-record``;
- ``workers-1``: the same with ``--workers 1``.

Every screening runs the command line's own ``screen`` in a process of its own and reports
its wall time, peak memory (its own and its workers'), seconds per stage and how much the
store grew.

    python bench/run.py [--sizes 10000,100000,1000000] [--runs 3]
                        [--variants default,no-record,workers-1]

Wall time is each process's whole life, from its start to its exit (interpreter, imports,
store, screening), for the naive screener as for precursorwatch, so the ratio compares like
with like. The stage columns, seconds inside the screening: read (manifest parsing),
identify (names, CAS, OPSIN, structures, cache look-ups), match (the matchers), score
(scoring and broadcasting results to lines), write (the CSV report), record (the lines into
the store). ``store +MB``: what the screening added to the store's file (cold: over a store
holding only the lists, so the caches count; warm: over the store after the cold run, the
record of one screening).
"""

from __future__ import annotations

import argparse
import json
import os
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


#: The command's options of each variant (the default command first).
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "no-record": ["--no-record"],
    "workers-1": ["--workers", "1"],
}


def store_bytes(db: str) -> int:
    """Bytes of a SQLite store's file, once its write-ahead log is written into it."""
    import sqlite3

    path = Path(db.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def screen_once(manifest: Path, db: str, out: Path, options: list[str]) -> dict[str, Any]:
    """In this process: ``precursorwatch screen MANIFEST -o OUT --db DB OPTIONS`` through the
    command line's own code; its measurements."""
    import precursorwatch.run.service as service
    from precursorwatch.cli import app

    seen: dict[str, Any] = {}
    screen_file = service.screen_file

    def counted(*args: Any, **kwargs: Any) -> Any:
        done = seen["done"] = screen_file(*args, **kwargs)
        return done

    service.screen_file = counted  # type: ignore[assignment]
    t0 = time.perf_counter()
    code = app(
        ["screen", str(manifest), "-o", str(out), "--db", db, *options], standalone_mode=False
    )
    wall = time.perf_counter() - t0
    if code not in (0, 1) or "done" not in seen:
        raise RuntimeError(f"precursorwatch screen exited {code}")
    # forked workers report their own peak; OPSIN's JVMs (exec'd from here) at most this
    # process's peak as they started, which own_peak_mib already counts
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    kids = children.ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF)
    done = seen["done"]
    s = done.seconds
    return {
        "wall": wall,
        "lines": done.line_count,
        "flagged": done.flagged_count,
        "peak_mb": max(own_peak_mib(), kids),
        "read": s.get("read", 0.0),
        "identify": s.get("identify", 0.0),
        "match": s.get("match", 0.0),
        "score": s.get("score", 0.0) + s.get("broadcast", 0.0),
        "write": s.get("CsvSink", 0.0),
        "record": s.get("StoreSink", 0.0),
        # CPU seconds of this process and of its workers and JVMs (the machine's load shows
        # in the wall time, much less in these)
        "cpu": own.ru_utime + own.ru_stime,
        "cpu_children": children.ru_utime + children.ru_stime,
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


def empty_store_bytes(tmp: Path) -> int:
    """Bytes of a new store holding only the bundled lists (what a cold run starts from)."""
    from precursorwatch.run.service import open_ready_store
    from precursorwatch.settings import get_settings

    db = f"sqlite:///{tmp / 'empty.sqlite'}"
    open_ready_store(get_settings(database_url=db)).dispose()
    size = store_bytes(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp / 'empty.sqlite'}{suffix}").unlink(missing_ok=True)
    return size


def bench(sizes: list[int], runs: int, variants: list[str], tmp: Path) -> list[dict[str, Any]]:
    """Every size and variant, cold and warm, ``runs`` times; one row of medians per size,
    variant and state."""
    sys.path.insert(0, str(HERE))
    from generate import generate

    empty = empty_store_bytes(tmp)
    rows = []
    for size in sizes:
        manifest = tmp / f"manifest-{size}.csv"
        generate(manifest, size, seed=7)
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        naive: list[float] = []
        for run in range(runs):
            for variant in variants:
                path = tmp / f"store-{size}-{run}-{variant}.sqlite"
                db = f"sqlite:///{path}"
                before = empty
                for state in ("cold", "warm"):
                    args = ["--one", str(manifest), db, str(tmp / "out.csv"), *VARIANTS[variant]]
                    result = _child(args)
                    after = store_bytes(db)
                    result["store_mb"] = (after - before) / 1e6
                    before = after
                    found.setdefault((variant, state), []).append(result)
                    sys.stderr.write(
                        f"{size} {variant} {state} run {run + 1}: {result['wall']:.2f} s, "
                        f"store +{result['store_mb']:.1f} MB\n"
                    )
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            naive.append(naive_once(manifest, tmp / "naive.csv"))
        naive_s = statistics.median(naive)
        for (variant, state), results in found.items():
            row: dict[str, Any] = {"lines": size, "variant": variant, "state": state}
            for key in (*_STAGES, "wall", "peak_mb", "store_mb", "cpu", "cpu_children"):
                row[key] = statistics.median(r[key] for r in results)
            row["walls"] = [r["wall"] for r in results]
            row["flagged"] = results[0]["flagged"]
            row["naive"] = naive_s
            row["naives"] = naive
            rows.append(row)
        manifest.unlink(missing_ok=True)
    return rows


_STAGES = ("read", "identify", "match", "score", "write", "record")


def table(rows: list[dict[str, Any]], runs: int) -> str:
    """The markdown table of :func:`bench` rows."""
    head = (
        "| lines | command | run | wall s | lines/s | peak MB | read | identify | match | score "
        "| write | record | store +MB | naive s | x naive |\n|" + " --- |" * 15
    )
    out = [head]
    for r in rows:
        stages = " | ".join(f"{r[k]:.2f}" for k in _STAGES)
        out.append(
            f"| {r['lines']:,} | {r['variant']} | {r['state']} | {r['wall']:.2f} "
            f"| {r['lines'] / r['wall']:,.0f} | {r['peak_mb']:.0f} | {stages} "
            f"| {r['store_mb']:.1f} | {r['naive']:.2f} | {r['wall'] / r['naive']:.1f} |"
        )
    out.append(f"\nmedians of {runs} runs; default = `precursorwatch screen FILE -o OUT.csv`")
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
        manifest, db, out = argv[1:4]
        result = screen_once(Path(manifest), db, Path(out), argv[4:])
        sys.stdout.write(json.dumps(result) + "\n")
        from precursorwatch.cli.exit import exit_now

        exit_now(0)  # as the command ends (precursorwatch.cli.main)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--variants", default=",".join(VARIANTS), help="default,no-record,workers-1")
    p.add_argument("--json", type=Path, help="also write the rows here")
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    variants = [v for v in a.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}: choose from {', '.join(VARIANTS)}")
    sys.stdout.write(prepare() + "\n")
    sys.stdout.write(f"cores this process may use: {len(os.sched_getaffinity(0))}\n")
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        rows = bench(sizes, a.runs, variants, Path(tmp))
    if a.json is not None:
        a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    sys.stdout.write(table(rows, a.runs) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
