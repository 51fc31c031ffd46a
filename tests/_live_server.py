"""A real ``precursorwatch serve`` on 127.0.0.1 for the security tests: a throwaway store,
keys made with the CLI, an httpx client per key, the server's memory and CPU.

Used by tests/test_security_*.py (one server per module): the findings of issue 19 are
checked through the server a client reaches, middleware, timeouts and worker processes
included.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from served import HOST, ServedProcess, cli_command, free_port

# what the security tests take from here too
from served import cas_with_check as cas_with_check

CLI = cli_command()


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread of this process on a free port of 127.0.0.1 (for
    the browser tests); yields its base URL and stops the server at the end."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Live:
    """A running server and what the tests need of it."""

    tmp: Path
    env: dict[str, str]
    server: ServedProcess | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.running.base

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def running(self) -> ServedProcess:
        assert self.server is not None, "the server was not started"
        return self.server

    @property
    def db_path(self) -> Path:
        return self.tmp / "data" / "precursorwatch.sqlite"

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def make_key(self, who: str, role: str, name: str) -> subprocess.CompletedProcess[str]:
        done = self.cli("keys", "create", "--role", role, "--name", name)
        if done.returncode == 0:
            self.secrets[who] = done.stdout.strip().splitlines()[-1].strip()
            found = re.search(r"key ([0-9a-f]{32})", done.stdout)
            self.key_ids[who] = found.group(1) if found else ""
        return done

    def start(self) -> None:
        self.server = ServedProcess(self.env, self.tmp / "server.log")
        self.server.start()

    def stop(self, sig: int = signal.SIGTERM, wait: float = 15) -> float:
        """Signal the server; seconds until it exited (inf when it had to be killed)."""
        return self.server.stop(sig, wait) if self.server is not None else 0.0

    def rss_mb(self) -> float:
        return self.running.rss_mb()

    def cpu_s(self) -> float:
        return self.running.cpu_s()

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"} if who in self.secrets else {}

    def request(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        kw.setdefault("timeout", 60)
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return httpx.request(method, self.base + path, headers=headers, **kw)

    def get(self, who: str, path: str, **kw: Any) -> httpx.Response:
        return self.request(who, "GET", path, **kw)

    def screen(self, who: str, lines: list[dict[str, Any]], **kw: Any) -> httpx.Response:
        return self.request(who, "POST", "/v1/screen", json={"lines": lines}, **kw)

    def upload(self, who: str, name: str, content: bytes, **kw: Any) -> httpx.Response:
        return self.request(who, "POST", "/v1/screenings", files={"file": (name, content)}, **kw)

    def import_list(self, name: str, text: str, confidential: bool | None = None) -> httpx.Response:
        data = {} if confidential is None else {"confidential": str(confidential).lower()}
        return self.request(
            "admin", "POST", "/v1/lists", files={"file": (name, text.encode())}, data=data
        )

    @contextmanager
    def signed_in(self, who: str) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.base, follow_redirects=False, timeout=60) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
            done = c.post(
                "/signin", data={"key": self.secrets[who], "csrf": token[1] if token else ""}
            )
            assert done.status_code == 303, done.text
            yield c

    def audit(self, after: int = 0) -> list[tuple[int, str, str, str, str]]:
        """(id, actor, action, detail, actor_key_id) of audit events after ``after``."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10) as db:
            rows = db.execute(
                "SELECT id, actor, action, detail, actor_key_id FROM audit_event WHERE id > ? "
                "ORDER BY id",
                (after,),
            )
            return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]

    def last_audit_id(self) -> int:
        events = self.audit()
        return events[-1][0] if events else 0


@contextmanager
def live_server(
    tmp: Path, keys: dict[str, tuple[str, str]], settings: dict[str, str] | None = None
) -> Iterator[Live]:
    """A server over a fresh store in ``tmp`` with keys ``who -> (role, name)`` and
    ``settings`` (name -> value, e.g. ``{"job_upload_bytes": "0"}``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRECURSORWATCH_")}
    env.update(
        PRECURSORWATCH_DATA_DIR=str(tmp / "data"),
        PRECURSORWATCH_CACHE_DIR=os.environ.get("PRECURSORWATCH_CACHE_DIR", str(tmp / "cache")),
        PYTHONUNBUFFERED="1",
    )
    env.update({f"PRECURSORWATCH_{k.upper()}": v for k, v in (settings or {}).items()})
    live = Live(tmp, env)
    done = live.cli("init", timeout=300)
    assert done.returncode == 0, done.stderr
    for who, (role, name) in keys.items():
        made = live.make_key(who, role, name)
        assert made.returncode == 0, made.stderr
    live.start()
    try:
        yield live
    finally:
        live.stop(signal.SIGKILL, wait=5)


def xlsx_cells(content: bytes) -> list[list[str]]:
    """The cells of the first sheet of an XLSX (openpyxl, read-only)."""
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
