"""Load test (``make stress``): concurrent clients uploading 10,000-line manifests to a real
server on 127.0.0.1, then a check that every accepted screening is stored complete.

Usage: ``.venv/bin/python bench/stress.py [--seconds 60] [--clients 20] [--lines 10000]
[--workers 2] [--backend sqlite|postgres]``

* A temporary SQLite store is created (lists loaded) and an officer key made through the
  store; ``--backend postgres`` uses ``PRECURSORWATCH_TEST_POSTGRES_URL`` instead (by default
  PostgreSQL runs after SQLite when that variable is set).
* ``uvicorn --workers N`` serves ``precursorwatch.web:create_app`` on 127.0.0.1 and a free
  port; nothing else is contacted.
* One realistic manifest is generated once: the rows of the sample customs declaration
  (innocent goods and precursors) repeated with varied quantities, pack sizes and grades.
* Each client uploads it in a loop until ``--seconds`` have passed, then waits for its
  request in flight; every 201 answer's screening is read back (``GET /v1/screenings/{id}``)
  and its line count and line ids checked.
* Prints throughput, p50/p99 latency, errors, screenings stored/submitted and the server log's
  tracebacks; exits 0 only when there were no errors and every screening was stored complete.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_shipments" / "customs_import_declaration.csv"
HOST = "127.0.0.1"
PACKS = ("", " - 25 kg drums", " - 200 L drums", " - IBC 1000 L", " - bags", " - bulk")
GRADES = ("", " tech. grade", " 99 %", " reagent grade", " pure")


@dataclass
class Tally:
    """What the clients saw; appended to under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    submitted: int = 0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_manifest(lines: int, seed: int = 7) -> bytes:
    """A CSV manifest of ``lines`` rows varied from the sample customs declaration."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    desc, qty, item = fields[1], "Net Mass", fields[0]
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for i in range(lines):
        row = dict(rng.choice(rows))
        row[item] = str(i + 1)
        row[desc] = row[desc] + rng.choice(GRADES) + rng.choice(PACKS)
        row[qty] = str(rng.randint(1, 30_000))
        writer.writerow([row[f] for f in fields])
    return out.getvalue().encode("utf-8")


def prepare_store(url: str, data_dir: Path) -> str:
    """Create the store (migrated, bundled lists loaded) and return a new officer key."""
    from precursorwatch.run.service import open_ready_store
    from precursorwatch.settings import get_settings
    from precursorwatch.store import create_api_key

    store = open_ready_store(get_settings(database_url=url, data_dir=data_dir))
    try:
        with store.session() as session:
            _, secret = create_api_key(session=session, name="stress", role="officer")
    finally:
        store.dispose()
    return secret


def start_server(
    url: str, data_dir: Path, port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """uvicorn serving the app on 127.0.0.1:``port`` in its own process group."""
    env = {
        **os.environ,
        "PRECURSORWATCH_DATABASE_URL": url,
        "PRECURSORWATCH_DATA_DIR": str(data_dir),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "precursorwatch.web:create_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_ready(base: str, proc: subprocess.Popen[bytes], secret: str, timeout: float) -> None:
    """Wait until /healthz answers and both workers have warmed their screener."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see its log")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        raise RuntimeError("the server did not answer /healthz in time")
    warm = {"lines": [{"description": "acetone", "cas": "67-64-1"}]}
    auth = {"Authorization": f"Bearer {secret}"}
    for _ in range(4):  # reach each worker at least once, in all likelihood
        httpx.post(f"{base}/v1/screen", json=warm, headers=auth, timeout=300).raise_for_status()


def client(base: str, secret: str, manifest: bytes, deadline: float, tally: Tally) -> None:
    """Upload ``manifest`` again and again until ``deadline``."""
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=auth, timeout=600) as http:
        while time.monotonic() < deadline:
            with tally.lock:
                tally.submitted += 1
            start = time.perf_counter()
            try:
                response = http.post(
                    "/v1/screenings", files={"file": ("stress.csv", manifest, "text/csv")}
                )
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - start
            with tally.lock:
                if response.status_code == 201:
                    tally.latencies.append(elapsed)
                    tally.accepted.append(str(response.json()["screening_id"]))
                else:
                    tally.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")


def verify(base: str, secret: str, ids: list[str], lines: int) -> list[str]:
    """Problems with the stored screenings (empty when each has all ``lines`` in order)."""
    problems = []
    wanted = [str(i) for i in range(1, lines + 1)]
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, headers=auth, timeout=300) as http:
        for sid in ids:
            response = http.get(f"/v1/screenings/{sid}")
            if response.status_code != 200:
                problems.append(f"{sid}: HTTP {response.status_code}")
                continue
            body = response.json()
            got = [line["line_id"] for line in body["lines"]]
            if got != wanted or body["summary"]["lines"] != lines:
                problems.append(
                    f"{sid}: {len(got)} lines stored, summary {body['summary']['lines']}"
                )
    return problems


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank); 0 when empty."""
    if not values:
        return 0.0
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(q * len(ranked) + 0.5) - 1))]


def run(backend: str, url: str, args: argparse.Namespace, manifest: bytes) -> bool:
    """One stress run against ``url``; prints the figures, returns True when all was well."""
    with tempfile.TemporaryDirectory(prefix="precursorwatch-stress-") as tmp:
        data_dir = Path(tmp)
        url = url or f"sqlite:///{data_dir / 'stress.sqlite'}"
        secret = prepare_store(url, data_dir)
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = data_dir / "server.log"
        proc = start_server(url, data_dir, port, args.workers, log)
        try:
            wait_ready(base, proc, secret, timeout=120)
            tally = Tally()
            start = time.monotonic()
            deadline = start + args.seconds
            threads = [
                threading.Thread(target=client, args=(base, secret, manifest, deadline, tally))
                for _ in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.monotonic() - start
            problems = verify(base, secret, tally.accepted, args.lines)
        finally:
            stop_server(proc)
        server_log = log.read_text(encoding="utf-8", errors="replace")
    tracebacks = server_log.count("Traceback")
    stored = len(tally.accepted) - len(problems)
    print(
        f"== {backend}: {args.clients} clients x {args.lines:,}-line manifests, "
        f"{args.seconds:g} s of submissions, {args.workers} workers"
    )
    print(f"wall time                 {wall:8.1f} s (until the last request in flight finished)")
    print(f"screenings stored/submitted {stored}/{tally.submitted}")
    print(
        f"throughput                {len(tally.accepted) / wall:8.2f} screenings/s "
        f"= {len(tally.accepted) * args.lines / wall:,.0f} lines/s"
    )
    print(
        f"latency p50 / p99 / max   {percentile(tally.latencies, 0.5):8.1f} / "
        f"{percentile(tally.latencies, 0.99):.1f} / {max(tally.latencies, default=0):.1f} s"
        f"  (mean {statistics.fmean(tally.latencies) if tally.latencies else 0:.1f} s)"
    )
    print(f"errors                    {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  {error}")
    print(f"incomplete screenings     {len(problems)}")
    for problem in problems[:10]:
        print(f"  {problem}")
    print(f"server tracebacks         {tracebacks}")
    return not tally.errors and not problems and not tracebacks and bool(tally.accepted)


def main(argv: list[str] | None = None) -> int:
    """Run the stress test(s); 0 when every run had no error and stored everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="submission time per run")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--lines", type=int, default=10_000, help="lines per manifest")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "all"),
        default="all",
        help="all = SQLite, then PostgreSQL when PRECURSORWATCH_TEST_POSTGRES_URL is set",
    )
    args = parser.parse_args(argv)
    pg_url = os.environ.get("PRECURSORWATCH_TEST_POSTGRES_URL", "")
    backends: list[tuple[str, str]] = []
    if args.backend in ("sqlite", "all"):
        backends.append(("sqlite", ""))
    if args.backend == "postgres" or (args.backend == "all" and pg_url):
        if not pg_url:
            parser.error("--backend postgres needs PRECURSORWATCH_TEST_POSTGRES_URL")
        backends.append(("postgres", pg_url))
    manifest = make_manifest(args.lines)
    print(f"manifest: {args.lines:,} lines, {len(manifest):,} bytes")
    ok = all([run(name, url, args, manifest) for name, url in backends])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
