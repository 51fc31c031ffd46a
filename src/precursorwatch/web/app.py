"""The FastAPI app factory: API routers under /v1, the officers' pages, one error shape,
security headers. Nothing is built or opened at import; the store opens on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from precursorwatch.settings import Settings, get_settings
from precursorwatch.store import Store
from precursorwatch.web import (
    pages,
    routes_lists,
    routes_rescreen,
    routes_screen,
    routes_substances,
)
from precursorwatch.web.errors import install_error_handlers
from precursorwatch.web.limits import BodyLimit
from precursorwatch.web.report_html import TEMPLATES_DIR
from precursorwatch.web.state import AppState

API_VERSION = "1.0.0"
DESCRIPTION = """\
Screen shipment declarations against drug-precursor watch lists by CAS, name and structure.

Every call under `/v1` needs `Authorization: Bearer <key>` (make a key with
`precursorwatch keys create --role officer|operator|admin --name NAME`). Every error has the
body `{"error": {"status": int, "code": str, "message": str}}`.
"""

#: Headers on every answer. Inline styles are allowed (RDKit's SVG uses style attributes);
#: scripts only from this origin (the pages use none).
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
}
#: Paths left without the CSP (the interactive docs load their own scripts).
_NO_CSP = ("/docs", "/redoc")


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app over ``settings`` (default: from the environment) and ``store`` (default:
    the configured one, opened and loaded with the bundled lists on first request)."""
    app = FastAPI(
        title="precursorwatch",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.pw = AppState(settings or get_settings(), store)
    install_error_handlers(app)
    # inside the security headers (added below, so outermost): 413s get the headers too
    app.add_middleware(BodyLimit, limit=app.state.pw.settings.max_upload_bytes)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and request.url.path.startswith(_NO_CSP):
                continue
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/v1/", "/screenings", "/signin")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", tags=["health"], responses={200: {"description": "Alive."}})
    def healthz() -> dict[str, str]:
        """Liveness: 200 while the server answers (no key needed)."""
        return {"status": "ok"}

    app.include_router(routes_screen.router)
    app.include_router(routes_rescreen.router)
    app.include_router(routes_lists.router)
    app.include_router(routes_substances.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(TEMPLATES_DIR.parent / "static")), "static")
    return app
