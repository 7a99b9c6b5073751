"""Shared by the parts of the casework API: errors, permissions, field checks, sealing of
protected fields, and how entries are written (tried on the catalog first)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select

from svidok.cases.access import AccessDenied, Actor, Permission, Role, permissions
from svidok.cases.fields import (
    fields_model,
    to_json,
)
from svidok.cases.taxonomy import Taxonomy, rome_statute
from svidok.cases.views import UserView
from svidok.catalog import projection
from svidok.catalog import schema as s
from svidok.errors import SvidokError
from svidok.home import Home
from svidok.ledger.entries import Draft, Entry

MAX_PAGE = 500


class CaseworkError(SvidokError):
    """A request that cannot be carried out (bad fields, unknown record, wrong state)."""


class NotFound(CaseworkError):
    """No such record where the actor may look."""


class Conflict(CaseworkError):
    """The record changed since the version the change was made against."""


@dataclass(frozen=True)
class Cipher:
    """Encrypts protected fields for the ledger and decrypts them for those who may see
    them (svidok.protect.FieldCipher has this shape)."""

    encrypt_fn: Any
    decrypt_fn: Any
    blind_fn: Any = None  # keyed HMAC (FieldCipher.blind): stable, unguessable identifiers

    def blind(self, text: str, context: str) -> str:
        if self.blind_fn is None:
            raise CaseworkError("no field key is configured")
        return str(self.blind_fn(text, context))

    def encrypt(self, text: str, context: str) -> str:
        return str(self.encrypt_fn(text, context))

    def decrypt(self, token: str, context: str) -> str:
        return str(self.decrypt_fn(token, context))


class Base:
    """What every part of the casework API shares: the home, the field cipher, the
    taxonomy, permissions, field checks and sealing, and writing entries."""

    def __init__(
        self, home: Home, cipher: Cipher | None = None, taxonomy: Taxonomy | None = None
    ) -> None:
        self.home = home
        self.cipher = cipher
        self.taxonomy = taxonomy if taxonomy is not None else rome_statute()

    # ----------------------------------------------------------------- plumbing
    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.home.catalog.engine.connect() as conn:
            yield conn

    def _write(self, drafts: Sequence[Draft]) -> list[Entry]:
        """Append and project. The projection is tried first in a transaction that is
        rolled back: an entry the catalog could not take never reaches the ledger."""
        size = self.home.ledger.size
        trial = [Entry.create(d, size + i) for i, d in enumerate(drafts)]
        with self.home.catalog.engine.connect() as conn:
            attempt = conn.begin()
            try:
                projection.apply(conn, trial)
            except Exception as exc:
                raise CaseworkError(f"the change cannot be recorded: {exc}") from exc
            finally:
                attempt.rollback()
        return self.home.commit(drafts)

    def _role(self, conn: Connection, actor: Actor, case_id: str) -> Role | None:
        if actor.user_id is None:
            return None
        role = conn.execute(
            select(s.members.c.role).where(
                s.members.c.case_id == case_id, s.members.c.user_id == actor.user_id
            )
        ).scalar_one_or_none()
        return Role(role) if role is not None else None

    def allowed(self, conn: Connection, actor: Actor, case_id: str) -> frozenset[Permission]:
        """What ``actor`` may do on the case (nothing if the case does not exist)."""
        exists = conn.execute(select(s.cases.c.id).where(s.cases.c.id == case_id)).first()
        if exists is None or not actor.may_reach(case_id):
            return frozenset()
        return permissions(actor, self._role(conn, actor, case_id))

    def _require(
        self, conn: Connection, actor: Actor, case_id: str, *needed: Permission
    ) -> frozenset[Permission]:
        """The actor's permissions on the case, if they include ``needed`` (default: read)."""
        granted = self.allowed(conn, actor, case_id)
        if not granted:
            raise AccessDenied("no such case, or no access to it")
        needed = needed or (Permission.READ,)
        missing = [p for p in needed if p not in granted]
        if missing:
            raise AccessDenied(f"your role on this case does not allow: {', '.join(missing)}")
        return granted

    @staticmethod
    def _draft(kind: str, actor: Actor, data: dict[str, Any]) -> Draft:
        if actor.user_id is not None:
            data["by"] = actor.user_id
        return Draft(kind, actor.name, data)

    def _validate(self, kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Check fields against their kind's model; the canonical JSON form back."""
        model = fields_model(kind)
        try:
            fields = to_json(model.model_validate(dict(doc)))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}"
                for err in exc.errors()
            )
            raise CaseworkError(f"invalid {kind} fields: {problems}") from None
        unknown = self.taxonomy.unknown(list(fields.get("categories", [])))
        if unknown:
            raise CaseworkError(
                f"invalid {kind} fields: categories not in the taxonomy {self.taxonomy.id!r}: "
                f"{', '.join(unknown)}"
            )
        return fields

    def _seal(self, kind: str, record: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Protected fields encrypted (the ledger never holds them in clear)."""
        protected = fields_model(kind).protected & doc.keys()
        if not protected:
            return doc
        if self.cipher is None:
            raise CaseworkError(
                f"{kind} fields {sorted(protected)} are protected and no field key is configured"
            )
        sealed = dict(doc)
        for name in protected:
            sealed[name] = self.cipher.encrypt(str(doc[name]), f"{kind}:{record}:{name}")
        return sealed

    def _unseal(
        self, kind: str, record: str, doc: dict[str, Any], granted: frozenset[Permission]
    ) -> tuple[dict[str, Any], list[str]]:
        """Protected fields decrypted for those who may see them, else left out (named)."""
        protected = sorted(fields_model(kind).protected & doc.keys())
        out = {k: v for k, v in doc.items() if k not in protected}
        if Permission.READ_PROTECTED not in granted or self.cipher is None:
            return out, protected
        for name in protected:
            out[name] = self.cipher.decrypt(str(doc[name]), f"{kind}:{record}:{name}")
        return out, []

    def check_fields(self, kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``doc`` checked as the fields of a ``kind`` record (CaseworkError saying what is
        wrong, in plain words), in the form the ledger stores."""
        return self._validate(kind, doc)

    def user(self, user_id: str) -> UserView:
        with self._reading() as conn:
            row = conn.execute(select(s.users).where(s.users.c.id == user_id)).first()
        if row is None:
            raise NotFound("no such user")
        return UserView.from_row(row)

    @staticmethod
    def _owners(conn: Connection, case_id: str) -> list[str]:
        return list(
            conn.execute(
                select(s.members.c.user_id).where(
                    s.members.c.case_id == case_id, s.members.c.role == Role.OWNER.value
                )
            ).scalars()
        )

    @staticmethod
    def _role_of(conn: Connection, case_id: str, user_id: str) -> str | None:
        return conn.execute(
            select(s.members.c.role).where(
                s.members.c.case_id == case_id, s.members.c.user_id == user_id
            )
        ).scalar_one_or_none()

    def _row(self, conn: Connection, case_id: str, record: str) -> Any:
        row = conn.execute(
            select(s.records).where(s.records.c.id == record, s.records.c.case_id == case_id)
        ).first()
        if row is None:
            raise NotFound("no such record in this case")
        return row

    def _check_refs(
        self, conn: Connection, actor: Actor, case_id: str, doc: Mapping[str, Any]
    ) -> None:
        """Places and sources named by a record must be records of the same case; an
        item's object must be in the store and, unless the local operator links it, have
        been received for this case (else knowing a hash would open another case's file)."""
        obj = doc.get("object")
        if obj is not None:
            a = s.acquisitions.c
            query = select(a.entry).where(a.object_id == str(obj)).limit(1)
            if not actor.local:
                reference = conn.execute(
                    select(s.cases.c.reference).where(s.cases.c.id == case_id)
                ).scalar_one()
                query = query.where(a.case_name.in_([case_id, reference]))
            if conn.execute(query).first() is None:
                raise CaseworkError(
                    f"{obj} was not received for this case: ingest or upload the file to it"
                )
        wanted: list[tuple[str, str]] = [("place", str(p)) for p in doc.get("places", [])]
        location = doc.get("location")
        if isinstance(location, Mapping) and location.get("place"):
            wanted.append(("place", str(location["place"])))
        if doc.get("source"):
            wanted.append(("source", str(doc["source"])))
        for kind, ref in wanted:
            found = conn.execute(
                select(s.records.c.kind).where(
                    s.records.c.id == ref, s.records.c.case_id == case_id
                )
            ).scalar_one_or_none()
            if found != kind:
                raise CaseworkError(f"{ref} is not a {kind} of this case")


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the fields whose value differs (added, changed or removed)."""
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
