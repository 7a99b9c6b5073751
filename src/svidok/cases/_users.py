"""Casework API: user accounts and API token events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from svidok.cases._base import (
    Base,
    CaseworkError,
    NotFound,
)
from svidok.cases.access import AccessDenied, Actor
from svidok.cases.views import (
    UserView,
)
from svidok.catalog import schema as s


class UserOps(Base):
    """User accounts and the ledger's record of API tokens."""

    # -------------------------------------------------------------------- users
    def add_user(self, actor: Actor, username: str, display_name: str, *, admin: bool) -> UserView:
        if not actor.admin:
            raise AccessDenied("only a system administrator may add users")
        if (
            not username
            or len(username) > 64
            or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
            or not username.isascii()
        ):
            raise CaseworkError("a username is 1-64 ASCII letters, digits, '.', '-' or '_'")
        with self.home.writing(), self._reading() as conn:
            taken = conn.execute(
                select(s.users.c.id).where(func.lower(s.users.c.username) == username.lower())
            ).first()
            if taken is not None:
                raise CaseworkError(f"the username {username!r} is taken")
            user_id = str(uuid.uuid4())
            data = {
                "user": user_id,
                "username": username,
                "display_name": display_name.strip() or username,
                "admin": admin,
            }
            self._write([self._draft("user.create", actor, data)])
        return self.user(user_id)

    def set_user(self, actor: Actor, user_id: str, **changes: Any) -> UserView:
        """Change ``display_name``, ``admin`` or ``disabled``."""
        if not actor.admin:
            raise AccessDenied("only a system administrator may change users")
        allowed = {"display_name", "admin", "disabled"}
        if not changes or not changes.keys() <= allowed:
            raise CaseworkError(f"a user change names some of {sorted(allowed)}")
        with self.home.writing():
            self.user(user_id)
            self._write([self._draft("user.update", actor, {"user": user_id, "changes": changes})])
        return self.user(user_id)

    def user_by_name(self, username: str) -> UserView:
        with self._reading() as conn:
            row = conn.execute(
                select(s.users).where(func.lower(s.users.c.username) == username.lower())
            ).first()
        if row is None:
            raise NotFound(f"no user named {username!r}")
        return UserView.from_row(row)

    def users(self) -> list[UserView]:
        with self._reading() as conn:
            rows = conn.execute(select(s.users).order_by(s.users.c.username)).all()
        return [UserView.from_row(r) for r in rows]

    # ------------------------------------------------------------------- tokens
    def issue_token(
        self, actor: Actor, user_id: str, token_id: str, cases: Sequence[str] | None, expires: str
    ) -> None:
        """Record that an API token was issued (its secret stays in the access store).
        A user issues their own tokens; an administrator any user's. A scope names only
        cases where the user holds a role."""
        if not (actor.admin or actor.user_id == user_id):
            raise AccessDenied("only the user or an administrator may issue their tokens")
        with self.home.writing(), self._reading() as conn:
            user = self.user(user_id)
            if user.disabled:
                raise CaseworkError("that user account is disabled")
            for case_id in cases or ():
                if self._role_of(conn, case_id, user_id) is None:
                    raise CaseworkError(f"the user has no role on case {case_id}")
            data: dict[str, Any] = {
                "token": token_id,
                "user": user_id,
                "cases": sorted(set(cases)) if cases is not None else None,
                "expires": expires,
            }
            self._write([self._draft("token.create", actor, data)])

    def revoke_token(self, actor: Actor, token_id: str) -> None:
        with self.home.writing(), self._reading() as conn:
            row = conn.execute(select(s.api_tokens).where(s.api_tokens.c.id == token_id)).first()
            if row is None or not (actor.admin or actor.user_id == row.user_id):
                raise NotFound("no such token")
            if row.revoked_entry is None:
                self._write([self._draft("token.revoke", actor, {"token": token_id})])
