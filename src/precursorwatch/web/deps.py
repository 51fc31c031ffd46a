"""Dependencies of the routes as ``Annotated`` aliases: state, store, screener, key, roles.

A missing, malformed, unknown or revoked key is a 401; a key of the wrong role a 403, both in
the API's one error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from precursorwatch.run.screener import Screener
from precursorwatch.store import ApiKeyInfo, Store, authenticate
from precursorwatch.web.errors import ApiError
from precursorwatch.web.state import AppState

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key made with `precursorwatch keys create`, sent as a Bearer token.",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


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


def key_of_secret(state: AppState, secret: str) -> ApiKeyInfo | None:
    """The live key of a secret, or None (unknown, malformed or revoked)."""
    with state.store.session(write=False) as session:
        return authenticate(session=session, secret=secret)


def current_key(
    state: Annotated[AppState, Depends(get_state)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyInfo:
    """The key of the ``Authorization: Bearer`` header; raises ApiError 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401,
            "missing API key: send 'Authorization: Bearer <key>' "
            "(make one with `precursorwatch keys create`)",
            headers=_CHALLENGE,
        )
    info = key_of_secret(state, credentials.credentials.strip())
    if info is None:
        raise ApiError(
            401,
            "API key unknown or revoked: check the key, or ask an admin for a new one",
            headers=_CHALLENGE,
        )
    return info


def require_roles(*roles: str) -> Callable[[ApiKeyInfo], ApiKeyInfo]:
    """A dependency passing only keys of ``roles``; others get 403."""

    def check(key: Annotated[ApiKeyInfo, Depends(current_key)]) -> ApiKeyInfo:
        if key.role not in roles:
            raise ApiError(
                403,
                f"this needs a key with the role {' or '.join(roles)}; this key is {key.role}",
            )
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
