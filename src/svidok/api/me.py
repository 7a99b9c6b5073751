"""The signed-in user's own account: who am I, TOTP second factor, password, API tokens.

Changing a credential (TOTP, password, tokens) needs a browser session: an API token may
read who it is and list its user's tokens, and revoke itself, but not change anything
else. Re-entering the password (to change it, or to turn TOTP off) is throttled like
signing in; a wrong one is ``403 wrong_password`` (the session itself stays valid).
A user signed in with a one-time password may only read ``GET /me`` and change the
password (see :mod:`svidok.api.deps`).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response

from svidok.api.deps import (
    AnyCallerDep,
    ApiState,
    Caller,
    CallerDep,
    PasswordCallerDep,
    SessionCallerDep,
    State,
    client_address,
)
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.models import (
    Limit,
    Me,
    Offset,
    PasswordChange,
    PasswordChanged,
    TokenCreate,
    TokenIssued,
    TokenView,
    TotpConfirm,
    TotpDisable,
    TotpSetup,
)
from svidok.api.session import start_session
from svidok.auth import TokenInfo
from svidok.auth.passwords import check_policy
from svidok.cases.access import AccessDenied, Actor
from svidok.cases.service import NotFound
from svidok.cases.views import Page
from svidok.errors import AuthenticationFailed, PasswordPolicyError

log = logging.getLogger("svidok.api")
router = APIRouter(responses=ERROR_RESPONSES, tags=["me"])

TokenId = Annotated[str, Path(pattern=r"^[a-z0-9]{12}$", description="The token's id")]
_NO_STORE = "no-store"


def _token_view(info: TokenInfo, now: datetime | None = None) -> TokenView:
    when = now if now is not None else datetime.now(UTC)
    return TokenView(
        id=info.token_id,
        cases=None if info.cases is None else sorted(str(c) for c in info.cases),
        created=info.created,
        expires=info.expires,
        revoked=info.revoked,
        live=info.revoked is None and when < info.expires,
    )


def reauthenticate(state: ApiState, request: Request, user: UUID, password: str) -> None:
    """The user's password once more (throttled with sign-in's counters)."""
    try:
        state.auth.check_password(user, password, client=client_address(request))
    except AuthenticationFailed:
        raise ApiError(403, "the password is not right", code="wrong_password") from None


# -- who am I --------------------------------------------------------------------------


@router.get("/me")
def who_am_i(state: State, caller: AnyCallerDep) -> Me:
    """The signed-in user, how they are signed in, whether TOTP is on, and whether the
    password must be changed before anything else."""
    user = caller.user_id
    return Me(
        user=state.work.user(str(user)),
        auth="token" if caller.token is not None else "session",
        totp_enabled=state.auth.totp_enabled(user),
        second_factor=caller.second_factor,
        token=None if caller.token is None else _token_view(caller.token),
        must_change_password=caller.must_change_password,
    )


# -- TOTP ------------------------------------------------------------------------------


@router.post("/me/totp", status_code=201)
def start_totp(
    request: Request,
    state: State,
    caller: SessionCallerDep,
    response: Response,
    body: TotpDisable,
) -> TotpSetup:
    """Start setting up TOTP (the password is needed, so that a stolen session cannot
    lock the owner out with its own authenticator): a new secret, shown this once, as an
    ``otpauth://`` URI (for a QR code) and in base32. Not in force until confirmed.
    Starting again replaces a set-up not yet confirmed; if TOTP is already on, turn it off
    first (409)."""
    reauthenticate(state, request, caller.user_id, body.password)
    enrollment = state.auth.enable_totp(caller.user_id, account=caller.actor.name)
    response.headers["Cache-Control"] = _NO_STORE
    return TotpSetup(uri=enrollment.uri, secret=enrollment.secret)


@router.post("/me/totp/confirm", status_code=204)
def confirm_totp(state: State, caller: SessionCallerDep, body: TotpConfirm) -> Response:
    """Put TOTP in force with a code from the new secret. From now on signing in needs a
    code too. A code that does not match is ``422 wrong_code``."""
    try:
        state.auth.confirm_totp(caller.user_id, body.code)
    except AuthenticationFailed:
        raise ApiError(
            422, "the code does not match the new secret (check the clock)", code="wrong_code"
        ) from None
    return Response(status_code=204)


@router.delete("/me/totp", status_code=204)
def disable_totp(
    request: Request, state: State, caller: SessionCallerDep, body: TotpDisable
) -> Response:
    """Turn TOTP off (or drop a set-up not yet confirmed); needs the password."""
    reauthenticate(state, request, caller.user_id, body.password)
    state.auth.disable_totp(caller.user_id)
    return Response(status_code=204)


# -- password --------------------------------------------------------------------------


@router.put("/me/password")
def change_password(
    request: Request,
    response: Response,
    state: State,
    caller: PasswordCallerDep,
    body: PasswordChange,
) -> PasswordChanged:
    """Change the password (the current one is needed; the new one must differ from it).
    Then every session and API token of the user is revoked, and this client gets a new
    session cookie and CSRF token. A one-time password is replaced this way.

    ``unrecorded_tokens`` names revoked tokens whose revocation the ledger could not take
    (it is recorded later by ``DELETE /me/tokens/{token_id}``); normally empty."""
    user = caller.user_id
    reauthenticate(state, request, user, body.current)
    check_policy(body.new)
    if body.new == body.current:
        raise PasswordPolicyError("the new password must differ from the current one")
    state.auth.set_password(user, body.new)  # clears the mark of a one-time password
    with state.writing():  # no token is issued in between (POST /me/tokens waits)
        revoked = [t.token_id for t in state.auth.list_tokens(user) if t.revoked is None]
        state.auth.revoke_all(user)
        started = start_session(state, response, user, second_factor=caller.second_factor)
        unrecorded = record_revocations(state, caller.actor, revoked)
    return PasswordChanged(
        csrf_token=started.csrf_token, revoked_tokens=revoked, unrecorded_tokens=unrecorded
    )


def record_revocations(state: ApiState, actor: Actor, token_ids: list[str]) -> list[str]:
    """Write each revocation to the ledger; those that failed (the credentials are
    revoked already, so the change stands and the client keeps its new session)."""
    failed = []
    for token_id in token_ids:
        try:
            state.work.revoke_token(actor, token_id)
        except NotFound:
            pass  # issued without a ledger record: nothing to record
        except Exception as exc:
            log.error("revocation of token %s not recorded: %s", token_id, type(exc).__name__)
            failed.append(token_id)
    return failed


# -- API tokens ------------------------------------------------------------------------


@router.get("/me/tokens")
def list_tokens(
    state: State, caller: CallerDep, limit: Limit = 100, offset: Offset = 0
) -> Page[TokenView]:
    """The user's API tokens, live or not, oldest first. Called with a token limited to
    some cases: only tokens limited to those cases too."""
    now = datetime.now(UTC)
    tokens = state.auth.list_tokens(caller.user_id)
    scope = None if caller.token is None else caller.token.cases
    if scope is not None:
        tokens = [t for t in tokens if t.cases is not None and t.cases <= scope]
    views = [_token_view(t, now) for t in tokens]
    return Page(items=views[offset : offset + limit], total=len(views), limit=limit, offset=offset)


@router.post("/me/tokens", status_code=201)
def create_token(
    state: State, caller: SessionCallerDep, body: TokenCreate, response: Response
) -> TokenIssued:
    """A new API token of the user, limited to ``cases`` (each one the user holds a role
    on; ``null``: every case the user may reach) and expiring after ``days``. Its text
    is in the answer this once, and stored only as a hash. The ledger records it."""
    user = caller.user_id
    scope = None if body.cases is None else sorted({str(c) for c in body.cases})
    for case in scope or ():
        if state.work.case(caller.actor, case).role is None:
            raise AccessDenied("no such case, or no role on it")
    with state.writing():
        info, text = state.auth.create_token(
            user, None if scope is None else [UUID(c) for c in scope], timedelta(days=body.days)
        )
        try:
            state.work.issue_token(
                caller.actor,
                str(user),
                info.token_id,
                scope,
                info.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        except BaseException:
            state.auth.revoke_token(info.token_id)  # never a live token the ledger lacks
            raise
    response.headers["Cache-Control"] = _NO_STORE
    return TokenIssued(token=text, **_token_view(info).model_dump())


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(state: State, caller: CallerDep, token_id: TokenId) -> Response:
    """Revoke one of the user's API tokens at once (again: records a revocation the
    ledger missed). An API token may revoke itself, no other."""
    _may_revoke(caller, token_id)
    if not any(t.token_id == token_id for t in state.auth.list_tokens(caller.user_id)):
        raise NotFound("no such token")
    state.auth.revoke_token(token_id)
    with state.writing(), suppress(NotFound):  # NotFound: issued without a ledger record
        state.work.revoke_token(caller.actor, token_id)
    return Response(status_code=204)


def _may_revoke(caller: Caller, token_id: str) -> None:
    if caller.token is not None and caller.token.token_id != token_id:
        raise ApiError(403, "an API token may revoke only itself; sign in to manage tokens")
