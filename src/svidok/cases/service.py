"""The casework API: users, cases, roles, records, links, assessments and evidence access.

Every change is checked here (permission, fields, the state it applies to), then written
as one ledger entry and projected into the catalog under the ledger lock, so two changes
never interleave. Reads come from the catalog and are filtered by the actor's role.
The command line, the JSON API and the web app are thin layers over this class.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from svidok.cases._base import MAX_PAGE, CaseworkError, Cipher, Conflict, NotFound
from svidok.cases._cases import CaseOps
from svidok.cases._exports import ExportOps
from svidok.cases._imports import ImportOps
from svidok.cases._records import LINK_KINDS, TRANSITIONS, RecordOps
from svidok.cases._users import UserOps
from svidok.cases.taxonomy import Taxonomy
from svidok.catalog import schema as s
from svidok.home import Home

__all__ = [
    "LINK_KINDS",
    "MAX_PAGE",
    "TRANSITIONS",
    "Casework",
    "CaseworkError",
    "Cipher",
    "Conflict",
    "NotFound",
    "open_casework",
]


class Casework(UserOps, CaseOps, RecordOps, ExportOps, ImportOps):
    """Cases and their records over one data home (see the module docstring)."""


def open_casework(home: Home) -> Casework:
    """The casework API of a data home, with its field key (``keys/fields.key``, created
    on first use; mode 0600, outside the catalog)."""
    from svidok.protect import FieldCipher

    path = home.path / "keys" / "fields.key"
    if not path.exists():
        with home.catalog.engine.connect() as conn:
            sealed = conn.execute(
                select(s.records.c.id).where(s.records.c.doc.contains("svidok-enc:")).limit(1)
            ).first()
        if sealed is not None:  # a new key would leave every sealed value unreadable
            raise CaseworkError(
                f"the field key {path} is missing, and protected fields were sealed with it: "
                "restore it from its backup"
            )
    key = FieldCipher.load_or_create(path)
    taxonomy = None
    if home.config.taxonomy:  # relative paths are relative to the data home
        taxonomy = Taxonomy.load(home.path / Path(home.config.taxonomy).expanduser())
    return Casework(home, Cipher(key.encrypt, key.decrypt, key.blind), taxonomy)
