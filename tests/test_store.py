"""The store on a real SQLite file and a real PostgreSQL server: the same tests on both."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from precursorwatch.errors import InputError, ListFileError, QueryError, StoreError
from precursorwatch.models import (
    DeclarationLine,
    Evidence,
    LineResult,
    ListDef,
    ListEntry,
    OtherCas,
    Substance,
    Threshold,
)
from precursorwatch.store import (
    Store,
    authenticate,
    cache_get_many,
    cache_put_many,
    create_api_key,
    current_watchlist,
    find_substances,
    get_list,
    get_screening,
    get_substance,
    import_lists,
    iter_screening_lines,
    list_api_keys,
    list_audit,
    list_screenings,
    list_summaries,
    list_versions,
    make_engine,
    migrate,
    open_store,
    record_audit,
    revoke_api_key,
    save_screening,
    store_is_empty,
    substance_history,
)
from precursorwatch.store.engine import SQLITE_PAGE_BYTES, alembic_config
from precursorwatch.store.tables import metadata, resolver_cache, screening

# --- real list facts (../shared/reference/substances.csv) -----------------------------------

ACETIC_ANHYDRIDE = Substance(
    key="acetic-anhydride",
    name="Acetic anhydride",
    cas="108-24-7",
    smiles="CC(=O)OC(=O)C",
    inchikey="WFDIJRYMOXRFFG-UHFFFAOYSA-N",
    names={"en": ("acetic anhydride", "ethanoic anhydride", "acetyl oxide"),
           "de": ("Essigsäureanhydrid",), "fr": ("anhydride acétique",)},
    hs_codes=("291524",),
    density_kg_per_l=1.08,
    sources=("U2", "E10", "S3"),
)  # fmt: skip
EPHEDRINE = Substance(
    key="ephedrine",
    name="Ephedrine",
    cas="299-42-3",
    other_cas=(OtherCas(cas="50-98-6", form="hydrochloride"),),
    smiles="C[C@@H]([C@@H](C1=CC=CC=C1)O)NC",
    inchikey="KWGRBVOPPLSCSI-WPRPVWTQSA-N",
    names={"en": ("ephedrine", "(-)-ephedrine")},
    hs_codes=("293941",),
)
PERMANGANATE = Substance(
    key="potassium-permanganate",
    name="Potassium permanganate",
    cas="7722-64-7",
    names={"en": ("potassium permanganate",)},
    abbreviations=("KMnO4",),
    hs_codes=("284161",),
)
SUBSTANCES = {s.key: s for s in (ACETIC_ANHYDRIDE, EPHEDRINE, PERMANGANATE)}

UN_T1 = ListDef(
    code="UN-T1",
    title="1988 UN Convention, Table I",
    legal_basis="Art. 12, 1988 Convention",
    effective_date="2001-01-01",
    entries=(
        ListEntry("UN-T1", "acetic-anhydride", category="I", covers=("salts",)),
        ListEntry("UN-T1", "ephedrine", category="I", covers=("salts", "stereoisomers")),
    ),
)
EU_2A = ListDef(
    code="EU-CAT2A",
    title="EU category 2A",
    effective_date="2005-08-18",
    entries=(
        ListEntry("EU-CAT2A", "acetic-anhydride", category="2A",
                  thresholds=(Threshold(quantity=100.0, unit="L", per="year"),)),
    ),
)  # fmt: skip
FIRM = ListDef(code="FIRM-1", title="Own watch list", confidential=True,
               entries=(ListEntry("FIRM-1", "potassium-permanganate"),))  # fmt: skip


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


def _import(store: Store, *lists: ListDef, substances: dict[str, Substance] = SUBSTANCES):
    with store.session() as session:
        return import_lists(
            session=session, lists=list(lists), substances=substances, source_file="t.yaml"
        )


def _all_rows_text(store: Store) -> str:
    """Every value of every table, as one string (to look for things that must not be)."""
    parts = []
    with store.session(write=False) as session:
        for table in metadata.sorted_tables:
            for row in session.execute(sa.select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


# --- schema -------------------------------------------------------------------------------


def test_migrate_twice_is_a_noop_and_matches_the_tables(store: Store) -> None:
    before = set(sa.inspect(store.engine).get_table_names())
    migrate(store.engine)
    again = open_store(store.url)
    again.dispose()
    assert set(sa.inspect(store.engine).get_table_names()) == before
    assert {t.name for t in metadata.sorted_tables} | {"alembic_version"} == before
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() \
            == heads  # fmt: skip
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_fresh_store_is_empty(store: Store) -> None:
    with store.session(write=False) as session:
        assert store_is_empty(session=session)
        wl = current_watchlist(session=session)
        assert dict(wl.lists) == {} and dict(wl.substances) == {}
        assert list_summaries(session=session) == []


# --- lists ----------------------------------------------------------------------------------


def test_import_then_identical_then_changed(store: Store) -> None:
    first = _import(store, UN_T1, EU_2A)
    assert [(o.code, o.status, o.version) for o in first] == [
        ("UN-T1", "new", 1), ("EU-CAT2A", "new", 1)
    ]  # fmt: skip
    assert all(len(o.content_hash) == 64 for o in first)

    same = _import(store, UN_T1, EU_2A)
    assert [(o.status, o.version, o.content_hash) for o in same] == [
        ("unchanged", 1, first[0].content_hash), ("unchanged", 1, first[1].content_hash)
    ]  # fmt: skip

    changed_t1 = dataclasses.replace(
        UN_T1, entries=(*UN_T1.entries, ListEntry("UN-T1", "potassium-permanganate", "I"))
    )
    second = _import(store, changed_t1, EU_2A)
    assert [(o.status, o.version) for o in second] == [("updated", 2), ("unchanged", 1)]

    with store.session(write=False) as session:
        old = get_list(session=session, code="UN-T1", version=1)
        assert old == dataclasses.replace(UN_T1, version=1, content_hash=first[0].content_hash)
        current = get_list(session=session, code="un-t1")
        assert current == dataclasses.replace(
            changed_t1, version=2, content_hash=second[0].content_hash
        )
        versions = list_versions(session=session, code="UN-T1")
        assert [(v.version, v.is_current, v.entries) for v in versions] == [
            (1, False, 2), (2, True, 3)
        ]  # fmt: skip
        summaries = {s.code: s for s in list_summaries(session=session)}
        assert summaries["UN-T1"].version == 2 and summaries["UN-T1"].substances == 3
        assert summaries["EU-CAT2A"].effective_date == "2005-08-18"
        assert summaries["EU-CAT2A"].imported_at.tzinfo is not None
        wl = current_watchlist(session=session)
        assert wl.lists["UN-T1"] == current
        assert wl.substances["ephedrine"] == EPHEDRINE
        assert wl.list_codes_for("acetic-anhydride") == ("EU-CAT2A", "UN-T1")
        assert wl.lists["EU-CAT2A"].entries[0].thresholds == (Threshold(100.0, "L", "year"),)
        actions = [e.action for e in list_audit(session=session)]
        assert actions == ["list.updated", "list.imported", "list.imported"]
        with pytest.raises(QueryError, match="NO-SUCH"):
            get_list(session=session, code="NO-SUCH")
        with pytest.raises(QueryError, match="version 7"):
            get_list(session=session, code="UN-T1", version=7)
        with pytest.raises(QueryError):
            list_versions(session=session, code="NO-SUCH")


def test_old_version_keeps_the_substance_as_it_was(store: Store) -> None:
    _import(store, UN_T1)
    renamed = dataclasses.replace(ACETIC_ANHYDRIDE, notes="corrected notes")
    out = _import(store, UN_T1, substances={**SUBSTANCES, "acetic-anhydride": renamed})
    assert (out[0].status, out[0].version) == ("updated", 2)
    with store.session(write=False) as session:
        assert get_substance(session=session, key="acetic-anhydride") == renamed
        assert current_watchlist(session=session).substances["acetic-anhydride"] == renamed
    with store.engine.connect() as conn:
        payload = conn.execute(
            sa.text("SELECT payload FROM list_version WHERE version = 1")
        ).scalar_one()
    payload = payload if isinstance(payload, dict) else __import__("json").loads(payload)
    assert payload["substances"]["acetic-anhydride"]["notes"] == ""


def test_confidential_flag_is_kept(store: Store) -> None:
    _import(store, FIRM)
    with store.session(write=False) as session:
        assert current_watchlist(session=session).lists["FIRM-1"].confidential is True
        assert list_summaries(session=session)[0].confidential is True


def test_failure_in_the_middle_of_an_import_changes_nothing(store: Store) -> None:
    _import(store, EU_2A)
    broken = ListDef(code="US-DEA-L1", title="DEA List I",
                     entries=(ListEntry("US-DEA-L1", "no-such-substance"),))  # fmt: skip
    before = _all_rows_text(store)
    with pytest.raises(ListFileError, match="no-such-substance"):
        _import(store, UN_T1, FIRM, broken)
    assert _all_rows_text(store) == before
    # Even a caller that catches the error and commits keeps nothing of the failed call.
    with store.session() as session:
        with pytest.raises(ListFileError):
            import_lists(session=session, lists=[UN_T1, broken], substances=SUBSTANCES,
                         source_file="t.yaml")  # fmt: skip
        record_audit(session=session, actor="t", action="test.after", detail={})
    with store.session(write=False) as session:
        assert [s.code for s in list_summaries(session=session)] == ["EU-CAT2A"]
        with pytest.raises(QueryError):
            get_substance(session=session, key="ephedrine")
        assert list_audit(session=session, limit=1)[0].action == "test.after"


def test_find_substances(store: Store) -> None:
    _import(store, UN_T1, FIRM)
    with store.session(write=False) as session:

        def keys(q: str) -> list[str]:
            return [s.key for s in find_substances(session=session, query=q)]

        assert keys("ephedrine") == ["ephedrine"]  # key, and name
        assert keys("108-24-7") == ["acetic-anhydride"]
        assert keys("50-98-6") == ["ephedrine"]  # the hydrochloride's CAS
        assert keys("  ESSIGSÄUREANHYDRID ") == ["acetic-anhydride"]
        assert keys("kmno4") == ["potassium-permanganate"]
        assert keys("potassium") == ["potassium-permanganate"]  # prefix
        assert keys("ac") == ["acetic-anhydride"]
        assert keys("nothing like it") == [] and keys("") == [] and keys("%") == []
        assert find_substances(session=session, query="108-24-7") == [ACETIC_ANHYDRIDE]
        assert get_substance(session=session, key="ephedrine") == EPHEDRINE
        with pytest.raises(QueryError, match="no-such"):
            get_substance(session=session, key="no-such")


# --- screenings -----------------------------------------------------------------------------


def _lines(n: int) -> list[tuple[DeclarationLine, LineResult]]:
    out = []
    for i in range(n):
        hit = i % 3 == 0
        line = DeclarationLine(
            row=i + 1, line_id=f"L{i}", description="ethanoic anhydride 99 %, 200 L drums",
            cas="108-24-7" if hit else "", hs_code="291524", quantity=200.5 + i if i % 2 else None,
            unit="L", origin="NL", destination="AF", consignee=f"Consignee {i % 7}",
            warnings=("quantity without unit",) if i == 5 else (),
        )  # fmt: skip
        evidence = (
            Evidence(kind="cas", substance_key="acetic-anhydride", score=1.0,
                     detail="CAS 108-24-7 is listed", list_codes=("EU-CAT2A", "UN-T1")),
            Evidence(kind="name", substance_key="acetic-anhydride", score=0.95,
                     detail="synonym", component="ethanoic anhydride", share=0.99),
        ) if hit else ()  # fmt: skip
        result = LineResult(
            line_id=f"L{i}", flagged=hit, risk="high" if hit else "none",
            matched_key="acetic-anhydride" if hit else "", matched_name="Acetic anhydride" if hit
            else "", matched_cas="108-24-7" if hit else "", lists=("EU-CAT2A", "UN-T1") if hit
            else (), match_type="cas" if hit else "", score=1.0 if hit else 0.0,
            reason="CAS 108-24-7 is acetic anhydride (UN-T1)." if hit else "", evidence=evidence,
        )  # fmt: skip
        out.append((line, result))
    return out


def test_screening_round_trip_and_history(store: Store) -> None:
    lines = _lines(12)
    t0 = datetime.now(UTC) - timedelta(seconds=1)
    with store.session() as session:
        sid = save_screening(session=session, actor="officer-a", input_name="m.csv",
                             input_hash="ab" * 32, list_versions={"UN-T1": "v1:0123"},
                             lines=lines)  # fmt: skip
    with store.session() as session:
        sid2 = save_screening(session=session, actor="officer-b", input_name="n.csv",
                              input_hash="cd" * 32, list_versions={}, lines=lines[:2])  # fmt: skip
    assert len(sid) == 32 and int(sid, 16) >= 0 and sid != sid2
    with store.session(write=False) as session:
        rec = get_screening(session=session, screening_id=sid)
        assert rec.screening_id == sid
        assert list(rec.lines) == lines
        assert rec.summary.lines == 12 and rec.summary.flagged == 4
        assert dict(rec.summary.by_risk) == {"high": 4, "medium": 0, "low": 0, "none": 8}
        assert rec.summary.list_versions == {"UN-T1": "v1:0123"}
        assert rec.summary.created_at >= t0 and rec.summary.created_at.tzinfo is not None
        assert [s.screening_id for s in list_screenings(session=session)] == [sid2, sid]
        assert list_screenings(session=session, limit=1)[0].screening_id == sid2
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert list_screenings(session=session, since=later) == []
        streamed = list(iter_screening_lines(session=session, since=t0))
        assert [(s, ln, r) for s, ln, r in streamed] == (
            [(sid, ln, r) for ln, r in lines] + [(sid2, ln, r) for ln, r in lines[:2]]
        )
        assert list(iter_screening_lines(session=session, since=later)) == []
        history = substance_history(session=session, key="acetic-anhydride")
        assert [(h.screening_id, h.line_id, h.actor) for h in history] == [
            (sid2, "L0", "officer-b"), (sid, "L0", "officer-a"), (sid, "L3", "officer-a"),
            (sid, "L6", "officer-a"), (sid, "L9", "officer-a"),
        ]  # fmt: skip
        assert history[0].destination == "AF" and history[0].consignee == "Consignee 0"
        assert history[0].risk == "high"
        assert substance_history(session=session, key="ephedrine") == []
        assert list_audit(session=session, limit=1)[0].detail["screening_id"] == sid2
        with pytest.raises(QueryError, match="no screening"):
            get_screening(session=session, screening_id="0" * 32)


def test_an_incomplete_screening_is_invisible(store: Store) -> None:
    with store.session() as session:
        session.execute(sa.insert(screening).values(
            id="f" * 32, created_at=datetime.now(UTC), actor="x", input_name="x",
            input_hash="", list_versions={}, line_count=1, flagged_count=0, by_risk={},
            complete=False,
        ))  # fmt: skip
    with store.session(write=False) as session:
        assert list_screenings(session=session) == []
        with pytest.raises(QueryError):
            get_screening(session=session, screening_id="f" * 32)


def test_ten_thousand_lines_are_saved_whole(store: Store) -> None:
    # Speed is measured in bench/, not asserted here: these machines are noisy.
    lines = _lines(10_000)
    with store.session() as session:
        sid = save_screening(session=session, actor="bulk", input_name="big.csv",
                             input_hash="", list_versions={}, lines=lines)  # fmt: skip
    with store.session(write=False) as session:
        rec = get_screening(session=session, screening_id=sid)
    assert rec.lines[9_999] == lines[9_999] and len(rec.lines) == 10_000


# --- API keys and audit ---------------------------------------------------------------------


def test_api_keys(store: Store) -> None:
    with store.session() as session:
        info, secret = create_api_key(session=session, name="Desk 4", role="officer")
        admin, admin_secret = create_api_key(session=session, name="ops", role="admin")
        with pytest.raises(InputError, match="role 'boss'"):
            create_api_key(session=session, name="x", role="boss")
    assert secret.startswith("pw_") and len(secret) > 40
    assert info.prefix == secret[3:11] and len(info.prefix) == 8
    text = _all_rows_text(store)
    assert secret not in text and admin_secret not in text and secret[3:] not in text
    with store.session(write=False) as session:
        found = authenticate(session=session, secret=secret)
        assert found is not None and found.key_id == info.key_id and found.role == "officer"
        assert authenticate(session=session, secret=secret + "x") is None
        assert authenticate(session=session, secret="") is None
        assert [k.name for k in list_api_keys(session=session)] == ["Desk 4", "ops"]
    with store.session() as session:
        revoked = revoke_api_key(session=session, key_id_or_prefix="pw_" + info.prefix)
        assert revoked.revoked and revoked.revoked_at is not None
        with pytest.raises(QueryError):
            revoke_api_key(session=session, key_id_or_prefix="nothing1")
    with store.session() as session:
        assert authenticate(session=session, secret=secret) is None
        assert authenticate(session=session, secret=admin_secret) is not None
        assert revoke_api_key(session=session, key_id_or_prefix=admin.key_id).revoked
        assert authenticate(session=session, secret=admin_secret) is None
        actions = [e.action for e in list_audit(session=session)]
        assert actions[:2] == ["api_key.revoked", "api_key.revoked"]


def test_audit_is_append_only_in_the_database(store: Store) -> None:
    with store.session() as session:
        record_audit(session=session, actor="alice", action="test.one", detail={"n": 1})
        record_audit(session=session, actor="bob", action="test.two", detail={"t": ("a", "b")})
    for statement in ("UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"):
        with pytest.raises(StoreError, match="append-only"), store.session() as session:
            session.execute(sa.text(statement))
    with store.session(write=False) as session:
        events = list_audit(session=session)
        assert [(e.actor, e.action, dict(e.detail)) for e in events] == [
            ("bob", "test.two", {"t": ["a", "b"]}), ("alice", "test.one", {"n": 1})
        ]  # fmt: skip
        assert events[0].at.tzinfo is not None
        assert list_audit(session=session, since=datetime.now(UTC) + timedelta(minutes=1)) == []


# --- resolver cache -------------------------------------------------------------------------


def test_cache_round_trip_of_5000_keys(store: Store) -> None:
    values = {f"name {i}": {"smiles": "C" * (i % 5 + 1), "source": "opsin", "i": i}
              for i in range(5_000)}  # fmt: skip
    with store.session() as session:
        cache_put_many(session=session, resolver_version="r1", values=values)
    with store.session() as session:
        assert cache_get_many(session=session, resolver_version="r1", keys=list(values)) == values
        assert cache_get_many(session=session, resolver_version="r2", keys=list(values)) == {}
        cache_put_many(session=session, resolver_version="r1",
                       values={"name 7": {"smiles": ""}, "new": {"x": None}})  # fmt: skip
    with store.session(write=False) as session:
        got = cache_get_many(session=session, resolver_version="r1",
                             keys=["name 7", "new", "absent", "name 8"])  # fmt: skip
    assert got == {"name 7": {"smiles": ""}, "new": {"x": None}, "name 8": values["name 8"]}


def test_json_columns_read_what_json_dumps_wrote_and_the_cache_writes_compactly(
    store: Store,
) -> None:
    """The cache's values go in as compact JSON text (orjson) and come back equal; on SQLite,
    whose JSON is text, a value an earlier release wrote with ``json.dumps`` (spaces, NaN)
    still reads back (PostgreSQL refuses NaN in JSON)."""
    import json
    import math

    from precursorwatch.serial import compact_json, read_json

    value = {"names": ["Äthanol ß", "\u00e9"], "n": 1.5, "e": 1e-05, "none": None, "t": [1, 2]}
    assert json.loads(compact_json(value)) == value == read_json(compact_json(value))
    assert compact_json({1: "a"}) == '{"1":"a"}'  # as json.dumps turns keys into text
    assert math.isnan(read_json('{"score": NaN}')["score"])
    sqlite = store.engine.dialect.name == "sqlite"
    with store.session() as session:
        cache_put_many(session=session, resolver_version="r1", values={"k": value})
        if sqlite:
            session.connection().exec_driver_sql(
                "INSERT INTO resolver_cache (resolver_version, key, value, updated_at) "
                "VALUES ('r1', 'old', ?, '2026-01-01 00:00:00.000000')",
                (json.dumps({"score": float("nan"), "s": "x"}),),
            )
            stored = (
                session.connection()
                .exec_driver_sql("SELECT value FROM resolver_cache WHERE key = 'k'")
                .scalar_one()
            )
            assert stored == compact_json(value) and ", " not in stored
    with store.session(write=False) as session:
        got = cache_get_many(session=session, resolver_version="r1", keys=["k", "old"])
    assert got["k"] == value
    if sqlite:
        assert math.isnan(got["old"]["score"]) and got["old"]["s"] == "x"


def test_cache_rows_read_back_as_the_core_types(store: Store) -> None:
    # SQLite's rows go straight to the driver: what SQLAlchemy reads back must be what its
    # own insert would have stored (JSON values, aware UTC timestamps)
    before = datetime.now(UTC)
    with store.session() as session:
        cache_put_many(session=session, resolver_version="r1",
                       values={"Äthanol ß": {"names": ["café", "\u00e9"], "n": 1.5}})  # fmt: skip
    with store.session(write=False) as session:
        rows = list(session.execute(sa.select(resolver_cache)))
    assert [(r.resolver_version, r.key, r.value) for r in rows] == [
        ("r1", "Äthanol ß", {"names": ["café", "é"], "n": 1.5})
    ]
    stamp = rows[0].updated_at
    assert stamp.tzinfo is not None
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC) + timedelta(seconds=1)


# --- sessions and engine --------------------------------------------------------------------


def test_session_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        record_audit(session=session, actor="x", action="test.rolled-back", detail={})
        raise RuntimeError("boom")
    with store.session(write=False) as session:
        assert list_audit(session=session) == []


def test_sqlite_pragmas_on_every_connection(tmp_db_url: str) -> None:
    engine = make_engine(tmp_db_url)
    try:
        for _ in range(2):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            engine.dispose()
        migrate(engine)  # the tables are made in pages of that size
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_BYTES
    finally:
        engine.dispose()


def test_sqlite_wal_switch_waits_for_another_writer(tmp_path) -> None:
    # SQLite answers the journal-mode switch "database is locked" at once, without its busy
    # timeout, while another process holds a write transaction on a new (rollback-journal)
    # file: that is what several processes opening one new store together run into.
    path = tmp_path / "pw.sqlite"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, writer.execute, args=("ROLLBACK",))
    release.start()
    started = time.monotonic()
    try:
        engine = make_engine(f"sqlite:///{path}")
        waited = time.monotonic() - started
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()
    finally:
        release.join()
        writer.close()
    assert waited >= 0.25


def test_sqlite_directory_is_created_and_bad_places_are_explained(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'pw.sqlite'}"
    open_store(url).dispose()
    assert (tmp_path / "a" / "b" / "pw.sqlite").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        make_engine(f"sqlite:///{blocker / 'pw.sqlite'}")
    with pytest.raises(StoreError, match="not a valid SQLAlchemy URL"):
        make_engine("not a url")
    with pytest.raises(StoreError, match="no driver"):
        make_engine("nosuchdb://user:secret@host/db")


def _open_in_child(url: str) -> None:
    store = open_store(url)
    with store.session() as session:
        record_audit(session=session, actor="child", action="test.child", detail={})
    store.dispose()


def test_two_processes_starting_at_once(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_open_in_child, args=(db_url,)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [c.exitcode for c in children] == [0, 0, 0]
    store = open_store(db_url)
    try:
        with store.session(write=False) as session:
            assert [e.action for e in list_audit(session=session)] == ["test.child"] * 3
    finally:
        store.dispose()


def test_a_database_from_a_newer_version_is_refused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer precursorwatch"):
        migrate(store.engine)


def test_stale_incomplete_screenings_are_purged(store: Store) -> None:
    from datetime import timedelta

    from precursorwatch.store.stream import begin_screening, purge_incomplete_screenings
    from precursorwatch.store.tables import utcnow

    with store.session() as session:
        sid = begin_screening(session=session, actor="killed", input_name="big.csv",
                              input_hash="", list_versions={})  # fmt: skip
    with store.session() as session:
        assert purge_incomplete_screenings(session=session, older_than=timedelta(hours=1)) == 0
    with store.session() as session:
        # as if the run had been killed two days ago
        session.execute(
            sa.update(screening).where(screening.c.id == sid)
            .values(created_at=utcnow() - timedelta(days=2))
        )  # fmt: skip
        assert purge_incomplete_screenings(session=session, older_than=timedelta(hours=1)) == 1
    with store.session(write=False) as session:
        assert session.execute(sa.select(screening.c.id)).first() is None
        assert list_audit(session=session, limit=1)[0].action == "screening.purged"


def test_an_empty_cache_namespace_is_answered_by_one_query(store: Store) -> None:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    keys = [f"name {i}" for i in range(5_000)]
    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.session(write=False) as session:
            assert cache_get_many(session=session, resolver_version="fresh", keys=keys) == {}
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "resolver_cache" in s]) == 1
