"""The store: the only package that touches the database (DESIGN.md §6).

``open_store(url)`` opens (and migrates) a database and gives a :class:`Store`, whose
``session()`` is the unit of work handed to the repository functions::

    store = open_store("sqlite:////tmp/pw.sqlite")
    with store.session() as session:
        outcomes = import_lists(session=session, lists=..., substances=..., source_file=...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from precursorwatch.errors import StoreError
from precursorwatch.store.engine import (
    SQLITE_BEGIN_OPTION,
    describe_db_error,
    make_engine,
    mask_url,
    migrate,
)
from precursorwatch.store.records import (
    ROLES,
    ApiKeyInfo,
    AuditEvent,
    HistoryRow,
    ImportOutcome,
    ListSummary,
    ScreeningRecord,
    ScreeningSummary,
    StoredSize,
)
from precursorwatch.store.repository import (
    PruneOutcome,
    authenticate,
    cache_get_many,
    cache_has_any,
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
    prune_screenings,
    record_audit,
    revoke_api_key,
    save_screening,
    screening_sizes,
    store_is_empty,
    substance_history,
)

__all__ = [
    "ROLES",
    "ApiKeyInfo",
    "AuditEvent",
    "HistoryRow",
    "ImportOutcome",
    "ListSummary",
    "PruneOutcome",
    "ScreeningRecord",
    "ScreeningSummary",
    "Store",
    "StoredSize",
    "authenticate",
    "cache_get_many",
    "cache_has_any",
    "cache_put_many",
    "create_api_key",
    "current_watchlist",
    "find_substances",
    "get_list",
    "get_screening",
    "get_substance",
    "import_lists",
    "iter_screening_lines",
    "list_api_keys",
    "list_audit",
    "list_screenings",
    "list_summaries",
    "list_versions",
    "make_engine",
    "migrate",
    "open_store",
    "prune_screenings",
    "record_audit",
    "revoke_api_key",
    "save_screening",
    "screening_sizes",
    "store_is_empty",
    "substance_history",
]


class Store:
    """An opened, migrated database and the sessions to work on it."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        # SQLite: a writing session takes the write lock when it begins (BEGIN IMMEDIATE), so
        # two processes never both read and then fail to upgrade to writing; the busy timeout
        # makes the second wait. Reading sessions begin deferred and never block each other.
        write_bind = engine
        if engine.dialect.name == "sqlite":
            write_bind = engine.execution_options(**{SQLITE_BEGIN_OPTION: "immediate"})
        self._writer = sessionmaker(bind=write_bind, expire_on_commit=False)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages."""
        return mask_url(self.url)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back when it raises.

        ``write=False`` is for blocks that only read (on SQLite they then do not wait for
        writers). Database failures are raised as StoreError; other exceptions pass through
        unchanged after the rollback.
        """
        session = (self._writer if write else self._reader)()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError(
                f"database {self.display_url!r} failed: {describe_db_error(exc)}; "
                "retry, and if it persists check the database server and disk"
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"


def open_store(url: str) -> Store:
    """Open the database at ``url``, create or upgrade its schema, and return the Store.

    Raises StoreError (URL with the password masked, and what to do) when it cannot be
    opened or migrated.
    """
    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, url)
