"""Who may do what: roles per case, deny by default.

A case is the access boundary. A user sees a case only through a role on it; being a
system administrator lets one manage users and grant roles, not read evidence (need to
know). The local operator (the command line on the machine that holds the data home) can
do everything: whoever holds the files holds the archive; that is said plainly in
docs/threat-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from svidok.errors import SvidokError


class AccessDenied(SvidokError):
    """The actor may not do this. The message never says whether the thing exists."""


class Role(StrEnum):
    OWNER = "owner"  # everything on the case, including who else may see it
    INVESTIGATOR = "investigator"  # add and edit
    REVIEWER = "reviewer"  # assess (verify, dispute, reject)
    ANALYST = "analyst"  # read and annotate (tags, links); no protected fields
    VIEWER = "viewer"  # read; no protected fields


class Permission(StrEnum):
    READ = "read"  # the case's records and evidence
    READ_PROTECTED = "read protected"  # witness identities and contact details
    EDIT = "edit"  # create and change records, upload evidence
    ANNOTATE = "annotate"  # tags and links
    ASSESS = "assess"  # change verification status
    MANAGE = "manage"  # grant and revoke roles, change the case itself
    EXPORT = "export"  # hand items over in a package (svidok export)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.INVESTIGATOR: frozenset(
        {
            Permission.READ,
            Permission.READ_PROTECTED,
            Permission.EDIT,
            Permission.ANNOTATE,
            Permission.EXPORT,
        }
    ),
    Role.REVIEWER: frozenset(
        {Permission.READ, Permission.READ_PROTECTED, Permission.ASSESS, Permission.ANNOTATE}
    ),
    Role.ANALYST: frozenset({Permission.READ, Permission.ANNOTATE}),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``user_id`` is None only for the local operator."""

    name: str  # written as the ledger entry's actor
    user_id: str | None = None
    admin: bool = False
    local: bool = False  # the operator of the machine (command line): unrestricted
    cases: frozenset[str] | None = None  # an API token's scope; None: not limited

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(name=name, local=True, admin=True)

    def may_reach(self, case_id: str) -> bool:
        """Whether a token scope (if any) includes the case."""
        return self.cases is None or case_id in self.cases


def permissions(actor: Actor, role: Role | None) -> frozenset[Permission]:
    """What ``actor`` may do on a case where it holds ``role`` (None: no role)."""
    if actor.local:
        return frozenset(Permission)
    granted = ROLE_PERMISSIONS[role] if role is not None else frozenset()
    if actor.admin:
        granted |= {Permission.MANAGE}
    return granted
