"""Request-body size limit, enforced before a body is read.

A request whose ``Content-Length`` is over the limit is answered 413 at once, without reading
a byte of its body. A body sent without a length (chunked) is counted as it streams in, and the
request stops with 413 as soon as the count passes the limit, so no route ever buffers or
spools more than the limit. Both answers have the API's one error shape.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from precursorwatch.web.errors import error_response

#: Bytes allowed over ``max_upload_bytes`` for multipart framing and the other form fields.
FORM_SLACK = 64 * 1024


def too_large_message(limit: int) -> str:
    """The 413 message for a body over ``limit`` bytes (the max_upload_bytes setting)."""
    return (
        f"the request body is over the upload limit of {limit:,} bytes (max_upload_bytes): "
        "split the file or batch, or ask the operator to raise PRECURSORWATCH_MAX_UPLOAD_BYTES"
    )


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` (+ :data:`FORM_SLACK`) bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.cap = limit + FORM_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 (or 400 for a malformed length) or pass on with a counting receive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared < 0:
                response = error_response(400, "the Content-Length header is not a number")
                await response(scope, receive, send)
                return
            if declared > self.cap:
                response = error_response(413, too_large_message(self.limit))
                await response(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.cap:
                    raise HTTPException(413, too_large_message(self.limit))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent, -1 when not a non-negative integer."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None
