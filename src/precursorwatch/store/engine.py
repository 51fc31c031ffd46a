"""Open a database and bring its schema to the newest revision; nothing else.

``make_engine`` builds an engine for any SQLAlchemy URL (SQLite gets WAL, a busy timeout and
foreign keys on every connection); ``migrate`` runs the alembic migrations shipped inside this
package, without any ``alembic.ini``.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from precursorwatch.errors import StoreError
from precursorwatch.serial import read_json

#: Execution option naming how a SQLite transaction begins ("immediate" takes the write lock).
SQLITE_BEGIN_OPTION = "precursorwatch_sqlite_begin"

#: Milliseconds a SQLite connection waits for another process's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Page size of a new SQLite store: the resolution cache's keys are long, and fewer, larger
#: pages split less, so its inserts cost less CPU than with 4 KiB pages (bench/README.md).
SQLITE_PAGE_BYTES = 16_384
#: Seconds between two tries of ``PRAGMA journal_mode=WAL`` while another process holds the
#: lock. SQLite answers that pragma SQLITE_BUSY at once, without its busy handler,
#: when several processes open a new store together (4 processes on a new file: 44 of 300
#: trials failed without retrying, 0 of 300 with it).
SQLITE_WAL_RETRY_S = 0.01

#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
MIGRATION_LOCK_KEY = 0x70726563  # "prec"

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_WHAT_TO_DO = (
    "check the URL (PRECURSORWATCH_DATABASE_URL or --db), that the server is running and "
    "reachable, and that you may read and write there"
)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def describe_db_error(exc: BaseException) -> str:
    """The first line of the driver's message behind a SQLAlchemy error (no SQL, no hints)."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    return reason.splitlines()[0] if reason else type(exc).__name__


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for in-memory databases."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Per connection: let SQLAlchemy own transactions, then set the pragmas."""
    # pysqlite's own transaction handling skips BEGIN before DDL and reads; turning it off
    # and emitting BEGIN ourselves (see _on_sqlite_begin) gives real transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # before WAL: it only takes effect on a database with no table yet (a new store)
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
        _set_wal_journal(cursor)
    finally:
        cursor.close()


def _set_wal_journal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to WAL, retrying for up to the busy timeout while it is locked.

    The busy timeout does not cover this pragma (see ``SQLITE_WAL_RETRY_S``), so it is retried
    here. Raises sqlite3.OperationalError when the lock outlasts the busy timeout (or at once
    for any other error).
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode == sqlite3.SQLITE_BUSY  # "database is locked"
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(SQLITE_WAL_RETRY_S)


def _on_sqlite_begin(conn: Connection) -> None:
    """Begin a SQLite transaction, IMMEDIATE (write lock now) when the option asks for it."""
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


#: The engines alive (:func:`close_engines`).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def close_engines() -> None:
    """Close the pooled connections of every engine still alive, as the process ends without
    the interpreter's teardown (:mod:`precursorwatch.cli.exit`): a SQLite store then writes
    its log into its file, as when its connections are collected at a normal exit."""
    for engine in list(_ENGINES):
        engine.dispose()


def make_engine(url: str) -> Engine:
    """An engine for ``url``, checked by opening one connection.

    SQLite: the parent directory is created; WAL, ``busy_timeout=30000`` and
    ``foreign_keys=ON`` are set on every connection. Other databases get ``pool_pre_ping``.
    Raises StoreError (URL with the password masked, and what to do) when the URL is
    malformed, its driver is missing, or the database cannot be opened.
    """
    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"database URL {shown!r} is not a valid SQLAlchemy URL ({exc}); "
            "give e.g. sqlite:////path/to/file.sqlite or postgresql+psycopg2://user@host/db"
        ) from exc
    kwargs: dict[str, Any] = {}
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        path = _sqlite_path(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the directory {str(path.parent)!r} of database {shown!r}: "
                    f"{exc.strerror or exc}; choose a writable location with "
                    "PRECURSORWATCH_DATABASE_URL or --db"
                ) from exc
    else:
        kwargs["pool_pre_ping"] = True
    kwargs["json_deserializer"] = read_json  # the JSON columns' values, by the thousand
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise StoreError(
            f"no driver for database URL {shown!r} ({exc}); for PostgreSQL install "
            "'precursorwatch[postgres]' (psycopg2)"
        ) from exc
    except (ArgumentError, TypeError) as exc:
        raise StoreError(f"cannot use database URL {shown!r}: {exc}; {_WHAT_TO_DO}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open database {shown!r}: {describe_db_error(exc)}; {_WHAT_TO_DO}"
        ) from exc
    _ENGINES.add(engine)
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    """An alembic ``Config`` built in code, pointing at the migrations inside this package.

    With ``engine``, its URL is set as ``sqlalchemy.url`` (for developers running
    ``alembic.command.revision(cfg, autogenerate=True, ...)``).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url",
            engine.url.render_as_string(hide_password=False).replace("%", "%%"),
        )
    return cfg


def _is_at_head(conn: Connection, script: ScriptDirectory) -> bool:
    current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema revision; a no-op when already there.

    Safe when several processes start at once: on SQLite the migration runs inside one
    ``BEGIN IMMEDIATE`` transaction (others wait up to the busy timeout), on PostgreSQL under
    a transaction-scoped advisory lock. Raises StoreError when the database cannot be
    migrated, e.g. when it was made by a newer precursorwatch.
    """
    shown = mask_url(engine.url.render_as_string(hide_password=False))
    cfg = alembic_config()
    try:
        script = ScriptDirectory.from_config(cfg)
        with engine.connect() as conn:
            if _is_at_head(conn, script):
                conn.rollback()
                return
            conn.rollback()
            dialect = engine.dialect.name
            if dialect == "sqlite":
                conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "immediate"})
            with conn.begin():
                if dialect == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                    )
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    except CommandError as exc:
        raise StoreError(
            f"cannot migrate database {shown!r}: {exc}; it may have been created by a newer "
            "precursorwatch: upgrade precursorwatch or use another database"
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate database {shown!r}: {describe_db_error(exc)}; {_WHAT_TO_DO}"
        ) from exc
