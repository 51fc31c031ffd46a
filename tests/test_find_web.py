"""Finding screenings and working large results through the real app (issue 21): the
screenings list (API and page), a screening's lines a page at a time (API and page), the
search page; and a generated 100,000-line screening's page through the real HTTP server,
timed and weighed."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from _finder_data import decide, kind_of, stored
from _live_server import serve_in_thread
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Env:
    """A store with screenings of two keys, and a client of the real app."""

    def __init__(self, store: Store, client: TestClient, secrets: dict[str, str]) -> None:
        self.store, self.client, self.secrets = store, client, secrets
        self.ids: dict[str, str] = {}

    def auth(self, who: str = "officer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def get(self, path: str, who: str = "officer", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.auth(who))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("find")
    settings = get_settings(database_url=f"sqlite:///{tmp / 'find.sqlite'}", data_dir=tmp)
    store = open_ready_store(settings)
    secrets, key_ids = {}, {}
    with store.session() as session:
        for role in ("officer", "operator"):
            info, secret = create_api_key(session=session, name=f"{role}-1", role=role)
            secrets[role], key_ids[role] = secret, info.key_id
    with TestClient(create_app(settings, store)) as client:
        e = Env(store, client, secrets)
        e.ids["march"] = stored(store, 300, name="march.csv", actor="officer-1",
                                key_id=key_ids["officer"],
                                created_at=datetime(2026, 3, 2, 9, tzinfo=UTC))  # fmt: skip
        e.ids["april"] = stored(store, 300, name="april.csv", actor="operator-1",
                                key_id=key_ids["operator"],
                                created_at=datetime(2026, 4, 2, 9, tzinfo=UTC))  # fmt: skip
        e.ids["big"] = stored(store, 12_000, name="big.csv", actor="officer-1",
                              key_id=key_ids["officer"])  # fmt: skip
        yield e
    store.dispose()


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return str(body["error"]["message"])


def test_the_screenings_list_pages_filters_and_hides_other_keys(env: Env) -> None:
    every = env.get("/v1/screenings").json()
    assert [s["screening_id"] for s in every["screenings"]] == [
        env.ids["big"],
        env.ids["april"],
        env.ids["march"],
    ]
    assert every["total"] == 3 and every["next_offset"] is None
    first = every["screenings"][2]
    assert first["input_name"] == "march.csv" and first["lines"] == 300
    flagged = sum(1 for i in range(300) if kind_of(i) in {"bmk", "acetone"})
    assert first["flagged"] == first["open"] == flagged and first["decided"] == 0
    page = env.get("/v1/screenings", limit=2).json()
    assert len(page["screenings"]) == 2 and page["next_offset"] == 2
    rest = env.get("/v1/screenings", limit=2, offset=2).json()
    assert [s["input_name"] for s in rest["screenings"]] == ["march.csv"]
    spring = env.get("/v1/screenings", since="2026-03-02", until="2026-04-01").json()
    assert [s["input_name"] for s in spring["screenings"]] == ["march.csv"]
    assert env.get("/v1/screenings", file="APR").json()["total"] == 1
    assert env.get("/v1/screenings", actor="operator").json()["total"] == 1
    # an operator sees its own key's screenings only
    own = env.get("/v1/screenings", who="operator").json()
    assert [s["input_name"] for s in own["screenings"]] == ["april.csv"]
    assert "march" not in env.client.get("/v1/screenings", headers=env.auth("operator")).text
    assert "since" in _error(env.get("/v1/screenings", since="March"), 422)
    _error(env.get("/v1/screenings", limit=10_000), 422)
    _error(env.client.get("/v1/screenings"), 401)


def test_open_flags_follow_the_decisions(env: Env) -> None:
    sid = env.ids["march"]
    before = {
        s["screening_id"] for s in env.get("/v1/screenings", open="true").json()["screenings"]
    }
    assert sid in before
    for i in range(300):
        if kind_of(i) in {"bmk", "acetone"}:
            decide(env.store, sid, f"L{i + 1}", "cleared")
    after = env.get("/v1/screenings", open="true").json()["screenings"]
    assert sid not in {s["screening_id"] for s in after}
    (march,) = env.get("/v1/screenings", file="march").json()["screenings"]
    assert march["open"] == 0 and march["decided"] == march["flagged"]


def test_a_small_screening_answers_every_line_unless_paged(env: Env) -> None:
    sid = env.ids["april"]
    whole = env.get(f"/v1/screenings/{sid}").json()
    assert len(whole["lines"]) == 300 and "page" not in whole
    assert [x["line_id"] for x in whole["lines"]] == [f"L{i}" for i in range(1, 301)]
    page = env.get(f"/v1/screenings/{sid}", offset=10, limit=5).json()
    assert [x["line_id"] for x in page["lines"]] == whole_ids(whole)[10:15]
    assert page["page"] == {
        "offset": 10,
        "limit": 5,
        "total": 300,
        "matched": 300,
        "next_offset": 15,
    }
    assert page["summary"] == whole["summary"] and page["screening_id"] == sid
    high = env.get(f"/v1/screenings/{sid}", risk="high,medium", sort="risk").json()
    risks = [x["risk"] for x in high["lines"]]
    assert risks == sorted(risks, key=["high", "medium"].index) and risks[0] == "high"
    assert high["page"]["matched"] == sum(1 for i in range(300) if kind_of(i) in {"bmk", "acetone"})
    listed = env.get(f"/v1/screenings/{sid}", list="EU-CAT1", match_type="cas").json()
    assert {x["matched_key"] for x in listed["lines"]} == {"1-phenyl-2-propanone"}
    assert "risk" in _error(env.get(f"/v1/screenings/{sid}", risk="severe"), 422)
    assert "sort" in _error(env.get(f"/v1/screenings/{sid}", sort="name"), 422)
    assert "list" in _error(env.get(f"/v1/screenings/{sid}", list="NOPE"), 422)
    _error(env.get(f"/v1/screenings/{sid}", limit=5_000), 422)
    # another key's screening stays a 404, paged or not
    _error(env.get(f"/v1/screenings/{env.ids['march']}", who="operator", limit=5), 404)


def whole_ids(body: dict[str, Any]) -> list[str]:
    return [x["line_id"] for x in body["lines"]]


def test_a_large_screening_answers_a_page_and_says_the_total(env: Env) -> None:
    sid = env.ids["big"]
    first = env.get(f"/v1/screenings/{sid}")
    body = first.json()
    assert len(body["lines"]) == 1_000 and body["lines"][0]["line_id"] == "L1"
    assert body["page"] == {"offset": 0, "limit": 1000, "total": 12_000, "matched": 12_000,
                            "next_offset": 1000}  # fmt: skip
    assert body["summary"]["lines"] == 12_000
    last = env.get(f"/v1/screenings/{sid}", offset=11_990).json()
    assert whole_ids(last) == [f"L{i}" for i in range(11_991, 12_001)]
    assert last["page"]["next_offset"] is None
    decide(env.store, sid, "L51", "detained")
    held = env.get(f"/v1/screenings/{sid}", decision="detained").json()
    assert whole_ids(held) == ["L51"]
    opened = env.get(f"/v1/screenings/{sid}", decision="open", limit=1).json()
    flagged = sum(1 for i in range(12_000) if kind_of(i) in {"bmk", "acetone"})
    assert opened["page"]["matched"] == flagged - 1


def _signed_in(env: Env, who: str = "officer") -> TestClient:
    client = env.client
    client.cookies.clear()
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post("/signin", data={"key": env.secrets[who], "csrf": token.group(1)},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    return client


def test_the_screenings_page_and_the_results_page_filter_and_page(env: Env) -> None:
    client = _signed_in(env)
    listed = client.get("/screenings")
    assert listed.status_code == 200
    assert (
        listed.text.index("big.csv")
        < listed.text.index("april.csv")
        < listed.text.index("march.csv")
    )
    only = client.get("/screenings", params={"file": "april"}).text
    assert "april.csv" in only and "march.csv" not in only
    bad = client.get("/screenings", params={"since": "someday"}).text
    assert "is not a day" in bad and "big.csv" in bad
    page = client.get(f"/screenings/{env.ids['big']}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="risk-(\w+)[^"]*" data-line="([^"]+)"', page.text)
    # 240 high lines (every 50th): the first page is all high, in file order
    assert rows == [("high", f"L{50 * i + 1}") for i in range(100)]
    assert "Lines 1–100 of 12,000." in page.text and 'rel="next"' in page.text
    second = client.get(f"/screenings/{env.ids['big']}", params={"offset": 100})
    assert "Lines 101–200 of 12,000." in second.text
    medium = client.get(f"/screenings/{env.ids['big']}", params={"risk": "medium", "limit": 50})
    found = re.findall(r'<tr class="risk-(\w+)', medium.text)
    assert set(found) == {"medium"} and len(found) == 50
    assert "matching (12,000 in all)" in medium.text
    wrong = client.get(f"/screenings/{env.ids['big']}", params={"risk": "severe"})
    assert wrong.status_code == 200 and "showing every line instead" in wrong.text
    operator = _signed_in(env, "operator")
    assert operator.get(f"/screenings/{env.ids['big']}").status_code == 404
    assert "big.csv" not in operator.get("/screenings").text


def test_the_search_page_finds_substances_and_screened_lines(env: Env) -> None:
    client = _signed_in(env)
    for query in ("Essigsäureanhydrid", "108-24-7", "108 24 7"):
        found = client.get("/search", params={"q": query}).text
        assert 'href="/substances/acetic-anhydride"' in found, query
    assert "No listed substance is named" in client.get("/search", params={"q": "xyzzy"}).text
    lines = client.get("/search", params={"substance": "BMK", "consignee": "firm 0"}).text
    hits = re.findall(r'<tr class="risk-(\w+)" data-line="([^"]+)"', lines)
    assert hits and {risk for risk, _ in hits} == {"high"}
    dated = client.get("/search", params={"consignee": "firm 1", "since": "2026-03-01",
                                          "until": "2026-03-31"}).text  # fmt: skip
    assert "march.csv" in dated and "april.csv" not in dated
    operator = _signed_in(env, "operator")
    mine = operator.get("/search", params={"consignee": "firm"}).text
    assert "april.csv" in mine and "march.csv" not in mine and "big.csv" not in mine


@pytest.fixture(scope="module")
def served_100k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    tmp = tmp_path_factory.mktemp("find100k")
    settings = get_settings(database_url=f"sqlite:///{tmp / 'big.sqlite'}", data_dir=tmp)
    store = open_ready_store(settings)
    with store.session() as session:
        info, secret = create_api_key(session=session, name="officer-big", role="officer")
    sid = stored(store, 100_000, name="m100k.csv", actor="officer-big", key_id=info.key_id)
    try:
        with serve_in_thread(create_app(settings, store)) as url:
            yield url, secret, sid
    finally:
        store.dispose()


def test_a_100000_line_screenings_page_answers_fast_and_light(
    served_100k: tuple[str, str, str],
) -> None:
    base, secret, sid = served_100k
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        client.post("/signin", data={"key": secret, "csrf": token.group(1)})
        figures = {}
        for name, params in (
            ("first", {}),
            ("high", {"risk": "high"}),
            ("page 500", {"offset": "49900"}),
            ("open, file order", {"decision": "open", "sort": "input", "limit": "500"}),
        ):
            start = time.perf_counter()
            page = client.get(f"/screenings/{sid}", params=params)
            seconds = time.perf_counter() - start
            assert page.status_code == 200, page.text[:300]
            figures[name] = (seconds, len(page.content))
            assert seconds < 2.0 and len(page.content) < 1_000_000, figures
        first = client.get(f"/screenings/{sid}").text
        assert "Lines 1–100 of 100,000." in first
        assert first.count('data-line="') == 100
        # the cross-line alerts (every line read) are a link to a page of their own
        assert f'href="/screenings/{sid}/alerts"' in first
        start = time.perf_counter()
        alerts = client.get(f"/screenings/{sid}/alerts")
        figures["alerts page"] = (time.perf_counter() - start, len(alerts.content))
        assert alerts.status_code == 200 and "Cross-line alerts of m100k.csv" in alerts.text
        start = time.perf_counter()
        api = client.get(f"/v1/screenings/{sid}", headers={"Authorization": f"Bearer {secret}"})
        figures["api first page"] = (time.perf_counter() - start, len(api.content))
        assert api.json()["page"]["total"] == 100_000 and len(api.json()["lines"]) == 1_000
    print(
        "\n100,000-line screening:",
        {k: (f"{s:.3f} s", f"{b:,} B") for k, (s, b) in figures.items()},
    )
