"""Administration (system administrators only; everyone else 403): users (add with a
one-time password shown once, disable, enable, reset the password), roles on every case,
and every user's API tokens.

Being an administrator manages accounts and roles, not evidence: the case pages stay
closed to an administrator without a role on the case (the service decides; see
svidok.cases.access)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from svidok.api.cases import change_user
from svidok.api.me import record_revocations
from svidok.api.models import UserChange
from svidok.auth import TokenInfo
from svidok.cases.access import Role
from svidok.cases.service import CaseworkError, NotFound
from svidok.cases.views import CaseView, Page, UserView
from svidok.catalog import schema as s
from svidok.errors import AccessDenied
from svidok.web import i18n
from svidok.web.common import PAGE_SIZE, actor_of, page_offset, see_other, text
from svidok.web.i18n import N_
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, state_of

ROLES = [r.value for r in Role]
_TOKEN_ID = re.compile(r"^[a-z0-9]{12}$")


def require_admin(request: Request) -> Viewer:
    """The signed-in viewer, if a system administrator; AccessDenied (403) otherwise."""
    viewer = require_viewer(request)
    if not viewer.user.admin:
        raise AccessDenied("only a system administrator may do this")
    return viewer


def _user_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound("no such user") from None


# -- users -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    user: UserView
    totp: bool
    must_change: bool
    live_tokens: int


def _user_rows(state: Any) -> list[UserRow]:
    now = datetime.now(UTC)
    rows = []
    for user in state.work.users():
        uid = UUID(user.id)
        tokens = state.auth.list_tokens(uid)
        rows.append(
            UserRow(
                user=user,
                totp=state.auth.totp_enabled(uid),
                must_change=state.auth.must_change_password(uid),
                live_tokens=sum(1 for t in tokens if t.revoked is None and now < t.expires),
            )
        )
    return rows


def _users_page(
    request: Request,
    viewer: Viewer,
    *,
    error: str = "",
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin.html",
        viewer,
        {
            "section": "admin",
            "tab": "users",
            "rows": _user_rows(state_of(request)),
            "error": error,
            "form": form or {},
        },
        status=status,
    )


@router.get("/admin")
def admin_users(request: Request) -> Response:
    viewer = require_admin(request)
    return _users_page(request, viewer)


def _one_time_password_page(
    request: Request, viewer: Viewer, user: UserView, password: str, *, new: bool
) -> Response:
    """The one-time password, shown this once (the page is never cached)."""
    return render(
        request,
        "admin_password.html",
        viewer,
        {"section": "admin", "tab": "users", "target": user, "password": password, "new": new},
    )


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    viewer = require_admin(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    actor = actor_of(request, viewer)
    username = text(form, "username", limit=64)
    display_name = text(form, "display_name", limit=200)
    admin = form.get("admin") == "on"

    def run() -> tuple[UserView, str]:
        with state.writing():
            user = state.work.add_user(actor, username, display_name or username, admin=admin)
        issued = state.auth.issue_one_time_password(UUID(user.id))
        return user, issued.password

    try:
        user, password = await run_in_threadpool(run)
    except CaseworkError as exc:
        fields = {"username": username, "display_name": display_name, "admin": admin}
        return _users_page(request, viewer, error=str(exc), form=fields, status=422)
    return _one_time_password_page(request, viewer, user, password, new=True)


@router.post("/admin/users/{user}/password")
async def reset_password(request: Request, user: str) -> Response:
    """A new one-time password for the user; every session and API token of theirs ends
    (the token revocations are recorded in the ledger)."""
    viewer = require_admin(request)
    await checked_form(request, viewer)
    state = state_of(request)
    actor = actor_of(request, viewer)
    uid = _user_id(user)
    target = state.work.user(str(uid))
    if target.id == viewer.user.id:
        raise CaseworkError(
            "administrators change their own password on their account page, not here"
        )

    def run() -> str:
        issued = state.auth.issue_one_time_password(uid)
        with state.writing():
            record_revocations(state, actor, list(issued.revoked_tokens))
        return issued.password

    password = await run_in_threadpool(run)
    return _one_time_password_page(request, viewer, target, password, new=False)


async def _set_disabled(request: Request, user: str, disabled: bool) -> Response:
    viewer = require_admin(request)
    await checked_form(request, viewer)
    state = state_of(request)
    actor = actor_of(request, viewer)
    uid = _user_id(user)
    # the JSON API's own route: refuses to disable oneself; disabling ends every session
    # and API token of the user, recorded in the ledger
    await run_in_threadpool(change_user, state, actor, uid, UserChange(disabled=disabled))
    return see_other("/admin")


@router.post("/admin/users/{user}/disable")
async def disable_user(request: Request, user: str) -> Response:
    return await _set_disabled(request, user, True)


@router.post("/admin/users/{user}/enable")
async def enable_user(request: Request, user: str) -> Response:
    return await _set_disabled(request, user, False)


# -- roles on cases --------------------------------------------------------------------


def _all_cases(state: Any, actor: Any, offset: int) -> Page[CaseView]:
    """Every case, as the service shows it to an administrator (who manages its roles
    whether or not they hold one)."""
    with state.home.catalog.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(s.cases)).scalar_one()
        ids = (
            conn.execute(
                select(s.cases.c.id).order_by(s.cases.c.reference).limit(PAGE_SIZE).offset(offset)
            )
            .scalars()
            .all()
        )
    views = [state.work.case(actor, str(case_id)) for case_id in ids]
    return Page(items=views, total=total, limit=PAGE_SIZE, offset=offset)


@router.get("/admin/cases")
def admin_cases(request: Request) -> Response:
    viewer = require_admin(request)
    state = state_of(request)
    page = _all_cases(state, actor_of(request, viewer), page_offset(request))
    return render(
        request,
        "admin_cases.html",
        viewer,
        {"section": "admin", "tab": "cases", "page": page, "query": ""},
    )


def _case_page(
    request: Request, viewer: Viewer, case_id: str, *, error: str = "", status: int = 200
) -> Response:
    state = state_of(request)
    actor = actor_of(request, viewer)
    case = state.work.case(actor, case_id)
    members = state.work.members(actor, case.id)
    member_ids = {user.id for user, _role in members}
    candidates = [u for u in state.work.users() if not u.disabled and u.id not in member_ids]
    return render(
        request,
        "admin_case.html",
        viewer,
        {
            "section": "admin",
            "tab": "cases",
            "managed": case,
            "members": members,
            "candidates": candidates,
            "roles": ROLES,
            "error": error,
        },
        status=status,
    )


def _case_id(value: str) -> str:
    try:
        return str(UUID(value))
    except ValueError:
        raise AccessDenied("no such case, or no access to it") from None


@router.get("/admin/cases/{case}")
def admin_case(request: Request, case: str) -> Response:
    viewer = require_admin(request)
    return _case_page(request, viewer, _case_id(case))


async def _change_role(request: Request, case: str, user: str, grant: bool) -> Response:
    viewer = require_admin(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    actor = actor_of(request, viewer)
    case_id = _case_id(case)
    target = user or text(form, "user", limit=64)
    role = text(form, "role", limit=32)

    def run() -> None:
        with state.writing():
            if grant:
                state.work.grant(actor, case_id, str(_user_id(target)), role)
            else:
                state.work.revoke(actor, case_id, str(_user_id(target)))

    try:
        await run_in_threadpool(run)
    except ValueError:  # not a role
        message = i18n.gettext_(N_("Choose one of the roles."))
        return _case_page(request, viewer, case_id, error=message, status=422)
    except NotFound:
        raise
    except CaseworkError as exc:  # the last owner, a disabled account...
        return _case_page(request, viewer, case_id, error=str(exc), status=422)
    return see_other(f"/admin/cases/{case_id}")


@router.post("/admin/cases/{case}/members")
async def grant_role(request: Request, case: str) -> Response:
    return await _change_role(request, case, "", True)


@router.post("/admin/cases/{case}/members/{user}/revoke")
async def revoke_role(request: Request, case: str, user: str) -> Response:
    return await _change_role(request, case, user, False)


# -- API tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    user: UserView
    token: TokenInfo
    scope: list[str] | None  # case references (or ids of cases no longer found)
    live: bool


def _references(state: Any) -> dict[str, str]:
    with state.home.catalog.engine.connect() as conn:
        rows = conn.execute(select(s.cases.c.id, s.cases.c.reference)).all()
    return {str(r.id): str(r.reference) for r in rows}


def _token_rows(state: Any) -> list[TokenRow]:
    now = datetime.now(UTC)
    refs = _references(state)
    rows = []
    for user in state.work.users():
        for info in state.auth.list_tokens(UUID(user.id)):
            scope = (
                None if info.cases is None else sorted(refs.get(str(c), str(c)) for c in info.cases)
            )
            live = info.revoked is None and now < info.expires
            rows.append(TokenRow(user, info, scope, live))
    rows.sort(key=lambda r: (not r.live, r.user.username, r.token.created))
    return rows


@router.get("/admin/tokens")
def admin_tokens(request: Request) -> Response:
    viewer = require_admin(request)
    every = request.query_params.get("all") == "1"
    rows = _token_rows(state_of(request))
    if not every:
        rows = [r for r in rows if r.live]
    offset = page_offset(request)
    page = Page(
        items=rows[offset : offset + PAGE_SIZE], total=len(rows), limit=PAGE_SIZE, offset=offset
    )
    return render(
        request,
        "admin_tokens.html",
        viewer,
        {
            "section": "admin",
            "tab": "tokens",
            "page": page,
            "every": every,
            "query": "all=1" if every else "",
        },
    )


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str) -> Response:
    """Revoke any user's API token at once; the revocation is recorded in the ledger."""
    viewer = require_admin(request)
    await checked_form(request, viewer)
    state = state_of(request)
    actor = actor_of(request, viewer)
    if not _TOKEN_ID.match(token_id):
        raise NotFound("no such token")

    def run() -> list[str]:
        if not any(r.token.token_id == token_id for r in _token_rows(state)):
            raise NotFound("no such token")
        state.auth.revoke_token(token_id)
        with state.writing():
            return record_revocations(state, actor, [token_id])

    unrecorded = await run_in_threadpool(run)
    if unrecorded:
        raise CaseworkError("the token was revoked, but the ledger could not record it: try again")
    return see_other("/admin/tokens")
