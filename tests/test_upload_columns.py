"""The upload page asks which column holds what when it cannot tell (issue 21, "Words for
officers": the upload page maps unrecognised columns with a choice per column).

Through a real server (uvicorn on 127.0.0.1, uploads screened in its own process), on a
temporary SQLite store: a manifest whose headers are "Artikel", "Stoffnummer" and "Menge" is
not refused; the page shows a labelled choice per column, pre-filled with what was recognised;
the officer's choice is passed to the library as the CLI's ``--map`` would be; the held file is
used once, removed after use, and no other key, stale token or missing CSRF token reaches it.
Big files still become jobs. The library's side (the ``ignore`` pseudo-field, the header peek,
the held-upload store's bounds) is checked directly as well.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _live_server import serve_in_thread
from precursorwatch.errors import ColumnsNotRecognised, ManifestError
from precursorwatch.manifest.headers import IGNORE, parse_mapping, recognise
from precursorwatch.manifest.peek import peek_columns
from precursorwatch.manifest.read import read_manifest, sniff_manifest
from precursorwatch.models import DeclarationLine, LineResult
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.store.access import screening_lines
from precursorwatch.web import create_app
from precursorwatch.web.held_uploads import HeldUploads
from precursorwatch.web.pages_upload import NOT_TOLD, mapping_of

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

GERMAN = (
    "Artikel,Stoffnummer,Menge\nEssigsäureanhydrid 99%,108-24-7,200\nNatriumchlorid,7647-14-5,5\n"
)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')


# --- the library: what a mapping can say, and the header row read alone ----------------------


def test_no_identifier_column_names_the_headers_and_what_was_recognised() -> None:
    with pytest.raises(ColumnsNotRecognised) as caught:
        recognise(["Artikel", "Stoffnummer", "Menge"], {}, "m.csv", 1)
    assert caught.value.headers == ("Artikel", "Stoffnummer", "Menge")
    assert caught.value.columns == {"quantity": "Menge"}
    assert isinstance(caught.value, ManifestError)  # callers catching ManifestError still do


def test_ignore_leaves_a_recognised_column_unread(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(GERMAN, encoding="utf-8")
    mapping = parse_mapping(["description=Artikel", "ignore=Menge", "ignore=Stoffnummer"])
    assert mapping == {"description": "Artikel", IGNORE: "Menge\x1fStoffnummer"}
    info = sniff_manifest(path, mapping=mapping)
    assert info.columns == {"description": "Artikel"}
    assert info.ignored_headers == ("Stoffnummer", "Menge")
    frame, _ = read_manifest(path, mapping=mapping)
    assert frame["description"].tolist() == ["Essigsäureanhydrid 99%", "Natriumchlorid"]
    assert set(frame["quantity"]) == {""} and set(frame["cas"]) == {""}  # left unread
    with pytest.raises(ManifestError, match="ignore= needs a header name"):
        parse_mapping(["ignore="])


def test_the_header_peek_reads_csv_and_xlsx_as_the_reader_does(tmp_path: Path) -> None:
    from openpyxl import Workbook

    csv_path = tmp_path / "m.csv"
    csv_path.write_bytes(("Shipment 7\n\n" + GERMAN).encode("cp1252"))  # a title row above
    guess = peek_columns(csv_path, "m.csv")
    assert guess.headers == ("Artikel", "Stoffnummer", "Menge")
    assert guess.columns == {"quantity": "Menge"} and not guess.identified

    untitled = tmp_path / "u.csv"  # nothing recognised at all, under a title row
    untitled.write_text("Lieferung 7\nArtikel,Stoffnummer,Bemerkung\nx,108-24-7,y\n", "utf-8")
    assert peek_columns(untitled).headers == ("Artikel", "Stoffnummer", "Bemerkung")
    mapping = {"description": "Artikel", "cas": "Stoffnummer"}
    assert sniff_manifest(untitled, mapping=mapping).columns == mapping  # the reader agrees

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Goods description", "CAS no", "Qty"], ["Acetone", "67-64-1", "5"]):
        sheet.append(row)
    xlsx_path = tmp_path / "m.xlsx"
    book.save(xlsx_path)
    guess = peek_columns(xlsx_path, "m.xlsx")
    assert guess.identified
    assert guess.columns == {"description": "Goods description", "cas": "CAS no", "quantity": "Qty"}

    empty = tmp_path / "e.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="empty"):
        peek_columns(empty, "e.csv")


def test_a_choice_of_columns_is_checked_in_an_officers_words() -> None:
    mapping, problem = mapping_of({"Artikel": "description", "Menge": "ignore", "X": "cas"})
    assert problem == ""
    assert mapping == {"description": "Artikel", "cas": "X", IGNORE: "Menge"}
    _, problem = mapping_of({"Artikel": "ignore", "Menge": "quantity"})
    assert "goods description" in problem and "CAS number" in problem
    _, problem = mapping_of({"A": "description", "B": "description"})
    assert "more than one column" in problem and "“A” and “B”" in problem
    _, problem = mapping_of({"A": "description", "B": "<script>"})
    assert "“B”" in problem


def test_held_uploads_are_bounded_bound_to_a_key_and_taken_once(tmp_path: Path) -> None:
    held = HeldUploads(tmp_path / "held", keep_s=60, max_held=3, max_per_key=2)

    def upload(n: int) -> Path:
        where = tmp_path / f"up{n}"
        where.mkdir()
        (where / "m.csv").write_text(GERMAN, encoding="utf-8")
        return where / "m.csv"

    first = held.hold(upload(1), "m.csv", "key-a", "", ("Artikel",), {})
    assert not (tmp_path / "up1").exists()  # moved out of the upload's own directory
    assert held.get(first.token, "key-b") is None
    assert held.get("../../etc", "key-a") is None
    second = held.hold(upload(2), "m.csv", "key-a", "", ("Artikel",), {})
    third = held.hold(upload(3), "m.csv", "key-a", "", ("Artikel",), {})
    assert held.get(first.token, "key-a") is None  # the oldest of the key went first
    assert {h.token for h in held.sweep()} == {second.token, third.token}
    held.hold(upload(4), "m.csv", "key-b", "", ("Artikel",), {})
    with pytest.raises(Exception, match="too many uploads"):
        held.hold(upload(5), "m.csv", "key-c", "", ("Artikel",), {})

    taken = held.take(second.token, "key-a")
    assert taken is not None and taken.path.read_text(encoding="utf-8") == GERMAN
    assert held.take(second.token, "key-a") is None  # once only
    stale = HeldUploads(tmp_path / "held", keep_s=0)
    time.sleep(0.01)
    assert stale.get(third.token, "key-a") is None
    assert not (tmp_path / "held" / third.token).exists()  # an expired one is removed

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # made first by someone else in a shared temporary directory
    with pytest.raises(Exception, match="not the server's own directory"):
        HeldUploads(shared).hold(upload(6), "m.csv", "key-a", "", ("Artikel",), {})
    assert (tmp_path / "up6" / "m.csv").exists()  # left to the caller, not moved there


# --- the page, through a real server ---------------------------------------------------------


class Served:
    """A real server over a temporary store, with two signed-in officers' clients."""

    def __init__(self, store: Store, held: HeldUploads, officer: httpx.Client) -> None:
        self.store, self.held, self.officer = store, held, officer
        self.other: httpx.Client | None = None

    def lines(self, screening_id: str) -> list[tuple[DeclarationLine, LineResult]]:
        with self.store.session(write=False) as session:
            return list(screening_lines(session=session, screening_id=screening_id))


def _signed_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
    token = CSRF.search(client.get("/signin").text)
    assert token is not None
    done = client.post("/signin", data={"key": key, "csrf": token[1]})
    assert done.status_code == 303, done.text
    return client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    where = tmp_path_factory.mktemp("columns")
    settings = get_settings(database_url=f"sqlite:///{where / 'c.sqlite'}", screen_workers=0)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="border-desk", role="officer")
        _, other_key = create_api_key(session=session, name="other-desk", role="officer")
    app = create_app(settings, store)
    held = HeldUploads(where / "held")
    app.state.pw.held = held
    with serve_in_thread(app) as base:
        officer, other = _signed_in(base, key), _signed_in(base, other_key)
        env = Served(store, held, officer)
        env.other = other
        try:
            yield env
        finally:
            officer.close()
            other.close()
    store.dispose()


def _csrf(client: httpx.Client) -> str:
    found = CSRF.search(client.get("/upload").text)
    assert found is not None
    return found[1]


def _upload(client: httpx.Client, text: str, **form: str) -> httpx.Response:
    return client.post(
        "/upload",
        files={"file": ("lieferung.csv", text.encode("utf-8"))},
        data={"csrf": _csrf(client), **form},
    )


def _choices(page: str) -> dict[str, tuple[str, str]]:
    """Header -> (select name, selected field) of a columns page; every select labelled."""
    out = {}
    for i, header in re.findall(r'<label for="column-(\d+)">Column “([^”]*)”</label>', page):
        select = re.search(
            rf'<select id="column-{i}" name="(column-{i})">(.*?)</select>', page, re.S
        )
        assert select is not None, f"column {i} has a label but no select"
        chosen = re.search(r'<option value="([^"]+)" selected>', select[2])
        out[header] = (select[1], chosen[1] if chosen else "")
    assert len(out) == len(re.findall(r"<select ", page)), "a select without its label"
    return out


def test_unrecognised_columns_are_asked_for_then_screened(served: Served) -> None:
    officer = served.officer
    asked = _upload(officer, GERMAN, as_of="")
    assert asked.status_code == 200, asked.text
    page = asked.text
    assert NOT_TOLD in page and "lieferung.csv" in page and "--map" not in page
    choices = _choices(page)
    assert choices == {
        "Artikel": ("column-0", "ignore"),
        "Stoffnummer": ("column-1", "ignore"),
        "Menge": ("column-2", "quantity"),  # recognised: pre-filled
    }
    for field in ("description", "cas", "hs_code", "consignee", "inchikey", "ignore"):
        assert f'<option value="{field}"' in page
    token_match = TOKEN.search(page)
    assert token_match is not None
    token = token_match[1]
    kept = served.held.root / token
    assert kept.is_dir() and (kept / "lieferung.csv").read_text(encoding="utf-8") == GERMAN

    # nothing chosen that identifies the goods: asked again, the file still kept
    again = officer.post(
        "/upload/columns",
        data={"csrf": _csrf(officer), "token": token, "column-0": "ignore", "column-2": "quantity"},
    )
    assert again.status_code == 422
    assert "Choose the column that holds the goods description" in again.text
    assert 'role="alert"' in again.text and kept.is_dir()

    chosen = {"column-0": "description", "column-1": "cas", "column-2": "quantity"}
    done = officer.post("/upload/columns", data={"csrf": _csrf(officer), "token": token, **chosen})
    assert done.status_code == 303, done.text
    assert not kept.exists()  # removed after use
    assert not list(served.held.root.iterdir())
    where = done.headers["location"]
    results = officer.get(where)
    assert results.status_code == 200
    row = re.search(r'<tr class="risk-(\w+) flagged"[^>]*>(.*?)</tr>', results.text, re.S)
    assert row is not None, "no flagged line on the results page"
    assert "Acetic anhydride" in row[2] and "108-24-7" in row[2]

    lines = served.lines(where.rsplit("/", 1)[-1])
    by_description = {d.description: (d, r) for d, r in lines}
    line, result = by_description["Essigsäureanhydrid 99%"]
    assert line.cas == "108-24-7" and line.quantity == 200 and result.flagged
    assert not by_description["Natriumchlorid"][1].flagged

    used = officer.post("/upload/columns", data={"csrf": _csrf(officer), "token": token, **chosen})
    assert used.status_code == 404 and "upload it again" in used.text


def test_a_held_upload_is_refused_to_others_and_without_csrf(served: Served) -> None:
    officer, other = served.officer, served.other
    assert other is not None
    asked = _upload(officer, GERMAN)
    token_match = TOKEN.search(asked.text)
    assert token_match is not None
    token = token_match[1]
    chosen = {"column-0": "description", "column-1": "cas", "column-2": "quantity"}

    stolen = other.post("/upload/columns", data={"csrf": _csrf(other), "token": token, **chosen})
    assert stolen.status_code == 404 and "Artikel" not in stolen.text
    forged = officer.post("/upload/columns", data={"csrf": "x" * 43, "token": token, **chosen})
    assert forged.status_code == 403
    unknown = officer.post(
        "/upload/columns", data={"csrf": _csrf(officer), "token": "A" * 43, **chosen}
    )
    assert unknown.status_code == 404
    bad = officer.post("/upload/columns", data={"csrf": _csrf(officer), "token": "../x", **chosen})
    assert bad.status_code == 404
    assert (served.held.root / token).is_dir()  # none of them used it up

    # the officer may still use it, leaving the tariff column unread on purpose
    done = officer.post(
        "/upload/columns",
        data={"csrf": _csrf(officer), "token": token, **chosen, "column-2": "ignore"},
    )
    assert done.status_code == 303, done.text
    lines = served.lines(done.headers["location"].rsplit("/", 1)[-1])
    assert {d.quantity for d, _ in lines} == {None}  # "ignore" left Menge unread
    assert not (served.held.root / token).exists()


def test_recognised_columns_go_straight_through_unless_asked(served: Served) -> None:
    plain = "Description,CAS,Quantity\nAcetic anhydride,108-24-7,3\n"
    straight = _upload(served.officer, plain)
    assert straight.status_code == 303  # no extra step
    asked = _upload(served.officer, plain, choose="1")
    assert asked.status_code == 200
    assert "Check what each column holds" in asked.text
    assert _choices(asked.text) == {
        "Description": ("column-0", "description"),
        "CAS": ("column-1", "cas"),
        "Quantity": ("column-2", "quantity"),
    }
    token = TOKEN.search(asked.text)
    assert token is not None
    chosen = {"column-0": "description", "column-1": "ignore", "column-2": "quantity"}
    form = {"csrf": _csrf(served.officer), "token": token[1], **chosen}
    done = served.officer.post("/upload/columns", data=form)
    assert done.status_code == 303, done.text
    lines = served.lines(done.headers["location"].rsplit("/", 1)[-1])
    assert [(d.description, d.cas) for d, _ in lines] == [("Acetic anhydride", "")]
    assert lines[0][1].flagged  # found by its name, the CAS column left unread
    assert not (served.held.root / token[1]).exists()


def test_a_big_upload_with_chosen_columns_becomes_a_job(tmp_path: Path) -> None:
    settings = get_settings(
        database_url=f"sqlite:///{tmp_path / 'j.sqlite'}", screen_workers=0, job_upload_bytes=1
    )
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="border-desk", role="officer")
    app = create_app(settings, store)
    app.state.pw.held = HeldUploads(tmp_path / "held")
    try:
        with TestClient(app, follow_redirects=False) as client:
            csrf = CSRF.search(client.get("/signin").text)
            assert csrf is not None
            assert client.post("/signin", data={"key": key, "csrf": csrf[1]}).status_code == 303
            page_csrf = CSRF.search(client.get("/upload").text)
            assert page_csrf is not None
            files = {"file": ("big.csv", GERMAN.encode("utf-8"))}
            asked = client.post("/upload", files=files, data={"csrf": page_csrf[1]})
            token = TOKEN.search(asked.text)
            assert asked.status_code == 200 and token is not None
            chosen = {"column-0": "description", "column-1": "cas", "column-2": "quantity"}
            done = client.post(
                "/upload/columns", data={"csrf": page_csrf[1], "token": token[1], **chosen}
            )
            assert done.status_code == 303, done.text
            sid = done.headers["location"].rsplit("/", 1)[-1]
            auth = {"Authorization": f"Bearer {key}"}
            deadline, body = time.monotonic() + 120, {"status": "running"}
            while body["status"] == "running":
                assert time.monotonic() < deadline, body
                time.sleep(0.1)
                body = client.get(f"/v1/screenings/{sid}", headers=auth).json()
            assert body["status"] == "complete", body
            flagged = [x for x in body["lines"] if x["flagged"]]
            assert [x["matched_cas"] for x in flagged] == ["108-24-7"]
            assert not list((tmp_path / "held").iterdir())
    finally:
        store.dispose()


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
def test_the_columns_page_in_a_browser_on_a_phone(served: Served, tmp_path: Path) -> None:
    """In real Chromium at 390 and 360 px: the page fits, axe finds nothing serious, and an
    officer picks the columns with the selects and gets the flagged line."""
    from playwright.sync_api import sync_playwright

    from _browser import ARGS, CHROMIUM, axe_script, check_page

    base = str(served.officer.base_url).rstrip("/")
    with served.store.session() as session:  # a key of its own, for the browser's sign-in
        _, secret = create_api_key(session=session, name="phone-desk", role="officer")
    manifest = tmp_path / "lieferung.csv"
    manifest.write_text(GERMAN, encoding="utf-8")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/signin")
            page.fill("#key", secret)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/upload")
            page.set_input_files("#file", str(manifest))
            page.click("form.card button[type=submit]")
            page.wait_for_selector("text=Choose what each column holds")
            token = page.locator("input[name=token]").get_attribute("value") or ""
            assert (served.held.root / token).is_dir()
            for width in (390, 360):
                page.set_viewport_size({"width": width, "height": 844})
                check_page(page, axe_script(), f"columns page at {width} px", problems)
            assert not problems, "\n".join(problems)
            page.get_by_label("Column “Artikel”").select_option("description")
            page.get_by_label("Column “Stoffnummer”").select_option("cas")
            page.get_by_role("button", name="Screen with these columns").click()
            page.wait_for_url(f"{base}/screenings/*")
            flagged = page.locator("tr.flagged")
            assert flagged.count() == 1
            assert "108-24-7" in flagged.first.inner_text()
        finally:
            browser.close()
    assert not (served.held.root / token).exists()
