"""Bad input through the HTTP API: the tests/data/bad/ corpus uploaded, and what only the API
takes (oversized and streamed bodies, deep or huge JSON, wrong types, hostile strings).

Every request either screens (every line stored with its row, a per-line warning for what was
cleaned) or is refused with a 4xx in the one error shape naming what is wrong: never a 500, a
traceback, a server path or a hang. The corpus' EXPECTED.csv is shared with test_bad_input.py
(the CLI side).
"""

from __future__ import annotations

import asyncio
import csv
import json
import time
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.web import create_app
from precursorwatch.web.limits import FORM_SLACK

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = list(csv.DictReader((BAD / "EXPECTED.csv").open(encoding="utf-8")))
#: A request slower than this counts as a hang.
SLOW_S = 20.0


class Env:
    """The real app on a temporary SQLite store, and an officer key."""

    def __init__(self, url: str, store: Store, client: TestClient, secret: str) -> None:
        self.url, self.store, self.client, self.secret = url, store, client, secret

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def post_json(self, body: bytes | str, path: str = "/v1/screen") -> Any:
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        start = time.perf_counter()
        response = self.client.post(
            path, content=data, headers={**self.auth, "Content-Type": "application/json"}
        )
        assert time.perf_counter() - start < SLOW_S
        return response

    def upload(self, name: str, data: bytes) -> Any:
        start = time.perf_counter()
        response = self.client.post(
            "/v1/screenings", files={"file": (name, data)}, headers=self.auth
        )
        assert time.perf_counter() - start < SLOW_S, name
        return response


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('badapi') / 'bad.sqlite'}"
    settings = get_settings(database_url=url)
    store = open_ready_store(settings)
    with store.session() as session:
        _, secret = create_api_key(session=session, name="border-system", role="officer")
    app = create_app(settings, store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Env(url, store, client, secret)
    store.dispose()


def assert_refused(response: Any, status: int | None = None) -> str:
    """A 4xx in the one error shape, with no traceback or server path; returns the message."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == response.status_code
    message = body["error"]["message"]
    assert isinstance(message, str) and 0 < len(message) < 1000
    assert "Traceback" not in message and "/tmp" not in message, message
    assert "precursorwatch-upload" not in message
    return str(message)


def stored_lines(env: Env, screening_id: str) -> list[dict[str, Any]]:
    response = env.client.get(f"/v1/screenings/{screening_id}", headers=env.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["lines"])


# --- the shared corpus, uploaded --------------------------------------------------------------


@pytest.mark.parametrize("case", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_corpus_upload_screens_or_is_refused(env: Env, case: dict[str, str]) -> None:
    response = env.upload(case["file"], (BAD / case["file"]).read_bytes())
    if case["expect"] == "refused":
        message = assert_refused(response, 422)
        assert message.startswith(case["file"]), message  # names the uploaded file
        assert case["contains"] in message, message
        return
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    rows = int(case["rows"])
    assert summary["lines"] == rows and sum(summary["by_risk"].values()) == rows
    assert (summary["flagged"] > 0) == (case["exit_code"] == "1")
    lines = stored_lines(env, response.json()["screening_id"])
    assert len(lines) == rows
    assert all(line["risk"] in ("high", "medium", "low", "none") for line in lines)
    if case["contains"]:
        assert any(
            case["contains"] in " ".join(line["warnings"]) + line["reason"] for line in lines
        ), lines


def test_corpus_warnings_land_on_the_repaired_line(env: Env) -> None:
    response = env.upload("ragged.csv", (BAD / "ragged.csv").read_bytes())
    warned = [line["warnings"] for line in stored_lines(env, response.json()["screening_id"])]
    assert warned[0] == []
    assert any("2 fields" in w for w in warned[1]) and any("6 fields" in w for w in warned[2])


def test_report_csv_of_a_repaired_upload_keeps_every_row(env: Env) -> None:
    response = env.upload("invisible_bidi.csv", (BAD / "invisible_bidi.csv").read_bytes())
    sid = response.json()["screening_id"]
    report = env.client.get(f"/v1/screenings/{sid}/report.csv", headers=env.auth)
    assert report.status_code == 200
    rows = list(csv.DictReader(report.text.splitlines()))
    assert len(rows) == 4 and "\u202e" not in report.text


def test_zip_bomb_upload_is_refused(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(50):
                member.write(block)
    message = assert_refused(env.upload("bomb.xlsx", path.read_bytes()), 422)
    assert message.startswith("bomb.xlsx")


def test_upload_of_an_unknown_file_type_or_without_file_field(env: Env) -> None:
    assert "csv" in assert_refused(env.upload("evil.exe", b"MZ\x90\x00"), 422)
    missing = env.client.post("/v1/screenings", data={"note": "x"}, headers=env.auth)
    assert "file" in assert_refused(missing, 422)
    not_form = env.post_json('{"file": "a.csv"}', "/v1/screenings")
    assert_refused(not_form, 422)
    garbled = env.client.post(
        "/v1/screenings",
        content=b"--xyz\r\nnonsense",
        headers={**env.auth, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_refused(garbled)


def test_hostile_file_names_are_not_echoed_as_paths(env: Env) -> None:
    data = b"description,cas\nacetone,67-64-1\n"
    response = env.upload("../../etc/passwd\u202e.csv", data)
    assert response.status_code == 201, response.text
    info = env.client.get(f"/v1/screenings/{response.json()['screening_id']}", headers=env.auth)
    assert info.json()["summary"]["input_name"] == "passwd_.csv"


# --- oversized bodies -------------------------------------------------------------------------


def _asgi_post(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]
) -> tuple[int, bytes, int]:
    """POST through the raw ASGI interface; returns (status, body, chunks the app read)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, read


def _never_read() -> Iterator[bytes]:
    raise AssertionError("the body was read")
    yield b""  # pragma: no cover


@pytest.fixture(scope="module")
def small(env: Env) -> Iterator[tuple[Any, str]]:
    """An app over the same store with a 100 kB upload limit."""
    app = create_app(get_settings(database_url=env.url, max_upload_bytes=100_000), env.store)
    yield app, env.secret


def test_declared_length_over_the_limit_is_413_before_reading(small: tuple[Any, str]) -> None:
    app, secret = small
    for path, kind in (
        ("/v1/screenings", b"multipart/form-data; boundary=x"),
        ("/v1/screen", b"application/json"),
        ("/upload", b"multipart/form-data; boundary=x"),
        ("/v1/lists", b"multipart/form-data; boundary=x"),
    ):
        headers = [
            (b"authorization", f"Bearer {secret}".encode()),
            (b"content-type", kind),
            (b"content-length", str(5 * 1024**3).encode()),  # 5 GiB announced
        ]
        status, body, _ = _asgi_post(app, path, headers, _never_read())
        assert status == 413, body
        error = json.loads(body)["error"]
        assert error["code"] == "too_large" and "100,000 bytes" in error["message"]


def test_streamed_body_is_cut_off_at_the_limit(small: tuple[Any, str]) -> None:
    app, secret = small
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="m.csv"\r\n\r\n'
    endless = (head if i == 0 else b"acetone,67-64-1\n" * 4096 for i in range(100_000))
    headers = [
        (b"authorization", f"Bearer {secret}".encode()),
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"transfer-encoding", b"chunked"),
    ]
    status, body, read = _asgi_post(app, "/v1/screenings", headers, endless)
    assert status == 413, body
    assert json.loads(body)["error"]["code"] == "too_large"
    assert read * 4096 * 16 < 100_000 + FORM_SLACK + 2 * 4096 * 16  # stopped at the limit


def test_malformed_content_length_is_400(small: tuple[Any, str]) -> None:
    app, secret = small
    headers = [
        (b"authorization", f"Bearer {secret}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"12abc"),
    ]
    status, body, _ = _asgi_post(app, "/v1/screen", headers, _never_read())
    assert status == 400 and json.loads(body)["error"]["code"] == "bad_request"


def test_upload_just_over_max_upload_bytes_is_413(small: tuple[Any, str], env: Env) -> None:
    app, secret = small
    data = b"description,cas\n" + b"acetone,67-64-1\n" * (100_000 // 16 + 1)
    with TestClient(app) as client:
        response = client.post(
            "/v1/screenings",
            files={"file": ("m.csv", data)},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert "100,000 bytes" in assert_refused(response, 413)


def test_fifty_megabyte_json_body_is_413(env: Env) -> None:
    line = json.dumps({"description": "acetone " + "x" * 1000, "cas": "67-64-1"})
    body = '{"lines": [' + ",".join([line] * (50 * 1024 * 1024 // len(line) + 1)) + "]}"
    assert len(body) > 50 * 1024 * 1024
    assert "max_upload_bytes" in assert_refused(env.post_json(body), 413)


def test_more_than_10000_lines_is_413_naming_the_limit(env: Env) -> None:
    body = json.dumps({"lines": [{"cas": "64-17-5"}] * 10_001})
    message = assert_refused(env.post_json(body), 413)
    assert "10001" in message and "10000" in message and "POST /v1/screenings" in message


# --- JSON that is not what the schema says ----------------------------------------------------

DEEP = 10_000


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[" * DEEP + "]" * DEEP, "nested too deeply"),
        ('{"lines": ' + "[" * DEEP + "]" * DEEP + "}", "nested too deeply"),
        ('{"lines": [{"description": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}]}", "nested"),
        ('{"lines": [{"description": "x", "line_id": ' + "9" * 5000 + "}]}", "too many digits"),
        (b'{"lines": [{"description": "\xff\xfe acetone"}]}', "not UTF-8"),
        ('{"lines": [{"description": "acetone"}', "JSON"),
        ("", "the body is empty"),
        ("null", "body"),
        ("[]", "body"),
        ('"lines"', "body"),
        ("{}", "lines: Field required"),
        ('{"lines": "x"}', "lines: Input should be a valid list"),
        ('{"lines": null}', "lines: Input should be a valid list"),
        ('{"lines": {"0": {"cas": "67-64-1"}}}', "valid list"),
        ('{"lines": [{"description": "acetone", "quantity": {"a": 1}}]}', "lines.0.quantity"),
        ('{"lines": [{"description": "acetone", "quantity": [1, 2]}]}', "lines.0.quantity"),
        ('{"lines": [{"description": 12, "cas": 67641}]}', "lines.0.description"),
        ('{"lines": [{"description": ["acetone"]}]}', "lines.0.description"),
        ('{"lines": [{"line_id": {"x": 1}, "cas": "67-64-1"}]}', "lines.0.line_id"),
        ('{"lines": [{"smiles": false}]}', "lines.0.smiles"),
        ('{"lines": [1, 2, 3]}', "lines.0"),
        ('{"lines": [{}]}', "has none of description, cas, smiles, inchi, inchikey or hs_code"),
        ('{"lines": [{"quantity": 5, "unit": "kg"}]}', "line 1"),
        ('{"lines": [{"description": "   \\u0000 "}]}', "line 1"),
    ],
    ids=lambda v: (v if isinstance(v, str) else v.decode("latin-1"))[:40],
)
def test_wrong_json_is_422_with_a_clear_message(env: Env, body: str | bytes, says: str) -> None:
    message = assert_refused(env.post_json(body), 422)
    assert says in message, message


def test_wrong_content_type_is_422(env: Env) -> None:
    response = env.client.post(
        "/v1/screen",
        content=b"description,cas\nacetone,67-64-1\n",
        headers={**env.auth, "Content-Type": "text/csv"},
    )
    assert_refused(response, 422)


def test_unknown_fields_are_ignored_and_the_line_screens(env: Env) -> None:
    body = {"lines": [{"description": "acetone", "colour": "red", "cas": "67-64-1"}], "x": 1}
    response = env.post_json(json.dumps(body))
    assert response.status_code == 200, response.text
    assert response.json()["lines"][0]["matched_key"] == "acetone"


def _screen(env: Env, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = env.post_json(json.dumps({"lines": lines}))
    assert response.status_code == 200, response.text
    out = list(response.json()["lines"])
    assert len(out) == len(lines)
    assert stored_lines(env, response.json()["screening_id"]) == out
    return out


def test_nul_bytes_and_bidi_controls_are_removed_with_a_warning(env: Env) -> None:
    out = _screen(
        env,
        [
            {"line_id": "A\u00001", "description": "acet\u0000one", "cas": "67-64-1\u0000"},
            {"description": "ace\u202etone\u200b", "cas": "\u2066108-24-7\u2069"},
            {"description": "Sodium chloride", "cas": "7647-14-5"},
        ],
    )
    assert out[0]["line_id"] == "A1" and out[0]["matched_key"] == "acetone"
    assert "NUL bytes removed from description" in out[0]["warnings"]
    assert "invisible or control characters removed from cas" in out[1]["warnings"]
    assert out[1]["matched_key"] == "acetic-anhydride"
    assert out[2]["warnings"] == []
    assert not any("\u0000" in json.dumps(line) for line in out)


def test_lone_surrogates_do_not_break_the_store(env: Env) -> None:
    out = _screen(env, [{"description": "\ud800 acetone", "cas": "67-64-1\udfff"}])
    assert out[0]["matched_key"] == "acetone"


def test_invalid_smiles_and_cas_screen_with_reasons(env: Env) -> None:
    out = _screen(
        env,
        [
            {"smiles": "C1CC("},
            {"smiles": "[Xx]"},
            {"smiles": "C" * 20_000},
            {"smiles": "c1ccccc1" * 600},
            {"cas": "108-24-8"},
            {"cas": "not-a-cas"},
            {"cas": "9" * 5_000},
            {"cas": '=HYPERLINK("http://x")'},
        ],
    )
    # nothing usable identifies a chemical on these lines: not flagged, and not clear either
    assert all((line["risk"], line["match_type"]) == ("low", "unidentified") for line in out)
    assert "RDKit cannot parse SMILES" in out[0]["reason"]
    assert "not compared" in out[2]["reason"]
    assert "check digit" in out[4]["reason"]
    assert any("is not a CAS number" in w for w in out[5]["warnings"])
    assert all(len(line["reason"]) < 300 for line in out)


def test_absurd_numbers_screen_with_warnings(env: Env) -> None:
    out = _screen(
        env,
        [
            {"description": "acetone", "quantity": "NaN"},
            {"description": "acetone", "quantity": 1e308, "unit": "parsec"},
            {"description": "acetone", "quantity": -5, "unit": "kg"},
            {"description": "acetone", "quantity": "12 furlongs"},
            {"description": "acetone", "line_id": 10**30},
            {"description": "acetone", "line_id": True},
        ],
    )
    assert all(line["matched_key"] == "acetone" for line in out)
    assert out[0]["warnings"] and out[1]["warnings"] and out[2]["warnings"]


def test_megabyte_strings_screen_within_limits(env: Env) -> None:
    out = _screen(env, [{"description": "acetone " + "x" * 2_000_000, "cas": "67-64-1"}])
    assert out[0]["matched_key"] == "acetone"
    assert any("cut from" in w for w in out[0]["warnings"])


def test_rescreen_with_a_bad_date_is_422(env: Env) -> None:
    for body in ('{"since": "yesterday"}', '{"since": 20260101}', "{}", '{"since": null}'):
        assert "since" in assert_refused(env.post_json(body, "/v1/rescreen"), 422)
