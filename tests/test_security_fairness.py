"""Finding 7 of issue 19: no single global screening lock; one key's big job does not stall
another key's small ones.

The review: 45 concurrent 4-line requests were served one after another, a 200,000-line
upload held everyone for 41 s, and an ergotamine look-alike cost each line ~0.27 s of
structure work. Here: the fair slots' rules (in-process), then, through the real server, a
key's small requests while another key's big upload and the cage are screened.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from _live_server import Live, live_server
from precursorwatch.web.lanes import FairSlots
from test_security_reports import manifest

# --- the fair slots ---------------------------------------------------------------------------


def test_a_freed_slot_goes_to_the_key_served_least_recently() -> None:
    async def run() -> list[str]:
        slots = FairSlots(1)
        order: list[str] = []
        release = asyncio.Event()

        async def blocker() -> None:
            async with slots.slot("blocker"):
                await release.wait()

        async def job(key: str) -> None:
            async with slots.slot(key):
                order.append(key)
                await asyncio.sleep(0)

        held = asyncio.create_task(blocker())
        await asyncio.sleep(0.01)
        jobs = [asyncio.create_task(job(k)) for k in ("big", "big", "big", "small", "other")]
        await asyncio.sleep(0.01)
        release.set()
        await held
        await asyncio.gather(*jobs)
        return order

    # one key's three queued jobs do not go before the two other keys' one each
    assert asyncio.run(run()) == ["big", "small", "other", "big", "big"]


def test_a_key_runs_one_job_per_lane_at_a_time() -> None:
    async def run() -> int:
        slots = FairSlots(3, per_key=1)
        running = 0
        most = 0

        async def job() -> None:
            nonlocal running, most
            async with slots.slot("same-key"):
                running += 1
                most = max(most, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(job() for _ in range(5)))
        return most

    assert asyncio.run(run()) == 1


def test_a_waiter_that_gives_up_frees_its_turn() -> None:
    async def run() -> bool:
        slots = FairSlots(1)
        hold = asyncio.Event()

        async def holder() -> None:
            async with slots.slot("a"):
                await hold.wait()

        first = asyncio.create_task(holder())
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(holder())
        await asyncio.sleep(0.01)
        waiter.cancel()
        hold.set()
        await first
        async with slots.slot("b"):
            return slots.free == 0 and slots.waiting() == 0

    assert asyncio.run(run())


# --- through the server -----------------------------------------------------------------------

CAGE = "[Si]12[Si]3[Si]4[Si]1[Si]5[Si]2[Si]3[Si]45"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "big": ("operator", "fair-big"),
        "small": ("officer", "fair-small"),
        "other": ("operator", "fair-other"),
    }
    # the big upload is waited for (no job, see test_upload_jobs.py): it holds a worker as
    # long as the small requests are timed
    with live_server(tmp_path_factory.mktemp("fair"), keys, {"job_upload_bytes": "0"}) as s:
        yield s


def small_lines(i: int) -> list[dict[str, Any]]:
    return [
        {"line_id": "1", "description": f"Acetone {i} tech", "cas": "67-64-1"},
        {"line_id": "2", "description": f"sodium chloride bag {i}"},
        {"line_id": "3", "description": f"garden hose model {i}", "hs_code": "3917.32"},
        {"line_id": "4", "cas": "108-24-7", "quantity": i % 97 + 1, "unit": "L"},
    ]


def test_small_requests_are_answered_while_a_big_upload_and_the_cage_run(live: Live) -> None:
    done: dict[str, Any] = {}

    def big() -> None:
        done["big"] = live.upload("big", "big.csv", manifest(200_000), timeout=900)

    def cage() -> None:
        m = f"line_id,description,smiles\nC1,reagent,CC(=O)Cc1ccccc1.{CAGE * 20}\n".encode()
        up = live.upload("other", "cage.csv", m)
        sid = up.json()["screening_id"]
        done["cage"] = live.get("other", f"/v1/screenings/{sid}/report.html", timeout=60)

    threads = [threading.Thread(target=f, daemon=True) for f in (big, cage)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the upload is being received and screened from here on
    seconds = []  # the answers that came while the big upload was being handled
    peak = 0.0
    for i in range(50):
        if not threads[0].is_alive():
            break
        t0 = time.monotonic()
        got = live.screen("small", small_lines(100 + i), timeout=60)
        seconds.append(time.monotonic() - t0 if got.status_code == 200 else math.inf)
        peak = max(peak, live.rss_mb())
    for t in threads:
        t.join(timeout=900)
    assert done["big"].status_code == 201 and done["cage"].status_code == 200
    # a quiet machine screens these 200,000 lines in about 2.5 s: five answers during it suffice
    # (bench/redteam.py measures fifty during a realistic 200,000-line upload)
    assert len(seconds) >= 5, f"only {len(seconds)} answers during the upload: make it bigger"
    seconds.sort()
    # on a quiet machine all answer in well under a second; shared CI cores are slower
    assert seconds[int(0.9 * len(seconds)) - 1] <= 2.0 and seconds[-1] <= 5.0, seconds
    assert peak < 1500


def test_concurrent_small_requests_are_not_served_one_after_another(live: Live) -> None:
    live.screen("small", small_lines(1))
    t0 = time.monotonic()
    live.screen("small", small_lines(2))
    one = time.monotonic() - t0
    seconds: list[float] = []

    def call(i: int) -> None:
        t = time.monotonic()
        live.screen(("small", "other", "big")[i % 3], small_lines(1000 + i), timeout=120)
        seconds.append(time.monotonic() - t)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    # served one after another would take 12x one request; when one request takes only tens
    # of milliseconds (a quiet machine), the store's commits alone come near that, and twelve
    # answers within 2 s stall nobody (issue 19 asks for 2 s)
    assert wall < max(12 * one, 2.0), (one, wall)
