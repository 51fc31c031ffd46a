"""Replayable attack script (``make redteam``, issue 19): a real server on 127.0.0.1, a
throwaway store, the review's findings and many further hostile cases, and a table of which
held and which broke.

Usage: ``.venv/bin/python bench/redteam.py [--only WORD] [--markdown OUT.md] [--src DIR]``

* A temporary data directory (``PRECURSORWATCH_DATA_DIR``) and cache directory are made;
  ``precursorwatch init`` loads the bundled lists and keys are made with
  ``precursorwatch keys create`` (the key is the last line it prints).
* ``precursorwatch serve`` runs on 127.0.0.1 on a free port; nothing else is contacted.
* An admin imports a confidential list (made-up substances, and acetic anhydride, which is
  also on public lists); officers and operators screen against it.
* Every case has its own time limits; a guard thread samples the server's memory and kills
  it past ``--kill-mb`` (the review saw 8 GB), and the server is restarted after a case that
  killed it or left it busy. The script stops by itself within a few minutes.
* ``--src DIR`` puts another checkout's ``src`` first on the server's ``PYTHONPATH`` (e.g. an
  ``git archive`` of an older commit, for a "before" table).

Exit status: 0 when every case held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from served import HOST, ServedProcess, cas_with_check, cli_command

ROOT = Path(__file__).resolve().parents[1]


# --- the made-up confidential list ------------------------------------------------------------


SECRET_CODE = "SECRET-RT"
SECRET_TITLE = "Quillfeather Watch Register"
SECRET_CATEGORY = "tangerine-tier"
ZORB = {
    "key": "zorbanine",
    "name": "Zorbanine",
    "cas": cas_with_check("777123455"),
    "smiles": "CC(C)(C)c1ccc(cc1)C(=O)N1CCSCC1",
    "synonym": "zx-77 blend",
}
QUOR = {
    "key": "quorvalene",
    "name": "Quorvalene",
    "cas": cas_with_check("888765432"),
    "smiles": "CCCCOC(=O)c1ccc(SCC#N)cc1",
    "synonym": "qv-19 paste",
}
#: Every confidential fact an operator must never receive.
SECRETS = (
    SECRET_CODE,
    SECRET_TITLE,
    SECRET_CATEGORY,
    ZORB["key"],
    ZORB["cas"],
    ZORB["synonym"],
    QUOR["key"],
    QUOR["cas"],
    QUOR["synonym"],
)


def secret_list_yaml(
    *,
    confidential: bool | None,
    with_quor: bool = True,
    note: str = "",
    title: str = "",
    inline: bool = True,
) -> str:
    """The confidential list as YAML; ``confidential`` None leaves the flag out. ``inline``
    defines the made-up substances (the first import); later versions name their keys."""
    flag = "" if confidential is None else f"confidential: {'true' if confidential else 'false'}\n"
    entries = []
    for sub in (ZORB, QUOR) if with_quor else (ZORB,):
        if inline:
            entries.append(
                f"  - key: {sub['key']}\n    name: {sub['name']}\n    cas: {sub['cas']}\n"
                f"    smiles: '{sub['smiles']}'\n    synonyms: ['{sub['synonym']}']\n"
                f"    category: {SECRET_CATEGORY}\n"
            )
        else:
            entries.append(f"  - substance: {sub['key']}\n    category: {SECRET_CATEGORY}\n")
    entries.append(f"  - substance: acetic-anhydride\n    category: {SECRET_CATEGORY}\n")
    return (
        f"code: {SECRET_CODE}\ntitle: {title or SECRET_TITLE}\n{flag}"
        f"legal_basis: internal{(' ' + note) if note else ''}\nentries:\n" + "".join(entries)
    )


# --- the server -------------------------------------------------------------------------------


class Server(ServedProcess):
    """``precursorwatch serve`` (:class:`ServedProcess`) with a memory guard: a thread that
    kills the server's process group past ``kill_mb`` (and records the peak)."""

    def __init__(self, env: dict[str, str], log: Path, kill_mb: float) -> None:
        super().__init__(env, log, start_within=90.0)
        self.kill_mb = kill_mb
        self.peak_mb = 0.0
        self.killed_by_guard = False
        self._stop_guard = threading.Event()
        self._guard: threading.Thread | None = None

    def start(self) -> None:
        """Start the server with its guard, wait until /healthz answers, then until it idles."""
        self.killed_by_guard = False
        self._stop_guard.clear()
        self._guard = threading.Thread(target=self._watch, daemon=True)
        self._guard.start()
        super().start()
        self.settle()

    def settle(self, limit: float = 40.0) -> None:
        """Wait (at most ``limit`` s) until the server is idle: a server warms up after it
        answers (workers start, screeners load), and the cases measure a warm one."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            before = self.cpu_s()
            time.sleep(1.0)
            if self.cpu_s() - before < 0.1:
                return

    def _watch(self) -> None:
        while not self._stop_guard.wait(0.1):
            rss = self.rss_mb()
            self.peak_mb = max(self.peak_mb, rss)
            if rss > self.kill_mb and self.proc is not None:
                self.killed_by_guard = True
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, wait: float = 12.0) -> float:
        """Stop the guard, then the server (:meth:`ServedProcess.stop`)."""
        self._stop_guard.set()
        return super().stop(sig, wait)

    def restart(self) -> None:
        self.stop(signal.SIGKILL, wait=5)
        self.start()


# --- the run's context ------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table."""

    case: str
    expected: str
    held: bool | None  # None: the case could not be run (error)
    detail: str
    finding: str = ""
    seconds: float = 0.0


@dataclass
class RedTeam:
    """Everything the cases share: the server, the keys, the store and what was screened."""

    tmp: Path
    env: dict[str, str]
    server: Server
    secrets: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    screenings: dict[str, str] = field(default_factory=dict)
    errors_seen: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def db_path(self) -> Path:
        return Path(self.env["PRECURSORWATCH_DATA_DIR"]) / "precursorwatch.sqlite"

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def make_key(self, who: str, role: str, name: str) -> subprocess.CompletedProcess[str]:
        """``keys create``; on success the secret (last line) is kept under ``who``."""
        done = self.cli("keys", "create", "--role", role, "--name", name)
        if done.returncode == 0:
            self.secrets[who] = done.stdout.strip().splitlines()[-1].strip()
            found = re.search(r"key ([0-9a-f]{32})", done.stdout)
            self.key_ids[who] = found.group(1) if found else ""
        return done

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"} if who in self.secrets else {}

    def client(self, timeout: float = 30.0) -> httpx.Client:
        """A client recording every error answer (status, headers) for the headers case."""

        def record(response: httpx.Response) -> None:
            if response.status_code >= 400:
                self.errors_seen.append(
                    (str(response.request.url.path), response.status_code, dict(response.headers))
                )

        return httpx.Client(
            base_url=self.base,
            timeout=timeout,
            follow_redirects=False,
            event_hooks={"response": [record]},
        )

    def request(
        self, who: str, method: str, path: str, *, timeout: float = 30.0, **kw: Any
    ) -> httpx.Response:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        with self.client(timeout) as c:
            return c.request(method, path, headers=headers, **kw)

    def get(self, who: str, path: str, **kw: Any) -> httpx.Response:
        return self.request(who, "GET", path, **kw)

    def screen(self, who: str, lines: list[dict[str, Any]], **kw: Any) -> httpx.Response:
        return self.request(who, "POST", "/v1/screen", json={"lines": lines}, **kw)

    def upload(
        self, who: str, name: str, content: bytes, ctype: str = "text/csv", **kw: Any
    ) -> httpx.Response:
        return self.request(
            who, "POST", "/v1/screenings", files={"file": (name, content, ctype)}, **kw
        )

    def import_list(
        self, name: str, content: str, confidential: bool | None = None
    ) -> httpx.Response:
        data = {} if confidential is None else {"confidential": str(confidential).lower()}
        return self.request(
            "admin",
            "POST",
            "/v1/lists",
            files={"file": (name, content.encode())},
            data=data,
        )

    @contextmanager
    def signed_in(self, who: str) -> Iterator[httpx.Client]:
        """A browser-like client signed in with ``who``'s key (closed after the block)."""
        c = self.client()
        try:
            form = c.get("/signin")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            done = c.post(
                "/signin", data={"key": self.secrets[who], "csrf": token[1] if token else ""}
            )
            if done.status_code != 303:
                raise RuntimeError(f"sign-in as {who} failed: {done.status_code}")
            yield c
        finally:
            c.close()

    def audit_since(self, marker: int) -> list[tuple[int, str, str, str]]:
        """Audit events (id, actor, action, detail) after event id ``marker``."""
        uri = f"file:{self.db_path}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=10) as db:
            return [
                (int(r[0]), str(r[1]), str(r[2]), str(r[3]))
                for r in db.execute(
                    "SELECT id, actor, action, detail FROM audit_event WHERE id > ? ORDER BY id",
                    (marker,),
                )
            ]

    def audit_marker(self) -> int:
        uri = f"file:{self.db_path}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=10) as db:
            return int(db.execute("SELECT coalesce(max(id), 0) FROM audit_event").fetchone()[0])


def text_of(response: httpx.Response) -> str:
    """Everything an answer says: headers and body (an XLSX unzipped)."""
    head = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    body = response.content
    if body[:2] == b"PK":
        with suppress(zipfile.BadZipFile), zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b" ".join(archive.read(n) for n in archive.namelist())
    return head + " " + body.decode("utf-8", "replace")


def leaks(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Confidential facts in ``text`` (case-insensitive), except those in ``allowed``."""
    low = text.casefold()
    ok = [a.casefold() for a in allowed]
    return [s for s in SECRETS if s.casefold() in low and not any(s.casefold() in a for a in ok)]


# --- raw sockets ------------------------------------------------------------------------------


@contextmanager
def raw(port: int, timeout: float = 5.0) -> Iterator[socket.socket]:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()


def read_answer(sock: socket.socket, within: float) -> bytes:
    """What the server sends within ``within`` seconds (b'' when it closed or said nothing)."""
    sock.settimeout(within)
    chunks: list[bytes] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            block = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:
            break
        if not block:
            break
        chunks.append(block)
        if b"\r\n\r\n" in b"".join(chunks) and sum(map(len, chunks)) > 8:
            sock.settimeout(0.3)
    return b"".join(chunks)


def status_of_raw(answer: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(m.group(1)) if m else 0


# --- running the cases ------------------------------------------------------------------------

CaseFn = Callable[[RedTeam], "Row | list[Row]"]


@dataclass
class Case:
    name: str
    expected: str
    finding: str
    fn: CaseFn
    heavy: bool


CASES: list[Case] = []


def case(
    name: str, expected: str, *, finding: str = "", heavy: bool = False
) -> Callable[[CaseFn], CaseFn]:
    """Register a case; ``heavy`` ones run last and leave a fresh server behind."""

    def register(fn: CaseFn) -> CaseFn:
        CASES.append(Case(name, expected, finding, fn, heavy))
        return fn

    return register


def run_case(rt: RedTeam, c: Case) -> list[Row]:
    if not rt.server.healthy(5):
        rt.server.restart()
    t0 = time.monotonic()
    try:
        got = c.fn(rt)
        rows = got if isinstance(got, list) else [got]
    except Exception as exc:  # a case that could not run says why
        rows = [Row(c.name, c.expected, None, f"{type(exc).__name__}: {str(exc)[:140]}")]
    took = time.monotonic() - t0
    for r in rows:
        r.case = r.case or c.name
        r.finding = r.finding or c.finding
        r.seconds = r.seconds or took
        if not r.expected:
            r.expected = c.expected
    if rt.server.killed_by_guard:
        for r in rows:
            r.held = False
            r.detail += f"; server killed by the memory guard at {rt.server.kill_mb:,.0f} MB"
    if c.heavy or not rt.server.healthy(3):
        rt.server.restart()
    return rows


def setup(rt: RedTeam) -> None:
    """Store, keys, server, the confidential list and the first screenings."""
    done = rt.cli("init", timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"init failed: {done.stderr[-400:]}")
    for who, role, name in (
        ("admin", "admin", "rt-admin"),
        ("officer", "officer", "rt-officer"),
        ("operator", "operator", "rt-operator"),
        ("operator2", "operator", "rt-operator-2"),
        ("officer2", "officer", "rt-officer-2"),
        ("revoked", "officer", "rt-revoked"),
    ):
        made = rt.make_key(who, role, name)
        if made.returncode != 0:
            raise RuntimeError(f"keys create failed: {made.stderr[-400:]}")
    rt.cli("keys", "revoke", rt.key_ids["revoked"])
    rt.server.start()
    imported = rt.import_list("secret-rt.yaml", secret_list_yaml(confidential=True))
    if imported.status_code != 201:
        raise RuntimeError(f"importing the confidential list failed: {imported.text[:300]}")
    for who in ("officer", "operator", "operator2"):
        r = rt.screen(
            who, [{"line_id": "S1", "description": ZORB["synonym"].upper(), "quantity": 5}]
        )
        if r.status_code != 200:
            raise RuntimeError(f"screening as {who} failed: {r.status_code} {r.text[:200]}")
        rt.screenings[who] = r.json()["screening_id"]


def print_table(rows: list[Row], out: io.TextIOBase | Any = sys.stdout) -> None:
    width = max(len(r.case) for r in rows)
    exp = min(58, max(len(r.expected) for r in rows))
    out.write(f"{'#':>3}  {'case':<{width}}  {'expected':<{exp}}  result  {'s':>5}  detail\n")
    for i, r in enumerate(rows, 1):
        verdict = "held" if r.held else ("ERROR" if r.held is None else "BROKEN")
        out.write(
            f"{i:>3}  {r.case:<{width}}  {r.expected[:exp]:<{exp}}  {verdict:<6}  "
            f"{r.seconds:5.1f}  {r.detail[:150]}\n"
        )
    held = sum(1 for r in rows if r.held)
    out.write(f"\n{held} of {len(rows)} held; {len(rows) - held} broken or not run\n")


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| # | finding | case | expected | result | detail |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(rows, 1):
        verdict = "held" if r.held else ("error" if r.held is None else "**broken**")
        cells = [str(i), r.finding, r.case, r.expected, verdict, r.detail.replace("|", "/")[:200]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # the finally block stops the server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append", default=[], help="run cases whose name has WORD")
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    p.add_argument("--src", type=Path, help="a checkout's src/ to serve instead of this one")
    p.add_argument("--kill-mb", type=float, default=3000, help="memory guard (MB)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args(argv)
    import redteam_cases  # noqa: F401  (both register their cases)
    import redteam_findings  # noqa: F401

    tmp = Path(tempfile.mkdtemp(prefix="pw-redteam-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRECURSORWATCH_")}
    env.update(
        PRECURSORWATCH_DATA_DIR=str(tmp / "data"),
        PRECURSORWATCH_CACHE_DIR=str(tmp / "cache"),
        PYTHONUNBUFFERED="1",
    )
    if a.src:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(a.src.resolve()), *filter(None, [env.get("PYTHONPATH")])]
        )
    server = Server(env, tmp / "server.log", a.kill_mb)
    rt = RedTeam(tmp, env, server)
    started = time.monotonic()
    rows: list[Row] = []
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        setup(rt)
        chosen = [c for c in CASES if not a.only or any(w in c.name for w in a.only)]
        chosen.sort(key=lambda c: c.heavy)  # light cases first, on a quiet server
        for c in chosen:
            got = run_case(rt, c)
            rows.extend(got)
            for r in got:
                verdict = "held" if r.held else ("ERROR" if r.held is None else "BROKEN")
                at = time.monotonic() - started
                sys.stderr.write(f"[{at:6.1f}s] {verdict:<6} {r.case}: {r.detail[:120]}\n")
    finally:
        server.stop(signal.SIGKILL, wait=5)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            sys.stderr.write(f"kept {tmp}\n")
    rows.sort(key=lambda r: (r.finding == "", r.finding))
    print_table(rows)
    took = time.monotonic() - started
    print(f"\nwall time {took:.0f} s; server peak memory {server.peak_mb:,.0f} MB")
    if a.markdown:
        a.markdown.write_text(markdown_table(rows), encoding="utf-8")
    return 0 if rows and all(r.held for r in rows) else 1


if __name__ == "__main__":
    # run as the module ``redteam``, the one the case modules register with
    sys.path.insert(0, str(Path(__file__).parent))
    import redteam

    raise SystemExit(redteam.main())
