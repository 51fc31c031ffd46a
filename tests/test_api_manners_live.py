"""API manners that depend on the server (issue 21), on a real ``precursorwatch serve``:
429 with Retry-After for an address sending bad keys and for a key over its rate, the request
id in the server's log, and idempotent answers and page sessions that survive a restart.

The server runs with small limits (settings by environment): 5 bad keys per 6 s per address,
30 requests per minute per key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _live_server import Live, live_server

LINES = [{"line_id": "L1", "description": "Acetic anhydride", "cas": "108-24-7"}]
LIMITS = {"auth_failures_limit": "5", "auth_failures_window_s": "6", "rate_limit_per_minute": "30"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "officer": ("officer", "border-desk"),
        "limited": ("operator", "busy-integrator"),
        "other": ("operator", "quiet-integrator"),
    }
    with live_server(tmp_path_factory.mktemp("manners-live"), keys, LIMITS) as server:
        yield server


def error_message(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def test_an_address_sending_bad_keys_is_answered_429_then_let_in_again(live: Live) -> None:
    assert live.get("officer", "/v1/lists").status_code == 200  # the store is open: fast checks
    bad = {"Authorization": "Bearer pw_" + "A" * 43}
    for _ in range(5):
        assert live.request("none", "GET", "/v1/lists", headers=bad).status_code == 401
    blocked = live.request("none", "GET", "/v1/lists", headers=bad)
    assert "too many unknown or revoked keys" in error_message(blocked, 429)
    wait = int(blocked.headers["retry-after"])
    assert 1 <= wait <= 6
    # while blocked even a good key is not checked (else the answer would tell it apart)
    assert live.get("officer", "/v1/lists").status_code == 429
    with httpx.Client(base_url=live.base, timeout=30) as page:
        form = page.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        signin = page.post(
            "/signin", data={"key": live.secrets["officer"], "csrf": token[1] if token else ""}
        )
    assert signin.status_code == 429 and signin.headers["retry-after"]
    # no key at all is no guess: still the 401 that says how to send one
    assert live.request("none", "GET", "/v1/lists").status_code == 401
    time.sleep(wait + 0.2)
    assert live.get("officer", "/v1/lists").status_code == 200


def test_a_key_over_its_rate_is_answered_429_and_others_are_not(live: Live) -> None:
    with httpx.Client(base_url=live.base, headers=live.headers("limited"), timeout=30) as c:
        statuses = [c.get("/v1/lists").status_code for _ in range(30)]
        over = c.get("/v1/lists")
    assert statuses == [200] * 30
    assert "rate_limit_per_minute" in error_message(over, 429)
    wait = int(over.headers["retry-after"])
    assert 1 <= wait <= 3  # one request's worth of a 30-per-minute allowance is 2 s
    assert live.get("other", "/v1/lists").status_code == 200
    time.sleep(wait + 0.2)
    assert live.get("limited", "/v1/lists").status_code == 200


def test_the_request_id_is_echoed_and_in_the_servers_log(live: Live) -> None:
    answer = live.get("officer", "/v1/lists", headers={"X-Request-ID": "live-trace-0077"})
    assert answer.headers["x-request-id"] == "live-trace-0077"
    refused = live.get("none", "/v1/lists/EU-CAT1", headers={"X-Request-ID": "live-trace-0078"})
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "live-trace-0078"
    log = Path(live.tmp / "server.log")
    deadline = time.monotonic() + 10
    while "live-trace-0078" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.1)
    text = log.read_text(errors="replace")
    assert re.search(r"live-trace-0077 GET /v1/lists -> 200", text)
    assert re.search(r"live-trace-0078 GET /v1/lists/EU-CAT1 -> 401", text)


def test_idempotent_answers_and_sessions_survive_a_restart(live: Live) -> None:
    headers = {"Idempotency-Key": "restart-1"}
    first = live.screen("officer", LINES, headers=headers)
    assert first.status_code == 200, first.text
    with httpx.Client(base_url=live.base, follow_redirects=False, timeout=30) as page:
        form = page.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        done = page.post(
            "/signin", data={"key": live.secrets["officer"], "csrf": token[1] if token else ""}
        )
        assert done.status_code == 303
        cookie = page.cookies["pw_session"]
    live.stop()
    live.start()
    again = live.screen("officer", LINES, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["screening_id"] == first.json()["screening_id"]
    with httpx.Client(
        base_url=live.base, follow_redirects=False, timeout=30, cookies={"pw_session": cookie}
    ) as page:
        assert page.get("/upload").status_code == 200
        assert page.post("/signout").status_code == 303
    with httpx.Client(
        base_url=live.base, follow_redirects=False, timeout=30, cookies={"pw_session": cookie}
    ) as page:
        ended = page.get("/upload")
    assert ended.status_code == 303 and ended.headers["location"] == "/signin"
