"""Browser sessions: sign in (password, then TOTP if enabled) and sign out."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response

from svidok.api.deps import SESSION_COOKIE, AnyCallerDep, ApiState, State, client_address
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.models import Login, SessionStarted
from svidok.auth import NewSession
from svidok.cases.service import NotFound
from svidok.errors import AuthenticationFailed

router = APIRouter(responses=ERROR_RESPONSES, tags=["session"])
_FAILED = "authentication failed"


def start_session(
    state: ApiState, response: Response, user_id: UUID, *, second_factor: bool
) -> NewSession:
    """A new session for ``user_id``, its cookie set on ``response`` (Secure, HttpOnly,
    SameSite=Strict). The caller hands its CSRF token to the client."""
    started = state.auth.create_session(user_id, second_factor=second_factor)
    response.set_cookie(
        SESSION_COOKIE,
        started.cookie,
        max_age=int(state.auth.policy.session_absolute.total_seconds()),
        path="/api",
        secure=state.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return started


@router.post("/session", status_code=201)
def sign_in(request: Request, response: Response, state: State, body: Login) -> SessionStarted:
    """Sign in. Sets the session cookie (Secure, HttpOnly, SameSite=Strict) and returns the
    CSRF token to send as ``X-CSRF-Token`` with every change. Failures are throttled.

    ``must_change_password``: the password was a one-time password; until it is changed
    (``PUT /me/password``) every route but ``GET /me``, that one and signing out answers
    ``403 password_change_required``."""
    client = client_address(request)
    try:
        user = state.work.user_by_name(body.username)
        user_id, name, disabled = UUID(user.id), user.username, user.disabled
    except NotFound:
        user_id, name, disabled = (
            uuid4(),
            "",
            True,
        )  # same time, same counters
    accepted = state.auth.check_password(user_id, body.password, client=client)
    if disabled:
        raise AuthenticationFailed(_FAILED)
    if accepted.totp_required:
        if not body.totp:
            raise ApiError(401, "a TOTP code is needed", code="totp_required")
        state.auth.check_totp(user_id, body.totp, client=client)
    started = start_session(state, response, user_id, second_factor=accepted.totp_required)
    return SessionStarted(
        csrf_token=started.csrf_token,
        user=name,
        second_factor=accepted.totp_required,
        must_change_password=accepted.must_change,
    )


@router.delete("/session", status_code=204)
def sign_out(state: State, caller: AnyCallerDep) -> Response:
    """End this browser session (nothing to do for an API token)."""
    if caller.session_id is not None:
        state.auth.revoke_session(caller.session_id)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/api", secure=True, httponly=True, samesite="strict"
    )
    return response
