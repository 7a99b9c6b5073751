"""Mount the web app on the API's FastAPI application: pages, static files, the security
headers, the reader's language and error pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from svidok.cases.access import AccessDenied as CaseAccessDenied
from svidok.errors import AccessDenied, CsrfError
from svidok.web import evidence, i18n
from svidok.web.common import see_other
from svidok.web.i18n import N_
from svidok.web.render import STATIC, render
from svidok.web.security import SecurityHeaders
from svidok.web.session import (
    PasswordChangeRequired,
    SignInRequired,
    sign_in_url,
    viewer_of,
)

log = logging.getLogger("svidok.web")

_TITLES = {
    400: N_("The request could not be understood"),
    401: N_("Please sign in"),
    403: N_("Access denied"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Busy: try again in a moment"),
}


class Language:
    """ASGI middleware: the language of this request's pages (cookie, else the browser's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            i18n.set_language(
                i18n.negotiate(
                    request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language")
                )
            )
        await self.app(scope, receive, send)


def error_page(request: Request, status: int, message: str, exc: Exception) -> Response:
    if isinstance(exc, CsrfError):
        message = i18n.gettext_(N_("The form had expired. Go back, reload the page and try again."))
    elif isinstance(exc, AccessDenied | CaseAccessDenied):
        # the service's refusals never say whether a thing exists, and may say why
        message = i18n.gettext_(str(exc)) if str(exc) else ""
        if not message or message.startswith("no such"):
            message = i18n.gettext_(N_("You have no access to this, or it does not exist."))
    elif status >= 500:
        message = i18n.gettext_(
            N_("The request could not be carried out. Nothing was changed by it.")
        )
    title = i18n.gettext_(_TITLES.get(status, N_("Something went wrong")))
    viewer = None
    try:
        viewer = viewer_of(request)
    except Exception:  # the error page must render even when the session store fails
        viewer = None
    return render(
        request,
        "error.html",
        viewer,
        {"status": status, "title": title, "message": message},
        status=status,
    )


def mount(app: FastAPI, *, tiles_origin: str | None = None) -> None:
    """Add the web app's pages to ``app`` (whose state holds the open data home)."""
    from svidok.web import (  # noqa: F401 - each module adds its routes to the router
        pages_account,
        pages_actions,
        pages_admin,
        pages_capture,
        pages_core,
        pages_duplicates,
        pages_export,
        pages_geo,
        pages_incidents,
        pages_items,
        pages_ledger,
        pages_people,
        pages_registry,
        pages_review,
        pages_search,
    )
    from svidok.web.router import router

    app.state.web_error = error_page
    app.state.web_views = evidence.Recent[float]()  # views recorded lately, by user and item

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": sign_in_url(exc.next_path)})
        return see_other(sign_in_url(exc.next_path))

    async def change_password_first(request: Request, exc: Exception) -> Response:
        return see_other("/account/password")

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(PasswordChangeRequired, change_password_first)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.add_middleware(Language)
    app.add_middleware(SecurityHeaders, tiles_origin=tiles_origin)
