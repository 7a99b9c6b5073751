"""Bulk records for imports: many records of one kind in one ledger write (all or none),
and the import tags by which a second run of the same import finds what the first made."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from svidok.cases._base import Base
from svidok.cases.access import Actor, Permission
from svidok.cases.fields import fields_model
from svidok.catalog import schema as s


class ImportOps(Base):
    def create_many(
        self, actor: Actor, case_id: str, kind: str, docs: Sequence[Mapping[str, Any]]
    ) -> list[str]:
        """Records of ``kind`` from ``docs``, every one checked before any is written, then
        written together (one ledger append): their UUIDs back, in order."""
        checked = [self._validate(kind, doc) for doc in docs]
        needed = [Permission.EDIT]
        if any(fields_model(kind).protected & doc.keys() for doc in checked):
            needed.append(Permission.READ_PROTECTED)
        made: list[str] = []
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, *needed)
            drafts = []
            for doc in checked:
                self._check_refs(conn, actor, case_id, doc)
                record = str(uuid.uuid4())
                fields = self._seal(kind, record, doc)
                data = {"case": case_id, "record": record, "kind": kind, "fields": fields}
                drafts.append(self._draft("record.create", actor, data))
                made.append(record)
            if drafts:
                self._write(drafts)
        return made

    def tagged(self, actor: Actor, case_id: str, prefix: str) -> dict[str, str]:
        """Tag -> record UUID for the case's records with a tag starting with ``prefix``."""
        t, r = s.record_tags.c, s.records.c
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            rows = conn.execute(
                select(t.tag, t.record_id)
                .join(s.records, r.id == t.record_id)
                .where(r.case_id == case_id, t.tag.startswith(prefix, autoescape=True))
            ).all()
        return {str(row.tag): str(row.record_id) for row in rows}

    def intake_fields(self, obj: str, name: str) -> dict[str, Any]:
        """The fields ``svidok ingest`` gives a new item of ``obj``: its kind from the media
        type, and capture time and position from the file's own metadata (as found)."""
        from svidok.cases._records import _item_from_intake

        with self._reading() as conn:
            return _item_from_intake(conn, obj, name)

    def items_by_object(self, actor: Actor, case_id: str) -> dict[str, str]:
        """Object id -> the UUID of the case's (first) item that holds it."""
        r = s.records.c
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            rows = conn.execute(
                select(r.object_id, r.id)
                .where(r.case_id == case_id, r.object_id.is_not(None))
                .order_by(r.created_entry.desc())
            ).all()
        return {str(row.object_id): str(row.id) for row in rows}
