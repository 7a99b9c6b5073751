"""Exports: the ledger entry that records who handed which items to whom, and why."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from svidok.cases._base import Base, CaseworkError, NotFound
from svidok.cases.access import Actor, Permission
from svidok.ledger.entries import Entry

PACKAGE_FORMAT = "svidok-package/1"


class ExportOps(Base):
    def record_export(
        self,
        actor: Actor,
        case_id: str,
        items: Sequence[str],
        *,
        recipient: str,
        purpose: str,
        protected: bool,
        selection: dict[str, Any],
        derivatives: Sequence[str] = (),
    ) -> Entry:
        """Write the ``export`` entry (before any byte of the package is written): the
        export's id, the case, how many items and a digest of their sorted ids, the
        recipient, the purpose, and whether protected values go out in clear."""
        needed = [Permission.READ, Permission.EXPORT]
        if protected:
            needed.append(Permission.READ_PROTECTED)
        if not recipient.strip() or not purpose.strip():
            raise CaseworkError("an export names its recipient and its purpose")
        data: dict[str, Any] = {
            "case": case_id,
            "export": str(uuid.uuid4()),
            "format": PACKAGE_FORMAT,
            "items": len(items),
            "items_sha256": hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest(),
            "recipient": recipient.strip(),
            "purpose": purpose.strip(),
            "protected_included": protected,
            "selection": selection,
        }
        if derivatives:  # which kinds of previews go with the originals
            data["derivatives"] = list(derivatives)
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, *needed)
            for record in items:
                if self._row(conn, case_id, record).kind != "item":
                    raise NotFound(f"{record} is not an item of this case")
            return self._write([self._draft("export", actor, data)])[0]



