"""Who is looking at a page: the browser session (the same sessions as the JSON API's, with
the cookie on the whole site), and the CSRF check of every form."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from svidok.api.deps import SESSION_COOKIE, ApiState
from svidok.cases.service import NotFound
from svidok.errors import AuthenticationFailed, CsrfError
from svidok.web.render import Viewer

#: largest form accepted (fields, bytes per field): forms carry text, never files
MAX_FIELDS = 200
MAX_FIELD_BYTES = 256 * 1024


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """The user signed in with a one-time password and must choose their own first."""


def state_of(request: Request) -> ApiState:
    state = request.app.state.svidok
    assert isinstance(state, ApiState)
    return state


def set_session_cookie(response: Response, state: ApiState, cookie: str) -> None:
    """Put the session's cookie on ``response``: for the whole site, as long as a session
    may last, never readable by scripts nor sent from other sites."""
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(state.auth.policy.session_absolute.total_seconds()),
        path="/",
        secure=state.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def _next_of(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer, or None (no cookie, expired, revoked, disabled user)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    state = state_of(request)
    try:
        session = state.auth.get_session(cookie)
        user = state.work.user(str(session.user))
    except (AuthenticationFailed, NotFound):
        return None
    if user.disabled:
        return None
    return Viewer(
        user=user,
        csrf_token=session.csrf_token,
        session_id=session.session_id,
        second_factor=session.second_factor,
        must_change_password=session.must_change_password,
    )


def require_viewer(request: Request, *, allow_password_change: bool = False) -> Viewer:
    viewer = viewer_of(request)
    if viewer is None:
        raise SignInRequired(_next_of(request))
    if viewer.must_change_password and not allow_password_change:
        raise PasswordChangeRequired()
    return viewer


def safe_next(value: Any) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text or "\n" in text:
        return "/cases"
    return text


def sign_in_url(next_path: str) -> str:
    return "/signin?next=" + quote(safe_next(next_path), safe="/")


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, after its CSRF token (field ``csrf_token`` or header
    ``X-CSRF-Token``) was checked against the session's."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except Exception as exc:  # multipart's own errors: malformed or too large
        raise CsrfError("the form could not be read") from exc
    token = form.get("csrf_token") or request.headers.get("x-csrf-token")
    state = state_of(request)
    session = state.auth.get_session(request.cookies.get(SESSION_COOKIE, ""))
    state.auth.check_csrf(session, str(token) if token is not None else None)
    return form
