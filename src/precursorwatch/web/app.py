"""The FastAPI app factory: API routers under /v1, the officers' pages, one error shape,
security headers. Nothing is built or opened at import; the store opens on first use.

The interactive API documentation page (``/docs``) is off: Swagger UI would load its scripts
from a CDN, and no copy is installed to serve from here. The OpenAPI document stays at
``/openapi.json`` (and ``api/openapi.json``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from precursorwatch.settings import Settings, get_settings
from precursorwatch.store import Store
from precursorwatch.web import (
    pages,
    pages_find,
    pages_jobs,
    pages_upload,
    routes_consignees,
    routes_decisions,
    routes_delete,
    routes_find,
    routes_law,
    routes_lists,
    routes_rescreen,
    routes_screen,
    routes_substances,
)
from precursorwatch.web.errors import ApiError, install_error_handlers
from precursorwatch.web.http_guard import SECURITY_HEADERS, EarlyGate, RequestId, SecurityHeaders
from precursorwatch.web.idempotency import Idempotency
from precursorwatch.web.limits import BodyLimit
from precursorwatch.web.report_html import TEMPLATES_DIR
from precursorwatch.web.state import AppState

API_VERSION = "1.0.0"
DESCRIPTION = """\
Screen shipment declarations against drug-precursor watch lists by CAS, name and structure.

Every call under `/v1` needs `Authorization: Bearer <key>` (make a key with
`precursorwatch keys create --role officer|operator|admin --name NAME`). Every error has the
body `{"error": {"status": int, "code": str, "message": str}}`.

`POST /v1/screen`, `POST /v1/screenings` and a line's decision honour an `Idempotency-Key`
header (1-255 visible ASCII characters): the same request again with the same key within a
day gets the first answer (header `Idempotent-Replayed: true`) and nothing is screened twice;
the same key with another request is a 422, and while the first is still answered a 409.
Every answer carries `X-Request-ID` (yours when you send a sane one). Too many unknown keys
from one address, or more requests per minute than a key is allowed, are answered 429 with
`Retry-After`.
"""

__all__ = ["API_VERSION", "SECURITY_HEADERS", "create_app"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the screening workers with the server; stop them (and their work) with it."""
    state: AppState = app.state.pw
    if state.settings.screen_workers > 0:
        state.lanes.warm()
    threading.Thread(target=_warm, args=(state,), daemon=True, name="pw-warm").start()
    try:
        yield
    finally:
        state.close()


def _warm(state: AppState) -> None:
    """Open the store, build the screeners and load what a first screening loads, so the
    first request does not wait for them."""
    try:
        state.visibility()
        state.lanes.warm_interactive()
    except Exception:  # the first request will say what is wrong
        logging.getLogger(__name__).exception("warming up failed")


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app over ``settings`` (default: from the environment) and ``store`` (default:
    the configured one, opened and loaded with the bundled lists on first request)."""
    app = FastAPI(
        title="precursorwatch",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.pw = AppState(settings or get_settings(), store)
    install_error_handlers(app)
    # added last = outermost: the request id and headers on every answer, then the declared
    # length, then framing, keys and rate limits checked; all before the app reads a byte of
    # the body (which is then counted as it comes); innermost, retried POSTs replayed
    app.add_middleware(Idempotency)
    app.add_middleware(EarlyGate)
    app.add_middleware(BodyLimit, limit=app.state.pw.settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)

    @app.get("/healthz", tags=["health"], responses={200: {"description": "Alive."}})
    async def healthz() -> dict[str, str]:
        """Liveness: 200 while the server answers (no key needed)."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        responses={
            200: {"description": "Ready: the store answers."},
            503: {"description": "The store does not answer."},
        },
    )
    def readyz() -> dict[str, str]:
        """Readiness: 200 when the store answers a query (no key needed), else 503."""
        store = app.state.pw.store
        try:
            with store.session(write=False) as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure of the store means not ready
            raise ApiError(503, f"the store does not answer: {type(exc).__name__}") from None
        return {"status": "ready"}

    app.include_router(routes_screen.router)
    app.include_router(routes_find.router)
    app.include_router(routes_rescreen.router)
    app.include_router(routes_delete.router)
    app.include_router(routes_decisions.router)
    app.include_router(routes_law.router)  # before routes_lists: /lists/changes is no list code
    app.include_router(routes_lists.router)
    app.include_router(routes_substances.router)
    app.include_router(routes_consignees.router)
    app.include_router(pages.router)
    app.include_router(pages_upload.router)
    app.include_router(pages_jobs.router)
    app.include_router(pages_find.router)
    app.mount("/static", StaticFiles(directory=str(TEMPLATES_DIR.parent / "static")), "static")
    return app
