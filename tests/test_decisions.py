"""Review recorded (issue 21): officers' decisions on flagged lines in the store, through the
real app (API and page form), in the screening's JSON, every report and the audit; and the
XLSX report people use (typed cells, autofilter, frozen header, sized columns, summary sheet).
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from _browser import ARGS, CHROMIUM
from precursorwatch.errors import InputError, QueryError
from precursorwatch.models import OUTPUT_COLUMNS, DeclarationLine, LineResult
from precursorwatch.report.writers import XLSX_COLUMNS, results_frame, write_xlsx
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key, list_audit, open_store, save_screening
from precursorwatch.store.decisions import (
    current_decisions,
    decision_history,
    record_decision,
)
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).parent.parent
MANIFEST = Path(__file__).parent / "data" / "api" / "manifest.csv"
CHECK_CONTRACT = ROOT.parent / "shared" / "tools" / "check_contract.py"


# --- the store --------------------------------------------------------------------------------


def _saved(store: Store, pruned: bool = False) -> str:
    lines = [
        (
            DeclarationLine(row=1, line_id="A/1", description="Acetic anhydride"),
            LineResult("A/1", True, "high", "acetic-anhydride", "Acetic anhydride", "108-24-7"),
        ),
        (
            DeclarationLine(row=2, description="Salt"),  # no line id: shown as its row, "2"
            LineResult("2", False, "none"),
        ),
    ]
    with store.session() as session:
        return save_screening(
            session=session,
            actor="tester",
            input_name="m.csv",
            input_hash="x",
            list_versions={},
            lines=lines,
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'd.sqlite'}")
    yield opened
    opened.dispose()


def test_the_store_keeps_every_decision_and_the_newest_is_the_lines(store: Store) -> None:
    sid = _saved(store)
    with store.session() as session:
        first = record_decision(
            session=session, screening_id=sid, line_id="A/1", decision="inspect",
            comment="  papers unclear ", actor="alice", actor_key_id="k1",
        )  # fmt: skip
        record_decision(
            session=session, screening_id=sid, line_id="A/1", decision="cleared",
            comment="papers in order", actor="bob",
        )  # fmt: skip
    assert first.comment == "papers unclear" and first.actor_key_id == "k1"
    with store.session(write=False) as session:
        newest = current_decisions(session=session, screening_id=sid)
        history = decision_history(session=session, screening_id=sid, line_id="A/1")
        events = [e for e in list_audit(session=session) if e.action == "line.decision"]
    assert list(newest) == ["A/1"] and newest["A/1"].decision == "cleared"
    assert newest["A/1"].actor == "bob" and newest["A/1"].at.tzinfo is not None
    assert [h.decision for h in history] == ["inspect", "cleared"]
    assert [e.detail["decision"] for e in events] == ["cleared", "inspect"]  # newest first
    assert events[1].detail == {
        "screening_id": sid,
        "line_id": "A/1",
        "decision": "inspect",
        "comment": "papers unclear",
        "by_key": {"id": "k1", "name": "alice"},
    }
    assert events[1].actor_key_id == "k1"


@pytest.mark.parametrize(
    ("line_id", "decision", "comment", "error", "words"),
    [
        ("A/1", "released", "", InputError, "decision: 'released' is not a decision"),
        ("A/1", "cleared", "x" * 2001, InputError, "comment: 2,001 characters"),
        ("2", "cleared", "", InputError, "line_id: line '2' was not flagged"),
        ("L9", "cleared", "", QueryError, "has no line 'L9'"),
    ],
)
def test_the_store_refuses_what_cannot_be_decided(
    store: Store, line_id: str, decision: str, comment: str, error: type, words: str
) -> None:
    sid = _saved(store)
    with pytest.raises(error, match=re.escape(words)), store.session() as session:
        record_decision(
            session=session, screening_id=sid, line_id=line_id, decision=decision,
            comment=comment, actor="alice",
        )  # fmt: skip
    with store.session(write=False) as session:
        assert decision_history(session=session, screening_id=sid) == []
        assert not [e for e in list_audit(session=session) if e.action == "line.decision"]


def test_an_unknown_or_unfinished_screening_takes_no_decision(store: Store) -> None:
    from sqlalchemy import update

    from precursorwatch.store.tables import screening

    with pytest.raises(QueryError, match="no screening"), store.session() as session:
        record_decision(
            session=session, screening_id="nope", line_id="1", decision="cleared",
            comment="", actor="a",
        )  # fmt: skip
    sid = _saved(store)
    with store.session() as session:
        session.execute(update(screening).where(screening.c.id == sid).values(complete=False))
    with pytest.raises(InputError, match="not complete"), store.session() as session:
        record_decision(
            session=session, screening_id=sid, line_id="A/1", decision="cleared",
            comment="", actor="a",
        )  # fmt: skip


# --- the XLSX writer --------------------------------------------------------------------------


def _results(n: int) -> tuple[list[LineResult], list[DeclarationLine]]:
    results, lines = [], []
    for i in range(n):
        high = i % 3 == 0
        results.append(
            LineResult(
                str(i + 1),
                high,
                "high" if high else "none",
                "bmk" if high else "",
                "BMK" if high else "",
                "",
                ("EU-CAT1",) if high else (),
                "cas" if high else "",
                0.85 if high else 0.0,
                "reason",
            )
        )
        lines.append(
            DeclarationLine(
                row=i + 1,
                description=f"=goods {i}",
                cas="-5" if i == 1 else "",
                quantity=12.5 if i % 2 == 0 else None,
                unit="kg",
                consignee="C",
            )
        )
    return results, lines


def test_the_xlsx_report_is_typed_filtered_frozen_sized_and_summarised() -> None:
    results, lines = _results(6)
    decisions = ["cleared", "", "", "inspect", "", ""]
    buf = io.BytesIO()
    about = [
        ("File", "m.csv"),
        ("Screened by", "alice"),
        ("Lists as they applied on", "2026-01-10"),
    ]
    write_xlsx(results_frame(results, lines, decisions), buf, lines, about)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["Screening", "Summary"]
    ws = wb["Screening"]
    header = [c.value for c in ws[1]]
    assert tuple(header) == XLSX_COLUMNS
    assert header[:10] == [
        "line_id", "flagged", "risk", "matched_key", "matched_name", "matched_cas", "lists",
        "match_type", "score", "reason",
    ]  # fmt: skip
    assert all(c.font.b for c in ws[1])
    col = {name: i for i, name in enumerate(header)}
    first = [c for c in ws[2]]
    assert first[col["flagged"]].value is True and first[col["flagged"]].data_type == "b"
    assert ws[3][col["flagged"]].value is False
    assert first[col["score"]].value == pytest.approx(0.85) and first[col["score"]].data_type == "n"
    assert first[col["quantity"]].value == 12.5
    assert ws[3][col["quantity"]].value is None  # no quantity read: an empty cell
    assert first[col["decision"]].value == "cleared" and ws[5][col["decision"]].value == "inspect"
    assert first[col["description"]].value == "'=goods 0"  # still defused
    assert ws[3][col["cas"]].value == "'-5"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws.auto_filter.ref == "A1:R7" and len(header) == 18
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["J"].width == 80  # reason
    assert ws.column_dimensions["A"].width == 10  # line_id
    assert first[0].fill.fgColor.rgb.endswith("F8D7DA")  # a high row
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["File"] == "m.csv" and summary["Lists as they applied on"] == "2026-01-10"
    assert summary["Lines"] == 6 and summary["Flagged"] == 2
    assert (summary["high"], summary["none"], summary["medium"]) == (2, 4, 0)
    assert (summary["cleared"], summary["inspect"], summary["detained"]) == (1, 1, 0)
    assert summary["open (no decision yet)"] == 0
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:  # the name Excel gives a filter
        assert "Screening!$A$1:$R$7</definedName>" in z.read("xl/workbook.xml").decode()


# --- through the real app ---------------------------------------------------------------------


class Env:
    def __init__(self, client: TestClient, keys: dict[str, str], store: Store) -> None:
        self.client, self.keys, self.store = client, keys, store

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dec') / 'api.sqlite'}"
    settings = get_settings(database_url=url, screen_workers=0)
    store = open_ready_store(settings)
    keys = {}
    with store.session() as session:
        for role in ("officer", "operator", "admin"):
            _, keys[role] = create_api_key(session=session, name=f"dec-{role}", role=role)
    with TestClient(create_app(settings, store)) as client:
        yield Env(client, keys, store)
    store.dispose()


@pytest.fixture(scope="module")
def sid(env: Env) -> str:
    with MANIFEST.open("rb") as fh:
        up = env.client.post(
            "/v1/screenings", files={"file": ("manifest.csv", fh)}, headers=env.auth("officer")
        )
    assert up.status_code in (201, 202), up.text
    return str(up.json()["screening_id"])


def _decide(env: Env, sid: str, line: str, body: object, who: str = "officer") -> Any:
    return env.client.post(
        f"/v1/screenings/{sid}/lines/{line}/decision", json=body, headers=env.auth(who)
    )


def test_the_api_records_a_decision_and_shows_it_everywhere(env: Env, sid: str) -> None:
    lines = env.client.get(f"/v1/screenings/{sid}", headers=env.auth("officer")).json()["lines"]
    flagged = [x["line_id"] for x in lines if x["flagged"]]
    assert "L1" in flagged and all(x["decision"] is None for x in lines)
    answer = _decide(env, sid, "L1", {"decision": "detained", "comment": "=SUM(1) seized"})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["decision"] == "detained" and made["actor"] == "dec-officer"
    assert made["line_id"] == "L1" and made["screening_id"] == sid and made["at"]

    detail = env.client.get(f"/v1/screenings/{sid}", headers=env.auth("officer")).json()
    by_id = {x["line_id"]: x for x in detail["lines"]}
    assert by_id["L1"]["decision"]["decision"] == "detained"
    assert by_id["L1"]["decision"]["comment"] == "=SUM(1) seized"
    assert by_id["L2"]["decision"] is None

    report = env.client.get(f"/v1/screenings/{sid}/report.csv", headers=env.auth("officer"))
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert {r["line_id"]: r["decision"] for r in rows}["L1"] == "detained"
    assert list(rows[0])[:10] == [
        "line_id", "flagged", "risk", "matched_key", "matched_name", "matched_cas", "lists",
        "match_type", "score", "reason",
    ]  # fmt: skip
    assert list(rows[0])[10:15] == ["description", "quantity", "unit", "consignee", "decision"]

    xlsx = env.client.get(f"/v1/screenings/{sid}/report.xlsx", headers=env.auth("officer"))
    wb = load_workbook(io.BytesIO(xlsx.content))
    values = list(wb["Screening"].iter_rows(values_only=True))
    header = list(values[0])
    found = {r[0]: r[header.index("decision")] for r in values[1:]}
    assert found["L1"] == "detained" and found["L2"] is None
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["File"] == "manifest.csv" and summary["Screened by"] == "dec-officer"
    assert summary["detained"] == 1 and summary["Lines"] == 5

    html = env.client.get(f"/v1/screenings/{sid}/report.html", headers=env.auth("officer")).text
    row = html[html.index('data-line="L1"') :]
    row = row[: row.index("</tr>")]
    assert "<strong>detained</strong>" in row and "by dec-officer" in row
    assert "&#39;=SUM(1) seized" in row  # defused, escaped

    history = env.client.get(
        f"/v1/screenings/{sid}/lines/L1/decisions", headers=env.auth("officer")
    ).json()
    assert [h["decision"] for h in history] == ["detained"]
    with env.store.session(write=False) as session:
        events = [e for e in list_audit(session=session) if e.action == "line.decision"]
    assert events[0].detail["line_id"] == "L1" and events[0].actor == "dec-officer"
    assert events[0].actor_key_id


def test_the_open_filter_leaves_out_decided_lines(env: Env, sid: str) -> None:
    assert _decide(env, sid, "L3", {"decision": "referred"}).status_code == 201
    every = env.client.get(f"/v1/screenings/{sid}", headers=env.auth("officer")).json()["lines"]
    opened = env.client.get(
        f"/v1/screenings/{sid}?decision=open", headers=env.auth("officer")
    ).json()["lines"]
    decided = {"L1", "L3"}
    expected = [x["line_id"] for x in every if x["flagged"] and x["line_id"] not in decided]
    assert [x["line_id"] for x in opened] == expected


@pytest.mark.parametrize(
    ("who", "line", "body", "status", "words"),
    [
        ("operator", "L1", {"decision": "cleared"}, 403, "officer or admin"),
        ("officer", "L9", {"decision": "cleared"}, 404, "no line 'L9'"),
        ("officer", "L1", {"decision": "released"}, 422, "decision"),
        ("officer", "L1", {"decision": "cleared", "comment": "x" * 2001}, 422, "comment"),
        ("officer", "L2", {"decision": "cleared"}, 422, "not flagged"),
        ("officer", "L1", {"comment": "no decision"}, 422, "decision"),
    ],
)
def test_the_api_refuses_what_cannot_be_decided(
    env: Env, sid: str, who: str, line: str, body: object, status: int, words: str
) -> None:
    answer = _decide(env, sid, line, body, who)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["status"] == status and words in error["message"]


def test_an_unknown_screening_is_404_and_admins_may_decide(env: Env, sid: str) -> None:
    assert _decide(env, "f" * 32, "L1", {"decision": "cleared"}).status_code == 404
    answer = _decide(env, sid, "L5", {"decision": "inspect"}, "admin")
    assert answer.status_code in (201, 422), answer.text


def _sign_in(client: TestClient, key: str) -> None:
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    signed = client.post(
        "/signin", data={"key": key, "csrf": token.group(1)}, follow_redirects=False
    )
    assert signed.status_code == 303


def test_an_operator_gets_no_form_and_its_post_is_refused(env: Env) -> None:
    client = env.client
    with MANIFEST.open("rb") as fh:
        up = client.post(
            "/v1/screenings", files={"file": ("m.csv", fh)}, headers=env.auth("operator")
        )
    own = up.json()["screening_id"]
    _sign_in(client, env.keys["operator"])
    page = client.get(f"/screenings/{own}")
    assert page.status_code == 200 and 'id="line-L1"' in page.text
    assert "/decision" not in page.text and "decide.js" not in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    refused = client.post(
        f"/screenings/{own}/lines/L1/decision",
        data={"decision": "cleared", "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "officer or admin" in refused.text
    client.post("/signout", data={"csrf": csrf.group(1)})


def test_the_page_form_records_a_decision(env: Env, sid: str) -> None:
    client = env.client
    _sign_in(client, env.keys["officer"])
    page = client.get(f"/screenings/{sid}")
    assert page.status_code == 200
    assert "/static/decide.js" in page.text and "<kbd>c</kbd>" in page.text
    assert f'action="/screenings/{sid}/lines/L1/decision"' in page.text
    assert 'id="line-L1"' in page.text and "data-decide" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    refused = client.post(
        f"/screenings/{sid}/lines/L1/decision",
        data={"decision": "cleared", "comment": "x", "csrf": "wrong"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    done = client.post(
        f"/screenings/{sid}/lines/L1/decision",
        data={"decision": "cleared", "comment": "paid duty", "csrf": csrf.group(1),
              "back": "?decision=open"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/screenings/{sid}?decision=open#line-L1"
    shown = client.get(f"/screenings/{sid}").text
    row = shown[shown.index('id="line-L1"') :]
    row = row[: row.index("</tr>")]
    assert "cleared" in row and "paid duty" in row
    opened = client.get(f"/screenings/{sid}?decision=open").text
    assert 'id="line-L1"' not in opened
    assert client.get("/static/decide.js").status_code == 200
    client.post("/signout")


def test_the_csv_with_decisions_keeps_the_contract(env: Env, sid: str, tmp_path: Path) -> None:
    report = env.client.get(f"/v1/screenings/{sid}/report.csv", headers=env.auth("officer"))
    header = next(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    contract = list(OUTPUT_COLUMNS)
    assert header[: len(contract)] == contract and "decision" in header[len(contract) :]
    # the contract's own checker lives beside the project (../shared), not in a clone of it
    if not CHECK_CONTRACT.exists():
        return
    out = tmp_path / "report.csv"
    out.write_bytes(report.content)
    done = subprocess.run(
        [sys.executable, str(CHECK_CONTRACT), str(MANIFEST), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert "contract holds" in done.stdout


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")
def test_keyboard_shortcuts_record_a_decision_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from _live_server import serve_in_thread

    settings = get_settings(database_url=f"sqlite:///{tmp_path / 'b.sqlite'}", screen_workers=0)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="officer-keys", role="officer")
    try:
        with serve_in_thread(create_app(settings, store)) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                missing: list[str] = []  # what the pages load (the browser's favicon aside)
                page.on(
                    "response",
                    lambda r: (
                        missing.append(r.url)
                        if r.status >= 400 and not r.url.endswith("/favicon.ico")
                        else None
                    ),
                )
                page.goto(f"{base}/signin")
                page.fill("#key", key)
                page.click("form[action='/signin'] button[type=submit]")
                page.wait_for_url(f"{base}/upload")
                page.set_input_files("#file", str(MANIFEST))
                page.click("form[action='/upload'] button[type=submit]")
                page.wait_for_url(f"{base}/screenings/*")
                sid = page.url.rsplit("/", 1)[-1].split("?")[0]
                assert page.locator("tr[data-decide]").count() >= 2
                page.locator("h1").click()
                page.keyboard.press("j")  # the first flagged line (high first: L1)
                assert page.evaluate("document.activeElement.id") == "line-L1"
                page.fill("#line-L1 textarea", "held at the border")
                page.locator("#line-L1").focus()
                page.keyboard.press("i")  # inspect
                page.wait_for_url(f"{base}/screenings/{sid}#line-L1")
                row = page.locator("#line-L1 td.decision")
                assert "inspect" in row.inner_text() and "held at the border" in row.inner_text()
                page.locator("#line-L1 textarea").focus()
                page.keyboard.press("c")  # typed into the box, not a decision
                assert page.locator("#line-L1 textarea").input_value() == "c"
                assert not errors and not missing, (errors, missing)
            finally:
                browser.close()
    finally:
        store.dispose()
    with store.session(write=False) as session:
        history = decision_history(session=session, screening_id=sid, line_id="L1")
    assert [(h.decision, h.comment, h.actor) for h in history] == [
        ("inspect", "held at the border", "officer-keys")
    ]
