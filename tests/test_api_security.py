"""Security of the API and pages through the real app on a temporary SQLite store.

* The authorization matrix: every route of the app (read from the app itself, so a new route
  without an expected row fails the test) x {no key, bad key, revoked key, officer, operator,
  admin} answers the expected status.
* A confidential list (a made-up substance) never reaches the operator role: lists, list and
  substance look-ups, JSON results, CSV/XLSX/HTML reports, pages and error messages.
* Keys: only hashes stored, secrets never logged.
* Pages: security headers, cookie flags, CSRF-refused form posts.
* The audit log cannot be altered through the API; no SQL is built from strings.
"""

from __future__ import annotations

import ast
import io
import logging
import re
import sqlite3
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key, revoke_api_key
from precursorwatch.web import create_app
from precursorwatch.web.visibility import REFER

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).parent.parent
SRC = ROOT / "src" / "precursorwatch"
DATA = Path(__file__).parent / "data" / "api"
WHO = ("none", "bad", "revoked", "officer", "operator", "admin")
ROLES = ("officer", "operator", "admin")

#: The made-up confidential substance and its list.
SECRET_CODE = "SECRET-X"
SECRET_KEY = "zorbanine"
SECRET_NAME = "Zorbanine"
SECRET_CAS = "7771234-55-3"
SECRET_SMILES = "CC(C)(C)c1ccc(cc1)C(=O)N1CCSCC1"
SECRET_SYNONYM = "zx-77 blend"
SECRETS = (SECRET_CODE, SECRET_KEY, SECRET_NAME, SECRET_CAS, "7771234")
SECRET_LIST = (
    "key,name,cas,smiles,synonyms,category\n"
    f"{SECRET_KEY},{SECRET_NAME},{SECRET_CAS},{SECRET_SMILES},{SECRET_SYNONYM},official use only\n"
)


@dataclass
class Env:
    """The app, its store, and per 'who' a client (own cookie jar) and headers."""

    url: str
    db_path: Path
    store: Store
    app: Any
    secrets: dict[str, str]
    clients: dict[str, TestClient] = field(default_factory=dict)
    officer_screening: str = ""
    operator_screening: str = ""

    def headers(self, who: str) -> dict[str, str]:
        if who == "none":
            return {}
        if who == "bad":
            return {"Authorization": "Bearer pw_thisKeyWasNeverIssued000000000000000000"}
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def get(self, who: str, path: str) -> Any:
        return self.clients[who].get(path, headers=self.headers(who))

    def csrf(self, who: str) -> str:
        page = self.clients[who].get("/upload")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        return found.group(1) if found else "no-session"


def _sign_in(client: TestClient, secret: str) -> Any:
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return client.post("/signin", data={"key": secret, "csrf": token.group(1)})


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("security")
    db_path = tmp / "sec.sqlite"
    url = f"sqlite:///{db_path}"
    # the matrix sends an unknown and a revoked key to every route: no address limit here
    # (tests/test_api_manners.py checks it)
    settings = get_settings(database_url=url, data_dir=tmp, auth_failures_limit=0)
    store = open_ready_store(settings)
    secrets: dict[str, str] = {}
    with store.session() as session:
        for role in ROLES:
            _, secrets[role] = create_api_key(session=session, name=f"{role}-1", role=role)
        _, secrets["revoked"] = create_api_key(session=session, name="gone", role="officer")
    app = create_app(settings, store)
    env = Env(url, db_path, store, app, secrets)
    for who in WHO:
        env.clients[who] = TestClient(app, follow_redirects=False)
        env.clients[who].__enter__()
    for who in ("revoked", *ROLES):
        assert _sign_in(env.clients[who], secrets[who]).status_code == 303
    assert _sign_in(env.clients["bad"], "pw_nope").status_code == 401
    with store.session() as session:
        revoke_api_key(session=session, key_id_or_prefix=secrets["revoked"])
    imported = env.clients["admin"].post(
        "/v1/lists",
        files={"file": ("secret-x.csv", SECRET_LIST.encode())},
        data={"confidential": "true"},
        headers=env.headers("admin"),
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["code"] == SECRET_CODE
    lines = {"lines": [{"line_id": "S1", "description": SECRET_SYNONYM.upper(), "quantity": 5}]}
    for role in ("officer", "operator"):
        response = env.clients[role].post("/v1/screen", json=lines, headers=env.headers(role))
        assert response.status_code == 200, response.text
        setattr(env, f"{role}_screening", response.json()["screening_id"])
    yield env
    for client in env.clients.values():
        client.__exit__(None, None, None)
    store.dispose()


# --- the routes of the app --------------------------------------------------------------------


def served_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, walking included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # FastAPI >= 0.16x keeps included routers as nodes
                walk(inner.routes, prefix + route.include_context.prefix)
            elif isinstance(route, (APIRoute, Route)):
                for method in route.methods or ():
                    if method != "HEAD":
                        found.add((method, prefix + route.path))

    walk(list(app.routes), "")
    return found


#: Routes open to everyone by design (the API's document; /docs is off: issue 19).
PUBLIC_DOCS = {("GET", "/openapi.json")}
_401 = {"none": 401, "bad": 401, "revoked": 401}
_ANY_KEY_200 = {**_401, "officer": 200, "operator": 200, "admin": 200}
_PAGE = {"none": 303, "bad": 303, "revoked": 303, "officer": 200, "operator": 200, "admin": 200}
#: (method, path) -> who -> status. The operator reads the officer's screening: 404.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): dict.fromkeys(WHO, 200),
    ("GET", "/readyz"): dict.fromkeys(WHO, 200),
    ("POST", "/v1/screen"): _ANY_KEY_200,
    ("POST", "/v1/screenings"): {**_401, "officer": 201, "operator": 201, "admin": 201},
    ("GET", "/v1/screenings"): _ANY_KEY_200,
    ("GET", "/v1/screenings/{screening_id}"): {**_ANY_KEY_200, "operator": 404},
    ("GET", "/v1/screenings/{screening_id}/report.csv"): {**_ANY_KEY_200, "operator": 404},
    ("GET", "/v1/screenings/{screening_id}/report.xlsx"): {**_ANY_KEY_200, "operator": 404},
    ("GET", "/v1/screenings/{screening_id}/report.html"): {**_ANY_KEY_200, "operator": 404},
    # the officer's screening is complete: nothing to cancel (the job cases: test_upload_jobs)
    ("POST", "/v1/screenings/{screening_id}/cancel"): {
        **_401,
        "officer": 409,
        "operator": 404,
        "admin": 409,
    },
    ("POST", "/v1/rescreen"): {**_401, "officer": 200, "operator": 403, "admin": 200},
    # a decision on the officer's flagged line S1: officers and admins decide, operators not
    ("POST", "/v1/screenings/{screening_id}/lines/{line_id:path}/decision"): {
        **_401,
        "officer": 201,
        "operator": 403,
        "admin": 201,
    },
    ("GET", "/v1/screenings/{screening_id}/lines/{line_id:path}/decisions"): {
        **_ANY_KEY_200,
        "operator": 404,
    },
    ("DELETE", "/v1/screenings/{screening_id}"): {
        **_401,
        "officer": 204,
        "operator": 403,
        "admin": 204,
    },
    ("GET", "/v1/lists"): _ANY_KEY_200,
    ("GET", "/v1/lists/{code}"): _ANY_KEY_200,
    ("GET", "/v1/lists/changes"): _ANY_KEY_200,
    ("POST", "/v1/lists"): {**_401, "officer": 403, "operator": 403, "admin": 201},
    ("GET", "/v1/substances/{key}"): _ANY_KEY_200,
    ("GET", "/v1/substances/{key}/depiction.svg"): _ANY_KEY_200,
    # no line of this store names a consignee: every key gets the same 404
    ("GET", "/v1/consignees/{name:path}"): {**_401, **dict.fromkeys(ROLES, 404)},
    # pages: a signed-in session (cookie), else a redirect to the sign-in page
    ("GET", "/"): dict.fromkeys(WHO, 303),
    ("GET", "/signin"): dict.fromkeys(WHO, 200),
    ("POST", "/signin"): {"none": 401, "bad": 401, "revoked": 401, **dict.fromkeys(ROLES, 303)},
    ("POST", "/signout"): dict.fromkeys(WHO, 303),
    ("GET", "/upload"): _PAGE,
    ("POST", "/upload"): {**_PAGE, **dict.fromkeys(ROLES, 303)},
    # the choice of columns of a held upload: no upload is held under this token for anyone
    ("POST", "/upload/columns"): {**_PAGE, **dict.fromkeys(ROLES, 404)},
    ("GET", "/screenings/{screening_id}"): {**_PAGE, "operator": 404},
    ("GET", "/screenings/{screening_id}/report.{fmt}"): {**_PAGE, "operator": 404},
    ("GET", "/screenings/{screening_id}/alerts"): {**_PAGE, "operator": 404},
    # the progress bar's status (JSON: 401 without a session) and the Cancel button
    ("GET", "/screenings/{screening_id}/status"): {**_PAGE, **_401, "operator": 404},
    ("POST", "/screenings/{screening_id}/cancel"): {
        **_PAGE,
        "officer": 303,
        "admin": 303,
        "operator": 404,
    },
    ("POST", "/screenings/{screening_id}/lines/{line_id:path}/decision"): {
        **_PAGE,
        "officer": 303,
        "operator": 403,
        "admin": 303,
    },
    ("GET", "/screenings"): _PAGE,
    ("GET", "/search"): _PAGE,
    ("GET", "/lists"): _PAGE,
    ("GET", "/lists/{code}"): _PAGE,
    ("GET", "/substances/{key}"): _PAGE,
    ("GET", "/consignees"): dict.fromkeys(WHO, 303),
    ("GET", "/consignees/{name:path}"): {**_PAGE, **dict.fromkeys(ROLES, 404)},
}


def test_every_route_has_an_expected_row() -> None:
    served = served_routes(create_app())
    assert served - PUBLIC_DOCS == set(EXPECTED), "add the new route to EXPECTED"


def _call(env: Env, who: str, method: str, path: str) -> Any:
    client, headers = env.clients[who], env.headers(who)
    url = (
        path.replace("{screening_id}", env.officer_screening)
        .replace("{code}", "EU-CAT1")
        .replace("{key}", "acetic-anhydride")
        .replace("{fmt}", "csv")
        .replace("{line_id:path}", "S1")
    )
    manifest = ("m.csv", b"description,cas\nacetone,67-64-1\n", "text/csv")
    if (method, path) == ("POST", "/v1/screen"):
        return client.post(url, json={"lines": [{"cas": "67-64-1"}]}, headers=headers)
    if (method, path) == ("POST", "/v1/screenings"):
        return client.post(url, files={"file": manifest}, headers=headers)
    if (method, path) == ("DELETE", "/v1/screenings/{screening_id}"):  # a screening of its own
        made = env.clients["officer"].post(
            "/v1/screen", json={"lines": [{"cas": "67-64-1"}]}, headers=env.headers("officer")
        )
        return client.delete(f"/v1/screenings/{made.json()['screening_id']}", headers=headers)
    if (method, path) == ("POST", "/v1/rescreen"):
        return client.post(url, json={"since": "2020-01-01"}, headers=headers)
    if (method, path) == ("POST", "/v1/lists"):
        with (DATA / "firm-watch.csv").open("rb") as fh:
            return client.post(url, files={"file": ("firm-watch.csv", fh)}, headers=headers)
    if (method, path) == ("POST", "/signin"):
        form = client.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        secret = env.secrets.get(who, "pw_nope") if who != "none" else ""
        response = client.post(url, data={"key": secret, "csrf": token.group(1)})
        return response
    if (method, path) == ("POST", "/signout"):
        signed_in = client.cookies.get("pw_session")
        response = client.post(url, data={"csrf": "wrong"})  # ends the session all the same
        if signed_in:  # sign this client in again for the tests that follow
            _sign_in(client, env.secrets[who])
        return response
    if (method, path) == ("POST", "/upload"):
        return client.post(url, files={"file": manifest}, data={"csrf": env.csrf(who)})
    if (method, path) == ("POST", "/upload/columns"):
        form = {"csrf": env.csrf(who), "token": "A" * 43, "column-0": "description"}
        return client.post(url, data=form)
    if (method, path) == ("POST", "/screenings/{screening_id}/cancel"):
        return client.post(url, data={"csrf": env.csrf(who)})
    if path.endswith("/decision") and path.startswith("/v1/"):
        return client.post(url, json={"decision": "inspect", "comment": "seen"}, headers=headers)
    if path.endswith("/decision"):
        form = {"csrf": env.csrf(who), "decision": "inspect", "comment": "seen"}
        return client.post(url, data=form)
    return client.request(method, url, headers=headers)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED), ids=lambda v: str(v))
def test_authorization_matrix(env: Env, method: str, path: str) -> None:
    got = {who: _call(env, who, method, path).status_code for who in WHO}
    assert got == EXPECTED[(method, path)]


def test_page_redirects_go_to_signin_and_api_keys_do_not_open_pages(env: Env) -> None:
    for path in ("/upload", "/lists", f"/screenings/{env.officer_screening}"):
        response = env.clients["none"].get(path, headers=env.headers("admin"))
        assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_operator_reads_its_own_screening(env: Env) -> None:
    for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
        url = f"/v1/screenings/{env.operator_screening}{suffix}"
        assert env.get("operator", url).status_code == 200
    assert env.get("operator", f"/screenings/{env.operator_screening}").status_code == 200


def test_revoked_key_loses_its_page_session(env: Env) -> None:
    response = env.clients["revoked"].get("/upload")
    assert response.status_code == 303 and response.headers["location"] == "/signin"


# --- confidential lists and the operator ------------------------------------------------------


def _text(response: Any) -> str:
    """Everything a response says: headers and body (an XLSX unzipped)."""
    head = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    body = response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b" ".join(archive.read(name) for name in archive.namelist())
    return head + " " + body.decode("utf-8", "replace")


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text.lower()]


def _operator_views(env: Env) -> dict[str, Any]:
    sid = env.operator_screening
    api = {
        path: env.get("operator", path)
        for path in (
            "/v1/lists",
            f"/v1/screenings/{sid}",
            f"/v1/screenings/{sid}/report.csv",
            f"/v1/screenings/{sid}/report.xlsx",
            f"/v1/screenings/{sid}/report.html",
            "/lists",
            f"/screenings/{sid}",
            f"/screenings/{sid}/report.csv",
            f"/screenings/{sid}/report.xlsx",
            f"/screenings/{sid}/report.html",
            "/upload",
        )
    }
    lines = {"lines": [{"description": SECRET_SYNONYM}, {"smiles": SECRET_SMILES}]}
    api["POST /v1/screen"] = env.clients["operator"].post(
        "/v1/screen", json=lines, headers=env.headers("operator")
    )
    api["POST /v1/rescreen"] = env.clients["operator"].post(
        "/v1/rescreen", json={"since": "2000-01-01"}, headers=env.headers("operator")
    )
    return api


def test_officer_sees_the_confidential_list(env: Env) -> None:
    sid = env.officer_screening
    views = [
        env.get("officer", "/v1/lists"),
        env.get("officer", f"/v1/screenings/{sid}"),
        env.get("officer", f"/v1/screenings/{sid}/report.csv"),
        env.get("officer", f"/v1/screenings/{sid}/report.html"),
        env.get("officer", f"/screenings/{sid}"),
    ]
    for view in views:
        assert view.status_code == 200
        assert SECRET_CODE in _text(view) or SECRET_NAME in _text(view)
    assert env.get("officer", f"/v1/lists/{SECRET_CODE}").status_code == 200
    assert env.get("officer", f"/v1/substances/{SECRET_KEY}").status_code == 200


def test_operator_never_sees_the_confidential_list(env: Env) -> None:
    for path, response in _operator_views(env).items():
        assert response.status_code in (200, 403), (path, response.status_code)
        assert _leaks(_text(response)) == [], path
    screened = _operator_views(env)["POST /v1/screen"].json()["lines"]
    assert [line["matched_name"] for line in screened] == [REFER, REFER]
    assert all(line["flagged"] for line in screened)


@pytest.mark.parametrize(
    ("hidden", "unknown"),
    [
        (f"/v1/lists/{SECRET_CODE}", "/v1/lists/NO-SUCH-LIST"),
        (f"/v1/substances/{SECRET_KEY}", "/v1/substances/no-such-thing"),
        (
            f"/v1/substances/{SECRET_KEY}/depiction.svg",
            "/v1/substances/no-such-thing/depiction.svg",
        ),
        (f"/lists/{SECRET_CODE}", "/lists/NO-SUCH-LIST"),
        (f"/substances/{SECRET_KEY}", "/substances/no-such-thing"),
    ],
)
def test_hidden_and_unknown_answer_alike(env: Env, hidden: str, unknown: str) -> None:
    """A hidden list or substance is refused exactly as an unknown one (only the echoed
    name differs), so its existence is not revealed either."""
    got, missing = env.get("operator", hidden), env.get("operator", unknown)
    assert got.status_code == missing.status_code == 404
    probe = hidden.rsplit("/", 2)[1] if hidden.endswith(".svg") else hidden.rsplit("/", 1)[1]
    other = unknown.rsplit("/", 2)[1] if unknown.endswith(".svg") else unknown.rsplit("/", 1)[1]
    assert got.text.replace(probe, "X") == missing.text.replace(other, "X")


def test_operator_cannot_read_the_officers_screening_of_the_secret(env: Env) -> None:
    for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
        response = env.get("operator", f"/v1/screenings/{env.officer_screening}{suffix}")
        assert response.status_code == 404 and _leaks(response.text) == []
    page = env.get("operator", f"/screenings/{env.officer_screening}")
    assert page.status_code == 404 and _leaks(page.text) == []


# --- keys: hashed, never logged ---------------------------------------------------------------


def test_secrets_are_never_logged(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fresh = TestClient(env.app, follow_redirects=False)
    for who in ("officer", "admin", "revoked"):
        env.get(who, "/v1/lists")
        env.get(who, "/v1/screenings/0123456789abcdef0123456789abcdef")
        _sign_in(fresh, env.secrets[who])
    for who in ROLES:
        env.clients[who].post("/v1/screen", json={"linez": []}, headers=env.headers(who))
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert caplog.records  # something was logged, or this test could not fail
    for secret in env.secrets.values():
        assert secret not in logged and secret[11:] not in logged


def test_the_database_holds_only_hashes(env: Env) -> None:
    with sqlite3.connect(env.db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump = []
        for table in tables:
            for row in db.execute(
                f'SELECT * FROM "{table}"'
            ):  # table names come from sqlite_master
                dump.extend(str(cell) for cell in row)
    text = "\n".join(dump)
    assert "api_key" in tables
    for secret in env.secrets.values():
        assert secret not in text and secret[11:] not in text
        assert secret[3:11] in text  # the display prefix is stored, so the dump is real


# --- pages: headers, cookies, CSRF ------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path",
    ["/signin", "/upload", "/lists", "/lists/EU-CAT1", "/substances/safrole", "/no-such-page"],
)
def test_pages_carry_security_headers(env: Env, path: str) -> None:
    response = env.get("officer", path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    scripts = csp.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in csp and "unsafe-inline" not in scripts
    assert "script-src 'self';" in csp  # the server's own files only (the progress bar's)


def test_reports_and_screening_pages_carry_security_headers(env: Env) -> None:
    sid = env.officer_screening
    for path in (f"/screenings/{sid}", f"/v1/screenings/{sid}/report.html"):
        response = env.get("officer", path)
        assert response.status_code == 200
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"


def test_signin_cookie_is_httponly_and_strict(env: Env) -> None:
    client = TestClient(env.app, follow_redirects=False)
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post("/signin", data={"key": env.secrets["officer"], "csrf": token[1]})
    cookie = response.headers["set-cookie"].lower()
    assert "pw_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def _screening_count(env: Env) -> int:
    with sqlite3.connect(env.db_path) as db:
        return int(db.execute("SELECT count(*) FROM screening").fetchone()[0])


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_upload_form_without_the_right_csrf_token_is_refused(env: Env, token: str | None) -> None:
    before = _screening_count(env)
    data = {} if token is None else {"csrf": token}
    response = env.clients["officer"].post(
        "/upload", files={"file": ("m.csv", b"description\nacetone\n")}, data=data
    )
    assert response.status_code == 403
    assert "form expired" in response.text
    assert _screening_count(env) == before


def test_signin_without_the_signin_cookie_is_refused(env: Env) -> None:
    client = TestClient(env.app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert token is not None
    client.cookies.clear()  # a cross-site post carries the token but not the cookie
    response = client.post("/signin", data={"key": env.secrets["officer"], "csrf": token[1]})
    assert response.status_code == 403 and "pw_session" not in response.headers.get(
        "set-cookie", ""
    )


def test_signout_ends_the_session_whatever_the_form_says(env: Env) -> None:
    """Sign-out ends the session server-side (issue 19): the session cookie is SameSite=Strict,
    so a post that carries it comes from the page itself, token or not."""
    for form in ({"csrf": "wrong"}, {}):
        client = TestClient(env.app, follow_redirects=False)
        _sign_in(client, env.secrets["officer"])
        session = client.cookies.get("pw_session")
        assert client.get("/upload").status_code == 200
        client.post("/signout", data=form)
        client.cookies.set("pw_session", session or "")
        assert client.get("/upload").status_code == 303  # the replayed cookie is dead


# --- the audit log cannot be altered through the API ------------------------------------------


def _audit_rows(env: Env) -> list[tuple[Any, ...]]:
    with sqlite3.connect(env.db_path) as db:
        return list(db.execute("SELECT * FROM audit_event ORDER BY rowid"))


def test_no_route_updates_or_deletes() -> None:
    routes = served_routes(create_app())
    # the one delete: an officer removes a screening (audited; the audit trail stays)
    assert {method for method, _ in routes} <= {"GET", "POST", "DELETE"}
    assert {path for method, path in routes if method == "DELETE"} == {
        "/v1/screenings/{screening_id}"
    }
    assert not any("audit" in path for _, path in served_routes(create_app()))


def test_audit_log_only_grows_through_the_api(env: Env) -> None:
    before = _audit_rows(env)
    assert before
    for method in ("DELETE", "PUT", "PATCH"):
        for path in (
            "/v1/audit",
            "/v1/audit/1",
            "/v1/audit_event",
            "/v1/lists",
            f"/v1/lists/{SECRET_CODE}",
            f"/v1/screenings/{env.officer_screening}",
            "/v1/screen",
        ):
            if method == "DELETE" and path.startswith("/v1/screenings/"):
                continue  # deletes the screening, and records it (tests/test_api_manners.py)
            response = env.clients["admin"].request(method, path, headers=env.headers("admin"))
            assert response.status_code in (404, 405), (method, path)
    env.clients["admin"].post(
        "/v1/screen", json={"lines": [{"cas": "67-64-1"}]}, headers=env.headers("admin")
    )
    after = _audit_rows(env)
    assert after[: len(before)] == before and len(after) > len(before)


# --- no SQL built from strings ----------------------------------------------------------------

_SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany", "executescript"}
#: Where SQL is formatted, and why it is safe: only constants and table definitions go in,
#: never a value from a user (values are bound parameters).
ALLOWED_SQL_FORMATTING = {
    ("store/engine.py", "_on_sqlite_connect"): "PRAGMA busy_timeout from an int constant",
    ("store/stream.py", "add_screening_lines"): "table and column names from the Table; ? binds",
    ("store/migrations/versions/v0001_initial.py", "downgrade"): "table names from a literal",
}


def _formatted(node: ast.expr, assigned: dict[str, ast.expr]) -> bool:
    if isinstance(node, ast.Name) and node.id in assigned:
        node = assigned[node.id]
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    )


def sql_formatting_sites() -> set[tuple[str, str]]:
    """(file under src/precursorwatch, function) of every SQL call given a formatted string."""
    sites = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            assigned = {
                target.id: node.value
                for node in ast.walk(func)
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            for call in ast.walk(func):
                if not isinstance(call, ast.Call) or not call.args:
                    continue
                name = getattr(call.func, "attr", getattr(call.func, "id", ""))
                if name in _SQL_CALLS and _formatted(call.args[0], assigned):
                    sites.add((path.relative_to(SRC).as_posix(), func.name))
    return sites


def test_no_sql_is_built_from_strings() -> None:
    assert sql_formatting_sites() <= set(ALLOWED_SQL_FORMATTING)


def test_the_sql_scan_finds_formatting() -> None:
    """The scan itself works: it finds the documented exception in the engine."""
    assert ("store/engine.py", "_on_sqlite_connect") in sql_formatting_sites()
