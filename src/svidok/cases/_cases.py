"""Casework API: cases and their members."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from svidok.cases._base import (
    Base,
    CaseworkError,
    Conflict,
    NotFound,
    _diff,
    _limit,
)
from svidok.cases.access import AccessDenied, Actor, Permission, Role
from svidok.cases.fields import (
    CaseFields,
)
from svidok.cases.views import (
    CaseView,
    Page,
    UserView,
)
from svidok.catalog import schema as s
from svidok.catalog.casework import doc_of, find_case_id, merged


class CaseOps(Base):
    """Cases and who holds which role on them."""

    # -------------------------------------------------------------------- cases
    def create_case(self, actor: Actor, fields: Mapping[str, Any]) -> CaseView:
        """A new case; its creator becomes its owner. Not with an API token limited to
        some cases (it could not reach the new one)."""
        if actor.cases is not None:
            raise AccessDenied("an API token limited to some cases cannot create a case")
        doc = self._validate("case", fields)
        with self.home.writing(), self._reading() as conn:
            ref = CaseFields.model_validate(doc).reference
            clash = conn.execute(
                select(s.cases.c.id).where(func.lower(s.cases.c.reference) == ref.lower())
            ).first()
            if clash is not None:
                raise CaseworkError(f"a case with the reference {ref!r} exists")
            case_id = str(uuid.uuid4())
            drafts = [self._draft("case.create", actor, {"case": case_id, "fields": doc})]
            if actor.user_id is not None:
                grant = {"case": case_id, "user": actor.user_id, "role": Role.OWNER.value}
                drafts.append(self._draft("member.grant", actor, grant))
            self._write(drafts)
        return self.case(actor, case_id)

    def update_case(
        self, actor: Actor, case_id: str, changes: Mapping[str, Any], version: int | None = None
    ) -> CaseView:
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.MANAGE)
            row = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).one()
            if version is not None and row.version != version:
                raise Conflict(f"the case is at version {row.version}, not {version}")
            doc = self._validate("case", merged(doc_of(row.doc), changes))
            ref = doc["reference"]
            clash = conn.execute(
                select(s.cases.c.id).where(
                    func.lower(s.cases.c.reference) == ref.lower(), s.cases.c.id != case_id
                )
            ).first()
            if clash is not None:
                raise CaseworkError(f"a case with the reference {ref!r} exists")
            old = doc_of(row.doc)
            changed = {k: doc.get(k) for k in _diff(old, doc)}
            data = {"case": case_id, "version": row.version, "changes": changed}
            self._write([self._draft("case.update", actor, data)])
        return self.case(actor, case_id)

    def case(self, actor: Actor, case_id: str) -> CaseView:
        """The case itself (to its members, and to administrators who manage it)."""
        with self._reading() as conn:
            granted = self.allowed(conn, actor, case_id)
            if not granted:
                raise AccessDenied("no such case, or no access to it")
            row = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).one()
            role = self._role(conn, actor, case_id)
        return CaseView.from_row(row, role=role, permissions=granted)

    def find_case(self, actor: Actor, key: str) -> CaseView:
        """A case by UUID or by reference."""
        with self._reading() as conn:
            case_id = find_case_id(conn, key)
        if case_id is None:
            raise AccessDenied("no such case, or no access to it")
        return self.case(actor, case_id)

    def cases(self, actor: Actor, *, limit: int = 100, offset: int = 0) -> Page[CaseView]:
        """The cases the actor holds a role on (every case for the local operator)."""
        query = select(s.cases)
        if not actor.local:
            mine = select(s.members.c.case_id).where(s.members.c.user_id == actor.user_id)
            query = query.where(s.cases.c.id.in_(mine))
            if actor.cases is not None:
                query = query.where(s.cases.c.id.in_(sorted(actor.cases)))
        limit = _limit(limit)
        with self._reading() as conn:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(
                query.order_by(s.cases.c.reference).limit(limit).offset(offset)
            ).all()
            views = [
                CaseView.from_row(
                    r,
                    role=self._role(conn, actor, r.id),
                    permissions=self.allowed(conn, actor, r.id),
                )
                for r in rows
            ]
        return Page(items=views, total=total, limit=limit, offset=offset)

    # ------------------------------------------------------------------ members
    def grant(self, actor: Actor, case_id: str, user_id: str, role: Role | str) -> None:
        role = Role(role)
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.MANAGE)
            user = self.user(user_id)
            if user.disabled:
                raise CaseworkError("that user account is disabled")
            if role != Role.OWNER and self._owners(conn, case_id) == [user_id]:
                raise CaseworkError("the last owner of a case cannot be given another role")
            data = {"case": case_id, "user": user_id, "role": role.value}
            self._write([self._draft("member.grant", actor, data)])

    def revoke(self, actor: Actor, case_id: str, user_id: str) -> None:
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.MANAGE)
            owners = (
                conn.execute(
                    select(s.members.c.user_id).where(
                        s.members.c.case_id == case_id, s.members.c.role == Role.OWNER.value
                    )
                )
                .scalars()
                .all()
            )
            if list(owners) == [user_id]:
                raise CaseworkError("the last owner of a case cannot be removed")
            if self._role_of(conn, case_id, user_id) is None:
                raise NotFound("that user has no role on this case")
            self._write([self._draft("member.revoke", actor, {"case": case_id, "user": user_id})])

    def members(self, actor: Actor, case_id: str) -> list[tuple[UserView, Role]]:
        with self._reading() as conn:
            if not self.allowed(conn, actor, case_id):
                raise AccessDenied("no such case, or no access to it")
            rows = conn.execute(
                select(s.users, s.members.c.role)
                .join(s.members, s.members.c.user_id == s.users.c.id)
                .where(s.members.c.case_id == case_id)
                .order_by(s.users.c.username)
            ).all()
        return [(UserView.from_row(r), Role(r.role)) for r in rows]
