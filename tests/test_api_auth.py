"""Keys and roles through the real app: 401, 403, and confidential lists hidden from operators."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key, revoke_api_key
from precursorwatch.web import create_app
from precursorwatch.web.visibility import REFER

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data" / "api"


class Env:
    """A client of the real app and a key of each role."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.sqlite'}"
    settings = get_settings(database_url=url)
    store = open_ready_store(settings)
    keys = {}
    with store.session() as session:
        for role in ("officer", "operator", "admin"):
            _, keys[role] = create_api_key(session=session, name=f"{role}-1", role=role)
        _, keys["revoked"] = create_api_key(session=session, name="gone", role="officer")
        revoke_api_key(session=session, key_id_or_prefix=keys["revoked"])
    with TestClient(create_app(settings, store)) as client:
        env = Env(client, keys)
        with (DATA / "conf-t.csv").open("rb") as fh:
            response = client.post(
                "/v1/lists",
                files={"file": ("conf-t.csv", fh, "text/csv")},
                data={"confidential": "true"},
                headers=env.auth("admin"),
            )
        assert response.status_code == 201, response.text
        assert response.json()["code"] == "CONF-T"
        yield env
    store.dispose()


def _status_code(response: object) -> tuple[int, str]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["error"]["code"]  # type: ignore[attr-defined]


def test_missing_bad_and_revoked_keys_are_401(env: Env) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer pw_not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        env.auth("revoked"),
    ):
        response = env.client.post(
            "/v1/screen", json={"lines": [{"cas": "64-17-5"}]}, headers=headers
        )
        assert _status_code(response) == (401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_role_is_403(env: Env) -> None:
    for role in ("operator", "officer"):
        with (DATA / "firm-watch.csv").open("rb") as fh:
            response = env.client.post(
                "/v1/lists", files={"file": ("firm-watch.csv", fh)}, headers=env.auth(role)
            )
        assert _status_code(response) == (403, "forbidden")
    response = env.client.post(
        "/v1/rescreen", json={"since": "2026-01-01"}, headers=env.auth("operator")
    )
    assert _status_code(response) == (403, "forbidden")


def test_invalid_list_file_is_refused_whole(env: Env) -> None:
    response = env.client.post(
        "/v1/lists",
        files={"file": ("broken.csv", b"key,name,cas\nx,X,50-00-1\n")},
        headers=env.auth("admin"),
    )
    assert response.status_code == 422
    assert "broken.csv" in response.json()["error"]["message"]
    codes = {x["code"] for x in env.client.get("/v1/lists", headers=env.auth("admin")).json()}
    assert "BROKEN" not in codes


def test_confidential_list_hidden_from_operator(env: Env) -> None:
    seen = {x["code"] for x in env.client.get("/v1/lists", headers=env.auth("officer")).json()}
    assert "CONF-T" in seen
    hidden = env.client.get("/v1/lists", headers=env.auth("operator"))
    assert "CONF-T" not in hidden.text
    assert _status_code(env.client.get("/v1/lists/CONF-T", headers=env.auth("operator"))) == (
        404,
        "not_found",
    )
    missing = env.client.get("/v1/lists/NO-SUCH", headers=env.auth("operator")).json()
    hidden_one = env.client.get("/v1/lists/CONF-T", headers=env.auth("operator")).json()
    assert hidden_one["error"]["message"].replace("CONF-T", "X") == missing["error"][
        "message"
    ].replace("NO-SUCH", "X")
    for path in ("/v1/substances/theobromine", "/v1/substances/theobromine/depiction.svg"):
        assert env.client.get(path, headers=env.auth("operator")).status_code == 404
        assert env.client.get(path, headers=env.auth("officer")).status_code == 200


def test_operator_hit_on_confidential_list_is_referred(env: Env) -> None:
    lines = {"lines": [{"line_id": "T1", "description": "Theobromine", "cas": "83-67-0"}]}
    officer = env.client.post("/v1/screen", json=lines, headers=env.auth("officer")).json()
    assert officer["lines"][0]["lists"] == ["CONF-T"]
    assert officer["lines"][0]["matched_key"] == "theobromine"
    response = env.client.post("/v1/screen", json=lines, headers=env.auth("operator"))
    line = response.json()["lines"][0]
    assert line["risk"] == officer["lines"][0]["risk"] and line["flagged"] is True
    assert line["matched_name"] == REFER and line["lists"] == [] and line["evidence"] == []
    assert "competent authority" in line["reason"]
    sid = response.json()["screening_id"]
    for suffix in ("", "/report.csv", "/report.html"):
        got = env.client.get(f"/v1/screenings/{sid}{suffix}", headers=env.auth("operator"))
        assert got.status_code == 200
        for secret in ("CONF-T", "theobromine", "Theobromine (", "83-67-0,"):
            assert secret not in got.text, (suffix, secret)
    # an operator cannot read an officer's screening (nor learn it exists)
    other = env.client.get(
        f"/v1/screenings/{officer['screening_id']}", headers=env.auth("operator")
    )
    assert other.status_code == 404
