"""ASGI middleware guarding every request before the app sees it.

* :class:`SecurityHeaders` (outermost): the security headers and ``Cache-Control: no-store``
  on every answer but static files, errors included; an exception no handler took becomes
  the API's 500 in the one error shape (with the headers), never a bare traceback page.
* :class:`EarlyGate`: a request carrying both ``Content-Length`` and ``Transfer-Encoding`` is
  refused (400) and its connection closed (RFC 9112 §6.3: the two framings could be read
  differently by a proxy in front); an API request is authenticated from its headers, and a
  page form post checked for a live session, *before* a byte of its body is read: a 45 MB
  upload without a key is answered 401 at once and its connection closed. The key found is
  handed to the routes (``scope["state"]["pw_key"]``), so it is looked up once.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from precursorwatch.web.errors import error_response

log = logging.getLogger(__name__)

#: Headers on every answer. Inline styles are allowed (RDKit's SVG uses style attributes);
#: no scripts at all (the pages use none).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: Sent over HTTPS only (behind a TLS proxy that says so: see README, Deployment).
HSTS = "max-age=31536000; includeSubDomains"
#: Paths whose answers may be cached (nothing screened or confidential is under them).
CACHEABLE = ("/static/",)
#: Paths under /v1 open without a key.
_OPEN = frozenset({"/healthz", "/openapi.json"})
#: (method, path) -> the roles that may call it: refused before the body is read.
_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/lists"): ("admin",),
    ("POST", "/v1/rescreen"): ("officer", "admin"),
}
_CLOSE = {"Connection": "close"}


class SecurityHeaders:
    """Security headers and no-store on every answer; unhandled errors as the JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the headers to its answer's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith(CACHEABLE):
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error")
            if started:
                raise  # the answer is half sent: the server closes the connection
            response = error_response(
                500, "internal error: the server logged the details; retry later"
            )
            await response(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class EarlyGate:
    """Refuse ambiguous framing; authenticate API requests and page posts before bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer at once, or pass on with the key in the scope's state."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (
            _header(scope, b"content-length") is not None
            and _header(scope, b"transfer-encoding") is not None
        ):
            response = error_response(
                400,
                "a request may not carry both Content-Length and Transfer-Encoding",
                headers=_CLOSE,
            )
            await response(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        has_body = _header(scope, b"content-length") not in (None, "0") or bool(
            _header(scope, b"transfer-encoding")
        )
        if path.startswith("/v1/") and path not in _OPEN:
            refusal = await self._api_refusal(scope, method, path, has_body)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        elif method == "POST" and path == "/upload" and not await self._has_session(scope):
            from starlette.responses import RedirectResponse

            await RedirectResponse("/signin", 303, headers=_CLOSE)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _api_refusal(
        self, scope: Scope, method: str, path: str, has_body: bool
    ) -> ASGIApp | None:
        from precursorwatch.web.deps import (
            CHALLENGE,
            NO_KEY,
            UNKNOWN_KEY,
            bearer_secret,
            key_of_secret,
            role_message,
        )

        state = scope["app"].state.pw
        close = _CLOSE if has_body else {}
        secret = bearer_secret(_header(scope, b"authorization"))
        if secret is None:
            return error_response(401, NO_KEY, headers={**CHALLENGE, **close})
        info = await anyio.to_thread.run_sync(key_of_secret, state, secret)
        if info is None:
            return error_response(401, UNKNOWN_KEY, headers={**CHALLENGE, **close})
        roles = _ROLES.get((method, path))
        if roles is not None and info.role not in roles:
            return error_response(403, role_message(roles, info.role), headers=close)
        scope.setdefault("state", {})["pw_key"] = info
        return None

    async def _has_session(self, scope: Scope) -> bool:
        from precursorwatch.web.pages import SESSION_COOKIE

        cookie = _header(scope, b"cookie") or ""
        token = ""
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE:
                token = value
        state = scope["app"].state.pw
        return bool(token) and state.page_session(token) is not None
