"""Shared fixtures: a fresh SQLite URL, a PostgreSQL URL (one private schema per test), the
command line on a store of its own (``run``), and a PubChem look-up index built afresh for
the test run."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

#: The server `.ci/run` starts; used when PRECURSORWATCH_TEST_POSTGRES_URL is unset.
LOCAL_POSTGRES_URL = "postgresql+psycopg2://pw:pw@127.0.0.1:5432/pw_test"


@pytest.fixture(scope="session", autouse=True)
def _fresh_pubchem_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Build the PubChem look-up index in a cache directory of this run's own, as a new
    installation does (~8 s); the user's cache directory is neither read nor written. CLI
    subprocesses inherit the setting."""
    from precursorwatch.identify.resolve import _table, prepare_pubchem_index

    before = os.environ.get("PRECURSORWATCH_CACHE_DIR")
    os.environ["PRECURSORWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    _table.cache_clear()
    prepare_pubchem_index()
    yield
    if before is None:
        os.environ.pop("PRECURSORWATCH_CACHE_DIR", None)
    else:
        os.environ["PRECURSORWATCH_CACHE_DIR"] = before
    _table.cache_clear()


@pytest.fixture
def tmp_db_url(tmp_path: Path) -> str:
    """A SQLite URL to a database file that does not exist yet."""
    return f"sqlite:///{tmp_path / 't.sqlite'}"


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def _start_local_postgres() -> str:
    """Start the Debian cluster and make the role and database as `.ci/run` does."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        raise RuntimeError("PostgreSQL is not installed (no pg_ctlcluster)")
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))[-1]
    subprocess.run(["pg_ctlcluster", version, "main", "start"], capture_output=True, timeout=60)
    _run("pg_isready", "-h", "127.0.0.1", "-t", "10")

    def psql(sql: str) -> str:
        return _run("su", "postgres", "-c", f'psql -qtAc "{sql}"')

    if "1" not in psql("SELECT 1 FROM pg_roles WHERE rolname='pw'"):
        psql("CREATE ROLE pw LOGIN PASSWORD 'pw'")
    if "1" not in psql("SELECT 1 FROM pg_database WHERE datname='pw_test'"):
        psql("CREATE DATABASE pw_test OWNER pw")
    return LOCAL_POSTGRES_URL


@pytest.fixture(scope="session")
def _postgres_server() -> str:
    """The URL of a reachable PostgreSQL server, or skip saying why there is none."""
    url = os.environ.get("PRECURSORWATCH_TEST_POSTGRES_URL", "")
    try:
        if not url:
            url = _start_local_postgres()
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:
        pytest.skip(f"no PostgreSQL server could be reached or started: {exc}")
    return url


@pytest.fixture
def postgres_url(_postgres_server: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test.

    Tests running at the same time (other sessions, other engineers) never see each other.
    """
    schema = f"pwt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_postgres_server)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = sa.make_url(_postgres_server).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


#: The command line, called in this process: its arguments -> (exit code, what it printed).
Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``precursorwatch`` (typer's CliRunner) with a data directory, so a store, of the
    test's own. A crash (not an exit) fails the test with what was printed."""
    from typer.testing import CliRunner

    from precursorwatch.cli import app

    monkeypatch.setenv("PRECURSORWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PRECURSORWATCH_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, result.output

    return invoke
