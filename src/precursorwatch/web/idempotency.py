"""``Idempotency-Key`` on the POSTs that create something: a retry gets the first answer.

A client that sends ``Idempotency-Key: K`` with ``POST /v1/screen``, ``POST /v1/screenings``
or a line's decision, and sends the same request again (after a timeout or a dropped
connection) within ``idempotency_window_s``, gets the first answer again (same status, same
``screening_id``, header ``Idempotent-Replayed: true``): nothing is screened or stored twice.
The keys are per API key and kept in the store, so every worker and a restart agree.

Answers, as the IETF draft "The Idempotency-Key HTTP Header Field" has them:

* the same key with a different request (another body, or another path): **422**, since the
  request is fine as HTTP but cannot be processed under that key (a client bug to fix, not a
  state to wait out);
* the same key while its first request is still being answered: **409** with ``Retry-After``
  (retrying later gets the first answer);
* a first request that failed (not 2xx) keeps nothing: the client may retry with the key.

"The same request" is the same method, path and body bytes; for a multipart upload the body
is compared without its boundary string (which clients pick anew for every request). Bodies
are hashed as they stream in, never held whole. A first answer is kept compressed; one too
large to keep (a screening of thousands of lines) is kept without its lines, which are read
back from the stored screening on a replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import timedelta
from typing import Any

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from precursorwatch.store import ApiKeyInfo
from precursorwatch.store.idempotency import (
    MAX_IDEMPOTENCY_KEY,
    MAX_STORED_BODY,
    IdempotentAnswer,
    claim_idempotency,
    finish_idempotency,
    release_idempotency,
)
from precursorwatch.web.errors import error_response
from precursorwatch.web.state import AppState

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
REPLAYED = "Idempotent-Replayed"
#: The POSTs whose answers are kept per Idempotency-Key.
PATHS = re.compile(r"^/v1/(screen|screenings|screenings/[^/]+/lines/.+/decision)$")
#: A first request still "running" after this long is taken to have died with its worker.
STALE_AFTER = timedelta(minutes=15)
#: Most answer bytes held to be kept (larger: kept without its lines, or not at all).
MAX_CAPTURE = 256 * 1024 * 1024
_SANE_KEY = re.compile(r"[\x21-\x7e]+")
_SCREENING_ID = re.compile(rb'"screening_id"\s*:\s*"([0-9a-f]{1,32})"')


class BodyHash:
    """SHA-256 of a request body fed in pieces, a multipart boundary left out."""

    def __init__(self, boundary: bytes | None) -> None:
        self._hash = hashlib.sha256()
        self._sep = boundary or b""
        self._carry = b""

    def update(self, chunk: bytes) -> None:
        """Add a piece of the body."""
        if not self._sep:
            self._hash.update(chunk)
            return
        data = (self._carry + chunk).replace(self._sep, b"\x00")
        cut = max(0, len(data) - (len(self._sep) - 1))
        self._hash.update(data[:cut])
        self._carry = data[cut:]

    def hexdigest(self) -> str:
        """The digest of everything added."""
        self._hash.update(self._carry)
        self._carry = b""
        return self._hash.hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _boundary(scope: Scope) -> bytes | None:
    kind = _header(scope, b"content-type") or ""
    found = re.search(r'boundary="?([^";]+)"?', kind)
    return ("--" + found.group(1)).encode("latin-1") if found and "multipart/" in kind else None


class Idempotency:
    """ASGI middleware answering retried POSTs from the store (inside :class:`EarlyGate`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Claim the key and answer, or replay the first answer, or refuse."""
        path: str = scope.get("path", "")
        given = _header(scope, HEADER) if scope["type"] == "http" else None
        key = scope.get("state", {}).get("pw_key")
        if (
            given is None
            or scope.get("method") != "POST"
            or not PATHS.match(path)
            or not isinstance(key, ApiKeyInfo)
        ):
            await self.app(scope, receive, send)
            return
        if len(given) > MAX_IDEMPOTENCY_KEY or not _SANE_KEY.fullmatch(given):
            await error_response(
                422,
                f"the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII "
                "characters (e.g. a UUID): send one per distinct request",
            )(scope, receive, send)
            return
        state: AppState = scope["app"].state.pw
        request = f"POST {path}"
        first = await anyio.to_thread.run_sync(_claim, state, key.key_id, given, request)
        if first is not None:
            await self._replay(scope, receive, send, state, key, first, request)
            return
        await self._first(scope, receive, send, state, key, given)

    async def _first(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: AppState,
        key: ApiKeyInfo,
        given: str,
    ) -> None:
        """Answer the request, keeping a 2xx answer under the key (released otherwise)."""
        body_hash = BodyHash(_boundary(scope))
        status = 0
        media_type = ""
        parts: list[bytes] = []
        size = 0
        kept = False

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body_hash.update(message.get("body", b""))
            return message

        async def keeping_send(message: Message) -> None:
            nonlocal status, media_type, size, kept
            if message["type"] == "http.response.start":
                status = int(message["status"])
                media_type = MutableHeaders(scope=message).get("content-type", "")
            elif message["type"] == "http.response.body" and 200 <= status < 300:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_CAPTURE:
                    parts.append(chunk)
                if not message.get("more_body", False):
                    # kept before the answer's end goes out: a retry after it is a replay
                    answer = b"".join(parts) if size <= MAX_CAPTURE else None
                    kept = await anyio.to_thread.run_sync(
                        _finish, state, key.key_id, given, body_hash.hexdigest(), status,
                        media_type, answer, parts[0][:4096] if parts else b"",
                    )  # fmt: skip
            await send(message)

        try:
            await self.app(scope, hashing_receive, keeping_send)
        finally:
            if not kept:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(_release, state, key.key_id, given)

    async def _replay(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: AppState,
        key: ApiKeyInfo,
        first: IdempotentAnswer,
        request: str,
    ) -> None:
        """Answer from the first request's kept answer (409 / 422 when it cannot be)."""
        if first.status is None:
            await error_response(
                409,
                "a request with this Idempotency-Key is still being answered: retry in a "
                "moment to get its answer",
                headers={"Retry-After": "1", "Connection": "close"},
            )(scope, receive, send)
            return
        body_hash = BodyHash(_boundary(scope))
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            body_hash.update(message.get("body", b""))
            more = bool(message.get("more_body", False))
        if first.request != request or first.request_hash != body_hash.hexdigest():
            used = "" if first.request == request else f" ({first.request})"
            await error_response(
                422,
                f"this Idempotency-Key was used for a different request{used} within the "
                "last day: use a new key for a new request, the same key only to retry the "
                "same request",
            )(scope, receive, send)
            return
        body = first.body
        if request == "POST /v1/screen" and (body is None or b'"lines"' not in body):
            body = await anyio.to_thread.run_sync(_rebuild, state, key, first)
        elif body is None:
            body = json.dumps({"screening_id": first.screening_id}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": first.status,
                "headers": [
                    (b"content-type", (first.media_type or "application/json").encode("latin-1")),
                    (b"content-length", str(len(body)).encode()),
                    (REPLAYED.lower().encode(), b"true"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _claim(state: AppState, key_id: str, given: str, request: str) -> IdempotentAnswer | None:
    window = timedelta(seconds=state.settings.idempotency_window_s)
    with state.store.session() as session:
        return claim_idempotency(
            session=session, key_id=key_id, idem_key=given, request=request,
            window=window, stale_after=STALE_AFTER,
        )  # fmt: skip


def _finish(
    state: AppState,
    key_id: str,
    given: str,
    request_hash: str,
    status: int,
    media_type: str,
    answer: bytes | None,
    head: bytes,
) -> bool:
    """Keep a 2xx answer; True when kept (False: the claim is released by the caller)."""
    found = _SCREENING_ID.search(answer[:4096] if answer is not None else head)
    screening_id = found.group(1).decode() if found else None
    if answer is None and screening_id is None:
        return False  # too large to hold and nothing to rebuild it from
    # only an answer that may not compress under the cap is parsed for its compact form
    compact = (
        _without_lines(answer) if answer is not None and len(answer) > MAX_STORED_BODY else None
    )
    try:
        with state.store.session() as session:
            finish_idempotency(
                session=session, key_id=key_id, idem_key=given, request_hash=request_hash,
                status=status, media_type=media_type, body=answer, compact=compact,
                screening_id=screening_id,
            )  # fmt: skip
    except Exception:  # the answer still goes out; only a retry will not be a replay
        log.exception("keeping the answer of an Idempotency-Key failed")
        return False
    return True


def _without_lines(answer: bytes) -> bytes | None:
    """A JSON answer without its ``lines`` (what rebuilds it with the stored screening)."""
    try:
        value = json.loads(answer)
    except ValueError:
        return None
    if not isinstance(value, dict) or "lines" not in value:
        return None
    value.pop("lines")
    return json.dumps(value, separators=(",", ":")).encode()


def _release(state: AppState, key_id: str, given: str) -> None:
    try:
        with state.store.session() as session:
            release_idempotency(session=session, key_id=key_id, idem_key=given)
    except Exception:  # the claim then goes stale after STALE_AFTER
        log.exception("releasing an Idempotency-Key failed")


def _rebuild(state: AppState, key: ApiKeyInfo, first: IdempotentAnswer) -> bytes:
    """A screening answer kept without its lines, with its lines read back from the store."""
    from precursorwatch.web import work
    from precursorwatch.web.schemas import ScreenResponse

    head: dict[str, Any] = {}
    if first.body:
        loaded = json.loads(first.body)
        head = loaded if isinstance(loaded, dict) else {}
    screening_id = first.screening_id or str(head.get("screening_id", ""))
    head["screening_id"] = screening_id
    work.screening_for(state, key, screening_id)
    results = [r for _, batch in work.batches(state, key, screening_id) for r in batch]
    head["lines"] = work.lines_json(results)
    done = ScreenResponse.model_validate(head).model_dump(mode="json")
    return json.dumps(done, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
