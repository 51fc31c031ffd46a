"""API keys: create (the secret is shown once), authenticate, list, revoke.

Only the SHA-256 of a secret is stored, with 8 characters after ``pw_`` for display. Names are
unique: screenings are authorised by key id, and the audit records both id and name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from precursorwatch.errors import InputError, QueryError
from precursorwatch.store.audit import record_audit
from precursorwatch.store.records import ROLES, ApiKeyInfo
from precursorwatch.store.tables import api_key, utcnow

SECRET_PREFIX = "pw_"
PREFIX_LENGTH = 8
#: Longest key name (the column's width).
MAX_NAME = 200


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: Any) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=row.id,
        name=row.name,
        role=row.role,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create_api_key(
    *, session: Session, name: str, role: str, actor: str = "system"
) -> tuple[ApiKeyInfo, str]:
    """Create a key; returns its info and the secret, which is never stored nor shown again.

    Raises InputError when ``role`` is not one of officer, operator, admin, or ``name`` is
    empty or already another key's (names are unique, compared without regard to case).
    """
    if role not in ROLES:
        raise InputError(f"role {role!r} is unknown: use one of {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise InputError("an API key needs a name (who or what uses it): give --name")
    if len(name) > MAX_NAME:
        raise InputError(f"an API key's name has at most {MAX_NAME} characters")
    taken = session.execute(
        select(api_key.c.id, api_key.c.name).where(func.lower(api_key.c.name) == name.lower())
    ).first()
    if taken is not None:
        raise InputError(
            f"an API key named {taken.name!r} exists already (id {taken.id}): key names are "
            "unique, as the audit and the pages name keys by them; choose another --name"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    info = ApiKeyInfo(
        key_id=uuid.uuid4().hex,
        name=name,
        role=role,
        prefix=secret[len(SECRET_PREFIX) : len(SECRET_PREFIX) + PREFIX_LENGTH],
        created_at=utcnow(),
    )
    session.execute(
        insert(api_key).values(
            id=info.key_id,
            name=info.name,
            role=info.role,
            prefix=info.prefix,
            key_hash=_hash(secret),
            created_at=info.created_at,
            revoked_at=None,
        )
    )
    record_audit(
        session=session,
        actor=actor,
        action="api_key.created",
        detail={"key_id": info.key_id, "name": name, "role": role, "prefix": info.prefix},
    )
    return info, secret


def authenticate(*, session: Session, secret: str) -> ApiKeyInfo | None:
    """The key whose secret this is, or None when unknown, malformed or revoked."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    digest = _hash(secret)
    row = session.execute(select(api_key).where(api_key.c.key_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    return _info(row)


def list_api_keys(*, session: Session) -> list[ApiKeyInfo]:
    """Every key, revoked ones included, oldest first."""
    rows = session.execute(select(api_key).order_by(api_key.c.created_at, api_key.c.id))
    return [_info(r) for r in rows]


def revoke_api_key(*, session: Session, key_id_or_prefix: str, actor: str = "system") -> ApiKeyInfo:
    """Revoke the key with this id or display prefix (``pw_`` optional); returns it revoked.

    Revoking a revoked key changes nothing. Raises QueryError when no key, or more than one,
    matches.
    """
    wanted = key_id_or_prefix.strip()
    if len(wanted) > len(SECRET_PREFIX) + PREFIX_LENGTH and wanted.startswith(SECRET_PREFIX):
        condition = api_key.c.key_hash == _hash(wanted)  # the whole secret was given
    else:
        bare = wanted.removeprefix(SECRET_PREFIX)
        if not bare:
            raise QueryError("give the id or the prefix of the key to revoke")
        condition = or_(api_key.c.id == bare, api_key.c.prefix == bare)
    rows = session.execute(select(api_key).where(condition)).all()
    if not rows:
        raise QueryError(
            f"no API key has id or prefix {key_id_or_prefix!r}: see `precursorwatch keys list`"
        )
    if len(rows) > 1:
        raise QueryError(
            f"{len(rows)} API keys have prefix {key_id_or_prefix!r}: revoke by id instead"
        )
    row = rows[0]
    if row.revoked_at is not None:
        return _info(row)
    now = utcnow()
    session.execute(update(api_key).where(api_key.c.id == row.id).values(revoked_at=now))
    record_audit(
        session=session,
        actor=actor,
        action="api_key.revoked",
        detail={"key_id": row.id, "name": row.name, "prefix": row.prefix},
    )
    info = _info(row)
    return ApiKeyInfo(
        key_id=info.key_id,
        name=info.name,
        role=info.role,
        prefix=info.prefix,
        created_at=info.created_at,
        revoked_at=now,
    )


def live_key(*, session: Session, key_id: str) -> ApiKeyInfo | None:
    """The key with id ``key_id`` while it is not revoked; None otherwise (a page session
    signed in with a key revoked since ends)."""
    row = session.execute(select(api_key).where(api_key.c.id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return _info(row)
