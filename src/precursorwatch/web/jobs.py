"""Big uploads as jobs: answered at once, screened in the bulk lane, followed, cancelled.

An upload over ``job_upload_bytes`` is saved, given its screening id and started as an
asyncio task of the server; the API answers 202 and the page redirects to the screening,
which shows the job's progress until it is complete. The job's screening is stored under that
same id (:func:`~precursorwatch.run.service.screen_file`'s ``screening_id``), so once it is
complete every reader finds it where the 202 said. Smaller uploads are screened while the
client waits, as before (201).

The registry (:class:`~precursorwatch.web.job_registry.Jobs`) lives in the server's memory. A
restart forgets the jobs under way: their ids then answer 404, and what they had written stays
an incomplete screening no reader lists (removed by the store's purge of stale incomplete
screenings). A cancelled or failed job's incomplete screening is deleted at once. Finished jobs
are remembered for :data:`~precursorwatch.web.job_registry.KEEP_FINISHED_S`, so a cancelled or
failed one says so for a while.

A job is visible to whoever may read its screening once complete (operators: their own key's
only; officers and admins: all); only the key that started it, or an admin, may cancel it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from precursorwatch.errors import PrecursorWatchError
from precursorwatch.run.progress import ScreeningCancelled
from precursorwatch.store import ApiKeyInfo, ScreeningSummary
from precursorwatch.web import work
from precursorwatch.web.job_registry import CANCELLED, COMPLETE, FAILED, RUNNING, Job, Jobs

if TYPE_CHECKING:
    from precursorwatch.web.state import AppState

__all__ = ["CANCELLED", "COMPLETE", "FAILED", "RUNNING", "Job", "Jobs", "cancel_for", "upload"]

log = logging.getLogger(__name__)

#: Seconds a cancelled job has to stop at its next chunk; past them (it was still waiting for
#: its turn, or a chunk is slow) it is let go: its worker stops at the next chunk on its own.
STOP_WAIT_S = 2.0
#: Seconds a cancel waits in all for the job to end before answering.
CANCEL_WAIT_S = 30.0


def start(
    state: AppState,
    key: ApiKeyInfo,
    path: Path,
    name: str,
    as_of: date | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Job:
    """Start screening the saved upload ``path`` as ``key`` against the lists as they applied
    on ``as_of`` (default today), its columns read with ``mapping`` (field -> header, as
    ``--map``); the job owns (and removes) ``path.parent``. Call from the server's event
    loop."""
    job = Job(
        screening_id=uuid.uuid4().hex,
        key_id=key.key_id,
        key_name=key.name,
        input_name=name,
        created_at=datetime.now(UTC),
    )
    state.jobs.add(job)
    job.task = asyncio.get_running_loop().create_task(_run(state, key, job, path, as_of, mapping))
    return job


async def cancel(state: AppState, key: ApiKeyInfo, screening_id: str) -> Job | None:
    """Cancel ``key``'s running job and wait (up to :data:`CANCEL_WAIT_S`) until it stopped;
    the job (its status says whether the cancel came in time), or None when there is no such
    job. Audited unless the job completed first. Raises QueryError (hidden) or ApiError 403
    (a key that may read but not cancel it)."""
    import anyio.to_thread

    from precursorwatch.web.errors import ApiError

    job = state.jobs.visible(key, screening_id)
    if job is None or job.status != RUNNING:
        return job
    if job.key_id != key.key_id and key.role != "admin":
        raise ApiError(
            403, "only the key that uploaded the file, or an admin, may cancel its screening"
        )
    job.progress.cancel()
    if job.task is not None:
        done, _ = await asyncio.wait({job.task}, timeout=STOP_WAIT_S)
        if not done:
            job.task.cancel()
            await asyncio.wait({job.task}, timeout=CANCEL_WAIT_S)
    if job.status != COMPLETE:
        detail = {
            "screening_id": job.screening_id,
            "input_name": job.input_name,
            "lines_judged": job.progress.judged,
            "owner_key_id": job.key_id,
            "status": job.status,
        }
        await anyio.to_thread.run_sync(work.audit, state, key, "screening.cancelled", detail)
    return job


async def _run(
    state: AppState,
    key: ApiKeyInfo,
    job: Job,
    path: Path,
    as_of: date | None = None,
    mapping: Mapping[str, str] | None = None,
) -> None:
    """Screen the job's upload and record how it ended."""
    try:
        await work.screen_saved(
            state,
            key,
            path,
            job.input_name,
            progress=job.progress,
            screening_id=job.screening_id,
            **work.as_of_job(as_of),
            **_mapping_job(mapping),
        )
        job.progress.finish()
        job.status = COMPLETE
    except ScreeningCancelled:
        job.status = CANCELLED
        job.message = "the screening was cancelled; nothing of it was kept"
    except PrecursorWatchError as exc:
        job.status, job.message = FAILED, str(exc)
    except asyncio.CancelledError:
        if job.progress.cancelled:  # let go by a cancel (see STOP_WAIT_S) or the shutdown
            job.status, job.message = (
                CANCELLED,
                "the screening was cancelled; nothing of it was kept",
            )
            return
        job.status, job.message = FAILED, "the server stopped before the screening ended"
        raise
    except Exception as exc:  # a bug: logged here, a plain failure for the client
        log.exception("upload job %s failed", job.screening_id)
        job.status = FAILED
        job.message = f"internal error ({type(exc).__name__}): the server logged it"
    finally:
        if job.status == RUNNING:
            job.status = FAILED
        job.finished = time.monotonic()
        shutil.rmtree(path.parent, ignore_errors=True)


async def upload(
    state: AppState,
    key: ApiKeyInfo,
    source: BinaryIO,
    filename: str,
    as_of: date | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ScreeningSummary | Job:
    """Save an upload, then screen it (against the lists as they applied on ``as_of``,
    default today; its columns read with ``mapping`` when given) while the caller waits (its
    summary) or, over ``job_upload_bytes``, as a job (the job, already running). Raises
    InputError (not csv/tsv/xlsx), TooLargeError or, for a screening waited for,
    ManifestError."""
    path, name = await work.receive_upload(state, source, filename)
    return await screen_received(state, key, path, name, as_of, mapping)


async def screen_received(
    state: AppState,
    key: ApiKeyInfo,
    path: Path,
    name: str,
    as_of: date | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ScreeningSummary | Job:
    """Screen a saved upload (``path``, whose directory this removes) as :func:`upload`
    does, its columns read with ``mapping`` (field -> header, as the CLI's ``--map``): while
    the caller waits, or over ``job_upload_bytes`` as a job. Raises ManifestError for a
    screening waited for."""
    limit = state.settings.job_upload_bytes
    if limit and path.stat().st_size > limit:
        return start(state, key, path, name, as_of, mapping)
    try:
        return await work.screen_saved(
            state, key, path, name, **work.as_of_job(as_of), **_mapping_job(mapping)
        )
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _mapping_job(mapping: Mapping[str, str] | None) -> dict[str, dict[str, str]]:
    """A bulk job's argument for the columns named by hand (none: recognised by name)."""
    return {"mapping": dict(mapping)} if mapping else {}


async def cancel_for(state: AppState, key: ApiKeyInfo, screening_id: str) -> Job:
    """Cancel a job for the API and the pages: the job after the cancel (cancelled, or how it
    ended when it ended first). Raises ApiError 409 for a complete screening, QueryError
    (404) for an id ``key`` cannot read, ApiError 403 for a key that may not cancel it."""
    import anyio.to_thread

    from precursorwatch.web.errors import ApiError

    job = await cancel(state, key, screening_id)
    if job is None:  # no job: a screening in the store (complete), or nothing for this key
        await anyio.to_thread.run_sync(work.screening_for, state, key, screening_id)
    if job is None or job.status == COMPLETE:
        raise ApiError(409, f"screening {screening_id[:64]!r} is complete: nothing to cancel")
    return job


def status_or_none(state: AppState, key: ApiKeyInfo, screening_id: str) -> dict[str, Any] | None:
    """The status answer of a job that is not complete (None when there is none: read the
    store). Raises QueryError when the job is another key's that ``key`` may not see."""
    job = state.jobs.visible(key, screening_id)
    if job is None or job.status == COMPLETE:
        return None
    return job.status_json()
