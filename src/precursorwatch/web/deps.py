"""Dependencies of the routes as ``Annotated`` aliases: state, store, screener, key, roles.

A missing, malformed, unknown or revoked key is a 401; a key of the wrong role a 403, both in
the API's one error shape. :class:`~precursorwatch.web.http_guard.EarlyGate` checks the key
before the body is read and leaves it in the request's state; the dependency takes it from
there (or looks it up itself, for an app used without that middleware).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.types import Scope

from precursorwatch.run.screener import Screener
from precursorwatch.store import ApiKeyInfo, Store, authenticate
from precursorwatch.web.errors import ApiError
from precursorwatch.web.state import AppState

#: Declares the scheme in the OpenAPI document (the key itself is read by :func:`current_key`).
_bearer = HTTPBearer(
    auto_error=False,
    description="An API key made with `precursorwatch keys create`, sent as a Bearer token.",
)
CHALLENGE = {"WWW-Authenticate": "Bearer"}
NO_KEY = (
    "missing API key: send 'Authorization: Bearer <key>' "
    "(make one with `precursorwatch keys create`)"
)
UNKNOWN_KEY = "API key unknown or revoked: check the key, or ask an admin for a new one"


def get_state(request: Request) -> AppState:
    """The app's :class:`AppState`."""
    state: AppState = request.app.state.pw
    return state


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store:
    """The app's store (opened on first use)."""
    return state.store


def get_screener(state: Annotated[AppState, Depends(get_state)]) -> Screener:
    """The screener over the current lists."""
    return state.screener()


def bearer_secret(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header (None when there is none)."""
    if not header:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def key_of_secret(state: AppState, secret: str) -> ApiKeyInfo | None:
    """The live key of a secret, or None (unknown, malformed or revoked)."""
    with state.store.session(write=False) as session:
        return authenticate(session=session, secret=secret)


def key_of_id(state: AppState, key_id: str) -> ApiKeyInfo | None:
    """The key with this id while it is not revoked, or None (a page session's key)."""
    from precursorwatch.store.keys import live_key

    with state.store.session(write=False) as session:
        return live_key(session=session, key_id=key_id)


def client_address(scope: Scope) -> str:
    """The client's address as the server sees it (behind a trusted proxy, the forwarded one:
    see ``serve --proxy``); '' when unknown."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def role_message(roles: tuple[str, ...], role: str) -> str:
    """The 403 message for a key of ``role`` where ``roles`` are needed."""
    return f"this needs a key with the role {' or '.join(roles)}; this key is {role}"


def current_key(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    _declared: Annotated[object, Depends(_bearer)],
) -> ApiKeyInfo:
    """The key of the ``Authorization: Bearer`` header; raises ApiError 401 otherwise."""
    found = request.scope.get("state", {}).get("pw_key")
    if isinstance(found, ApiKeyInfo):
        return found
    secret = bearer_secret(request.headers.get("authorization"))
    if secret is None:
        raise ApiError(401, NO_KEY, headers=CHALLENGE)
    info = key_of_secret(state, secret)
    if info is None:
        raise ApiError(401, UNKNOWN_KEY, headers=CHALLENGE)
    return info


def require_roles(*roles: str) -> Callable[[ApiKeyInfo], ApiKeyInfo]:
    """A dependency passing only keys of ``roles``; others get 403."""

    def check(key: Annotated[ApiKeyInfo, Depends(current_key)]) -> ApiKeyInfo:
        if key.role not in roles:
            raise ApiError(403, role_message(roles, key.role))
        return key

    return check


StateDep = Annotated[AppState, Depends(get_state)]
StoreDep = Annotated[Store, Depends(get_store)]
ScreenerDep = Annotated[Screener, Depends(get_screener)]
#: Any valid key (officer, operator, admin).
KeyDep = Annotated[ApiKeyInfo, Depends(current_key)]
#: Keys that may screen (every role).
ScreeningKey = Annotated[ApiKeyInfo, Depends(require_roles("officer", "operator", "admin"))]
#: Keys that may re-screen every stored declaration.
OfficerKey = Annotated[ApiKeyInfo, Depends(require_roles("officer", "admin"))]
AdminKey = Annotated[ApiKeyInfo, Depends(require_roles("admin"))]
