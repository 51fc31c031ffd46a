"""Issue 20: big uploads are jobs with progress, through a real ``precursorwatch serve``.

A 100,000-line upload is answered 202 at once; polling ``GET /v1/screenings/{id}`` shows it
running with rising progress, then complete, and its ``report.csv`` is byte for byte what
``precursorwatch screen`` writes for the file. A running screening is readable only by the keys
that may read it once complete; a cancel stops it, keeps nothing and is audited; a small
upload is still answered 201 when screened; SIGTERM still stops the server within 10 s while
a job runs.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _live_server import Live, live_server

ROWS = [
    ("Acetone tech grade", "67-64-1", "5"),
    ("Sodium chloride", "7647-14-5", "1000"),
    ("Acetic anhydride 99 %", "108-24-7", "400"),
    ("safrole oil", "", "2"),
    ("garden hose", "", "3"),
    ("ephedrine hydrochloride", "", "1"),
]

#: ``lots`` of a manifest whose lines are nearly all distinct: a few thousand lines a second
#: at most, so a job is still running when the test acts on it.
SLOW = 20_011


def manifest(lines: int, lots: int = 1009) -> bytes:
    """A manifest of ``lines`` lines, some flagged (about 38 bytes a line: 100,000 lines are
    over the default job_upload_bytes of 2 MB); ``lots`` sets how many distinct descriptions
    there are (more: slower to screen)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["line_id", "description", "cas", "quantity"])
    for i in range(lines):
        d, c, q = ROWS[i % len(ROWS)]
        w.writerow([f"L{i + 1}", f"{d} lot {i % lots}", c, q])
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "owner": ("operator", "jobs-owner"),
        "stranger": ("operator", "jobs-stranger"),
        "officer": ("officer", "jobs-officer"),
        "admin": ("admin", "jobs-admin"),
    }
    with live_server(tmp_path_factory.mktemp("jobs"), keys) as s:
        yield s


def _poll(live: Live, who: str, sid: str, limit_s: float = 600) -> list[dict[str, Any]]:
    """Every answer of GET /v1/screenings/{sid} until it is no longer running."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        got = live.get(who, f"/v1/screenings/{sid}", timeout=120)
        assert got.status_code == 200, got.text
        body = got.json()
        seen.append(body)
        if body["status"] != "running":
            return seen
        time.sleep(0.1)
    raise AssertionError(f"still running after {limit_s} s: {seen[-1]}")


def _stored(live: Live, sid: str) -> int:
    with sqlite3.connect(f"file:{live.db_path}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT count(*) FROM screening WHERE id = ?", (sid,)).fetchone()
        return int(rows[0])


def test_a_small_upload_is_still_answered_201_when_screened(live: Live) -> None:
    up = live.upload("owner", "small.csv", manifest(12))
    assert up.status_code == 201, up.text
    body = up.json()
    assert body["summary"]["lines"] == 12 and body["summary"]["flagged"] >= 1
    got = live.get("owner", f"/v1/screenings/{body['screening_id']}").json()
    assert got["status"] == "complete" and len(got["lines"]) == 12
    assert got["progress"] == {"lines_read": 12, "lines_judged": 12, "total": 12}


def test_a_100000_line_upload_runs_as_a_job_and_ends_as_the_cli_screens_it(
    live: Live, tmp_path: Path
) -> None:
    data = manifest(100_000)
    assert len(data) > 2_000_000
    t0 = time.monotonic()
    up = live.upload("owner", "big.csv", data)
    answered = time.monotonic() - t0
    assert up.status_code == 202, up.text
    assert answered < 5, answered  # the file is saved, not screened, before the answer
    first = up.json()
    sid = first["screening_id"]
    assert first["status"] == "running" and up.headers["location"] == f"/v1/screenings/{sid}"
    assert set(first["progress"]) == {"lines_read", "lines_judged", "total"}

    # readable while running exactly by whoever may read it once complete
    assert live.get("stranger", f"/v1/screenings/{sid}").status_code == 404
    assert live.get("officer", f"/v1/screenings/{sid}").status_code == 200
    assert live.get("stranger", f"/v1/screenings/{sid}/report.csv").status_code == 404

    seen = _poll(live, "owner", sid)
    running = [s["progress"] for s in seen if s["status"] == "running"]
    judged = [p["lines_judged"] for p in running]
    assert judged == sorted(judged), judged  # never goes back
    assert len(set(judged)) >= 2, judged  # rises while the client watches
    assert any(p["total"] == 100_000 for p in running), running[-3:]
    assert all(p["lines_read"] >= p["lines_judged"] for p in running)

    done = seen[-1]
    assert done["status"] == "complete", done
    took = time.monotonic() - t0
    print(
        f"202 after {answered:.2f} s; complete after {took:.1f} s; "
        f"judged seen {sorted(set(judged))}"
    )
    assert done["summary"]["lines"] == 100_000  # lines come a page at a time (the report: all)
    assert done["progress"] == {"lines_read": 100_000, "lines_judged": 100_000, "total": 100_000}
    assert done["lines"][0]["line_id"] == "L1"
    assert live.get("stranger", f"/v1/screenings/{sid}").status_code == 404

    report = live.get("owner", f"/v1/screenings/{sid}/report.csv", timeout=300)
    assert report.status_code == 200
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    out = tmp_path / "cli.csv"
    cli = live.cli("screen", str(path), "-o", str(out), "--no-record", timeout=600)
    assert cli.returncode in (0, 1), cli.stderr
    assert report.content == out.read_bytes()


def test_a_running_job_can_be_cancelled_and_nothing_of_it_is_kept(live: Live) -> None:
    before = live.last_audit_id()
    up = live.upload("owner", "cancel-me.csv", manifest(300_000, SLOW))
    assert up.status_code == 202, up.text
    sid = up.json()["screening_id"]
    deadline = time.monotonic() + 120
    while live.get("owner", f"/v1/screenings/{sid}").json()["progress"]["lines_judged"] == 0:
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.05)

    # the same key's second big upload waits for its turn (one bulk job per key): a cancel
    # takes it out of the queue at once
    queued = live.upload("owner", "queued.csv", manifest(300_000, SLOW))
    assert queued.status_code == 202, queued.text
    qid = queued.json()["screening_id"]
    t0 = time.monotonic()
    out = live.request("owner", "POST", f"/v1/screenings/{qid}/cancel")
    assert out.status_code == 200 and out.json()["status"] == "cancelled", out.text
    assert out.json()["progress"]["lines_read"] == 0 and time.monotonic() - t0 < 10

    assert live.request("stranger", "POST", f"/v1/screenings/{sid}/cancel").status_code == 404
    officer = live.request("officer", "POST", f"/v1/screenings/{sid}/cancel")
    assert officer.status_code == 403, officer.text  # may read it, may not stop it

    t0 = time.monotonic()
    cancelled = live.request("owner", "POST", f"/v1/screenings/{sid}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert time.monotonic() - t0 < 15
    after = live.get("owner", f"/v1/screenings/{sid}").json()
    assert after["status"] == "cancelled" and after["progress"]["lines_judged"] < 300_000
    assert "lines" not in after
    # nothing half-done remains: no stored screening, no report
    deadline = time.monotonic() + 20
    while _stored(live, sid) and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker removes what it wrote when it stops
    assert _stored(live, sid) == 0 and _stored(live, qid) == 0
    assert live.get("owner", f"/v1/screenings/{sid}/report.csv").status_code == 404
    again = live.request("owner", "POST", f"/v1/screenings/{sid}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"

    events = [e for e in live.audit(before) if e[2] == "screening.cancelled"]
    assert [json.loads(e[3])["screening_id"] for e in events] == [qid, sid]
    assert {e[4] for e in events} == {live.key_ids["owner"]}
    assert not [e for e in live.audit(before) if e[2] == "screening.saved" and sid in e[3]]

    # a complete screening cannot be cancelled
    small = live.upload("owner", "small.csv", manifest(3)).json()["screening_id"]
    late = live.request("owner", "POST", f"/v1/screenings/{small}/cancel")
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"


def test_sigterm_stops_the_server_within_10_s_while_a_job_runs(live: Live) -> None:
    # last in this module: it stops the module's server
    up = live.upload("admin", "long.csv", manifest(400_000, SLOW))
    assert up.status_code == 202, up.text
    sid = up.json()["screening_id"]
    deadline = time.monotonic() + 120
    while live.get("admin", f"/v1/screenings/{sid}").json()["progress"]["lines_read"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert live.stop(signal.SIGTERM, wait=15) < 10
