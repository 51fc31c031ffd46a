"""The lean record on a real SQLite file and a real PostgreSQL server: each distinct result once,
the lines in blocks, read back exactly; pruning; the upgrade of a store of an earlier release.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from precursorwatch.models import DeclarationLine, Evidence, LineResult
from precursorwatch.serial import from_json
from precursorwatch.store import (
    Store,
    get_screening,
    iter_screening_lines,
    list_audit,
    list_screenings,
    open_store,
    prune_screenings,
    save_screening,
    screening_sizes,
    substance_history,
)
from precursorwatch.store.blocks import BLOCK_LINES
from precursorwatch.store.engine import alembic_config
from precursorwatch.store.tables import screening, screening_block, screening_result

OLD_STORE = Path(__file__).parent / "data" / "stores" / "store-ac44fb0.sqlite"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "tmp_db_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.dispose()


HIT = (
    Evidence(kind="cas", substance_key="acetic-anhydride", score=1.0,
             detail="CAS 108-24-7 is Acetic anhydride", list_codes=("EU-CAT2A", "UN-T1")),
    Evidence(kind="name", substance_key="acetic-anhydride", score=0.95, detail="synonym",
             component="Essigsäureanhydrid", share=0.99),
)  # fmt: skip


def _odd_lines() -> list[tuple[DeclarationLine, LineResult]]:
    """Lines that use every way a block keeps a line's own fields."""
    base = LineResult(
        line_id="", flagged=True, risk="high", matched_key="acetic-anhydride",
        matched_name="Acetic anhydride", matched_cas="108-24-7", lists=("EU-CAT2A", "UN-T1"),
        match_type="cas", score=1.0, reason="CAS 108-24-7 is Acetic anhydride.", evidence=HIT,
    )  # fmt: skip
    clear = LineResult(line_id="", flagged=False, risk="none", reason="No listed substance.")
    lines = [
        # a numbered line: id, row and position agree
        (
            DeclarationLine(
                row=1,
                line_id="1",
                description="Essigsäureanhydrid 99 %",
                cas="108-24-7",
                hs_code="2915.24",
                quantity=400.0,
                unit="L",
                consignee="ACME GmbH",
            ),
            base,
        ),
        # no id: the result is named by the row; a quantity sentence of its own
        (
            DeclarationLine(
                row=2,
                description="acetic anhydride",
                quantity=1200.5,
                unit="kg",
                origin="NL",
                destination="AF",
                consignor="X",
                consignee="Y",
            ),
            base,
        ),
        # an id of its own, a row that skips (a blank line before), warnings with "; " inside
        (
            DeclarationLine(
                row=5,
                line_id="A-7",
                description="water",
                unit="",
                warnings=("quantity 'x; y' is not a number", "ragged line"),
            ),
            clear,
        ),
        # the result's line id and warnings differ from the line's
        (DeclarationLine(row=6, line_id="6", description="salt", smiles="[Na+].[Cl-]"), clear),
        (DeclarationLine(row=7, line_id="", description="", quantity=0.0), clear),
    ]
    out = [
        (line, replace(result, line_id=line.line_id or str(line.row), warnings=line.warnings))
        for line, result in lines
    ]
    line, result = out[1]
    out[1] = (line, replace(result, reason=result.reason + " 1200.5 kg is over 100 L a year."))
    line, result = out[3]
    out[3] = (line, replace(result, line_id="renamed", warnings=("names no chemical",)))
    return out


def test_every_kind_of_line_reads_back_exactly(store: Store) -> None:
    lines = _odd_lines()
    with store.session() as session:
        sid = save_screening(session=session, actor="t", input_name="odd.csv", input_hash="h",
                             list_versions={}, lines=lines)  # fmt: skip
    with store.session(write=False) as session:
        assert list(get_screening(session=session, screening_id=sid).lines) == lines
        results = session.execute(sa.select(screening_result)).all()
        assert len(results) == 2  # the hit (its sentence kept by its line) and the clear line
        (size,) = screening_sizes(session=session)
    assert (size.lines_stored, size.results_stored) == (5, 2) and size.bytes > 0


def _many(n: int) -> list[tuple[DeclarationLine, LineResult]]:
    out = []
    for i in range(n):
        hit = i % 10 == 0
        line = DeclarationLine(
            row=i + 1, line_id=str(i + 1), quantity=float(i), unit="kg",
            description="Essigsäureanhydrid" if hit else f"goods {i % 50}",
            consignee=f"Party {i % 7}",
        )  # fmt: skip
        result = LineResult(
            line_id=str(i + 1), flagged=hit, risk="high" if hit else "none",
            matched_key="acetic-anhydride" if hit else "", evidence=HIT if hit else (),
            reason="listed" if hit else "No listed substance found.",
        )  # fmt: skip
        out.append((line, result))
    return out


def test_a_result_is_stored_once_and_blocks_split_big_screenings(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("precursorwatch.store.screenings.BLOCK_LINES", 4_000)
    lines = _many(10_000)
    t0 = datetime.now(UTC) - timedelta(seconds=1)
    with store.session() as session:
        sid = save_screening(session=session, actor="t", input_name="m.csv", input_hash="h",
                             list_versions={}, lines=lines)  # fmt: skip
    with store.session(write=False) as session:
        blocks = session.execute(
            sa.select(screening_block.c.block_no, screening_block.c.first_position).order_by(
                screening_block.c.block_no
            )
        ).all()
        assert [tuple(b) for b in blocks] == [(0, 0), (1, 4_000), (2, 8_000)]
        assert list(get_screening(session=session, screening_id=sid).lines) == lines
        streamed = list(iter_screening_lines(session=session, since=t0))
        assert [(ln, r) for _, ln, r in streamed] == lines
        history = substance_history(session=session, key="acetic-anhydride")
        assert [h.line_id for h in history] == [str(i + 1) for i in range(0, 10_000, 10)]
        assert history[1].consignee == "Party 3" and history[1].risk == "high"
        (size,) = screening_sizes(session=session)
    assert size.results_stored == 2 and size.lines_stored == 10_000
    assert size.bytes < 10_000 * 20, size.bytes  # a few bytes a line, not its result
    assert BLOCK_LINES == 200_000


def test_prune_keeps_the_summary_and_the_audit_trail(store: Store) -> None:
    lines = _many(30)
    with store.session() as session:
        old = save_screening(session=session, actor="a", input_name="old.csv", input_hash="h",
                             list_versions={"UN-T1": "v1:x"}, lines=lines)  # fmt: skip
    with store.session() as session:
        session.execute(sa.update(screening).where(screening.c.id == old)
                        .values(created_at=datetime.now(UTC) - timedelta(days=400)))  # fmt: skip
        new = save_screening(session=session, actor="b", input_name="new.csv", input_hash="h",
                             list_versions={}, lines=lines[:3])  # fmt: skip
    cutoff = datetime.now(UTC) - timedelta(days=365)
    with store.session() as session:
        done = prune_screenings(session=session, before=cutoff, actor="admin")
    assert done.screenings == (old,) and done.lines == 30 and done.results == 2
    assert done.bytes > 0
    with store.session() as session:
        assert prune_screenings(session=session, before=cutoff, actor="admin").screenings == ()
        kept = get_screening(session=session, screening_id=old)
        assert kept.lines == () and kept.summary.pruned_at is not None
        assert (kept.summary.lines, kept.summary.flagged) == (30, 3)
        assert kept.summary.list_versions == {"UN-T1": "v1:x"}
        assert len(get_screening(session=session, screening_id=new).lines) == 3
        assert [s.screening_id for s in list_screenings(session=session)] == [new, old]
        history = substance_history(session=session, key="acetic-anhydride")
        assert {h.screening_id for h in history} == {new}
        assert {s for s, _, _ in iter_screening_lines(session=session, since=None)} == {new}
        sizes = {s.summary.screening_id: s for s in screening_sizes(session=session)}
        assert (sizes[old].lines_stored, sizes[old].bytes) == (0, 0)
        events = list_audit(session=session, limit=5)
        pruned = [e for e in events if e.action == "screening.pruned"]
        assert len(pruned) == 1 and pruned[0].actor == "admin"
        assert pruned[0].detail["screenings"] == [old] and pruned[0].detail["lines"] == 30
        saved = [e for e in list_audit(session=session, limit=50) if e.action == "screening.saved"]
        assert {e.detail["screening_id"] for e in saved} == {old, new}
    with store.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM screening_result WHERE screening_id = "
                                    ":i"), {"i": old}).scalar()  # fmt: skip
    assert left == 0


def _old_pairs(path: Path) -> tuple[str, list[tuple[DeclarationLine, LineResult]]]:
    """What the store of the earlier release holds, read with that release's shapes."""
    conn = sqlite3.connect(path)
    try:
        (sid,) = conn.execute("SELECT id FROM screening").fetchone()
        rows = conn.execute(
            "SELECT row, line_id, description, cas, hs_code, quantity, unit, smiles, origin, "
            "destination, consignor, consignee, warnings, result FROM screening_line "
            "ORDER BY position"
        ).fetchall()
    finally:
        conn.close()
    pairs = []
    for r in rows:
        line = DeclarationLine(*r[:12], warnings=tuple(json.loads(r[12])))
        pairs.append((line, from_json(LineResult, json.loads(r[13]))))
    return sid, pairs


def test_a_store_of_an_earlier_release_upgrades_in_place_and_reads_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_STORE, path)
    sid, before = _old_pairs(path)
    assert len(before) == 5
    store = open_store(f"sqlite:///{path}")
    try:
        with store.session(write=False) as session:
            record = get_screening(session=session, screening_id=sid)
            assert list(record.lines) == before
            history = substance_history(session=session, key="acetone")
            assert [(h.line_id, h.consignee, h.risk) for h in history] == [
                ("2", "Paint Works GmbH", "high")
            ]
            names = sa.inspect(store.engine).get_table_names()
        assert "screening_line" not in names
        # and back: the downgrade writes the lines as the earlier release kept them
        cfg = alembic_config(store.engine)
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
    finally:
        store.dispose()
    assert _old_pairs(path) == (sid, before)


@pytest.mark.postgres
def test_old_lines_on_postgresql_move_into_the_lean_record(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        _, before = _old_pairs(OLD_STORE)
        src = sqlite3.connect(OLD_STORE)
        try:
            src.row_factory = sqlite3.Row
            screening_row = dict(src.execute("SELECT * FROM screening").fetchone())
            line_rows = [dict(r) for r in src.execute("SELECT * FROM screening_line")]
        finally:
            src.close()
        meta = sa.MetaData()
        old_screening = sa.Table("screening", meta, autoload_with=engine)
        old_lines = sa.Table("screening_line", meta, autoload_with=engine)
        for key in ("list_versions", "by_risk"):
            screening_row[key] = json.loads(screening_row[key])
        screening_row["complete"] = bool(screening_row["complete"])
        screening_row["created_at"] = datetime.fromisoformat(screening_row["created_at"])
        screening_row["created_at"] = screening_row["created_at"].replace(tzinfo=UTC)
        for row in line_rows:
            row["warnings"], row["result"] = json.loads(row["warnings"]), json.loads(row["result"])
            row["flagged"] = bool(row["flagged"])
        with engine.begin() as conn:
            conn.execute(sa.insert(old_screening), [screening_row])
            conn.execute(sa.insert(old_lines), line_rows)
    finally:
        engine.dispose()
    store = open_store(postgres_url)
    try:
        with store.session(write=False) as session:
            record = get_screening(session=session, screening_id=screening_row["id"])
        assert list(record.lines) == before
    finally:
        store.dispose()
