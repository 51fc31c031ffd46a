"""API manners (issue 21): Idempotency-Key, X-Request-ID, deleting a screening, page sessions
kept in the store, through the real app on a real SQLite store. Rate limits and what must
survive a restart are checked on a real server in tests/test_api_manners_live.py.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import Settings, get_settings
from precursorwatch.store import Store, create_api_key
from precursorwatch.store import idempotency as store_idempotency
from precursorwatch.store.tables import line_decision, utcnow
from precursorwatch.web import create_app
from precursorwatch.web import idempotency as web_idempotency

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LINES = [
    {"line_id": "A-1", "description": "Acetic anhydride", "cas": "108-24-7", "quantity": 400},
    {"line_id": "A-2", "description": "Sodium chloride", "cas": "7647-14-5"},
]
MANIFEST = b"line_id,description,cas\n1,acetone,67-64-1\n2,sodium chloride,7647-14-5\n"


class Env:
    """A store, keys by role and one client of the real app."""

    def __init__(self, settings: Settings, store: Store, client: TestClient) -> None:
        self.settings, self.store, self.client = settings, store, client
        self.secrets: dict[str, str] = {}

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}

    def count(self, table: str) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("manners")
    settings = get_settings(database_url=f"sqlite:///{tmp / 'm.sqlite'}", data_dir=tmp)
    store = open_ready_store(settings)
    with TestClient(create_app(settings, store), follow_redirects=False) as client:
        made = Env(settings, store, client)
        with store.session() as session:
            for who, role in (
                ("officer", "officer"),
                ("officer2", "officer"),
                ("operator", "operator"),
                ("admin", "admin"),
            ):
                _, made.secrets[who] = create_api_key(session=session, name=who, role=role)
        yield made
    store.dispose()


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return str(body["error"]["message"])


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_retried_screen_gets_the_first_answer_and_nothing_twice(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "retry-screen-1"}
    first = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    screenings, audits = env.count("screening"), env.count("audit_event")
    again = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert env.count("screening") == screenings and env.count("audit_event") == audits
    # the same header from another key is that key's own: a new screening
    other = {**env.auth("officer2"), "Idempotency-Key": "retry-screen-1"}
    theirs = env.client.post("/v1/screen", json={"lines": LINES}, headers=other)
    assert theirs.status_code == 200
    assert theirs.json()["screening_id"] != first.json()["screening_id"]
    # without the header every POST is a new screening, as before
    plain = env.client.post("/v1/screen", json={"lines": LINES}, headers=env.auth("officer"))
    assert plain.json()["screening_id"] != first.json()["screening_id"]


def test_the_same_key_with_another_body_or_path_is_a_422(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "retry-screen-2"}
    first = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert first.status_code == 200
    screenings = env.count("screening")
    changed = env.client.post("/v1/screen", json={"lines": LINES[:1]}, headers=headers)
    assert "different request" in error_of(changed, 422)
    upload = env.client.post("/v1/screenings", files={"file": ("m.csv", MANIFEST)}, headers=headers)
    assert "POST /v1/screen" in error_of(upload, 422)
    assert env.count("screening") == screenings


def test_a_retried_upload_is_the_same_screening_whatever_the_boundary(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "upload-7f3a"}
    first = env.client.post("/v1/screenings", files={"file": ("m.csv", MANIFEST)}, headers=headers)
    assert first.status_code in (201, 202), first.text
    screenings = env.count("screening")
    again = env.client.post("/v1/screenings", files={"file": ("m.csv", MANIFEST)}, headers=headers)
    assert again.status_code == first.status_code
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert env.count("screening") == screenings
    other_file = env.client.post(
        "/v1/screenings", files={"file": ("m.csv", MANIFEST + b"3,toluene,108-88-3\n")},
        headers=headers,
    )  # fmt: skip
    error_of(other_file, 422)


def test_a_retried_decision_is_recorded_once(env: Env) -> None:
    sid = env.client.post("/v1/screen", json={"lines": LINES}, headers=env.auth("officer"))
    url = f"/v1/screenings/{sid.json()['screening_id']}/lines/A-1/decision"
    headers = {**env.auth("officer"), "Idempotency-Key": "decide-A-1"}
    body = {"decision": "inspect", "comment": "seal looks tampered"}
    first = env.client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    decisions = env.count("line_decision")
    again = env.client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert env.count("line_decision") == decisions
    other = env.client.post(url, json={**body, "decision": "cleared"}, headers=headers)
    error_of(other, 422)
    assert env.count("line_decision") == decisions


def test_a_retry_while_the_first_is_answered_is_a_409_and_a_dead_claim_is_taken_over(
    env: Env,
) -> None:
    from datetime import timedelta

    from precursorwatch.store.idempotency import claim_idempotency
    from precursorwatch.store.keys import list_api_keys

    with env.store.session() as session:
        key_id = next(k.key_id for k in list_api_keys(session=session) if k.name == "officer")
        claim = {
            "session": session, "key_id": key_id, "idem_key": "in-flight",
            "request": "POST /v1/screen", "window": timedelta(days=1),
            "stale_after": timedelta(minutes=15),
        }  # fmt: skip
        assert claim_idempotency(**claim) is None  # as a first request in another worker
        running = claim_idempotency(**claim)
        assert running is not None and running.status is None
    headers = {**env.auth("officer"), "Idempotency-Key": "in-flight"}
    busy = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert "still being answered" in error_of(busy, 409)
    assert busy.headers["retry-after"] == "1"
    with env.store.engine.begin() as conn:  # its worker died long ago
        conn.execute(
            sa.text("UPDATE idempotency SET created_at = :at WHERE idem_key = 'in-flight'"),
            {"at": (utcnow() - timedelta(hours=1)).replace(tzinfo=None)},
        )
    taken = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert taken.status_code == 200 and "idempotent-replayed" not in taken.headers
    again = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert again.json() == taken.json() and again.headers["idempotent-replayed"] == "true"


def test_a_failed_first_request_keeps_nothing(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "fix-and-retry"}
    error_of(env.client.post("/v1/screen", json={"lines": []}, headers=headers), 422)
    fixed = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers


@pytest.mark.parametrize("bad", ["", "x" * 256, "two words", "caf\u00e9"])
def test_an_unusable_idempotency_key_is_a_422(env: Env, bad: str) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": bad}
    response = env.client.post(
        "/v1/screen", json={"lines": LINES}, headers={k: v.encode() for k, v in headers.items()}
    )
    assert "Idempotency-Key" in error_of(response, 422)


def test_a_large_answer_is_kept_without_its_lines_and_rebuilt(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_idempotency, "MAX_STORED_BODY", 64)
    monkeypatch.setattr(web_idempotency, "MAX_STORED_BODY", 64)
    headers = {**env.auth("operator"), "Idempotency-Key": "big-answer"}
    lines = [*LINES, {"line_id": "A-3", "description": "toluene", "quantity": 5, "unit": "l"}]
    first = env.client.post("/v1/screen", json={"lines": lines}, headers=headers)
    assert first.status_code == 200
    with env.store.engine.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT body, screening_id FROM idempotency WHERE idem_key = 'big-answer'")
        ).one()
    assert kept.screening_id == first.json()["screening_id"]
    assert len(kept.body) < 200  # the lines are not kept
    again = env.client.post("/v1/screen", json={"lines": lines}, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_idempotency_keys_are_forgotten_after_the_window(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "old-key"}
    first = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    with env.store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE idempotency SET created_at = :at WHERE idem_key = 'old-key'"),
            {"at": "2020-01-01 00:00:00.000000"},
        )
    later = env.client.post("/v1/screen", json={"lines": LINES[:1]}, headers=headers)
    assert later.status_code == 200
    assert later.json()["screening_id"] != first.json()["screening_id"]


# --- X-Request-ID ----------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed_on_answers_and_errors(env: Env) -> None:
    rid = "trace-0001.abc:XYZ"
    for response in (
        env.client.get("/healthz", headers={"X-Request-ID": rid}),
        env.client.get("/v1/lists", headers={"X-Request-ID": rid}),  # 401
        env.client.get("/v1/no-such", headers={**env.auth("officer"), "X-Request-ID": rid}),
        env.client.post(
            "/v1/screen", json={"lines": []}, headers={**env.auth("officer"), "X-Request-ID": rid}
        ),
    ):
        assert response.headers["x-request-id"] == rid, response.status_code


@pytest.mark.parametrize("given", [None, "", "a" * 129, "bad id", "<script>", "x\ty"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(env: Env, given: str | None) -> None:
    headers = {} if given is None else {"X-Request-ID": given}
    first = env.client.get("/v1/lists", headers={**env.auth("officer"), **headers})
    second = env.client.get("/v1/lists", headers={**env.auth("officer"), **headers})
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_audit_events_keep_the_request_id(env: Env) -> None:
    rid = "audit-trace-42"
    made = env.client.post(
        "/v1/screen", json={"lines": LINES}, headers={**env.auth("officer"), "X-Request-ID": rid}
    )
    assert made.status_code == 200
    with env.store.engine.connect() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM audit_event WHERE action = 'screening.saved' "
                    "ORDER BY id DESC LIMIT 1")
        ).scalar_one()  # fmt: skip
    saved = json.loads(detail) if isinstance(detail, str) else detail
    assert saved["request_id"] == rid and saved["screening_id"] == made.json()["screening_id"]


# --- DELETE /v1/screenings/{id} ---------------------------------------------------------------


def test_an_officer_deletes_a_screening_and_the_audit_trail_stays(env: Env) -> None:
    made = env.client.post("/v1/screen", json={"lines": LINES}, headers=env.auth("operator"))
    sid = made.json()["screening_id"]
    with env.store.session() as session:
        session.execute(
            sa.insert(line_decision).values(
                screening_id=sid, line_id="A-1", decision="cleared", comment="ok",
                actor="officer", actor_key_id="", at=utcnow(),
            )
        )  # fmt: skip
    refused = env.client.delete(f"/v1/screenings/{sid}", headers=env.auth("operator"))
    error_of(refused, 403)
    done = env.client.delete(
        f"/v1/screenings/{sid}", headers={**env.auth("officer"), "X-Request-ID": "del-1"}
    )
    assert done.status_code == 204 and done.content == b""
    error_of(env.client.get(f"/v1/screenings/{sid}", headers=env.auth("officer")), 404)
    error_of(env.client.get(f"/v1/screenings/{sid}", headers=env.auth("operator")), 404)
    error_of(env.client.delete(f"/v1/screenings/{sid}", headers=env.auth("admin")), 404)
    with env.store.engine.connect() as conn:
        for table in ("screening", "screening_owner", "line_decision"):
            column = "id" if table == "screening" else "screening_id"
            left = conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :s"), {"s": sid}
            ).scalar_one()
            assert left == 0, table
        for table in ("screening_block", "screening_result"):
            left = conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE screening_id = :s"), {"s": sid}
            ).scalar_one()
            assert left == 0, table
        events = conn.execute(
            sa.text("SELECT action, actor, detail FROM audit_event ORDER BY id")
        ).all()
    mine = [e for e in events if sid in str(e.detail)]
    assert mine[0].action == "screening.saved"
    deleted = [e for e in mine if e.action == "screening.deleted"]
    assert len(deleted) == 1 and deleted[0].actor == "officer"
    detail = json.loads(deleted[0].detail)
    assert detail["made_by"] == "operator" and detail["decisions"] == 1
    assert detail["request_id"] == "del-1" and detail["by_key"]["name"] == "officer"


def test_a_deleted_screening_is_not_replayed(env: Env) -> None:
    headers = {**env.auth("officer"), "Idempotency-Key": "then-deleted"}
    first = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    sid = first.json()["screening_id"]
    assert env.client.delete(f"/v1/screenings/{sid}", headers=env.auth("admin")).status_code == 204
    again = env.client.post("/v1/screen", json={"lines": LINES}, headers=headers)
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert again.json()["screening_id"] != sid


def test_delete_needs_a_key(env: Env) -> None:
    error_of(env.client.delete("/v1/screenings/0123"), 401)


# --- page sessions in the store ---------------------------------------------------------------


def sign_in(client: TestClient, secret: str) -> str:
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post("/signin", data={"key": secret, "csrf": token.group(1)})
    assert done.status_code == 303, done.text
    return str(client.cookies.get("pw_session"))


def test_a_session_outlives_the_app_and_sign_out_ends_it_everywhere(env: Env) -> None:
    with TestClient(create_app(env.settings, env.store), follow_redirects=False) as one:
        cookie = sign_in(one, env.secrets["officer"])
        assert one.get("/upload").status_code == 200
    with env.store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash, key_id FROM page_session")).all()
    assert cookie not in str(stored) and env.secrets["officer"] not in str(stored)
    # a restart (a new app on the same store) and a second worker both know the session
    with (
        TestClient(create_app(env.settings, env.store), follow_redirects=False) as two,
        TestClient(create_app(env.settings, env.store), follow_redirects=False) as three,
    ):
        two.cookies.set("pw_session", cookie)
        three.cookies.set("pw_session", cookie)
        assert two.get("/upload").status_code == 200
        assert three.get("/upload").status_code == 200
        assert two.post("/signout").status_code == 303
        gone = three.get("/upload")
        assert gone.status_code == 303 and gone.headers["location"] == "/signin"


def test_a_session_ends_after_its_idle_time(env: Env) -> None:
    with TestClient(create_app(env.settings, env.store), follow_redirects=False) as client:
        sign_in(client, env.secrets["admin"])
        assert client.get("/upload").status_code == 200
        with env.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE page_session SET seen_at = '2020-01-01 00:00:00.000000'"))
        assert client.get("/upload").status_code == 303


def test_readyz_and_empty_lines_are_covered(env: Env) -> None:
    assert env.client.get("/readyz").json() == {"status": "ready"}
    error_of(env.client.post("/v1/screen", json={"lines": []}, headers=env.auth("officer")), 422)


def test_every_table_naming_a_screening_is_cleared_by_a_delete() -> None:
    """Every table naming a screening is cleared by a delete (a new one must be added)."""
    from precursorwatch.store.tables import metadata

    naming = {
        t.name
        for t in metadata.sorted_tables
        if "screening_id" in t.c
        or any(fk.column.table.name == "screening" for fk in t.foreign_keys)
    }
    source = (
        Path(__file__).parent.parent / "src" / "precursorwatch" / "store" / "deletion.py"
    ).read_text(encoding="utf-8")
    cleared = set(re.findall(r"delete\((\w+)\)", source)) | {"idempotency", "audit_event"}
    assert naming <= cleared, naming - cleared
