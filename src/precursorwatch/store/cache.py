"""The resolver cache: name -> resolution, per resolver version, read and upserted in bulk."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from precursorwatch.store.tables import resolver_cache, utcnow

#: Most bound parameters per IN clause: SQLite's historical limit is 999.
CHUNK = 900


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cache_get_many(
    *, session: Session, resolver_version: str, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The cached values of those ``keys`` that are cached for ``resolver_version``.

    Keys not cached are simply absent from the answer.
    """
    wanted = list(dict.fromkeys(keys))
    found: dict[str, dict[str, Any]] = {}
    c = resolver_cache.c
    for chunk in _chunks(wanted):
        rows = session.execute(
            select(c.key, c.value).where(
                and_(c.resolver_version == resolver_version, c.key.in_(chunk))
            )
        )
        found.update({r.key: r.value for r in rows})
    return found


def cache_put_many(
    *, session: Session, resolver_version: str, values: Mapping[str, dict[str, Any]]
) -> None:
    """Insert or replace the cached values of ``values``' keys for ``resolver_version``."""
    if not values:
        return
    now = utcnow()
    rows = [
        {"resolver_version": resolver_version, "key": k, "value": v, "updated_at": now}
        for k, v in values.items()
    ]
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = make(resolver_cache)
        stmt = stmt.on_conflict_do_update(
            index_elements=[resolver_cache.c.resolver_version, resolver_cache.c.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        for start in range(0, len(rows), CHUNK):
            session.execute(stmt, rows[start : start + CHUNK])
        return
    # Any other database: find which keys exist, update those, insert the rest.
    existing = set(
        cache_get_many(session=session, resolver_version=resolver_version, keys=list(values))
    )
    c = resolver_cache.c
    for row in rows:
        if row["key"] in existing:
            session.execute(
                update(resolver_cache)
                .where(and_(c.resolver_version == resolver_version, c.key == row["key"]))
                .values(value=row["value"], updated_at=now)
            )
    fresh = [row for row in rows if row["key"] not in existing]
    if fresh:
        session.execute(insert(resolver_cache), fresh)
