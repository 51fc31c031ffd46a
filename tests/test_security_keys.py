"""Finding 4 of issue 19: screenings are authorised by key id, key names are unique, and the
audit records the key's id and name.

The review: an operator key named like an officer's read that officer's screenings, and the
audit could not tell the two apart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from _live_server import Live, live_server
from precursorwatch.errors import InputError
from precursorwatch.store import create_api_key, open_store
from precursorwatch.store.engine import alembic_config, make_engine


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "officer": ("officer", "border-officer"),
        "operator": ("operator", "shipper-a"),
        "operator2": ("operator", "shipper-b"),
    }
    with live_server(tmp_path_factory.mktemp("keys"), keys) as s:
        yield s


def test_a_duplicate_key_name_is_a_clear_error(live: Live) -> None:
    for name in ("border-officer", "Border-Officer", "  border-officer "):
        done = live.make_key("dupe", "operator", name)
        assert done.returncode == 2, done.stdout
        assert "exists already" in done.stderr and "choose another --name" in done.stderr
        assert "Traceback" not in done.stderr
    assert "dupe" not in live.secrets


def test_duplicate_names_are_refused_by_the_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.sqlite'}")
    with store.session() as session:
        create_api_key(session=session, name="gate-7", role="officer")
    with pytest.raises(InputError, match="exists already"), store.session() as session:
        create_api_key(session=session, name="GATE-7", role="operator")
    store.dispose()


def test_operators_read_only_their_own_keys_screenings(live: Live) -> None:
    mine = live.screen("operator", [{"description": "acetone"}]).json()["screening_id"]
    officers = live.screen("officer", [{"description": "acetone"}]).json()["screening_id"]
    for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
        assert live.get("operator", f"/v1/screenings/{mine}{suffix}").status_code == 200
        assert live.get("operator2", f"/v1/screenings/{mine}{suffix}").status_code == 404
        assert live.get("operator", f"/v1/screenings/{officers}{suffix}").status_code == 404
        assert live.get("officer", f"/v1/screenings/{mine}{suffix}").status_code == 200


def test_the_audit_records_the_key_id_and_name(live: Live) -> None:
    mark = live.last_audit_id()
    sid = live.screen("operator", [{"description": "acetone"}]).json()["screening_id"]
    up = live.upload("operator2", "m.csv", b"description\nacetone\n")
    assert up.status_code == 201
    events = {e[2]: e for e in live.audit(mark) if e[2] == "screening.saved"}
    saved = [e for e in live.audit(mark) if e[2] == "screening.saved"]
    assert len(saved) == 2 and events
    by_sid = {json.loads(e[3])["screening_id"]: e for e in saved}
    first, second = by_sid[sid], by_sid[up.json()["screening_id"]]
    assert first[1] == "shipper-a" and first[4] == live.key_ids["operator"]
    assert json.loads(first[3])["by_key"] == {"id": live.key_ids["operator"], "name": "shipper-a"}
    assert second[1] == "shipper-b" and second[4] == live.key_ids["operator2"]  # worker process


def test_the_migration_gives_old_screenings_their_key_and_makes_names_unique(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_lean_record")
    engine.dispose()
    with sqlite3.connect(path) as db:
        for kid, name, at in (
            ("a" * 32, "officer-1", "2026-01-01 00:00:00"),
            ("b" * 32, "officer-1", "2026-02-01 00:00:00"),  # the review's look-alike
            ("c" * 32, "shipper", "2026-01-01 00:00:00"),
        ):
            db.execute(
                "INSERT INTO api_key (id, name, role, prefix, key_hash, created_at) "
                "VALUES (?, ?, 'operator', 'x', ?, ?)",
                (kid, name, kid, at),
            )
        for sid, actor in (("s1", "officer-1"), ("s2", "shipper")):
            db.execute(
                "INSERT INTO screening (id, created_at, actor, input_name, input_hash, "
                "list_versions, line_count, flagged_count, by_risk, complete) "
                "VALUES (?, '2026-03-01 00:00:00', ?, 'm.csv', 'h', '{}', 0, 0, '{}', 1)",
                (sid, actor),
            )
    store = open_store(f"sqlite:///{path}")  # migrates to head
    with store.engine.connect() as conn:
        names = dict(conn.execute(sa.text("SELECT id, name FROM api_key")).all())
        owners = dict(
            conn.execute(sa.text("SELECT screening_id, key_id FROM screening_owner")).all()
        )
    store.dispose()
    assert names["a" * 32] == "officer-1" and names["b" * 32] == "officer-1 #bbbbbbbb"
    assert owners == {"s2": "c" * 32}  # an ambiguous name gives no owner: officers only
