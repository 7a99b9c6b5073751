"""Casework API: records, links, assessments, evidence access and history."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, or_, select

from svidok.cases._base import (
    Base,
    CaseworkError,
    Conflict,
    NotFound,
    _diff,
    _like,
    _limit,
)
from svidok.cases.access import AccessDenied, Actor, Permission
from svidok.cases.fields import (
    RECORD_KINDS,
    fields_model,
    sort_key,
)
from svidok.cases.views import (
    Acquisition,
    AssessmentStatus,
    EvidenceView,
    Extraction,
    HistoryEntry,
    LinkView,
    Page,
    RecordFilter,
    RecordView,
)
from svidok.catalog import schema as s
from svidok.catalog.casework import doc_of, merged
from svidok.catalog.projection import display_path

LINK_KINDS = {
    "item-incident": ("item", "incident"),  # role: what the item shows
    "person-incident": ("person", "incident"),  # role: victim, witness, alleged perpetrator...
    "item-person": ("item", "person"),  # role: how the person appears
}
# unverified -> in review -> verified | disputed | rejected; any decision may be reopened
TRANSITIONS: dict[str, frozenset[str]] = {
    "unverified": frozenset({"in review"}),
    "in review": frozenset({"verified", "disputed", "rejected", "unverified"}),
    "verified": frozenset({"in review"}),
    "disputed": frozenset({"in review"}),
    "rejected": frozenset({"in review"}),
}


# filters that name a column's exact value: filter field -> column of ``records``
_EQUAL = {
    "kind": "kind",
    "subkind": "subkind",
    "status": "status",
    "assessment": "assessment",
    "grade": "grade",
    "source": "source_id",
    "object": "object_id",
}


class RecordOps(Base):
    """Records, links, assessments, evidence access and history."""

    # ------------------------------------------------------------------ records
    def create(
        self, actor: Actor, case_id: str, kind: str, fields: Mapping[str, Any]
    ) -> RecordView:
        if kind not in RECORD_KINDS:
            raise CaseworkError(f"unknown kind of record {kind!r}")
        doc = self._validate(kind, fields)
        record = str(uuid.uuid4())
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.EDIT)
            self._check_refs(conn, actor, case_id, doc)
            data = {
                "case": case_id,
                "record": record,
                "kind": kind,
                "fields": self._seal(kind, record, doc),
            }
            self._write([self._draft("record.create", actor, data)])
        return self.get(actor, case_id, record)

    def update(
        self,
        actor: Actor,
        case_id: str,
        record: str,
        changes: Mapping[str, Any],
        version: int | None = None,
    ) -> RecordView:
        """Change some fields (``None`` clears one). ``version``: the version the change was
        made against; a newer one is a conflict, never a silent overwrite."""
        with self.home.writing(), self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            row = self._row(conn, case_id, record)
            if version is not None and row.version != version:
                raise Conflict(f"the record is at version {row.version}, not {version}")
            needed = Permission.ANNOTATE if set(changes) <= {"tags"} else Permission.EDIT
            if needed not in granted and Permission.EDIT not in granted:
                raise AccessDenied(f"your role on this case does not allow: {needed}")
            kind = str(row.kind)
            stored = doc_of(row.doc)
            protected = fields_model(kind).protected
            touched = protected & changes.keys()
            if touched and Permission.READ_PROTECTED not in granted:
                raise AccessDenied("your role on this case does not allow: read protected")
            if touched and self.cipher is None:
                raise CaseworkError(
                    "protected fields cannot be changed: no field key is configured"
                )
            old_public = {k: v for k, v in stored.items() if k not in protected}
            old_secret = self._unseal(kind, record, stored, frozenset(Permission))[0]
            old_secret = {k: v for k, v in old_secret.items() if k in protected}
            new_public = merged(
                old_public, {k: v for k, v in changes.items() if k not in protected}
            )
            new_secret = merged(old_secret, {k: changes[k] for k in touched})
            doc = self._validate(kind, {**new_public, **new_secret})
            self._check_refs(conn, actor, case_id, doc)
            delta: dict[str, Any] = {}
            for key in _diff({**old_public, **old_secret}, doc):
                value = doc.get(key)
                if value is not None and key in protected:
                    value = self._seal(kind, record, {key: value})[key]
                delta[key] = value
            if not delta:
                return self.get(actor, case_id, record)
            data = {
                "case": case_id,
                "record": record,
                "kind": kind,
                "version": row.version,
                "changes": delta,
            }
            self._write([self._draft("record.update", actor, data)])
        return self.get(actor, case_id, record)

    def add_intake_items(
        self, actor: Actor, case_id: str, received: Sequence[tuple[str, str]]
    ) -> list[str]:
        """Items for objects just received for this case, ``(object id, file name)``: one
        per object not yet an item of the case, with kind, capture time and position
        taken from the file's own metadata (as found, not verified). Their UUIDs back."""
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.EDIT)
            have = set(
                conn.execute(
                    select(s.records.c.object_id).where(
                        s.records.c.case_id == case_id, s.records.c.object_id.is_not(None)
                    )
                ).scalars()
            )
            drafts, made = [], []
            for obj, name in received:
                if obj in have:
                    continue
                have.add(obj)
                self._check_refs(conn, actor, case_id, {"object": obj})
                doc = self._validate("item", _item_from_intake(conn, obj, name))
                record = str(uuid.uuid4())
                data = {"case": case_id, "record": record, "kind": "item", "fields": doc}
                drafts.append(self._draft("record.create", actor, data))
                made.append(record)
            if drafts:
                self._write(drafts)
        return made

    def get(self, actor: Actor, case_id: str, record: str) -> RecordView:
        with self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            row = self._row(conn, case_id, record)
            doc, hidden = self._unseal(str(row.kind), record, doc_of(row.doc), granted)
        return RecordView.from_row(row, doc, hidden)

    def get_many(self, actor: Actor, case_id: str, records: Iterable[str]) -> dict[str, RecordView]:
        """The records of the case among ``records``, by id (those not in it left out), read
        in one query: for pages that name many linked records."""
        wanted = sorted(set(records))
        with self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            rows = conn.execute(
                select(s.records).where(s.records.c.case_id == case_id, s.records.c.id.in_(wanted))
            ).all()
        out = {}
        for row in rows:
            doc, hidden = self._unseal(str(row.kind), row.id, doc_of(row.doc), granted)
            out[str(row.id)] = RecordView.from_row(row, doc, hidden)
        return out

    def find(
        self, actor: Actor, case_id: str, where: RecordFilter, *, limit: int = 100, offset: int = 0
    ) -> Page[RecordView]:
        r = s.records.c
        query = select(s.records).where(r.case_id == case_id)
        for name, column in _EQUAL.items():
            value = getattr(where, name)
            if value:
                query = query.where(r[column] == value)
        if where.source_grade:
            src = s.records.alias("source_record")
            graded = select(src.c.id).where(
                src.c.case_id == case_id,
                src.c.kind == "source",
                src.c.grade == where.source_grade,
            )
            query = query.where(r.source_id.in_(graded))
        if where.tag:
            tagged = select(s.record_tags.c.record_id).where(s.record_tags.c.tag == where.tag)
            query = query.where(r.id.in_(tagged))
        if where.place:
            placed = select(s.record_places.c.record_id).where(
                s.record_places.c.place_id == where.place
            )
            query = query.where(r.id.in_(placed))
        if where.time_from:
            query = query.where(r.time_end >= sort_key(where.time_from))
        if where.time_to:
            query = query.where(r.time_start <= sort_key(where.time_to) + "~")
        if where.text:
            query = query.where(r.label.ilike(f"%{_like(where.text)}%", escape="\\"))
        limit = _limit(limit)
        with self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(
                query.order_by(r.created_entry).limit(limit).offset(max(offset, 0))
            ).all()
        views = []
        for row in rows:
            doc, hidden = self._unseal(str(row.kind), row.id, doc_of(row.doc), granted)
            views.append(RecordView.from_row(row, doc, hidden))
        return Page(items=views, total=total, limit=limit, offset=offset)

    # -------------------------------------------------------------------- links
    def link(
        self, actor: Actor, case_id: str, kind: str, from_id: str, to_id: str, role: str = ""
    ) -> LinkView:
        if kind not in LINK_KINDS:
            raise CaseworkError(f"a link is one of {sorted(LINK_KINDS)}")
        if len(role) > 2000:
            raise CaseworkError("a link's role is at most 2000 characters")
        link_id = str(uuid.uuid4())
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.ANNOTATE)
            for rid, want in zip((from_id, to_id), LINK_KINDS[kind], strict=True):
                if str(self._row(conn, case_id, rid).kind) != want:
                    raise CaseworkError(
                        f"a {kind} link goes from an {LINK_KINDS[kind][0]} "
                        f"to an {LINK_KINDS[kind][1]}"
                    )
            data: dict[str, Any] = {
                "case": case_id,
                "link": link_id,
                "kind": kind,
                "from": from_id,
                "to": to_id,
            }
            if role.strip():
                data["role"] = role.strip()
            self._write([self._draft("link.add", actor, data)])
        return self._link(case_id, link_id)

    def unlink(self, actor: Actor, case_id: str, link_id: str, reason: str = "") -> None:
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.ANNOTATE)
            row = conn.execute(
                select(s.links).where(s.links.c.id == link_id, s.links.c.case_id == case_id)
            ).first()
            if row is None or row.removed_entry is not None:
                raise NotFound("no such link in this case")
            data = {"case": case_id, "link": link_id, "reason": reason.strip()}
            self._write([self._draft("link.remove", actor, data)])

    def _link(self, case_id: str, link_id: str) -> LinkView:
        with self._reading() as conn:
            row = conn.execute(
                select(s.links).where(s.links.c.id == link_id, s.links.c.case_id == case_id)
            ).one()
        return LinkView.from_row(row)

    def links(self, actor: Actor, case_id: str, record: str | None = None) -> list[LinkView]:
        query = select(s.links).where(
            s.links.c.case_id == case_id, s.links.c.removed_entry.is_(None)
        )
        if record is not None:
            query = query.where(or_(s.links.c.from_id == record, s.links.c.to_id == record))
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            rows = conn.execute(query.order_by(s.links.c.created_entry)).all()
        return [LinkView.from_row(r) for r in rows]

    # -------------------------------------------------------------- assessments
    def assess(
        self, actor: Actor, case_id: str, record: str, to: AssessmentStatus | str, rationale: str
    ) -> RecordView:
        """Move a record's verification status. Reaching "verified" needs a reviewer who
        neither created the record nor put it in review (the two-person rule)."""
        to = str(to)
        if not rationale.strip():
            raise CaseworkError("an assessment needs a rationale")
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.ASSESS)
            row = self._row(conn, case_id, record)
            current = str(row.assessment)
            if to not in TRANSITIONS.get(current, frozenset()):
                raise CaseworkError(f"cannot go from {current!r} to {to!r}")
            if to == "verified":
                self._check_second_reviewer(conn, actor, row)
            data = {
                "case": case_id,
                "record": record,
                "from": current,
                "to": to,
                "rationale": rationale.strip(),
            }
            self._write([self._draft("assessment", actor, data)])
        return self.get(actor, case_id, record)

    def _check_second_reviewer(self, conn: Connection, actor: Actor, row: Any) -> None:
        created = self.home.ledger.entry(int(row.created_entry))
        authors = {created.actor, created.data.get("by")}
        submitted = conn.execute(
            select(s.assessments.c.actor_id, s.assessments.c.actor)
            .where(s.assessments.c.record_id == row.id, s.assessments.c.to_status == "in review")
            .order_by(s.assessments.c.entry.desc())
            .limit(1)
        ).first()
        if submitted is not None:
            authors |= {submitted.actor, submitted.actor_id}
        if {actor.name, actor.user_id} & (authors - {None}):
            raise AccessDenied(
                "verification needs a second reviewer: you created this record or put it in review"
            )

    def needs_second_reviewer(self, actor: Actor, case_id: str, record: str) -> bool:
        """Whether the two-person rule keeps ``actor`` from verifying the record (they
        created it or put it in review): what :meth:`assess` would refuse, for pages that
        say so before anyone tries."""
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            row = self._row(conn, case_id, record)
            try:
                self._check_second_reviewer(conn, actor, row)
            except AccessDenied:
                return True
        return False

    def assessments(self, actor: Actor, case_id: str, record: str) -> list[dict[str, Any]]:
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            rows = conn.execute(
                select(s.assessments)
                .where(s.assessments.c.case_id == case_id, s.assessments.c.record_id == record)
                .order_by(s.assessments.c.entry)
            ).all()
        return [
            {
                "entry": r.entry,
                "from": r.from_status,
                "to": r.to_status,
                "rationale": r.rationale,
                "by": r.actor,
                "time": r.time,
            }
            for r in rows
        ]

    # ------------------------------------------------------------------- access
    def open_evidence(self, actor: Actor, case_id: str, record: str, action: str) -> str:
        """Record that ``actor`` views, downloads or sees a thumbnail of an item's original;
        its object id back. The entry is durable before any byte is served."""
        if action not in {"view", "download", "thumbnail"}:
            raise CaseworkError("evidence is opened to view, to download or as a thumbnail")
        with self.home.writing(), self._reading() as conn:
            self._require(conn, actor, case_id, Permission.READ)
            row = self._row(conn, case_id, record)
            if row.kind != "item" or row.object_id is None:
                raise NotFound("this record holds no evidence file")
            data = {"case": case_id, "record": record, "object": row.object_id, "action": action}
            self._write([self._draft("access", actor, data)])
            return str(row.object_id)

    def evidence(self, actor: Actor, case_id: str, record: str) -> EvidenceView:
        """An item's original as stored: digest, size, type, its acquisitions for this case
        (never those of other cases) and the metadata extracted from it."""
        with self._reading() as conn:
            self._require(conn, actor, case_id)
            row = self._row(conn, case_id, record)
            if row.kind != "item" or row.object_id is None:
                raise NotFound("this record holds no evidence file")
            obj = conn.execute(select(s.objects).where(s.objects.c.id == row.object_id)).first()
            if obj is None:
                raise NotFound("the item's object is not in the catalog")
            reference = conn.execute(
                select(s.cases.c.reference).where(s.cases.c.id == case_id)
            ).scalar_one()
            a = s.acquisitions.c
            acquisitions = conn.execute(
                select(s.acquisitions)
                .where(a.object_id == obj.id, a.case_name.in_([case_id, reference]))
                .order_by(a.entry)
            ).all()
            extractions = conn.execute(
                select(s.extractions)
                .where(s.extractions.c.object_id == obj.id)
                .order_by(s.extractions.c.entry)
            ).all()
        return EvidenceView(
            object=obj.id,
            sha256=obj.id.removeprefix("sha256:"),
            size=obj.size,
            media_type=obj.media_type,
            logical_path=obj.logical_path,
            first_entry=obj.first_entry,
            acquisitions=[
                Acquisition(
                    entry=r.entry,
                    collector=r.collector,
                    source=r.source,
                    note=r.note,
                    path=display_path(json.loads(r.path)),
                    name=r.name,
                    size=r.size,
                    acquired_at=r.acquired_at,
                )
                for r in acquisitions
            ],
            extractions=[
                Extraction(
                    status=r.status,
                    extractor=r.extractor,
                    media_type=r.media_type,
                    metadata=json.loads(r.metadata),
                    errors=json.loads(r.errors),
                )
                for r in extractions
            ],
        )

    # ------------------------------------------------------------------ history
    def history(
        self,
        actor: Actor,
        case_id: str,
        record: str,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[HistoryEntry]:
        """The ledger entries that concern the record, oldest first (``limit`` of them from
        ``offset``; all by default). Protected values show as ``"(protected)"`` to those
        who may not see them."""
        with self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            self._row(conn, case_id, record)  # NotFound unless a record of this case
            query = (
                select(s.entries.c.idx)
                .where(s.entries.c.case_id == case_id, s.entries.c.record_id == record)
                .order_by(s.entries.c.idx)
                .offset(max(offset, 0))
            )
            if limit is not None:
                query = query.limit(_limit(limit))
            rows = conn.execute(query).scalars().all()
            kind = conn.execute(
                select(s.records.c.kind).where(s.records.c.id == record)
            ).scalar_one_or_none()
        return self._history_entries(rows, {record: kind}, granted)

    def activity(self, actor: Actor, case_id: str, *, limit: int = 20) -> list[HistoryEntry]:
        """The newest ledger entries of the case (any record), newest first."""
        with self._reading() as conn:
            granted = self._require(conn, actor, case_id)
            rows = (
                conn.execute(
                    select(s.entries.c.idx, s.entries.c.record_id)
                    .where(s.entries.c.case_id == case_id)
                    .order_by(s.entries.c.idx.desc())
                    .limit(_limit(limit))
                )
                .all()
            )
            records = {r.record_id for r in rows if r.record_id is not None}
            kinds = dict(
                conn.execute(
                    select(s.records.c.id, s.records.c.kind).where(s.records.c.id.in_(records))
                ).all()
            )
        return self._history_entries(
            [int(r.idx) for r in rows],
            {r.record_id: kinds.get(r.record_id) for r in rows if r.record_id is not None},
            granted,
        )

    def _history_entries(
        self,
        indexes: Sequence[int],
        kinds: Mapping[str, str | None],
        granted: frozenset[Permission],
    ) -> list[HistoryEntry]:
        """Ledger entries as history, protected values redacted unless ``granted`` allows."""
        out = []
        for index in indexes:
            entry = self.home.ledger.entry(index)
            data = dict(entry.data)
            record = data.get("record")
            kind = kinds.get(record) if isinstance(record, str) else None
            if kind is not None and isinstance(record, str):
                for key in ("fields", "changes"):
                    value = data.get(key)
                    if isinstance(value, Mapping):
                        data[key] = self._redact(str(kind), record, dict(value), granted)
            out.append(
                HistoryEntry(
                    index=entry.index,
                    type=entry.type,
                    time=entry.time,
                    actor=entry.actor,
                    data=data,
                )
            )
        return out

    def _redact(
        self, kind: str, record: str, values: dict[str, Any], granted: frozenset[Permission]
    ) -> dict[str, Any]:
        for name in fields_model(kind).protected & values.keys():
            if values[name] is None:
                continue
            if Permission.READ_PROTECTED in granted and self.cipher is not None:
                values[name] = self.cipher.decrypt(str(values[name]), f"{kind}:{record}:{name}")
            else:
                values[name] = "(protected)"
        return values


_KIND_BY_TYPE = {"image": "photo", "video": "video", "audio": "audio", "text": "document"}


def _item_from_intake(conn: Connection, obj: str, name: str) -> dict[str, Any]:
    """An item's first fields from what intake found in the file."""
    media = conn.execute(select(s.objects.c.media_type).where(s.objects.c.id == obj)).scalar()
    media = str(media or "")
    kind = _KIND_BY_TYPE.get(media.partition("/")[0], "other")
    if media == "application/pdf":
        kind = "document"
    fields: dict[str, Any] = {"object": obj, "title": name[:500] or obj, "item_kind": kind}
    meta_text = conn.execute(
        select(s.extractions.c.metadata)
        .where(s.extractions.c.object_id == obj)
        .order_by(s.extractions.c.entry.desc())
        .limit(1)
    ).scalar()
    meta = doc_of(meta_text) if meta_text else {}
    for key in ("datetime_original", "creation_time", "creation_date"):
        when = meta.get(key)
        value = when.get("value") if isinstance(when, dict) else None
        if isinstance(value, str) and _instant_ok(value):
            fields["captured"] = {"start": value, "precision": "second"}
            break
    gps = meta.get("gps")
    if isinstance(gps, dict):
        lat, lon = gps.get("latitude"), gps.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            lat, lon = float(lat), float(lon)
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                fields["location"] = {"lat": lat, "lon": lon}
    return fields


def _instant_ok(value: str) -> bool:
    from svidok.cases.fields import TimeSpan

    try:
        TimeSpan(start=value)
    except ValidationError:
        return False
    return True
