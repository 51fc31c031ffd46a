"""``precursorwatch serve`` on 127.0.0.1 in a process group of its own, as a client reaches it.

Shared by the attack script (``bench/redteam.py``, which adds a memory guard) and the tests
that check the real server (``tests/_live_server.py``): start it and wait for ``/healthz``,
measure the memory and CPU of its processes (web, workers, JVMs), signal it and time its exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import httpx
import psutil

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cli_command() -> list[str]:
    """The CLI, run by this interpreter (a ``--src`` checkout reaches it through PYTHONPATH)."""
    return [sys.executable, "-c", "from precursorwatch.cli import main; main()"]


def cas_with_check(body: str) -> str:
    """A valid CAS number made of ``body`` and its check digit."""
    digits = body.replace("-", "")
    check = sum(int(d) * (i + 1) for i, d in enumerate(reversed(digits))) % 10
    return f"{digits[:-2]}-{digits[-2:]}-{check}"


class ServedProcess:
    """One ``precursorwatch serve`` with ``env``, its output appended to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, start_within: float = 120.0) -> None:
        self.env, self.log, self.start_within = env, log, start_within
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start the server and wait until /healthz answers; RuntimeError (with the end of
        its log) when it exits or does not answer within ``start_within`` seconds."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*cli_command(), "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self._log_tail()}")
            if self.healthy(1.0):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /healthz in time: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self, within: float = 2.0) -> bool:
        """Alive and answering /healthz within ``within`` seconds."""
        if not self.alive():
            return False
        try:
            return httpx.get(self.base + "/healthz", timeout=within).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM, wait: float = 12.0) -> float:
        """Signal the server; seconds until it exited (``inf`` when it had to be killed). The
        process group is killed afterwards either way."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        with suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(wait)
            took = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            took = float("inf")
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        return took

    def processes(self) -> list[psutil.Process]:
        """The server's process and all its children (none once it has exited)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        with suppress(psutil.Error):
            main = psutil.Process(self.proc.pid)
            return [main, *main.children(recursive=True)]
        return []

    def rss_mb(self) -> float:
        """Resident memory of all its processes, MB."""
        total = 0
        for p in self.processes():
            with suppress(psutil.Error):
                total += p.memory_info().rss
        return total / 1e6

    def cpu_s(self) -> float:
        """CPU seconds (user + system) of all its processes so far."""
        total = 0.0
        for p in self.processes():
            with suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total
