"""ASGI middleware guarding every request before the app sees it.

* :class:`SecurityHeaders` (outermost): the security headers and ``Cache-Control: no-store``
  on every answer but static files, errors included; an exception no handler took becomes
  the API's 500 in the one error shape (with the headers), never a bare traceback page.
* :class:`EarlyGate`: a request carrying both ``Content-Length`` and ``Transfer-Encoding`` is
  refused (400) and its connection closed (RFC 9112 §6.3: the two framings could be read
  differently by a proxy in front); an API request is authenticated from its headers, and a
  page form post checked for a live session, *before* a byte of its body is read: a 45 MB
  upload without a key is answered 401 at once and its connection closed. The key found is
  handed to the routes (``scope["state"]["pw_key"]``), so it is looked up once. An address
  that sent too many bad keys, or a key over its requests per minute, is answered 429 with
  ``Retry-After`` (:mod:`precursorwatch.web.ratelimit`).
* :class:`RequestId` (outermost): every answer, errors included, carries ``X-Request-ID``:
  the client's own when it is sane (1-128 of letters, digits and ``._:-``), else a new one;
  the server logs it with each request, and the audit events recorded while answering keep it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from precursorwatch.store.audit import request_id
from precursorwatch.web.errors import error_response

log = logging.getLogger(__name__)
#: One line per request with its id; a child of uvicorn's logger, so it is in the server's log.
request_log = logging.getLogger("uvicorn.error.precursorwatch")
REQUEST_ID_HEADER = "X-Request-ID"
#: A client's request id is echoed only when it looks like one.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

#: Headers on every answer. Inline styles are allowed (RDKit's SVG uses style attributes);
#: scripts only from this server's own files (the one is /static/progress.js, a big
#: upload's progress bar): no inline script, no eval, nothing from elsewhere.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
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


class RequestId:
    """``X-Request-ID`` on every answer (echoed or new), logged, and kept in audit events."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its id in the scope's state and the audit context."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given is not None and _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            request_log.info(
                "request %s %s %s -> %s in %.0f ms",
                rid,
                scope.get("method", ""),
                scope.get("path", ""),
                status or "-",
                (time.perf_counter() - started) * 1000,
            )


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
            client_address,
            key_of_secret,
            role_message,
        )
        from precursorwatch.web.ratelimit import TOO_MANY_FAILURES, TOO_MANY_REQUESTS

        state = scope["app"].state.pw
        close = _CLOSE if has_body else {}
        secret = bearer_secret(_header(scope, b"authorization"))
        if secret is None:
            return error_response(401, NO_KEY, headers={**CHALLENGE, **close})
        address = client_address(scope)
        wait = state.limits.auth_blocked(address)
        if wait:
            message = TOO_MANY_FAILURES.format(seconds=wait)
            return error_response(429, message, headers={"Retry-After": str(wait), **close})
        info = await anyio.to_thread.run_sync(key_of_secret, state, secret)
        if info is None:
            state.limits.auth_failed(address)
            return error_response(401, UNKNOWN_KEY, headers={**CHALLENGE, **close})
        wait = state.limits.take(info.key_id)
        if wait:
            message = TOO_MANY_REQUESTS.format(limit=state.limits.per_minute, seconds=wait)
            return error_response(429, message, headers={"Retry-After": str(wait), **close})
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
        if not token:
            return False
        return await anyio.to_thread.run_sync(state.page_session, token) is not None
