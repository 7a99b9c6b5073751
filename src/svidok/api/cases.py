"""Cases, their members, and user accounts (administrators only)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from svidok.api.deps import ActorDep, AdminDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES
from svidok.api.models import (
    CaseCreate,
    Changes,
    Limit,
    MemberGrant,
    MemberView,
    Offset,
    PasswordReset,
    UserChange,
    UserCreate,
)
from svidok.cases.access import Actor
from svidok.cases.service import CaseworkError, NotFound
from svidok.cases.views import CaseView, Page, UserView

router = APIRouter(responses=ERROR_RESPONSES)


@router.get("/cases", tags=["cases"])
def list_cases(
    state: State, actor: ActorDep, limit: Limit = 100, offset: Offset = 0
) -> Page[CaseView]:
    """The cases the caller holds a role on (within the token's scope)."""
    return state.work.cases(actor, limit=limit, offset=offset)


@router.post("/cases", status_code=201, tags=["cases"])
def create_case(state: State, actor: ActorDep, body: CaseCreate) -> CaseView:
    """A new case; the caller becomes its owner."""
    with state.writing():
        return state.work.create_case(actor, body.model_dump())


@router.get("/cases/{case}", tags=["cases"])
def get_case(state: State, actor: ActorDep, case: UUID) -> CaseView:
    return state.work.case(actor, str(case))


@router.patch("/cases/{case}", tags=["cases"])
def update_case(state: State, actor: ActorDep, case: UUID, body: Changes) -> CaseView:
    with state.writing():
        return state.work.update_case(actor, str(case), body.changes, version=body.version)


def _members(state: State, actor: ActorDep, case: UUID) -> list[MemberView]:
    return [MemberView(user=u, role=r) for u, r in state.work.members(actor, str(case))]


@router.get("/cases/{case}/members", tags=["members"])
def list_members(
    state: State, actor: ActorDep, case: UUID, limit: Limit = 100, offset: Offset = 0
) -> Page[MemberView]:
    members = _members(state, actor, case)
    return Page(
        items=members[offset : offset + limit], total=len(members), limit=limit, offset=offset
    )


@router.get("/cases/{case}/members/{user}", tags=["members"])
def get_member(state: State, actor: ActorDep, case: UUID, user: UUID) -> MemberView:
    for member in _members(state, actor, case):
        if member.user.id == str(user):
            return member
    raise NotFound("that user has no role on this case")


@router.put("/cases/{case}/members/{user}", tags=["members"])
def put_member(
    state: State, actor: ActorDep, case: UUID, user: UUID, body: MemberGrant
) -> MemberView:
    """Give the user this role on the case (replacing any role they had)."""
    with state.writing():
        state.work.grant(actor, str(case), str(user), body.role)
    return get_member(state, actor, case, user)


@router.delete("/cases/{case}/members/{user}", status_code=204, tags=["members"])
def delete_member(state: State, actor: ActorDep, case: UUID, user: UUID) -> Response:
    with state.writing():
        state.work.revoke(actor, str(case), str(user))
    return Response(status_code=204)


@router.get("/users", tags=["users"])
def list_users(
    state: State, _admin: AdminDep, limit: Limit = 100, offset: Offset = 0
) -> Page[UserView]:
    users = state.work.users()
    return Page(items=users[offset : offset + limit], total=len(users), limit=limit, offset=offset)


@router.post("/users", status_code=201, tags=["users"])
def create_user(state: State, admin: AdminDep, body: UserCreate) -> UserView:
    """A new user account with a password (stored only as an Argon2id hash)."""
    from svidok.auth.passwords import check_policy

    check_policy(body.password)  # before anything is written
    with state.writing():
        user = state.work.add_user(
            admin, body.username, body.display_name or body.username, admin=body.admin
        )
    state.auth.set_password(UUID(user.id), body.password)
    return user


@router.get("/users/{user}", tags=["users"])
def get_user(state: State, _admin: AdminDep, user: UUID) -> UserView:
    return state.work.user(str(user))


def _end_access(state: ApiState, admin: Actor, user: UUID) -> None:
    """Every session and API token of the user ends; the token revocations are recorded."""
    live = [t.token_id for t in state.auth.list_tokens(user) if t.revoked is None]
    state.auth.revoke_all(user)
    with state.writing():
        for token_id in live:
            state.work.revoke_token(admin, token_id)


@router.patch("/users/{user}", tags=["users"])
def change_user(state: State, admin: AdminDep, user: UUID, body: UserChange) -> UserView:
    """Change a user's name shown, administrator flag or disabled flag (a ``user.update``
    entry). Disabling ends the user's sessions and revokes their API tokens at once."""
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise CaseworkError("name at least one of display_name, admin, disabled")
    if str(user) == admin.user_id and (changes.get("disabled") or changes.get("admin") is False):
        raise CaseworkError("administrators cannot disable themselves or drop their own role")
    with state.writing():
        view = state.work.set_user(admin, str(user), **changes)
    if changes.get("disabled"):
        _end_access(state, admin, user)
    return view


@router.put("/users/{user}/password", status_code=204, tags=["users"])
def reset_password(state: State, admin: AdminDep, user: UUID, body: PasswordReset) -> Response:
    """Set a new password for a user (who has forgotten theirs, or whose account may be in
    other hands): every session and API token of the user ends."""
    from svidok.auth.passwords import check_policy

    check_policy(body.password)
    state.work.user(str(user))  # 404 for an unknown user, before anything changes
    state.auth.set_password(user, body.password)
    _end_access(state, admin, user)
    return Response(status_code=204)
