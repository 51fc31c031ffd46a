"""Alembic environment: run the migrations on the connection ``migrate()`` hands over.

Without one (a developer calling ``alembic.command.revision(..., autogenerate=True)`` with
``sqlalchemy.url`` set), an engine is made from the configured URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from precursorwatch.errors import StoreError
from precursorwatch.store.engine import make_engine
from precursorwatch.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise StoreError("offline (--sql) migrations are not supported; run migrate(engine)")
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise StoreError("no connection and no sqlalchemy.url: run migrate(engine) instead")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
