"""The API's one JSON error shape, and the handlers that turn every failure into it.

Every error the app answers, whether raised by a route, by request validation, by routing
(404, 405) or by authentication, has the body::

    {"error": {"status": 422, "code": "invalid_input", "message": "line 3: ..."}}

Library exceptions (:mod:`precursorwatch.errors`) are translated here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from precursorwatch.errors import (
    InputError,
    PrecursorWatchError,
    QueryError,
    ResolverError,
    StoreError,
    TooLargeError,
)

log = logging.getLogger(__name__)

#: Status -> the machine-readable code used when no more specific one is given.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers with ``status``; ``code`` defaults from the status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The one JSON error body of the API."""
    return {"error": {"status": status, "code": code, "message": message}}


def error_response(
    status: int, message: str, *, code: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSONResponse carrying :func:`error_body`."""
    return JSONResponse(
        error_body(status, code or STATUS_CODES.get(status, "error"), message),
        status_code=status,
        headers=headers,
    )


def status_of(exc: PrecursorWatchError) -> tuple[int, str]:
    """The HTTP status and code of a library exception (QueryError 404, InputError 422 ...)."""
    if isinstance(exc, QueryError):
        return 404, "not_found"
    if isinstance(exc, InputError):
        return 422, "invalid_input"
    if isinstance(exc, TooLargeError):
        return 413, "too_large"
    if isinstance(exc, StoreError):
        return 503, "store_unavailable"
    if isinstance(exc, ResolverError):
        return 503, "resolver_unavailable"
    return 500, "internal_error"


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> str:
    """One readable sentence from pydantic's list of validation errors (at most 5 named)."""
    problems = [
        "the body is empty"
        if tuple(e.get("loc", ())) == ("body",) and e.get("type") == "missing"
        else f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in exc.errors()
    ]
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return "invalid request: " + "; ".join(problems[:5]) + more + "; see /openapi.json"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, code=exc.code, headers=exc.headers)


async def _library_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PrecursorWatchError)
    status, code = status_of(exc)
    return error_response(status, str(exc), code=code)


def unreadable_body_message(request: Request, cause: BaseException | None, detail: str) -> str:
    """Why a request body could not be parsed (FastAPI says only 'error parsing the body')."""
    if "multipart/" in request.headers.get("content-type", ""):
        said = f" ({detail.rstrip('.')})" if detail and "parsing the body" not in detail else ""
        return (
            f"the multipart/form-data body cannot be read{said}: send the file as the form "
            "field 'file' (e.g. curl -F file=@manifest.csv)"
        )
    if isinstance(cause, RecursionError):
        why = "it is nested too deeply"
    elif isinstance(cause, UnicodeError):
        why = "it is not UTF-8 text"
    elif isinstance(cause, ValueError) and "digits" in str(cause):
        why = "a number in it has too many digits"
    else:
        why = "it is not valid JSON"
    return f"the request body cannot be read: {why}; send UTF-8 JSON as in /openapi.json"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400:  # only raised when FastAPI or Starlette could not parse the body
        return error_response(422, unreadable_body_message(request, exc.__cause__, str(exc.detail)))
    if status == 404:
        message = "no such resource: see /openapi.json for the API's paths"
    elif status == 405:
        message = "method not allowed on this path: see /openapi.json"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(status, message, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_message(exc))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error: the server logged the details; retry later")


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to the one JSON error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(PrecursorWatchError, _library_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
