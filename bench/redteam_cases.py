"""Further hostile cases of ``bench/redteam.py``: authentication, roles, CSRF, XSS, SQL
injection, path traversal, formula injection, malformed JSON and files, huge structures,
HTTP abuse and confidential leaks through every route and format."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from typing import Any

import httpx
from redteam import (
    QUOR,
    SECRET_CODE,
    SECRET_TITLE,
    ZORB,
    RedTeam,
    Row,
    case,
    leaks,
    raw,
    read_answer,
    status_of_raw,
    text_of,
)

V1_ROUTES = [
    ("POST", "/v1/screen"),
    ("POST", "/v1/screenings"),
    ("GET", "/v1/screenings/0123456789abcdef0123456789abcdef"),
    ("GET", "/v1/screenings/0123456789abcdef0123456789abcdef/report.csv"),
    ("GET", "/v1/screenings/0123456789abcdef0123456789abcdef/report.xlsx"),
    ("GET", "/v1/screenings/0123456789abcdef0123456789abcdef/report.html"),
    ("POST", "/v1/rescreen"),
    ("GET", "/v1/lists"),
    ("GET", "/v1/lists/UN-T1"),
    ("POST", "/v1/lists"),
    ("GET", "/v1/substances/acetic-anhydride"),
    ("GET", "/v1/substances/acetic-anhydride/depiction.svg"),
]


def row(held: bool, detail: str) -> Row:
    return Row("", "", held, detail)


def no_500(responses: list[httpx.Response]) -> list[str]:
    return [
        f"{r.request.method} {r.request.url.path[:50]} -> {r.status_code}"
        for r in responses
        if r.status_code >= 500
    ]


# --- authentication ---------------------------------------------------------------------------


@case("no key on every /v1 route", "401 everywhere")
def no_key(rt: RedTeam) -> Row:
    got = {f"{m} {p}": rt.request("none", m, p).status_code for m, p in V1_ROUTES}
    bad = {k: v for k, v in got.items() if v != 401}
    return row(not bad, f"not 401: {bad}" if bad else f"{len(got)} routes: 401")


@case("malformed and unknown credentials", "401")
def bad_credentials(rt: RedTeam) -> Row:
    secret = rt.secrets["officer"]
    variants = [
        "Basic " + secret,
        "Bearer",
        "Bearer pw_" + "A" * 43,
        "Bearer " + secret[:-1],
        "Bearer " + secret + "x",
        "Bearer " + secret.upper(),
        "Bearer " + secret[3:],
        "Token " + secret,
    ]
    got = {}
    for v in variants:
        with rt.client() as c:
            got[v[:14]] = c.get("/v1/lists", headers={"Authorization": v}).status_code
    bad = {k: s for k, s in got.items() if s != 401}
    return row(not bad, f"not 401: {bad}" if bad else f"{len(variants)} variants: 401")


@case("revoked key", "401 on the API, no page sign-in")
def revoked(rt: RedTeam) -> Row:
    api = rt.get("revoked", "/v1/lists").status_code
    with rt.client() as c:
        form = c.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        page = c.post(
            "/signin", data={"key": rt.secrets["revoked"], "csrf": token[1] if token else ""}
        )
    return row(api == 401 and page.status_code == 401, f"API {api}; sign-in {page.status_code}")


@case("key in the query string or a cookie is ignored", "401")
def key_elsewhere(rt: RedTeam) -> Row:
    s = rt.secrets["officer"]
    got = [
        rt.get("none", f"/v1/lists?key={s}").status_code,
        rt.get("none", f"/v1/lists?access_token={s}").status_code,
        rt.get("none", "/v1/lists", headers={"Cookie": f"pw_session={s}"}).status_code,
        rt.get("none", "/v1/lists", headers={"X-API-Key": s}).status_code,
    ]
    return row(set(got) == {401}, f"{got}")


# --- roles ------------------------------------------------------------------------------------


@case("operator and officer cannot import lists", "403, nothing imported")
def import_roles(rt: RedTeam) -> Row:
    body = "key,name,cas,smiles,synonyms,category\nacetone,,,,,x\n"
    got = {}
    for who in ("operator", "officer"):
        got[who] = rt.request(
            who,
            "POST",
            "/v1/lists",
            files={"file": ("rt-evil.csv", body.encode())},
            data={"role": "admin", "confidential": "false"},
            headers={"X-Role": "admin", "X-Forwarded-User": "rt-admin"},
        ).status_code
    listed = "RT-EVIL" in rt.get("admin", "/v1/lists").text
    return row(set(got.values()) == {403} and not listed, f"{got}; list created: {listed}")


@case("operator cannot re-screen every declaration", "403")
def rescreen_role(rt: RedTeam) -> Row:
    got = rt.request("operator", "POST", "/v1/rescreen", json={"since": "2000-01-01"})
    return row(got.status_code == 403 and not leaks(got.text), f"{got.status_code}")


@case("operator reads another operator's screening", "404 in every format and page")
def cross_read(rt: RedTeam) -> Row:
    sid = rt.screenings["operator2"]
    got = {
        s or "json": rt.get("operator", f"/v1/screenings/{sid}{s}").status_code
        for s in ("", "/report.csv", "/report.xlsx", "/report.html")
    }
    with rt.signed_in("operator") as page:
        got["page"] = page.get(f"/screenings/{sid}").status_code
        got["page-csv"] = page.get(f"/screenings/{sid}/report.csv").status_code
    return row(set(got.values()) == {404}, f"{got}")


@case("API keys do not open pages; pages need a session", "303 to /signin")
def key_on_pages(rt: RedTeam) -> Row:
    got = {
        p: rt.get("officer", p)
        for p in ("/upload", "/lists", f"/screenings/{rt.screenings['officer']}")
    }
    bad = {
        p: r.status_code
        for p, r in got.items()
        if r.status_code != 303 or r.headers.get("location") != "/signin"
    }
    return row(not bad, f"{bad}" if bad else "all redirect to /signin")


# --- sessions and CSRF ------------------------------------------------------------------------


@case("session fixation: a planted cookie is not adopted", "new token at sign-in; planted one dead")
def fixation(rt: RedTeam) -> Row:
    planted = "rt-planted-session-token-0000000000000000"
    with rt.client() as c:
        c.cookies.set("pw_session", planted)
        form = c.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        done = c.post(
            "/signin", data={"key": rt.secrets["officer"], "csrf": token[1] if token else ""}
        )
        issued = done.headers.get("set-cookie", "")
    with rt.client() as other:
        other.cookies.set("pw_session", planted)
        dead = other.get("/upload").status_code == 303
    return row(
        planted not in issued and "pw_session=" in issued and dead,
        f"new token issued: {'pw_session=' in issued}; planted dead: {dead}",
    )


@case("session cookie flags", "HttpOnly, SameSite=Strict, Path=/")
def cookie_flags(rt: RedTeam) -> Row:
    with rt.client() as c:
        form = c.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        done = c.post(
            "/signin", data={"key": rt.secrets["officer"], "csrf": token[1] if token else ""}
        )
    cookie = done.headers.get("set-cookie", "").lower()
    held = "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    return row(held, cookie[:120])


@case("CSRF: upload without the form token", "403, nothing stored")
def csrf_upload(rt: RedTeam) -> Row:
    marker = rt.audit_marker()
    with rt.signed_in("officer") as page:
        got = [
            page.post("/upload", files={"file": ("m.csv", b"description\nacetone\n")}).status_code,
            page.post(
                "/upload",
                files={"file": ("m.csv", b"description\nacetone\n")},
                data={"csrf": "forged"},
            ).status_code,
            page.post(
                "/upload",
                files={"file": ("m.csv", b"description\nacetone\n")},
                data={"csrf": "x"},
                headers={"Origin": "https://evil.example"},
            ).status_code,
        ]
    stored = [e for e in rt.audit_since(marker) if "screening" in e[2]]
    return row(set(got) == {403} and not stored, f"{got}; screenings stored: {len(stored)}")


@case("CSRF: sign-in without the sign-in cookie", "403")
def csrf_signin(rt: RedTeam) -> Row:
    with rt.client() as c:
        form = c.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        c.cookies.clear()
        got = c.post(
            "/signin", data={"key": rt.secrets["officer"], "csrf": token[1] if token else ""}
        )
    return row(
        got.status_code == 403 and "pw_session" not in got.headers.get("set-cookie", ""),
        f"{got.status_code}",
    )


@case("CORS: another origin gets no grant", "no Access-Control-Allow-* header")
def cors(rt: RedTeam) -> Row:
    pre = rt.request(
        "none",
        "OPTIONS",
        "/v1/screen",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    get = rt.get("officer", "/v1/lists", headers={"Origin": "https://evil.example"})
    granted = [
        h for r in (pre, get) for h in r.headers if h.lower().startswith("access-control-allow")
    ]
    return row(not granted, f"preflight {pre.status_code}; granted {granted}")


# --- XSS and header injection -----------------------------------------------------------------

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@case("XSS in descriptions and consignees", "escaped on the page and in the HTML report")
def xss_description(rt: RedTeam) -> Row:
    quoted = XSS.replace(chr(34), chr(34) * 2)
    manifest = (
        f'description,cas,consignee\n"{quoted} acetic anhydride",108-24-7,'
        '"<b onmouseover=alert(3)>Acme</b>"\n'
    )
    up = rt.upload("officer", "xss.csv", manifest.encode())
    if up.status_code != 201:
        return row(False, f"upload {up.status_code}")
    sid = up.json()["screening_id"]
    texts = [rt.get("officer", f"/v1/screenings/{sid}/report.html").text]
    with rt.signed_in("officer") as page:
        texts.append(page.get(f"/screenings/{sid}").text)
    raw_found = [
        t for t in texts if "<script>alert(1)" in t or "<img src=x" in t or "<b onmouseover" in t
    ]
    return row(not raw_found, f"{len(raw_found)} of {len(texts)} pages hold the raw payload")


@case("XSS and header injection in the upload file name", "sanitised name; no injected header")
def xss_filename(rt: RedTeam) -> Row:
    name = '<svg onload=alert(1)>"\r\nX-Injected: 1\r\n.csv'
    up = rt.upload("officer", name, b"description\nacetone\n")
    if up.status_code not in (201, 422):
        return row(False, f"upload {up.status_code}")
    if up.status_code == 422:
        return row("<svg" not in up.text, "refused (422)")
    sid = up.json()["screening_id"]
    rep = rt.get("officer", f"/v1/screenings/{sid}/report.csv")
    with rt.signed_in("officer") as page:
        html = page.get(f"/screenings/{sid}").text
    injected = "x-injected" in {k.lower() for k in rep.headers}
    disposition = rep.headers.get("content-disposition", "")
    held = (
        "<svg" not in html
        and not injected
        and '"' not in disposition.split("filename=", 1)[-1].strip('"')
    )
    return row(held, f"disposition {disposition[:70]!r}; raw in page: {'<svg' in html}")


@case("XSS in a list title and substance name (admin input)", "escaped on pages and in SVG")
def xss_list(rt: RedTeam) -> Row:
    yaml = (
        "code: RT-XSS\ntitle: '<script>alert(7)</script> watch'\nconfidential: false\nentries:\n"
        "  - key: rt-xss-thing\n    name: '<script>alert(8)</script>ine'\n"
        f"    cas: {xss_cas()}\n    smiles: 'CCCCCCCCOC(=O)c1ccccc1N'\n    category: x\n"
    )
    imp = rt.import_list("rt-xss.yaml", yaml)
    if imp.status_code != 201:
        return row(imp.status_code == 422, f"import {imp.status_code} (refused: fine)")
    svg = rt.get("officer", "/v1/substances/rt-xss-thing/depiction.svg").text
    with rt.signed_in("officer") as page:
        texts = [
            page.get("/lists").text,
            page.get("/lists/RT-XSS").text,
            page.get("/substances/rt-xss-thing").text,
        ]
    found = [t[:0] + "x" for t in [*texts, svg] if "<script>alert(" in t]
    return row(not found, f"{len(found)} views hold a raw script tag")


def xss_cas() -> str:
    from redteam import cas_with_check

    return cas_with_check("991234567")


# --- SQL injection ----------------------------------------------------------------------------

SQLI = [
    "' OR '1'='1",
    "1; DROP TABLE screening;--",
    '" OR ""="',
    "%27%20OR%201=1--",
    "1 UNION SELECT key_hash FROM api_key--",
]


@case("SQL injection in path parameters", "404 or 422, never 500 or data")
def sqli_paths(rt: RedTeam) -> Row:
    responses = []
    for p in SQLI:
        q = p.replace("/", "%2F").replace("#", "%23").replace("?", "%3F")
        for path in (
            f"/v1/screenings/{q}",
            f"/v1/screenings/{q}/report.csv",
            f"/v1/lists/{q}",
            f"/v1/substances/{q}",
            f"/v1/substances/{q}/depiction.svg",
        ):
            responses.append(rt.get("officer", path))
    bad = no_500(responses) + [r.request.url.path for r in responses if r.status_code == 200]
    return row(not bad, f"{len(responses)} probes; bad {bad[:3]}")


@case("SQL injection in JSON fields round-trips as data", "200, stored text equals sent text")
def sqli_json(rt: RedTeam) -> Row:
    lines = [
        {"line_id": p, "description": p + " acetone", "cas": p, "consignee": p, "hs_code": p[:20]}
        for p in SQLI
    ]
    r = rt.screen("officer", lines)
    if r.status_code != 200:
        return row(r.status_code == 422, f"{r.status_code}")
    back = rt.get("officer", f"/v1/screenings/{r.json()['screening_id']}").json()
    ids = [ln["line_id"] for ln in back["lines"]]
    tables_ok = rt.get("officer", "/v1/lists").status_code == 200
    return row(
        ids == SQLI and tables_ok, f"line ids intact: {ids == SQLI}; store intact: {tables_ok}"
    )


@case("SQL injection in rescreen's date and the file name", "422 / sanitised, never 500")
def sqli_misc(rt: RedTeam) -> Row:
    a = rt.request("officer", "POST", "/v1/rescreen", json={"since": "2020-01-01' OR 1=1--"})
    b = rt.upload("officer", "x'; DROP TABLE screening;--.csv", b"description\nacetone\n")
    still = rt.get("officer", f"/v1/screenings/{rt.screenings['officer']}").status_code
    return row(
        a.status_code == 422 and b.status_code in (201, 422) and still == 200,
        f"rescreen {a.status_code}; upload {b.status_code}; old screening {still}",
    )


# --- path traversal ---------------------------------------------------------------------------


@case(
    "path traversal in the upload file name",
    "stored under a sanitised name; nothing written outside",
)
def traversal_upload(rt: RedTeam) -> Row:
    target = rt.tmp / "pwned.csv"
    name = f"../../../../../../..{rt.tmp}/pwned.csv"
    up = rt.upload("officer", name, b"description\nacetone\n")
    written = target.exists()
    shown = (
        rt.get("officer", f"/v1/screenings/{up.json()['screening_id']}").json()["summary"][
            "input_name"
        ]
        if up.status_code == 201
        else ""
    )
    return row(
        not written and "/" not in shown and ".." not in shown,
        f"{up.status_code}; stored name {shown!r}; file written outside: {written}",
    )


@case("path traversal on static files and report formats", "404, no file content")
def traversal_static(rt: RedTeam) -> Row:
    probes = [
        "/static/../../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2f..%2fpyproject.toml",
        "/static/....//....//pyproject.toml",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
    ]
    bad = []
    for p in probes:
        with raw(rt.port) as sock:
            sock.sendall(f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            ans = read_answer(sock, 3)
        if b"[build-system]" in ans or b"root:x:0:0" in ans:
            bad.append(p)
    with rt.signed_in("officer") as page:
        fmt = page.get(
            f"/screenings/{rt.screenings['officer']}/report.%2e%2e%2f%2e%2e%2fpyproject.toml"
        )
    if "[build-system]" in fmt.text:
        bad.append("report.fmt")
    return row(not bad, f"leaked: {bad}")


@case("path traversal in a list file name (admin)", "sanitised; nothing written outside")
def traversal_list(rt: RedTeam) -> Row:
    target = rt.tmp / "pwned-list.csv"
    r = rt.request(
        "admin",
        "POST",
        "/v1/lists",
        files={
            "file": (
                f"../../../../../..{target}",
                b"key,name,cas,smiles,synonyms,category\nacetone,,,,,x\n",
            )
        },
    )
    return row(
        not target.exists() and r.status_code in (201, 422),
        f"{r.status_code}; written outside: {target.exists()}",
    )


# --- formula injection ------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]


@case("formula injection in CSV and XLSX reports", "every cell inert")
def formula(rt: RedTeam) -> Row:
    lines = [
        {"line_id": f, "description": f + " acetone", "consignee": f, "cas": f} for f in FORMULAS
    ]
    r = rt.screen("officer", lines)
    if r.status_code != 200:
        return row(False, f"screen {r.status_code}")
    sid = r.json()["screening_id"]
    csv_text = rt.get("officer", f"/v1/screenings/{sid}/report.csv").text
    live = [
        c for ln in _csv_rows(csv_text)[1:] for c in ln if c[:1] in ("=", "+", "-", "@", "\t", "\r")
    ]
    x = rt.get("officer", f"/v1/screenings/{sid}/report.xlsx").content
    with zipfile.ZipFile(io.BytesIO(x)) as z:
        sheets = b" ".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
        shared = z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in z.namelist() else b""
    has_f = b"<f>" in sheets or b"<f " in sheets
    xlsx_live = re.findall(rb"<t[^>]*>([=+@][^<]{0,20})", sheets + shared)
    return row(
        not live and not has_f and not xlsx_live,
        f"live CSV cells {live[:3]}; XLSX formulas {has_f}; live XLSX texts {xlsx_live[:3]}",
    )


def _csv_rows(text: str) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(text, newline="")))


# --- malformed JSON ---------------------------------------------------------------------------


@case("malformed JSON bodies", "422 with one error shape, never 500")
def bad_json(rt: RedTeam) -> Row:
    bodies = [
        b'{"lines": [{"description": "acetone"',
        b"\xff\xfe\x00{",
        b'{"lines": "acetone"}',
        b'{"lines": [{"description": {"$ne": 1}}]}',
        b'{"lines": [{"description": "acetone", "quantity": "1e999999"}]}',
        b'{"lines": [{"description": "acetone", "quantity": NaN}]}',
        b'{"lines": [{"description": "acetone", "quantity": 1' + b"0" * 5000 + b"}]}",
        b'{"lines": [{"description": "a\\ud800"}]}',
        b'{"lines": [], "lines": [{"description": "x"}]}',
        b"null",
        b"[]",
    ]
    got = []
    for b in bodies:
        r = rt.request(
            "officer", "POST", "/v1/screen", content=b, headers={"Content-Type": "application/json"}
        )
        shape = r.status_code < 400 or (
            "error" in r.json()
            if r.headers.get("content-type", "").startswith("application/json")
            else False
        )
        got.append((r.status_code, shape))
    bad = [g for g in got if g[0] >= 500 or not g[1]]
    return row(not bad, f"statuses {[g[0] for g in got]}")


@case("deeply nested JSON", "422 quickly, server alive")
def deep_json(rt: RedTeam) -> Row:
    body = b'{"lines": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}"
    t0 = time.monotonic()
    r = rt.request(
        "officer",
        "POST",
        "/v1/screen",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    took = time.monotonic() - t0
    return row(
        r.status_code == 422 and took < 5 and rt.server.healthy(),
        f"{r.status_code} in {took:.2f} s",
    )


@case("over 10,000 lines in one request", "413")
def too_many_lines(rt: RedTeam) -> Row:
    r = rt.screen("officer", [{"cas": "67-64-1"}] * 10_001, timeout=60)
    return row(r.status_code == 413, f"{r.status_code}")


# --- hostile files ----------------------------------------------------------------------------


_NS = "http://schemas.openxmlformats.org"
_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0"?><Types xmlns="{_NS}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0"?><Relationships xmlns="{_NS}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0"?><workbook xmlns="{_NS}/spreadsheetml/2006/main" '
        f'xmlns:r="{_NS}/officeDocument/2006/relationships"><sheets>'
        '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0"?><Relationships xmlns="{_NS}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _xlsx(sheet_xml_chunks: Any, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in _PARTS.items():
            z.writestr(name, text)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for chunk in sheet_xml_chunks:
                out.write(chunk)
    return buf.getvalue()


def _bomb_chunks(mb: int) -> Any:
    yield f'<?xml version="1.0"?><worksheet xmlns="{_NS}/spreadsheetml/2006/main">'.encode()
    yield b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>description</t></is></c></row>'
    yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    block = b"a" * (1 << 20)
    for _ in range(mb):
        yield block
    yield b"</t></is></c></row></sheetData></worksheet>"


@case("XLSX zip bomb (1 GB sheet in a small file)", "4xx within 15 s, server < 1.5 GB")
def zip_bomb(rt: RedTeam) -> Row:
    data = _xlsx(_bomb_chunks(1024))
    rt.server.peak_mb = rt.server.rss_mb()
    t0 = time.monotonic()
    try:
        r = rt.upload("officer", "bomb.xlsx", data, "application/octet-stream", timeout=30)
        status = r.status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__  # type: ignore[assignment]
    took = time.monotonic() - t0
    peak = rt.server.peak_mb
    held = isinstance(status, int) and 400 <= status < 500 and took < 15 and peak < 1500
    return row(held, f"{len(data):,} B file: {status} in {took:.1f} s; peak {peak:,.0f} MB")


@case("XLSX with an external entity (XXE)", "entity not resolved")
def xxe(rt: RedTeam) -> Row:
    sheet = [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>description</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>'
    ]
    r = rt.upload("officer", "xxe.xlsx", _xlsx(sheet), "application/octet-stream")
    leaked = "root:x:0" in r.text
    if r.status_code == 201:
        sid = r.json()["screening_id"]
        leaked = leaked or "root:x:0" in rt.get("officer", f"/v1/screenings/{sid}/report.csv").text
    return row(
        not leaked and r.status_code < 500, f"{r.status_code}; /etc/passwd in output: {leaked}"
    )


@case("one 20 MB line; 100,000 columns; binary garbage", "bounded answers, no server paths")
def hostile_csv(rt: RedTeam) -> Row:
    results = []
    rt.server.peak_mb = rt.server.rss_mb()
    files = [
        ("long.csv", b"description\n" + b"acetone " * 2_500_000 + b"\n"),
        (
            "wide.csv",
            (
                ",".join(f"c{i}" for i in range(100_000))
                + "\n"
                + ",".join("x" for _ in range(100_000))
                + "\n"
            ).encode(),
        ),
        ("garbage.csv", bytes(range(256)) * 4000),
        ("nul.csv", b"description\x00,cas\nacet\x00one,67-64-1\n"),
    ]
    for name, data in files:
        t0 = time.monotonic()
        r = rt.upload("officer", name, data, timeout=60)
        results.append(
            (
                name,
                r.status_code,
                round(time.monotonic() - t0, 1),
                str(rt.tmp) in r.text or "/tmp/" in r.text,
            )
        )
    bad = [x for x in results if x[1] >= 500 or x[2] > 20 or x[3]]
    return row(not bad and rt.server.peak_mb < 1500, f"{results}; peak {rt.server.peak_mb:,.0f} MB")


# --- hostile structures and text -------------------------------------------------------------


@case("huge, deep and fragmented SMILES", "each screened within 10 s (by name/CAS), no 500")
def hostile_smiles(rt: RedTeam) -> Row:
    smiles = {
        "100k chars": "C" * 100_000,
        "deep branches": "C(" * 2_000 + "C" + ")" * 2_000,
        "1000 fragments": ".".join(["CCO"] * 1000),
        "big ring": "C1" + "C" * 195 + "C1",
        "ring numbers": "C" + "".join(f"%{n}" for n in range(10, 99)) + "C" * 10,
        "many cages": ".".join(["[Si]12[Si]3[Si]4[Si]1[Si]5[Si]2[Si]3[Si]45"] * 30),
    }
    got = {}
    for label, s in smiles.items():
        t0 = time.monotonic()
        r = rt.screen(
            "officer", [{"description": "acetone", "cas": "67-64-1", "smiles": s}], timeout=30
        )
        got[label] = (r.status_code, round(time.monotonic() - t0, 1))
    bad = {k: v for k, v in got.items() if v[0] >= 500 or v[1] > 10}
    return row(not bad, f"{got}")


@case("pathological text: combining marks, bidi, long CAS", "bounded, no 500")
def hostile_text(rt: RedTeam) -> Row:
    lines = [
        {"description": "a" + "\u0301" * 200_000},
        {"description": "\u202eenotecA\u202c" * 1000},
        {"cas": "1-" * 50_000},
        {"description": "acetone " * 60_000},
        {"description": "(" * 50_000 + "acetone"},
        {"quantity": "9" * 5000, "description": "acetone"},
    ]
    t0 = time.monotonic()
    r = rt.screen("officer", lines, timeout=60)
    took = time.monotonic() - t0
    return row(r.status_code < 500 and took < 20, f"{r.status_code} in {took:.1f} s")


@case("YAML alias bomb in a list import (admin)", "refused within 10 s, server < 1.5 GB")
def yaml_bomb(rt: RedTeam) -> Row:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    body = "code: RT-BOMB\ntitle: x\n" + "\n".join(lines) + "\nentries: *i\n"
    rt.server.peak_mb = rt.server.rss_mb()
    t0 = time.monotonic()
    r = rt.import_list("rt-bomb.yaml", body)
    took = time.monotonic() - t0
    return row(
        400 <= r.status_code < 500 and took < 10 and rt.server.peak_mb < 1500,
        f"{r.status_code} in {took:.1f} s; peak {rt.server.peak_mb:,.0f} MB",
    )


# --- HTTP abuse -------------------------------------------------------------------------------


@case("oversized header", "4xx, server alive")
def big_header(rt: RedTeam) -> Row:
    with raw(rt.port) as sock:
        sock.sendall(
            b"GET /v1/lists HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n"
        )
        ans = read_answer(sock, 5)
    status = status_of_raw(ans)
    return row(
        (status == 0 or 400 <= status < 500) and rt.server.healthy(),
        f"{status or 'closed'}; alive {rt.server.healthy()}",
    )


@case("absurd Content-Length, chunked body over the limit", "413 at once")
def body_limits(rt: RedTeam) -> Row:
    with raw(rt.port) as sock:
        sock.sendall(
            (
                "POST /v1/screen HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {rt.secrets['officer']}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n"
            ).encode()
        )
        a = status_of_raw(read_answer(sock, 5))
    with raw(rt.port) as sock:
        sock.sendall(
            (
                "POST /v1/screenings HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {rt.secrets['officer']}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        block = b"description\n" + b"acetone\n" * ((1 << 20) // 8)
        try:
            for i in range(60):
                data = (head if i == 0 else b"") + block
                sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            ans = read_answer(sock, 5)
        except OSError:
            ans = read_answer(sock, 2)
        b = status_of_raw(ans)
    return row(a == 413 and b == 413, f"Content-Length 1e15: {a}; chunked 60 MB: {b}")


@case("request smuggling: Content-Length with Transfer-Encoding", "400 or one request only")
def smuggling(rt: RedTeam) -> Row:
    body = b"0\r\n\r\nGET /v1/lists HTTP/1.1\r\nHost: x\r\n\r\n"
    with raw(rt.port) as sock:
        sock.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
            + body
        )
        ans = read_answer(sock, 3)
    answers = ans.count(b"HTTP/1.1 ")
    smuggled = b"/v1/lists" in ans or (answers > 1 and b"401" in ans)
    return row(not smuggled, f"{answers} answers; first {status_of_raw(ans)}")


@case("method override headers and unknown methods", "no effect: 405/404")
def method_override(rt: RedTeam) -> Row:
    a = rt.request(
        "admin", "POST", f"/v1/lists/{SECRET_CODE}", headers={"X-HTTP-Method-Override": "DELETE"}
    )
    # DELETE /v1/screenings/{id} exists (officer or admin, audited): an override header does
    # not reach it, and an operator's DELETE is refused
    b = rt.request(
        "admin",
        "POST",
        f"/v1/screenings/{rt.screenings['officer']}",
        headers={"X-HTTP-Method-Override": "DELETE"},
    )
    d = rt.request("operator", "DELETE", f"/v1/screenings/{rt.screenings['officer']}")
    c = rt.request("admin", "PROPFIND", "/v1/lists")
    still = rt.get("officer", f"/v1/screenings/{rt.screenings['officer']}").status_code
    return row(
        a.status_code in (404, 405)
        and b.status_code in (404, 405)
        and d.status_code == 403
        and c.status_code in (404, 405)
        and still == 200,
        f"{a.status_code} {b.status_code} {d.status_code} {c.status_code}; "
        f"screening kept: {still == 200}",
    )


@case("Host header is not reflected in redirects", "relative Location")
def host_header(rt: RedTeam) -> Row:
    with rt.client() as c:
        r = c.get("/", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    loc = r.headers.get("location", "")
    return row("evil" not in loc, f"{r.status_code} Location {loc!r}")


# --- confidential leaks through every route and format ----------------------------------------


@case(
    "operator: no confidential fact through any route or format",
    "no code, title, key, name, CAS, synonym",
)
def leak_everywhere(rt: RedTeam) -> Row:
    by_name = [
        {"line_id": "a1", "description": ZORB["synonym"]},
        {"line_id": "a2", "smiles": ZORB["smiles"]},
        {"line_id": "a3", "smiles": ZORB["smiles"] + ".Cl"},
        {"line_id": "a4", "description": "zorbanin"},
        {"line_id": "a5", "smiles": ZORB["smiles"].replace("C(C)(C)", "C(C)(CC)")},
        {"line_id": "a6", "description": "sodium acetate", "cas": "108-24-7"},
        {"line_id": "a7", "description": "acetic anhydride"},
        {"line_id": "a8", "description": QUOR["synonym"]},
    ]
    by_cas = [
        {"line_id": "b1", "cas": ZORB["cas"]},
        {"line_id": "b2", "description": "sodium chloride", "cas": ZORB["cas"]},
        {"line_id": "b3", "description": "acetone", "cas": QUOR["cas"]},
    ]
    problems: list[str] = []
    for lines in (by_name, by_cas):
        sent = [str(v) for ln in lines for k, v in ln.items() if k != "line_id"]
        r = rt.screen("operator", lines)
        problems += [f"screen: {x}" for x in leaks(text_of(r), sent)]
        if r.status_code != 200:
            problems.append(f"screen {r.status_code}")
            continue
        sid = r.json()["screening_id"]
        csv_body = "line_id,description,cas,smiles\n" + "\n".join(
            ",".join(json.dumps(ln.get(k, "")) for k in ("line_id", "description", "cas", "smiles"))
            for ln in lines
        )
        up = rt.upload("operator", "probe.csv", csv_body.encode())
        problems += [f"upload: {x}" for x in leaks(text_of(up), sent)]
        sids = [sid] + ([up.json()["screening_id"]] if up.status_code == 201 else [])
        for s in sids:
            for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
                problems += [
                    f"{suffix or 'json'}: {x}"
                    for x in leaks(text_of(rt.get("operator", f"/v1/screenings/{s}{suffix}")), sent)
                ]
            with rt.signed_in("operator") as page:
                for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
                    problems += [
                        f"page{suffix}: {x}"
                        for x in leaks(text_of(page.get(f"/screenings/{s}{suffix}")), sent)
                    ]
    for path in (
        "/v1/lists",
        "/v1/lists/UN-T1",
        "/v1/substances/acetic-anhydride",
        "/v1/substances/acetic-anhydride/depiction.svg",
        "/openapi.json",
        "/healthz",
    ):
        problems += [f"{path}: {x}" for x in leaks(text_of(rt.get("operator", path)))]
    for path in (
        f"/v1/lists/{SECRET_CODE}",
        f"/v1/substances/{ZORB['key']}",
        f"/v1/substances/{ZORB['key']}/depiction.svg",
    ):
        r = rt.get("operator", path)
        if r.status_code != 404:
            problems.append(f"{path}: {r.status_code}")
        problems += [f"{path}: {x}" for x in leaks(text_of(r), [path])]
    with rt.signed_in("operator") as page:
        for path in (
            "/lists",
            "/lists/UN-T1",
            "/substances/acetic-anhydride",
            "/upload",
            f"/lists/{SECRET_CODE}",
            f"/substances/{ZORB['key']}",
        ):
            problems += [f"page {path}: {x}" for x in leaks(text_of(page.get(path)), [path])]
    r = rt.request("operator", "POST", "/v1/rescreen", json={"since": "2000-01-01"})
    problems += [f"rescreen: {x}" for x in leaks(text_of(r))]
    return row(
        not problems, f"leaks: {sorted(set(problems))[:5]}" if problems else "nothing leaked"
    )


@case("error messages reveal no server paths or internals", "no /tmp, traceback or SQL in answers")
def error_internals(rt: RedTeam) -> Row:
    answers = [
        rt.upload("officer", "x.xlsx", b"PK\x03\x04 not really a zip"),
        rt.upload("officer", "x.csv", b""),
        rt.upload("officer", "x.exe", b"MZ"),
        rt.request(
            "admin", "POST", "/v1/lists", files={"file": ("bad.yaml", b"code: [unclosed\n")}
        ),
        rt.request("admin", "POST", "/v1/lists", files={"file": ("bad.csv", b"key,name\n,\n")}),
        rt.request("officer", "POST", "/v1/screenings", files={"other": ("x.csv", b"a")}),
    ]
    bad = []
    for r in answers:
        t = r.text
        if (
            str(rt.tmp) in t
            or "/tmp/" in t
            or "Traceback" in t
            or "sqlalchemy" in t.lower()
            or "site-packages" in t
        ):
            bad.append(f"{r.status_code}: {t[:80]}")
    return row(
        not bad and all(r.status_code < 500 for r in answers),
        f"statuses {[r.status_code for r in answers]}; {bad[:2]}",
    )


@case("officer sees the confidential list (the leak checks are real)", "code visible to officers")
def officer_sees(rt: RedTeam) -> Row:
    a = rt.get("officer", "/v1/lists").text
    b = rt.get("officer", f"/v1/screenings/{rt.screenings['officer']}").text
    return row(
        SECRET_CODE in a and (SECRET_CODE in b or ZORB["name"] in b) and SECRET_TITLE in a,
        "officer view holds the secrets",
    )
