"""The officers' pages: sign in with a key, upload a manifest, read the results, browse lists.

Server-rendered (Jinja2, autoescaped), no scripts. Signing in keeps the key server-side under a
random session token sent as an HttpOnly, SameSite=Strict cookie; every form post carries the
session's CSRF token in a hidden field (the sign-in form a double-submit token).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from precursorwatch.errors import QueryError
from precursorwatch.run.asof import law_day_text
from precursorwatch.store import ApiKeyInfo
from precursorwatch.store.page_sessions import PageSession
from precursorwatch.web import jobs, work
from precursorwatch.web.consignees import screening_alerts_for
from precursorwatch.web.depict import inline_svg, substance_svg
from precursorwatch.web.deps import StateDep, client_address, key_of_id, key_of_secret
from precursorwatch.web.ratelimit import TOO_MANY_FAILURES
from precursorwatch.web.report_html import get_templates
from precursorwatch.web.results_page import deferred_alerts, results_view
from precursorwatch.web.routes_lists import audit_confidential_read, list_detail, visible_lists
from precursorwatch.web.routes_screen import csv_response, html_response, xlsx_response
from precursorwatch.web.routes_substances import audit_if_confidential, visible_substance
from precursorwatch.web.state import AppState

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "pw_session"
SIGNIN_COOKIE = "pw_signin"


class Visitor:
    """A signed-in browser: its key, session and cookie token."""

    def __init__(self, key: ApiKeyInfo, session: PageSession, token: str) -> None:
        self.key, self.session, self.token = key, session, token


def _visitor(request: Request, state: AppState) -> Visitor | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    page = state.page_session(token) if token else None
    if page is None:
        return None
    key = key_of_id(state, page.key_id)
    if key is None:  # revoked since sign-in
        state.close_session(token)
        return None
    return Visitor(key, page, token)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return get_templates().TemplateResponse(request, name, context, status_code=status)


def _error(request: Request, visitor: Visitor | None, status: int, message: str) -> HTMLResponse:
    return _page(
        request,
        "error.html",
        {"visitor": visitor, "status": status, "message": message},
        status,
    )


def _to_signin() -> RedirectResponse:
    return RedirectResponse("/signin", status_code=303)


def _csrf_ok(visitor: Visitor, token: str) -> bool:
    return hmac.compare_digest(visitor.session.csrf.encode(), token.encode())


#: What a page form with a stale or missing token is answered (403).
FORM_EXPIRED = "the form expired: reload the page and try again"


async def form_visitor(
    request: Request, state: AppState, csrf: str | None = None
) -> Visitor | Response:
    """The signed-in visitor who posted a page form with its valid token (``csrf``; read from
    the form when not given), or the answer to give instead: the sign-in page for no session,
    a 403 page for a stale token."""
    visitor = await anyio.to_thread.run_sync(_visitor, request, state)
    if visitor is None:
        return _to_signin()
    if csrf is None:
        csrf = str((await request.form()).get("csrf") or "")
    if not _csrf_ok(visitor, csrf):
        return _error(request, visitor, 403, FORM_EXPIRED)
    return visitor


def _cookie(response: Response, request: Request, name: str, value: str, path: str = "/") -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=path,
    )


@router.get("/")
def home(request: Request, state: StateDep) -> Response:
    """Upload page when signed in, else the sign-in page."""
    return RedirectResponse("/upload" if _visitor(request, state) else "/signin", 303)


@router.get("/signin")
def signin_form(request: Request) -> Response:
    """The sign-in form, with a fresh double-submit CSRF token."""
    token = secrets.token_urlsafe(32)
    response = _page(request, "signin.html", {"visitor": None, "csrf": token, "message": ""})
    _cookie(response, request, SIGNIN_COOKIE, token, "/signin")
    return response


@router.post("/signin")
def signin(
    request: Request,
    state: StateDep,
    key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Check the key; on success open a session and go to the upload page."""
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        return _error(request, None, 403, "the sign-in form expired: reload it and try again")
    address = client_address(request.scope)
    wait = state.limits.auth_blocked(address)
    if wait:  # this address sent too many unknown keys: no more guesses for a while
        refused = _error(request, None, 429, TOO_MANY_FAILURES.format(seconds=wait))
        refused.headers["Retry-After"] = str(wait)
        return refused
    info = key_of_secret(state, key.strip())
    if info is None:
        state.limits.auth_failed(address)
        token = secrets.token_urlsafe(32)
        response = _page(
            request,
            "signin.html",
            {"visitor": None, "csrf": token, "message": "Unknown or revoked key."},
            401,
        )
        _cookie(response, request, SIGNIN_COOKIE, token, "/signin")
        return response
    session_token, _ = state.open_session(info.key_id)
    done = RedirectResponse("/upload", status_code=303)
    _cookie(done, request, SESSION_COOKIE, session_token)
    done.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return done


@router.post("/signout")
def signout(request: Request, state: StateDep) -> Response:
    """End the session, server-side: the cookie's token is forgotten whatever the form says
    (the cookie is SameSite=Strict, so another site's form cannot carry it)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        state.close_session(token)
    response = _to_signin()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/upload")
def upload_form(request: Request, state: StateDep) -> Response:
    """The manifest upload form."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    return _page(request, "upload.html", {"visitor": visitor, "message": "", "as_of": ""})


# POST /upload and the choice of columns: web/pages_upload.py


@router.get("/screenings/{screening_id}")
def screening_page(request: Request, state: StateDep, screening_id: str) -> Response:
    """The results table: flagged lines first, risk colours, reasons, depictions; while a
    big upload is screened, its progress bar (and Cancel)."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    try:
        job = state.jobs.visible(visitor.key, screening_id)
        if job is not None and job.status != jobs.COMPLETE:
            return _page(request, "screening_job.html", {"visitor": visitor, "job": job})
        summary = work.screening_for(state, visitor.key, screening_id)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    work.audit_confidential_screening(state, visitor.key, summary)
    # one page of lines, filtered and sorted server-side (web/results_page.py)
    view = results_view(state, visitor.key, summary, request.query_params)
    return _page(
        request,
        "screening.html",
        {
            "visitor": visitor,
            "summary": summary,
            "rows": view.rows,
            "view": view,
            "omitted": "",
            # a big screening's cross-line alerts take seconds: on a page of their own
            "alerts": (
                []
                if deferred_alerts(summary)
                else screening_alerts_for(state, visitor.key, summary)
            ),
            "alerts_deferred": deferred_alerts(summary),
            "law_day": law_day_text(summary.as_of),
            "law_notices": work.law_notices(state, summary.as_of),
        },
    )


@router.get("/screenings/{screening_id}/report.{fmt}")
async def screening_report(
    request: Request, state: StateDep, screening_id: str, fmt: str
) -> Response:
    """Download the report as csv, xlsx or html (the API's bytes)."""
    visitor = await anyio.to_thread.run_sync(_visitor, request, state)
    if visitor is None:
        return _to_signin()
    try:
        if fmt == "csv":
            return await csv_response(state, visitor.key, screening_id)
        if fmt == "xlsx":
            return await xlsx_response(request, state, visitor.key, screening_id)
        if fmt == "html":
            return await html_response(state, visitor.key, screening_id)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    return _error(request, visitor, 404, f"no report format {fmt[:20]!r}: csv, xlsx or html")


@router.get("/lists")
def lists_page(request: Request, state: StateDep) -> Response:
    """The lists the visitor's role may see."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    return _page(
        request, "lists.html", {"visitor": visitor, "lists": visible_lists(state, visitor.key.role)}
    )


@router.get("/lists/{code}")
def list_page(request: Request, state: StateDep, code: str) -> Response:
    """One list's entries."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    try:
        detail = list_detail(state, code, visitor.key.role)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    if detail.confidential:
        audit_confidential_read(state, visitor.key, "list.read", {"code": detail.code})
    return _page(request, "list.html", {"visitor": visitor, "list": detail})


@router.get("/substances/{key}")
def substance_page(request: Request, state: StateDep, key: str) -> Response:
    """A substance: identifiers, names, list entries and its structure."""
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin()
    try:
        substance, listings = visible_substance(state, key, visitor.key.role)
    except QueryError as exc:
        return _error(request, visitor, 404, str(exc))
    audit_if_confidential(state, visitor.key, substance, listings)

    return _page(
        request,
        "substance.html",
        {
            "visitor": visitor,
            "s": substance,
            "listings": listings,
            "svg": inline_svg(substance_svg(substance)),
        },
    )
