"""Request bodies and the few response shapes the casework views do not already give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from svidok.cases.access import Role
from svidok.cases.views import AssessmentStatus, UserView

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many results")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Skip this many results")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_Body):
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,79}$")]
    title: Annotated[str, Field(min_length=1, max_length=500)]
    description: Annotated[str, Field(max_length=20_000)] = ""


class Changes(_Body):
    """Fields to change (``null`` clears one), made against ``version`` if given."""

    changes: dict[str, Any]
    version: Annotated[int, Field(ge=1, le=2**62)] | None = None


class MemberGrant(_Body):
    role: Role


class MemberView(BaseModel):
    user: UserView
    role: Role


class UserCreate(_Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: Annotated[str, Field(max_length=200)] = ""
    admin: bool = False
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class UserChange(_Body):
    """Some of: the name shown, administrator or not, disabled or not. Disabling ends
    every session and revokes every API token of the user."""

    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    admin: bool | None = None
    disabled: bool | None = None


class PasswordReset(_Body):
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LinkCreate(_Body):
    kind: Annotated[str, Field(max_length=40)]
    from_id: Annotated[str, Field(max_length=36)]
    to_id: Annotated[str, Field(max_length=36)]
    role: Annotated[str, Field(max_length=2000)] = ""


class AssessmentCreate(_Body):
    to: AssessmentStatus
    rationale: Annotated[str, Field(min_length=1, max_length=20_000)]


class AssessmentView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    entry: int
    from_status: str = Field(alias="from")
    to_status: str = Field(alias="to")
    rationale: str
    by: str
    time: str


class Login(_Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    totp: Annotated[str, Field(max_length=16)] | None = None


class SessionStarted(BaseModel):
    csrf_token: str
    user: str
    second_factor: bool
    must_change_password: bool = False  # a one-time password: change it before anything


class CheckpointView(BaseModel):
    origin: str
    size: int
    root_hash: str  # base64, as in the note
    note: str  # the signed note (C2SP tlog-checkpoint)


class VerifyStatus(BaseModel):
    verified: bool  # whether any verification was ever recorded
    entry: int | None = None
    result: str | None = None
    problems: int | None = None
    tree_size: int | None = None
    ledger_size: int


# -- the signed-in user's own account (svidok.api.me) ----------------------------------

_Password = Annotated[str, Field(min_length=1, max_length=1024)]


class TokenView(BaseModel):
    """An API token's description (never its secret). ``cases``: its scope, or ``null``
    for every case the user may reach."""

    id: str
    cases: list[str] | None
    created: datetime
    expires: datetime
    revoked: datetime | None
    live: bool  # neither revoked nor expired


class TokenIssued(TokenView):
    token: str  # the token's text: shown this once, stored only as a hash


class TokenCreate(_Body):
    cases: Annotated[list[UUID], Field(min_length=1, max_length=100)] | None = None
    days: Annotated[int, Field(ge=1, le=3650)] = 90  # the auth policy sets the maximum


class Me(BaseModel):
    user: UserView
    auth: Literal["session", "token"]
    totp_enabled: bool
    second_factor: bool  # this session was signed in with a TOTP code
    token: TokenView | None = None  # the API token in use, if any
    must_change_password: bool = False  # only PUT /me/password and sign-out until changed


class TotpSetup(BaseModel):
    """A new TOTP secret, shown once: enter it (or scan the URI as a QR code) in an
    authenticator app, then confirm with a code from the app."""

    uri: str
    secret: str


class TotpConfirm(_Body):
    code: Annotated[str, Field(min_length=1, max_length=16)]


class TotpDisable(_Body):
    """The account's password, asked again to start or to turn off TOTP."""

    password: _Password


class PasswordChange(_Body):
    current: _Password
    new: _Password


class PasswordChanged(BaseModel):
    """Every other session and every API token of the user was revoked; this client has
    a new session cookie and this CSRF token."""

    csrf_token: str
    revoked_tokens: list[str]  # ids of the API tokens revoked
    unrecorded_tokens: list[str] = []  # of those, any whose revocation the ledger lacks
