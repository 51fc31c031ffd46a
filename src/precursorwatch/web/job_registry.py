"""The registry of a server's upload jobs (:mod:`precursorwatch.web.jobs` runs them): who
started each, how far it has got, how it ended; and who may see one (the keys that may read
its screening once complete).

It lives in the server's memory only (see :mod:`precursorwatch.web.jobs` on restarts).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from precursorwatch.errors import QueryError
from precursorwatch.run.progress import ScreeningProgress
from precursorwatch.store import ApiKeyInfo
from precursorwatch.web.visibility import sees_confidential

#: Job statuses (DESIGN.md section 5 additions).
RUNNING, COMPLETE, CANCELLED, FAILED = "running", "complete", "cancelled", "failed"
#: Seconds a finished job stays in the registry.
KEEP_FINISHED_S = 3600.0


@dataclass
class Job:
    """One upload being screened in the background."""

    screening_id: str
    key_id: str
    key_name: str
    input_name: str
    created_at: datetime
    progress: ScreeningProgress = field(default_factory=ScreeningProgress)
    status: str = RUNNING
    message: str = ""
    finished: float = 0.0
    task: asyncio.Task[None] | None = None

    def status_json(self) -> dict[str, Any]:
        """The job's status answer (GET /v1/screenings/{id} while it is not complete)."""
        snap = self.progress.snapshot()
        return {
            "screening_id": self.screening_id,
            "status": self.status,
            "input_name": self.input_name,
            "created_at": self.created_at.isoformat(),
            "progress": {
                "lines_read": snap["lines_read"],
                "lines_judged": snap["lines_judged"],
                "total": snap["total"],
            },
            "message": self.message,
        }


class Jobs:
    """The jobs of one server, by screening id (see the module's notes on restarts)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _forget_old(self) -> None:
        now = time.monotonic()
        with self._lock:
            for sid in [
                s
                for s, j in self._jobs.items()
                if j.status != RUNNING and now - j.finished > KEEP_FINISHED_S
            ]:
                del self._jobs[sid]

    def add(self, job: Job) -> None:
        """Register a job that is starting (finished jobs past their time are forgotten)."""
        self._forget_old()
        with self._lock:
            self._jobs[job.screening_id] = job

    def visible(self, key: ApiKeyInfo, screening_id: str) -> Job | None:
        """The job of ``screening_id`` when ``key`` may read it; None when there is no job
        (the screening may still be in the store); QueryError (404) when another key's job
        is hidden from ``key``, worded as for an unknown id."""
        with self._lock:
            job = self._jobs.get(screening_id)
        if job is None:
            return None
        if not sees_confidential(key.role) and job.key_id != key.key_id:
            raise QueryError(
                f"no screening with id {screening_id[:64]!r} for this key: use the "
                "screening_id that POST /v1/screen or POST /v1/screenings answered"
            )
        return job

    def stop_all(self) -> None:
        """The server is stopping: ask every running job to stop (their workers are ended
        with the server); they are marked failed."""
        with self._lock:
            running = [j for j in self._jobs.values() if j.status == RUNNING]
        for job in running:
            job.progress.cancel()
