"""The application's state and who is calling: a Bearer API token, or a session cookie
(with its CSRF token on every unsafe method). Anything else is anonymous: refused.

A user whose password is a one-time password (``svidok demo``, ``svidok user
reset-password``) may only see who they are (``GET /me``), change the password and sign
out: every other route answers ``403 password_change_required``, with a session and with
an API token alike (:data:`CallerDep` refuses; :data:`AnyCallerDep` lets them through)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from svidok.api.errors import ApiError
from svidok.auth import TokenInfo
from svidok.auth.store import AuthStore
from svidok.cases.access import Actor
from svidok.cases.service import Casework, NotFound
from svidok.errors import AuthenticationFailed
from svidok.home import Home

if TYPE_CHECKING:
    from svidok.derive.jobs import PreviewJobs

SESSION_COOKIE = "svidok_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_UPLOAD_LIMIT = 8 << 30  # bytes


@dataclass
class ApiState:
    """What every request works with: one open data home, its casework API and auth store.

    The ledger's writer lock (``Ledger.locked``) keeps processes and this process's
    threads apart for each write. :meth:`writing` serialises whole changes of several
    steps (intake and the item that names it); a long export takes only the ledger lock,
    for its one entry, so it never holds up other requests while its package is built.
    """

    home: Home
    work: Casework
    auth: AuthStore
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    staging_dir: Path | None = None  # None: the system's temporary folder
    secure_cookies: bool = True
    previews: PreviewJobs | None = None  # the background preview maker (svidok serve)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            yield


def get_state(request: Request) -> ApiState:
    state = request.app.state.svidok
    assert isinstance(state, ApiState)
    return state


State = Annotated[ApiState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False, description="An API token (svidok token create)")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="A browser session")
_csrf = APIKeyHeader(
    name=CSRF_HEADER, auto_error=False, description="The session's CSRF token (unsafe methods)"
)


@dataclass(frozen=True)
class Caller:
    actor: Actor
    session_id: str | None = None  # set when signed in with a browser session
    second_factor: bool = False  # the session was signed in with a TOTP code too
    token: TokenInfo | None = None  # set when calling with an API token
    must_change_password: bool = False  # the password is a one-time password

    @property
    def user_id(self) -> UUID:
        assert self.actor.user_id is not None  # API callers are always users
        return UUID(self.actor.user_id)


def client_address(request: Request) -> str:
    """The caller's address, the key of per-client throttling."""
    return request.client.host if request.client is not None else "unknown"


def _actor_for(state: ApiState, user_id: UUID, cases: frozenset[str] | None) -> Actor:
    try:
        user = state.work.user(str(user_id))
    except NotFound:
        raise AuthenticationFailed("credentials not accepted") from None
    if user.disabled:
        raise AuthenticationFailed("credentials not accepted")
    return Actor(name=user.username, user_id=user.id, admin=user.admin, cases=cases)


def get_any_caller(
    request: Request,
    state: State,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
    csrf: Annotated[str | None, Depends(_csrf)],
) -> Caller:
    """The caller, even one who must change their password first."""
    if bearer is not None:
        info = state.auth.authenticate_token(bearer.credentials)
        scope = None if info.cases is None else frozenset(str(c) for c in info.cases)
        return Caller(
            _actor_for(state, info.user, scope),
            token=info,
            must_change_password=state.auth.must_change_password(info.user),
        )
    if cookie:
        session = state.auth.get_session(cookie)
        if request.method not in SAFE_METHODS:
            state.auth.check_csrf(session, csrf)
        return Caller(
            _actor_for(state, session.user, None),
            session.session_id,
            second_factor=session.second_factor,
            must_change_password=session.must_change_password,
        )
    raise ApiError(401, "sign in or give an API token", headers={"WWW-Authenticate": "Bearer"})


AnyCallerDep = Annotated[Caller, Depends(get_any_caller)]
PASSWORD_CHANGE_REQUIRED = "password_change_required"  # noqa: S105 - an error code


def get_caller(caller: AnyCallerDep) -> Caller:
    """The caller, unless their password is a one-time password not yet changed."""
    if caller.must_change_password:
        raise ApiError(
            403,
            "choose your own password first (PUT /api/v1/me/password): "
            "the one you signed in with was for one use",
            code=PASSWORD_CHANGE_REQUIRED,
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def _session_only(caller: Caller) -> Caller:
    if caller.session_id is None:
        raise ApiError(403, "only a signed-in browser session may do this, not an API token")
    return caller


def get_session_caller(caller: CallerDep) -> Caller:
    """The caller, if signed in with a browser session: an API token may not change the
    account's credentials (password, second factor, tokens)."""
    return _session_only(caller)


SessionCallerDep = Annotated[Caller, Depends(get_session_caller)]


def get_password_caller(caller: AnyCallerDep) -> Caller:
    """The caller changing their password: a browser session, one-time password or not."""
    return _session_only(caller)


PasswordCallerDep = Annotated[Caller, Depends(get_password_caller)]


def get_actor(caller: CallerDep) -> Actor:
    return caller.actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_admin(actor: ActorDep) -> Actor:
    if not actor.admin:
        raise ApiError(403, "only a system administrator may do this")
    return actor


AdminDep = Annotated[Actor, Depends(get_admin)]
