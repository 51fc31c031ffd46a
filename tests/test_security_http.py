"""Finding 8 of issue 19: hardened HTTP, through the real server.

Security headers and ``no-store`` on every answer, errors included; ``/docs`` without
third-party scripts; sign-out ends the session server-side; a body without a key is not read;
slow heads and stalled bodies are cut off; framing that could be read two ways is refused;
hidden and unknown substances answer alike, in time too; reads of confidential data and report
downloads are audited. And (in-process) HSTS and ``Secure`` cookies behind a TLS proxy, and the
one error shape with the headers for an unexpected error.
"""

from __future__ import annotations

import json
import re
import socket
import statistics
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _live_server import HOST, Live, cas_with_check, live_server
from precursorwatch.settings import get_settings
from precursorwatch.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
SECRET_LIST = (
    "code: SECRET-HTTP\ntitle: Hidden Register\nconfidential: true\nentries:\n"
    "  - key: hiddenoline\n    name: Hiddenoline\n"
    f"    cas: {cas_with_check('33312345')}\n    smiles: 'CCCCCCCCCCOC(=O)c1ccc(I)cc1'\n"
    "    category: x\n"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "admin": ("admin", "http-admin"),
        "officer": ("officer", "http-officer"),
        "operator": ("operator", "http-operator"),
    }
    with live_server(tmp_path_factory.mktemp("http"), keys) as s:
        assert s.import_list("secret-http.yaml", SECRET_LIST, True).status_code == 201
        yield s


def _raw(live: Live, data: bytes, wait: float = 5.0) -> bytes:
    with socket.create_connection((HOST, live.port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while block := sock.recv(65536):
                chunks.append(block)
        except TimeoutError:
            pass
    return b"".join(chunks)


def test_every_answer_has_the_headers_and_no_store(live: Live) -> None:
    sid = live.screen("officer", [{"description": "acetone"}]).json()["screening_id"]
    answers = [
        live.get("officer", "/v1/lists"),
        live.get("officer", f"/v1/screenings/{sid}/report.csv"),
        live.get("none", "/v1/lists"),  # 401
        live.get("officer", "/v1/nope"),  # 404
        live.request("officer", "DELETE", "/v1/lists"),  # 405
        live.request("officer", "POST", "/v1/screen", json={"linez": 1}),  # 422
        live.get("operator", "/v1/lists/SECRET-HTTP"),  # 404, hidden
        live.get("none", "/signin"),
        live.get("none", "/nope"),
    ]
    with live.signed_in("officer") as page:
        answers += [page.get("/lists/SECRET-HTTP"), page.get("/substances/hiddenoline")]
        answers += [page.get("/upload"), page.get(f"/screenings/{sid}")]
    for r in answers:
        for name, value in HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, name)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        # scripts only from the server's own files (the progress bar's): none inline
        assert "script-src 'self';" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert "server" not in r.headers
    static = live.get("none", "/static/style.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_docs_load_no_third_party_script(live: Live) -> None:
    assert live.get("none", "/docs").status_code == 404
    spec = live.get("none", "/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")


def test_sign_out_ends_the_session_on_the_server(live: Live) -> None:
    for form in ({"csrf": "from the page"}, {}):
        with live.signed_in("officer") as page:
            cookie = page.cookies.get("pw_session")
            if form:
                token = re.search(r'name="csrf" value="([^"]+)"', page.get("/upload").text)
                form = {"csrf": token[1] if token else ""}
            assert page.post("/signout", data=form).status_code == 303
        with httpx.Client(base_url=live.base, cookies={"pw_session": cookie or ""}) as replay:
            again = replay.get("/upload", follow_redirects=False)
            assert again.status_code == 303 and again.headers["location"] == "/signin"


def test_a_body_without_a_key_is_not_read(live: Live) -> None:
    head = (
        "POST /v1/screenings HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 45000000\r\n\r\n"
    )
    with socket.create_connection((HOST, live.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"--b\r\n" + b"a" * 100_000)
        t0 = time.monotonic()
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401") and time.monotonic() - t0 < 3
    assert b"connection: close" in answer.lower()
    for path in ("/v1/lists", "/v1/rescreen"):  # a wrong role is refused before the body too
        with socket.create_connection((HOST, live.port), timeout=5) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 45000000\r\n"
                f"Authorization: Bearer {live.secrets['operator']}\r\n\r\n".encode()
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 403")


def test_content_length_with_transfer_encoding_is_refused(live: Live) -> None:
    smuggled = b"0\r\n\r\nGET /v1/lists HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = _raw(
        live,
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(smuggled)).encode()
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + smuggled,
    )
    assert answer.startswith(b"HTTP/1.1 400") and answer.count(b"HTTP/1.1 ") == 1


def test_slow_heads_and_stalled_bodies_are_cut_off(live: Live) -> None:
    heads = []
    for _ in range(20):
        s = socket.create_connection((HOST, live.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        heads.append(s)
    body = socket.create_connection((HOST, live.port), timeout=5)
    body.sendall(
        (
            "POST /v1/screen HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {live.secrets['officer']}\r\nContent-Length: 1000\r\n\r\n"
            '{"lines": ['
        ).encode()
    )
    deadline = time.monotonic() + 16
    open_ = set(range(len(heads) + 1))
    while open_ and time.monotonic() < deadline:
        for i in list(open_):
            s = heads[i] if i < len(heads) else body
            s.setblocking(False)
            try:
                s.recv(4096)  # closed (b"") or answered: either way, no longer held
                open_.discard(i)
            except BlockingIOError:
                pass
            except OSError:
                open_.discard(i)
        time.sleep(0.5)
    for s in [*heads, body]:
        s.close()
    assert not open_
    assert httpx.get(live.base + "/healthz").status_code == 200


def test_hidden_and_unknown_substances_answer_alike_in_time(live: Live) -> None:
    hidden, unknown = [], []
    with httpx.Client(base_url=live.base, headers=live.headers("operator")) as c:
        for i in range(40):
            for key, sink in (("hiddenoline", hidden), (f"nosuch-{i}", unknown)):
                t0 = time.perf_counter()
                r = c.get(f"/v1/substances/{key}")
                sink.append(time.perf_counter() - t0)
                assert r.status_code == 404
    mh, mu = statistics.median(hidden), statistics.median(unknown)
    assert max(mh, mu) / min(mh, mu) < 1.5 or abs(mh - mu) < 0.003, (mh, mu)


def test_confidential_reads_and_report_downloads_are_audited(live: Live) -> None:
    sid = live.screen("officer", [{"description": "acetone"}]).json()["screening_id"]
    mark = live.last_audit_id()
    live.get("officer", "/v1/lists/SECRET-HTTP")
    live.get("officer", "/v1/substances/hiddenoline")
    live.get("officer", "/v1/lists/UN-T1")  # public: not a confidential read
    live.get("officer", f"/v1/screenings/{sid}")  # screened while SECRET-HTTP was in force
    for fmt in ("csv", "xlsx", "html"):
        live.get("officer", f"/v1/screenings/{sid}/report.{fmt}")
    events = live.audit(mark)
    actions = [(e[2], json.loads(e[3])) for e in events]
    assert ("list.read", "SECRET-HTTP") in [(a, d.get("code")) for a, d in actions]
    assert any(a == "substance.read" and d["key"] == "hiddenoline" for a, d in actions)
    assert not any(d.get("code") == "UN-T1" for _, d in actions)
    assert any(a == "screening.read" and d["screening_id"] == sid for a, d in actions)
    formats = {d["format"] for a, d in actions if a == "report.downloaded"}
    assert formats == {"csv", "xlsx", "html"}
    assert all(e[1] == "http-officer" and e[4] == live.key_ids["officer"] for e in events)


# --- in process: behind a TLS proxy; an unexpected error -----------------------------------


def _app(tmp_path: Path) -> Any:
    return create_app(get_settings(data_dir=tmp_path, screen_workers=0))


def test_behind_tls_answers_carry_hsts_and_secure_cookies(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path), base_url="https://testserver") as client:
        page = client.get("/signin")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in page.headers["set-cookie"].lower()
    with TestClient(_app(tmp_path)) as plain:
        assert "strict-transport-security" not in plain.get("/signin").headers


def test_an_unexpected_error_is_the_json_500_with_the_headers(tmp_path: Path) -> None:
    app = _app(tmp_path)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /tmp/x")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "/tmp/x" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
