"""The signed-in user's own account: name, password (also the forced change after signing
in with a one-time password), TOTP second factor, and API tokens.

The JSON API's logic is reused (svidok.api.me): its routes are plain functions called
with the browser session as the caller, and its re-authentication and recording of
token revocations for the password change."""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

from markupsafe import Markup
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from svidok.api.deps import Caller
from svidok.api.errors import ApiError
from svidok.api.me import (
    confirm_totp,
    create_token,
    disable_totp,
    list_tokens,
    reauthenticate,
    record_revocations,
    revoke_token,
    start_totp,
)
from svidok.api.models import TokenCreate, TotpConfirm, TotpDisable, TotpSetup
from svidok.auth.passwords import check_policy
from svidok.cases.service import NotFound
from svidok.errors import LoginThrottled, PasswordPolicyError, TokenPolicyError
from svidok.web import i18n
from svidok.web.common import actor_of, see_other, text
from svidok.web.i18n import N_
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, set_session_cookie, state_of

_WRONG_PASSWORD = N_("The password is not right.")
_THROTTLED = N_("Too many failed attempts. Wait a few minutes and try again.")
#: messages after a change (the page is named by ``?done=``)
DONE = {
    "password": N_(
        "Your password was changed. Your other sessions ended and your API tokens were revoked."
    ),
    "totp-on": N_("Two-factor sign-in is on. From now on, signing in needs a code too."),
    "totp-off": N_("Two-factor sign-in is off."),
    "token-revoked": N_("The API token was revoked."),
}


def _caller(request: Request, viewer: Viewer) -> Caller:
    """The browser session as the JSON API's caller."""
    return Caller(
        actor_of(request, viewer),
        viewer.session_id,
        second_factor=viewer.second_factor,
        must_change_password=viewer.must_change_password,
    )


def _password(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:1024] if isinstance(value, str) else ""


def qr_svg(uri: str) -> Markup:
    """The URI as a QR code, an SVG drawn here (paths only: no script, no style)."""
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=5,
        border=4,
        svgclass="qr",
        lineclass=None,
        omitsize=True,
    )
    svg = out.getvalue().decode("utf-8")
    lowered = svg.lower()
    if not lowered.startswith("<svg") or "<script" in lowered or " on" in lowered:
        raise ValueError("unexpected SVG from the QR code maker")
    return Markup(svg)  # noqa: S704 - made here from a fixed format, checked above


def _account_page(
    request: Request,
    viewer: Viewer,
    *,
    error: str = "",
    enrollment: TotpSetup | None = None,
    issued: Any = None,
    status: int = 200,
) -> Response:
    state = state_of(request)
    caller = _caller(request, viewer)
    user = UUID(viewer.user.id)
    cases = state.work.cases(caller.actor, limit=500).items
    references = {c.id: c.reference for c in cases}
    tokens = list_tokens(state, caller, limit=500, offset=0).items
    done = DONE.get(request.query_params.get("done", ""), "")
    return render(
        request,
        "account.html",
        viewer,
        {
            "section": "account",
            "totp_enabled": state.auth.totp_enabled(user),
            "tokens": tokens,
            "references": references,
            "cases": [c for c in cases if c.role is not None],
            "max_days": state.auth.policy.token_max_lifetime.days,
            "error": error,
            "done": i18n.gettext_(done) if done else "",
            "enrollment": enrollment,
            "qr": qr_svg(enrollment.uri) if enrollment is not None else None,
            "issued": issued,
        },
        status=status,
    )


@router.get("/account")
def account_page(request: Request) -> Response:
    viewer = require_viewer(request)
    return _account_page(request, viewer)


# -- password --------------------------------------------------------------------------


def _password_page(
    request: Request, viewer: Viewer, *, error: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "account_password.html",
        viewer,
        {"section": "account", "forced": viewer.must_change_password, "error": error},
        status=status,
    )


@router.get("/account/password")
def password_page(request: Request) -> Response:
    """Changing the password; the only page open to a user who signed in with a one-time
    password until they have chosen their own."""
    viewer = require_viewer(request, allow_password_change=True)
    return _password_page(request, viewer)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    """The current password once more, the new one twice. Then every session and API
    token of the user ends (revocations recorded in the ledger) and this browser gets a
    new session."""
    viewer = require_viewer(request, allow_password_change=True)
    form = await checked_form(request, viewer)
    current, new = _password(form, "current"), _password(form, "new")
    if new != _password(form, "again"):
        message = i18n.gettext_(N_("The two new passwords are not the same."))
        return _password_page(request, viewer, error=message, status=422)
    state = state_of(request)
    actor = actor_of(request, viewer)
    user = UUID(viewer.user.id)

    def run() -> str:
        reauthenticate(state, request, user, current)
        check_policy(new)
        if new == current:
            raise PasswordPolicyError("the new password must differ from the current one")
        state.auth.set_password(user, new)  # clears the mark of a one-time password
        with state.writing():  # as PUT /api/v1/me/password does
            revoked = [t.token_id for t in state.auth.list_tokens(user) if t.revoked is None]
            state.auth.revoke_all(user)
            started = state.auth.create_session(user, second_factor=viewer.second_factor)
            record_revocations(state, actor, revoked)
        return started.cookie

    try:
        cookie = await run_in_threadpool(run)
    except ApiError:  # the current password is wrong
        return _password_page(request, viewer, error=i18n.gettext_(_WRONG_PASSWORD), status=403)
    except LoginThrottled:
        return _password_page(request, viewer, error=i18n.gettext_(_THROTTLED), status=429)
    except PasswordPolicyError as exc:
        return _password_page(request, viewer, error=str(exc), status=422)
    response = see_other("/account?done=password")
    set_session_cookie(response, state, cookie)
    return response


# -- TOTP ------------------------------------------------------------------------------


@router.post("/account/totp")
async def totp_start(request: Request) -> Response:
    """Start setting up TOTP (password needed): the secret, its URI and a QR code, shown
    this once, and the form to confirm with a code."""
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    caller = _caller(request, viewer)
    try:
        body = TotpDisable(password=_password(form, "password"))
        setup = await run_in_threadpool(start_totp, request, state, caller, Response(), body)
    except (ApiError, ValidationError):
        return _account_page(request, viewer, error=i18n.gettext_(_WRONG_PASSWORD), status=403)
    except LoginThrottled:
        return _account_page(request, viewer, error=i18n.gettext_(_THROTTLED), status=429)
    return _account_page(request, viewer, enrollment=setup)


@router.post("/account/totp/confirm")
async def totp_confirm(request: Request) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    caller = _caller(request, viewer)
    try:
        body = TotpConfirm(code=text(form, "code", limit=16).replace(" ", ""))
        await run_in_threadpool(confirm_totp, state, caller, body)
    except (ApiError, ValidationError):
        message = N_(
            "The code does not match the new secret. Check the clock of your device, or "
            "start the set-up again."
        )
        return _account_page(request, viewer, error=i18n.gettext_(message), status=422)
    return see_other("/account?done=totp-on")


@router.post("/account/totp/disable")
async def totp_disable(request: Request) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    caller = _caller(request, viewer)
    try:
        body = TotpDisable(password=_password(form, "password"))
        await run_in_threadpool(disable_totp, request, state, caller, body)
    except (ApiError, ValidationError):
        return _account_page(request, viewer, error=i18n.gettext_(_WRONG_PASSWORD), status=403)
    except LoginThrottled:
        return _account_page(request, viewer, error=i18n.gettext_(_THROTTLED), status=429)
    return see_other("/account?done=totp-off")


# -- API tokens ------------------------------------------------------------------------


@router.post("/account/tokens")
async def token_create(request: Request) -> Response:
    """A new API token (limited to the cases ticked, else every case of the user); its
    text is shown this once."""
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    caller = _caller(request, viewer)
    chosen = [v for v in form.getlist("cases") if isinstance(v, str)]
    try:
        days = int(text(form, "days", limit=8) or "90")
        body = TokenCreate.model_validate(
            {"cases": [UUID(c) for c in chosen] or None, "days": days}
        )
        issued = await run_in_threadpool(create_token, state, caller, body, Response())
    except (ValueError, ValidationError):
        message = N_("Choose the cases from the list, and a number of days the token lasts.")
        return _account_page(request, viewer, error=i18n.gettext_(message), status=422)
    except TokenPolicyError as exc:
        return _account_page(request, viewer, error=str(exc), status=422)
    return _account_page(request, viewer, issued=issued)


@router.post("/account/tokens/{token_id}/revoke")
async def token_revoke(request: Request, token_id: str) -> Response:
    viewer = require_viewer(request)
    await checked_form(request, viewer)
    state = state_of(request)
    if len(token_id) != 12 or not token_id.isalnum() or not token_id.isascii():
        raise NotFound("no such token")
    await run_in_threadpool(revoke_token, state, _caller(request, viewer), token_id.lower())
    return see_other("/account?done=token-revoked")
