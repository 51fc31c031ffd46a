"""The review's numbered findings (issue 19), as cases of ``bench/redteam.py``."""

from __future__ import annotations

import csv
import io
import math
import random
import re
import signal
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from redteam import (
    QUOR,
    SECRET_CODE,
    ZORB,
    RedTeam,
    Row,
    case,
    leaks,
    raw,
    read_answer,
    secret_list_yaml,
    status_of_raw,
    text_of,
)

ROOT = Path(__file__).resolve().parents[1]
CAGE = "[Si]12[Si]3[Si]4[Si]1[Si]5[Si]2[Si]3[Si]45"
P2P = "CC(=O)Cc1ccccc1"
ERGOTAMINE = (
    "CC1(C(=O)N2C(C(=O)N3CCCC3C2(O1)O)CC4=CC=CC=C4)NC(=O)C5CN(C6CC7=CNC8=CC=CC(=C78)C6=C5)C"
)
SAMPLE = ROOT / "sample_shipments" / "customs_import_declaration.csv"
PACKS = ("", " - 25 kg drums", " - 200 L drums", " - IBC 1000 L", " - bags", " - bulk")
GRADES = ("", " tech. grade", " 99 %", " reagent grade", " pure")


def cage_manifest(copies: int) -> bytes:
    """One line whose SMILES is P2P followed by ``copies`` silicon cages (the review's)."""
    return f"line_id,description,smiles\nC1,laboratory reagent,{P2P}.{CAGE * copies}\n".encode()


def big_manifest(lines: int, seed: int = 19) -> bytes:
    """A realistic manifest of ``lines`` rows varied from the sample customs declaration
    (a few thousand distinct declarations, as a long period of trade has)."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    item, desc = fields[0], fields[1]
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for i in range(lines):
        row = dict(rng.choice(rows))
        row[item] = str(i + 1)
        row[desc] = f"{row[desc]}{rng.choice(GRADES)}{rng.choice(PACKS)} lot {rng.randint(1, 40)}"
        writer.writerow([row[f] for f in fields])
    return out.getvalue().encode()


def small_lines(i: int) -> list[dict[str, Any]]:
    """A 4-line request, distinct per ``i`` (so no answer is a cached one)."""
    return [
        {"line_id": "1", "description": f"Acetone {i} tech", "cas": "67-64-1", "quantity": 5},
        {"line_id": "2", "description": f"sodium chloride bag {i}"},
        {"line_id": "3", "description": f"garden hose model {i}", "hs_code": "3917.32"},
        {"line_id": "4", "cas": "108-24-7", "quantity": i % 97 + 1, "unit": "L"},
    ]


def ergot_lookalikes(n: int) -> list[str]:
    """``n`` distinct look-alikes of ergotamine (substituted benzyl, ring size, N-alkyl)."""
    subs = ("F", "Cl", "Br", "I", "C", "OC", "CC", "N", "O", "C#N", "C(F)(F)F", "SC")
    out = []
    for ring in ("N3CCCC3", "N3CCCCC3"):
        for nalkyl in ("C", "CC"):
            for x in subs:
                s = ERGOTAMINE.replace("CC4=CC=CC=C4", f"CC4=CC=C({x})C=C4")
                s = s.replace("N3CCCC3", ring)
                s = s.replace("C6=C5)C", f"C6=C5){nalkyl}")
                out.append(s)
    return out[:n]


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    try:
        got = fn(*args, **kw)
    except httpx.HTTPError as exc:
        got = exc
    return got, time.monotonic() - t0


def ok(response: Any, status: int = 200) -> bool:
    return isinstance(response, httpx.Response) and response.status_code == status


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else float("inf")


# --- 1. depiction without bounds ---------------------------------------------------------------


@case("cage SMILES: report.html bounded", "200 within 10 s, server < 1.5 GB", finding="1")
def cage_report(rt: RedTeam) -> Row:
    up = rt.upload("operator2", "cage.csv", cage_manifest(20))
    if up.status_code != 201:
        return Row("", "", False, f"upload answered {up.status_code}")
    sid = up.json()["screening_id"]
    rt.screenings["cage20"] = sid
    rt.server.peak_mb = rt.server.rss_mb()
    got, took = timed(rt.get, "operator2", f"/v1/screenings/{sid}/report.html", timeout=25)
    again, took2 = (None, 0.0)
    if ok(got):
        again, took2 = timed(rt.get, "operator2", f"/v1/screenings/{sid}/report.html", timeout=25)
    peak = rt.server.peak_mb
    held = ok(got) and ok(again) and took < 10 and took2 < 10 and peak < 1500
    status = got.status_code if isinstance(got, httpx.Response) else type(got).__name__
    return Row("", "", held, f"{status} in {took:.1f} s (again {took2:.1f} s), peak {peak:,.0f} MB")


@case("ten cages: pages and reports answer", "200 on page, API and page HTML reports", finding="1")
def cage_pages(rt: RedTeam) -> Row:
    up = rt.upload("operator2", "cage10.csv", cage_manifest(10))
    if up.status_code != 201:
        return Row("", "", False, f"upload answered {up.status_code}")
    sid = up.json()["screening_id"]
    with rt.signed_in("operator2") as page:
        got = {
            "page": page.get(f"/screenings/{sid}", timeout=25).status_code,
            "page-report": page.get(f"/screenings/{sid}/report.html", timeout=25).status_code,
        }
    got["api-report"] = rt.get(
        "operator2", f"/v1/screenings/{sid}/report.html", timeout=25
    ).status_code
    detail = rt.get("operator2", f"/v1/screenings/{sid}").json()
    line = (detail.get("lines") or [{}])[0]
    held = set(got.values()) == {200}
    return Row(
        "", "", held, f"{got}; line: {line.get('match_type')} / {str(line.get('warnings'))[:60]}"
    )


# --- 2. the mismatch matcher names confidential lists ------------------------------------------


@case("operator: mismatch evidence names no confidential list", "no confidential fact", finding="2")
def mismatch_leak(rt: RedTeam) -> Row:
    r = rt.screen("operator", [{"description": "sodium acetate", "cas": "108-24-7"}])
    found = leaks(text_of(r))
    line = r.json()["lines"][0] if r.status_code == 200 else {}
    return Row(
        "",
        "",
        r.status_code == 200 and not found,
        f"{r.status_code}; leaked {found}; risk {line.get('risk')}",
    )


# --- 3. re-importing without the flag makes a confidential list public -------------------------


def _operator_sees_list(rt: RedTeam) -> bool:
    listed = rt.get("operator", "/v1/lists")
    one = rt.get("operator", f"/v1/lists/{SECRET_CODE}")
    return SECRET_CODE in listed.text or one.status_code == 200


@case(
    "re-import without the flag keeps a list confidential",
    "hidden after API and CLI re-import; audited",
    finding="3",
)
def reimport_confidential(rt: RedTeam) -> Row:
    marker = rt.audit_marker()
    api = rt.import_list(
        "secret-rt.yaml", secret_list_yaml(confidential=None, note="api-v2", inline=False)
    )
    after_api = _operator_sees_list(rt)
    path = rt.tmp / "secret-rt.yaml"
    path.write_text(
        secret_list_yaml(confidential=None, note="cli-v3", inline=False), encoding="utf-8"
    )
    cli = rt.cli("lists", "import", str(path))
    after_cli = _operator_sees_list(rt)
    events = [e for e in rt.audit_since(marker) if e[2].startswith("list.") and SECRET_CODE in e[3]]
    audited = bool(events) and all("confidential" in e[3] for e in events)
    # put it back, explicitly confidential, for the cases that follow
    rt.import_list(
        "secret-rt.yaml", secret_list_yaml(confidential=True, note="restored", inline=False), True
    )
    held = api.status_code == 201 and cli.returncode == 0 and not after_api and not after_cli
    return Row(
        "",
        "",
        held and audited,
        f"API {api.status_code}: public={after_api}; CLI rc {cli.returncode}: public={after_cli}; "
        f"audit names confidentiality: {audited}",
    )


# --- 4. screenings authorised by key name ------------------------------------------------------


@case("duplicate key name cannot read another key's screenings", "refused, or 404", finding="4")
def duplicate_names(rt: RedTeam) -> Row:
    made = rt.make_key("dupe", "operator", "rt-officer")
    if made.returncode != 0:
        said = (made.stderr or made.stdout).strip().splitlines()[-1:] or [""]
        clear = "name" in said[0].lower()
        return Row("", "", clear, f"keys create refused (rc {made.returncode}): {said[0][:90]}")
    got = rt.get("dupe", f"/v1/screenings/{rt.screenings['officer']}")
    return Row(
        "",
        "",
        got.status_code == 404,
        f"duplicate name accepted; officer's screening: {got.status_code}",
    )


@case("audit records key id and name", "screening events carry key id and name", finding="4")
def audit_key_id(rt: RedTeam) -> Row:
    marker = rt.audit_marker()
    rt.screen("officer", [{"description": "acetone"}])
    events = [e for e in rt.audit_since(marker) if "screening" in e[2]]
    kid = rt.key_ids["officer"]
    held = bool(events) and all(kid in e[3] or kid in e[1] for e in events)
    return Row("", "", held, f"{len(events)} events; key id present: {held}; {events[:1]!s:.120}")


# --- 5. a substance dropped from a confidential list -------------------------------------------


@case(
    "substance dropped from a confidential list stays hidden",
    "404 on API, SVG and page",
    finding="5",
)
def dropped_substance(rt: RedTeam) -> Row:
    imported = rt.import_list(
        "secret-rt.yaml",
        secret_list_yaml(confidential=True, with_quor=False, note="drop", inline=False),
        True,
    )
    key = QUOR["key"]
    got = {
        "api": rt.get("operator", f"/v1/substances/{key}"),
        "svg": rt.get("operator", f"/v1/substances/{key}/depiction.svg"),
    }
    with rt.signed_in("operator") as page:
        got["page"] = page.get(f"/substances/{key}")
    statuses = {k: v.status_code for k, v in got.items()}
    leaked = sorted({s for v in got.values() for s in leaks(text_of(v), allowed=[key])})
    held = imported.status_code == 201 and set(statuses.values()) == {404} and not leaked
    return Row("", "", held, f"import {imported.status_code}; {statuses}; leaked {leaked}")


# --- 6. XLSX quadratic, not cancellable, shutdown hangs ----------------------------------------


@case("XLSX of 5,000 lines", "within 10x the CSV time (+1 s)", finding="6", heavy=True)
def xlsx_5000(rt: RedTeam) -> Row:
    up, up_t = timed(rt.upload, "operator2", "five-thousand.csv", big_manifest(5000), timeout=120)
    if not ok(up, 201):
        return Row("", "", False, f"upload failed: {getattr(up, 'status_code', up)}")
    sid = up.json()["screening_id"]
    rt.screenings["5000"] = sid
    got_csv, t_csv = timed(rt.get, "operator2", f"/v1/screenings/{sid}/report.csv", timeout=60)
    got_x, t_x = timed(rt.get, "operator2", f"/v1/screenings/{sid}/report.xlsx", timeout=20)
    held = ok(got_csv) and ok(got_x) and t_x <= 10 * t_csv + 1
    return Row(
        "",
        "",
        held,
        f"upload {up_t:.1f} s; CSV {t_csv:.2f} s; XLSX {t_x:.2f} s "
        f"({'ok' if ok(got_x) else 'timed out'})",
    )


def _small_requests(rt: RedTeam, whos: list[str], count: int, budget: float) -> list[float]:
    """``count`` sequential 4-line requests; inf for a failure; stops after ``budget`` s."""
    lat: list[float] = []
    start = time.monotonic()
    for i in range(count):
        if time.monotonic() - start > budget:
            lat.extend([float("inf")] * (count - i))
            break
        who = whos[i % len(whos)]
        got, took = timed(
            rt.screen, who, small_lines(1000 + i + int(start) % 1000 * 100), timeout=30
        )
        lat.append(took if ok(got) else float("inf"))
    return lat


@case(
    "4-line requests during the cage and a 200,000-line upload",
    "p99 <= 2 s over 50; server < 1.5 GB",
    finding="7",
    heavy=True,
)
def fair_under_load(rt: RedTeam) -> Row:
    manifest = big_manifest(200_000)
    results: dict[str, Any] = {}

    def cage() -> None:
        up, _ = timed(rt.upload, "operator2", "cage.csv", cage_manifest(20), timeout=60)
        if ok(up, 201):
            sid = up.json()["screening_id"]
            results["cage"] = timed(
                rt.get, "operator2", f"/v1/screenings/{sid}/report.html", timeout=60
            )

    def big() -> None:
        results["big"] = timed(
            rt.upload, "admin", "two-hundred-thousand.csv", manifest, timeout=240
        )

    threads = [threading.Thread(target=f, daemon=True) for f in (big, cage)]
    rt.server.peak_mb = rt.server.rss_mb()
    for t in threads:
        t.start()
    time.sleep(1.5)
    lat = _small_requests(rt, ["officer", "officer2"], 50, budget=120)
    for t in threads:
        t.join(timeout=max(1.0, 240 - 1.5))
    peak = rt.server.peak_mb
    big_up, big_t = results.get("big", (None, float("nan")))
    if ok(big_up, 201) or ok(big_up, 202):
        rt.screenings["big"] = big_up.json()["screening_id"]
    if ok(big_up, 202):  # a job (issue 20): the later cases read its reports once complete
        big_t += _wait_for_job(rt, "admin", rt.screenings["big"], timeout_s=240)
    finite = [x for x in lat if math.isfinite(x)]
    worst = p99(lat)
    rt.notes["fair"] = {
        "p50": statistics.median(finite) if finite else None,
        "p99": worst,
        "peak_mb": peak,
    }
    held = worst <= 2.0 and peak < 1500
    return Row(
        "",
        "",
        held,
        f"p50 {statistics.median(finite) if finite else float('nan'):.2f} s, p99 {worst:.2f} s, "
        f"failed {len(lat) - len(finite)}; peak {peak:,.0f} MB; 200k upload "
        f"{getattr(big_up, 'status_code', type(big_up).__name__)} in {big_t:.1f} s",
    )


def _wait_for_job(rt: RedTeam, who: str, screening_id: str, timeout_s: float) -> float:
    """Seconds until the upload job ``screening_id`` is no longer running (polled)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        got = rt.get(who, f"/v1/screenings/{screening_id}", timeout=30)
        if not ok(got) or got.json().get("status") != "running":
            break
        time.sleep(0.5)
    return time.monotonic() - t0


@case("45 concurrent 4-line requests", "the last answers within 10 s", finding="7", heavy=True)
def concurrent_small(rt: RedTeam) -> Row:
    whos = ["officer", "officer2", "operator", "operator2", "admin"]
    _, single = timed(rt.screen, "officer", small_lines(5000))
    lat: list[float] = [float("inf")] * 45

    def one(i: int) -> None:
        got, took = timed(rt.screen, whos[i % len(whos)], small_lines(6000 + i), timeout=90)
        lat[i] = took if ok(got) else float("inf")

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(45)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=95)
    worst = max(lat)
    return Row(
        "",
        "",
        worst <= 10,
        f"one alone {single:.2f} s; slowest of 45 {worst:.1f} s; "
        f"median {statistics.median(lat):.1f} s",
    )


@case(
    "ergotamine look-alikes do not stall another key",
    "other key's 4-line p99 <= 2 s; HTML report <= 10 s",
    finding="7",
    heavy=True,
)
def ergot_lookalike(rt: RedTeam) -> list[Row]:
    lines = [
        {"line_id": str(i), "description": "research compound", "smiles": s}
        for i, s in enumerate(ergot_lookalikes(40))
    ]
    results: dict[str, Any] = {}

    def bulk() -> None:
        results["bulk"] = timed(rt.screen, "operator2", lines, timeout=180)

    t = threading.Thread(target=bulk, daemon=True)
    t.start()
    time.sleep(0.5)
    lat = _small_requests(rt, ["officer"], 10, budget=60)
    t.join(timeout=180)
    bulk_r, bulk_t = results.get("bulk", (None, float("nan")))
    rows = [
        Row(
            "ergotamine look-alikes do not stall another key",
            "other key's 4-line p99 <= 2 s",
            p99(lat) <= 2,
            f"40 look-alikes took {bulk_t:.1f} s ({getattr(bulk_r, 'status_code', bulk_r)}); "
            f"other key p99 {p99(lat):.2f} s",
        )
    ]
    if ok(bulk_r):
        sid = bulk_r.json()["screening_id"]
        kinds = sorted({ln["match_type"] for ln in bulk_r.json()["lines"]})
        got, took = timed(rt.get, "operator2", f"/v1/screenings/{sid}/report.html", timeout=40)
        rows.append(
            Row(
                "HTML report of 40 look-alike structure hits",
                "200 within 10 s",
                ok(got) and took <= 10,
                f"{getattr(got, 'status_code', type(got).__name__)} in {took:.1f} s; "
                f"match types {kinds}",
            )
        )
    return rows


@case(
    "one line naming 40 look-alikes (InChI) is bounded",
    "200 within 6 s; the reason says what was left out",
    finding="7",
)
def many_structures_one_line(rt: RedTeam) -> Row:
    from rdkit import Chem

    inchis = [Chem.MolToInchi(Chem.MolFromSmiles(s)) for s in ergot_lookalikes(40)]
    line = {"line_id": "1", "description": "; ".join(inchis)}
    got, took = timed(rt.screen, "operator2", [line], timeout=120)
    reason = got.json()["lines"][0]["reason"] if ok(got) else ""
    return Row(
        "",
        "",
        ok(got) and took <= 6 and "time limit" in reason,
        f"{getattr(got, 'status_code', type(got).__name__)} in {took:.1f} s "
        f"(7.3 s of comparison before the budget); reason says stopped: {'time limit' in reason}",
    )


@case("XLSX of 200,000 lines", "within 10x the CSV time", finding="6", heavy=True)
def xlsx_big(rt: RedTeam) -> Row:
    sid = rt.screenings.get("big")
    if not sid:
        return Row("", "", None, "no 200,000-line screening (the load case did not store one)")
    got_csv, t_csv = timed(rt.get, "admin", f"/v1/screenings/{sid}/report.csv", timeout=120)
    got_x, t_x = timed(rt.get, "admin", f"/v1/screenings/{sid}/report.xlsx", timeout=90)
    held = ok(got_csv) and ok(got_x) and t_x <= 10 * t_csv
    rt.notes["xlsx"] = {"csv_s": t_csv, "xlsx_s": t_x}
    return Row(
        "",
        "",
        held,
        f"CSV {t_csv:.2f} s ({len(getattr(got_csv, 'content', b'')):,} B); "
        f"XLSX {t_x:.2f} s ({'ok' if ok(got_x) else 'failed/timed out'})",
    )


def _xlsx_target(rt: RedTeam) -> tuple[str, str]:
    if "big" in rt.screenings:
        return "admin", rt.screenings["big"]
    return "operator2", rt.screenings.get("5000", rt.screenings["operator2"])


@case(
    "abandoned XLSX download stops the work",
    "server CPU < 0.6 s in 2-5 s after the client left",
    finding="6",
    heavy=True,
)
def xlsx_cancel(rt: RedTeam) -> Row:
    who, sid = _xlsx_target(rt)
    with raw(rt.port) as sock:
        sock.sendall(
            f"GET /v1/screenings/{sid}/report.xlsx HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {rt.secrets[who]}\r\n\r\n".encode()
        )
        first = read_answer(sock, 1.0)
    time.sleep(2.0)  # the batch in hand is finished (a stored block is decoded whole)
    cpu0 = rt.server.cpu_s()
    time.sleep(3)
    used = rt.server.cpu_s() - cpu0
    return Row(
        "",
        "",
        used < 0.6,
        f"answer started: {bool(first)}; server CPU {used:.2f} s in 3 s after the client left",
    )


@case("SIGTERM while an XLSX report is built", "server exits within 10 s", finding="6", heavy=True)
def xlsx_sigterm(rt: RedTeam) -> Row:
    who, sid = _xlsx_target(rt)

    def fetch() -> None:
        timed(rt.get, who, f"/v1/screenings/{sid}/report.xlsx", timeout=30)

    t = threading.Thread(target=fetch, daemon=True)
    t.start()
    time.sleep(1.0)
    took = rt.server.stop(signal.SIGTERM, wait=12)
    return Row(
        "",
        "",
        took <= 10,
        f"exited after {took:.1f} s" if math.isfinite(took) else "still running after 12 s",
    )


# --- 8. smaller ---------------------------------------------------------------------------------


@case("no-store on every answer with confidential data", "Cache-Control: no-store", finding="8")
def no_store(rt: RedTeam) -> Row:
    paths = [
        "/v1/lists",
        f"/v1/lists/{SECRET_CODE}",
        f"/v1/substances/{ZORB['key']}",
        f"/v1/substances/{ZORB['key']}/depiction.svg",
    ]
    missing = [
        p for p in paths if "no-store" not in rt.get("officer", p).headers.get("cache-control", "")
    ]
    with rt.signed_in("officer") as page:
        for p in ("/lists", f"/lists/{SECRET_CODE}", f"/substances/{ZORB['key']}", "/upload"):
            if "no-store" not in page.get(p).headers.get("cache-control", ""):
                missing.append(p)
    return Row("", "", not missing, f"without no-store: {missing}")


@case("/docs loads no third-party script", "no external script (or no /docs)", finding="8")
def docs_page(rt: RedTeam) -> Row:
    r = rt.get("none", "/docs")
    external = r.status_code == 200 and ('src="http' in r.text or "https://cdn" in r.text)
    spec = rt.get("none", "/openapi.json").status_code
    return Row(
        "",
        "",
        not external and spec == 200,
        f"/docs {r.status_code}, external scripts: {external}; /openapi.json {spec}",
    )


@case("sign-out ends the session server-side", "replayed cookie is refused", finding="8")
def signout(rt: RedTeam) -> Row:
    results = {}
    for how in ("with token", "without token"):
        with rt.signed_in("officer") as c:
            cookie = c.cookies.get("pw_session") or ""
            token = ""
            if how == "with token":
                found = re.search(r'name="csrf" value="([^"]+)"', c.get("/upload").text)
                token = found[1] if found else ""
            c.post("/signout", data={"csrf": token} if token else {})
        with rt.client() as replay:
            replay.cookies.set("pw_session", cookie)
            results[how] = replay.get("/upload").status_code
    return Row("", "", set(results.values()) == {303}, f"replayed cookie after sign-out: {results}")


@case("45 MB upload without a key", "401 before the body is read", finding="8")
def unauth_body(rt: RedTeam) -> Row:
    size = 45_000_000
    with raw(rt.port, timeout=5) as sock:
        sock.sendall(
            (
                "POST /v1/screenings HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: multipart/form-data; boundary=rtb\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
        )
        sent = 0
        block = b"--rtb\r\n" + b"a" * 65529
        answer = b""
        t0 = time.monotonic()
        try:
            while sent < 2_000_000:
                sock.sendall(block)
                sent += len(block)
            answer = read_answer(sock, 3.0)
        except OSError:
            answer = read_answer(sock, 1.0)
        took = time.monotonic() - t0
    status = status_of_raw(answer)
    return Row(
        "",
        "",
        status == 401,
        f"after {sent:,} of {size:,} bytes: {status or 'no answer'} ({took:.1f} s)",
    )


@case("slow headers and slow bodies are cut off", "connections closed within 15 s", finding="8")
def slowloris(rt: RedTeam) -> list[Row]:
    heads, bodies = [], []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", rt.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            heads.append(s)
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", rt.port), timeout=5)
            s.sendall(
                (
                    "POST /v1/screen HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {rt.secrets['officer']}\r\n"
                    'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"lines": ['
                ).encode()
            )
            bodies.append(s)
        deadline = time.monotonic() + 15
        closed_h: set[int] = set()
        closed_b: set[int] = set()
        while time.monotonic() < deadline and (
            len(closed_h) < len(heads) or len(closed_b) < len(bodies)
        ):
            for group, closed in ((heads, closed_h), (bodies, closed_b)):
                for i, s in enumerate(group):
                    if i in closed:
                        continue
                    s.setblocking(False)
                    try:
                        data = s.recv(4096)
                        if (
                            data == b""
                            or data.startswith(b"HTTP/1.1 4")
                            or data.startswith(b"HTTP/1.1 5")
                        ):
                            closed.add(i)
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed.add(i)
            time.sleep(0.5)
        alive = rt.server.healthy(2)
    finally:
        for s in heads + bodies:
            s.close()
    return [
        Row(
            "slow headers are cut off",
            "50 connections closed within 15 s",
            len(closed_h) == len(heads) and alive,
            f"{len(closed_h)} of {len(heads)} closed; server answers: {alive}",
        ),
        Row(
            "slow bodies are cut off",
            "5 connections closed within 15 s",
            len(closed_b) == len(bodies),
            f"{len(closed_b)} of {len(bodies)} closed",
        ),
    ]


@case(
    "hidden and unknown substance keys answer alike in time",
    "median ratio within 1.5x",
    finding="8",
)
def timing_404(rt: RedTeam) -> Row:
    hidden, unknown = [], []
    with rt.client() as c:
        h = rt.headers("operator")
        for i in range(40):
            for key, sink in ((ZORB["key"], hidden), (f"nosuch-{i}-thing", unknown)):
                t0 = time.perf_counter()
                r = c.get(f"/v1/substances/{key}", headers=h)
                sink.append(time.perf_counter() - t0)
                if r.status_code != 404:
                    return Row("", "", False, f"{key}: {r.status_code}")
    mh, mu = statistics.median(hidden), statistics.median(unknown)
    ratio = max(mh, mu) / max(min(mh, mu), 1e-6)
    held = ratio <= 1.5 or abs(mh - mu) < 0.002
    return Row(
        "", "", held, f"hidden {mh * 1000:.1f} ms, unknown {mu * 1000:.1f} ms (x{ratio:.2f})"
    )


@case(
    "reads of confidential data and report downloads are audited",
    "audit events for both",
    finding="8",
)
def audit_reads(rt: RedTeam) -> Row:
    marker = rt.audit_marker()
    sid = rt.screenings["officer"]
    rt.get("officer", f"/v1/lists/{SECRET_CODE}")
    rt.get("officer", f"/v1/screenings/{sid}/report.csv")
    events = rt.audit_since(marker)
    list_read = any(SECRET_CODE in e[3] for e in events)
    report = any(sid in e[3] and ("report" in e[2] or "report" in e[3]) for e in events)
    return Row(
        "",
        "",
        list_read and report,
        f"list read audited: {list_read}; report download audited: {report}; "
        f"actions {sorted({e[2] for e in events})}",
    )


@case(
    "every error answer carries the security headers",
    "nosniff, CSP, frame DENY, no-store",
    finding="8",
    heavy=True,
)
def error_headers(rt: RedTeam) -> Row:
    # provoke a few more errors, then look at every error answer seen during the run
    for path in ("/v1/nope", "/nope", "/v1/lists/NOPE", "/v1/screenings/nope/report.csv"):
        rt.get("officer", path)
    rt.request("none", "POST", "/v1/screen", json={})
    rt.request(
        "officer", "POST", "/v1/screen", content=b"{", headers={"Content-Type": "application/json"}
    )
    want = ("x-content-type-options", "content-security-policy", "x-frame-options")
    bad = []
    for path, status, headers in rt.errors_seen:
        h = {k.lower(): v for k, v in headers.items()}
        missing = [w for w in want if w not in h]
        if "no-store" not in h.get("cache-control", ""):
            missing.append("no-store")
        if missing:
            bad.append(f"{status} {path[:40]}: {','.join(missing)}")
    return Row(
        "",
        "",
        not bad,
        f"{len(rt.errors_seen)} error answers; without headers: {sorted(set(bad))[:4]}",
    )
