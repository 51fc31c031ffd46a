"""What only PostgreSQL does: real time zones, TRUNCATE refused, connection errors explained.

The shared behaviour runs on PostgreSQL too, through the parametrised tests in test_store.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from precursorwatch.errors import StoreError
from precursorwatch.store import Store, make_engine, open_store, record_audit

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url)
    yield store
    store.dispose()


def test_timestamps_are_timestamptz(pg_store: Store) -> None:
    with pg_store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name || '.' || column_name, data_type "
                "FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type LIKE 'timestamp%'"
            )
        ).all()
    types = {name: data_type for name, data_type in rows}
    assert types["screening.created_at"] == "timestamp with time zone"
    assert set(types.values()) == {"timestamp with time zone"}


def test_truncate_of_the_audit_log_is_refused(pg_store: Store) -> None:
    with pg_store.session() as session:
        record_audit(session=session, actor="t", action="test.kept", detail={})
    with pytest.raises(StoreError, match="append-only"), pg_store.session() as session:
        session.execute(sa.text("TRUNCATE audit_event"))
    with pg_store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() == 1


def test_unreachable_server_is_explained_without_the_password() -> None:
    url = "postgresql+psycopg2://pw:s3cret-pass@127.0.0.1:1/pw_test?connect_timeout=3"
    with pytest.raises(StoreError) as caught:
        make_engine(url)
    message = str(caught.value)
    assert "s3cret-pass" not in message
    assert "pw:***@127.0.0.1:1/pw_test" in message
    assert "that the server is running" in message
