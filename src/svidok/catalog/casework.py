"""How casework entries (users, cases, members, records, links, assessments, accesses,
tokens) become catalog rows. Part of the one projection (see ``projection``): entries are
applied one by one, in ledger order, because later ones change rows earlier ones made.

The services check every entry before it is written (``svidok.cases``); this module only
replays what the ledger says, so that ``svidok rebuild`` gives the live catalog back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from svidok.catalog import schema as s
from svidok.ledger.entries import Entry, canonical_json

CASEWORK_TYPES = frozenset(
    {
        "user.create",
        "user.update",
        "case.create",
        "case.update",
        "member.grant",
        "member.revoke",
        "record.create",
        "record.update",
        "link.add",
        "link.remove",
        "assessment",
        "access",
        "token.create",
        "token.revoke",
        "export",
    }
)
UNVERIFIED = "unverified"


def scope(entry: Entry) -> tuple[str | None, str | None]:
    """The case and the record (or user, link, token) a casework entry concerns."""
    d = entry.data
    case = d.get("case")
    target = d.get("record") or d.get("link") or d.get("user") or d.get("token")
    if entry.type.startswith("case."):
        target = case
    return (
        str(case) if case is not None else None,
        str(target) if target is not None else None,
    )


def _stamp(e: Entry, created: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "updated_entry": e.index,
        "updated_at": e.time,
        "updated_by": e.actor,
    }
    if created:
        values |= {"created_entry": e.index, "created_at": e.time, "created_by": e.actor}
        values["version"] = 1
    return values


def _doc_text(doc: Any) -> str:
    return canonical_json(doc).decode("utf-8")


def merged(doc: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Fields after a change: ``None`` removes a field, anything else replaces it."""
    out = dict(doc)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def sort_key(value: str) -> str:
    """Comparable form of an instant: UTC when it has an offset, else as written."""
    if len(value) > 10 and ("+" in value[10:] or "-" in value[10:] or value.endswith("Z")):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            return value
    return value


def _time_key(value: Any) -> str | None:
    return sort_key(value) if isinstance(value, str) else None


def _end_key(value: Any) -> str | None:
    key = _time_key(value)
    return None if key is None else key + "~"


def record_columns(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The searchable columns of a record, from its fields."""
    label = doc.get("title") or doc.get("name")
    if label is None:
        names = doc.get("names") or [{}]
        label = names[0].get("value", "")
    span = doc.get("captured") or doc.get("time") or {}
    where = doc.get("location") or doc
    grade = doc.get("reliability") if kind == "source" else doc.get("credibility")
    return {
        "label": str(label),
        "subkind": doc.get("item_kind") or doc.get("source_type"),
        "status": doc.get("status"),
        "time_start": _time_key(span.get("start")),
        # "~" sorts after every digit and "T": a partial end (a day, a month) covers all of it
        "time_end": _end_key(span.get("end") or span.get("start")),
        "lat": where.get("lat"),
        "lon": where.get("lon"),
        "object_id": doc.get("object"),
        "source_id": doc.get("source"),
        "grade": None if grade is None else str(grade),
        "doc": _doc_text(doc),
    }


def _places(doc: Mapping[str, Any]) -> set[str]:
    places = {str(p) for p in doc.get("places", [])}
    location = doc.get("location")
    if isinstance(location, Mapping) and location.get("place"):
        places.add(str(location["place"]))
    return places


def _set_children(conn: Connection, record: str, doc: Mapping[str, Any]) -> None:
    conn.execute(delete(s.record_tags).where(s.record_tags.c.record_id == record))
    conn.execute(delete(s.record_places).where(s.record_places.c.record_id == record))
    tags = sorted({str(t) for t in doc.get("tags", [])})
    if tags:
        conn.execute(insert(s.record_tags), [{"record_id": record, "tag": t} for t in tags])
    places = sorted(_places(doc))
    if places:
        conn.execute(
            insert(s.record_places), [{"record_id": record, "place_id": p} for p in places]
        )


def apply_entry(conn: Connection, e: Entry) -> None:
    """Project one casework entry (its ``entries`` row is already there)."""
    d = e.data
    t = e.type
    if t == "user.create":
        conn.execute(
            insert(s.users),
            [
                {
                    "id": d["user"],
                    "username": d["username"],
                    "display_name": d["display_name"],
                    "admin": bool(d["admin"]),
                    "disabled": False,
                    **_stamp(e, True),
                }
            ],
        )
    elif t == "user.update":
        changes = dict(d["changes"])  # type: ignore[arg-type]
        conn.execute(
            update(s.users)
            .where(s.users.c.id == d["user"])
            .values(**changes, **_stamp(e, False), version=s.users.c.version + 1)
        )
    elif t == "case.create":
        fields = d["fields"]
        assert isinstance(fields, Mapping)
        conn.execute(
            insert(s.cases),
            [
                {
                    "id": d["case"],
                    "reference": fields["reference"],
                    "title": fields["title"],
                    "status": fields.get("status", "open"),
                    "doc": _doc_text(fields),
                    **_stamp(e, True),
                }
            ],
        )
    elif t == "case.update":
        row = conn.execute(select(s.cases.c.doc).where(s.cases.c.id == d["case"])).one()
        doc = merged(doc_of(row.doc), d["changes"])  # type: ignore[arg-type]
        conn.execute(
            update(s.cases)
            .where(s.cases.c.id == d["case"])
            .values(
                reference=doc["reference"],
                title=doc["title"],
                status=doc.get("status", "open"),
                doc=_doc_text(doc),
                version=s.cases.c.version + 1,
                **_stamp(e, False),
            )
        )
    elif t == "member.grant":
        key = (s.members.c.case_id == d["case"]) & (s.members.c.user_id == d["user"])
        conn.execute(delete(s.members).where(key))
        conn.execute(
            insert(s.members),
            [
                {
                    "case_id": d["case"],
                    "user_id": d["user"],
                    "role": d["role"],
                    "granted_entry": e.index,
                }
            ],
        )
    elif t == "member.revoke":
        conn.execute(
            delete(s.members).where(
                (s.members.c.case_id == d["case"]) & (s.members.c.user_id == d["user"])
            )
        )
    elif t == "record.create":
        fields = d["fields"]
        assert isinstance(fields, Mapping)
        record = str(d["record"])
        conn.execute(
            insert(s.records),
            [
                {
                    "id": record,
                    "case_id": d["case"],
                    "kind": d["kind"],
                    "assessment": UNVERIFIED,
                    **record_columns(str(d["kind"]), fields),
                    **_stamp(e, True),
                }
            ],
        )
        _set_children(conn, record, fields)
    elif t == "record.update":
        record = str(d["record"])
        row = conn.execute(select(s.records.c.doc).where(s.records.c.id == record)).one()
        doc = merged(doc_of(row.doc), d["changes"])  # type: ignore[arg-type]
        conn.execute(
            update(s.records)
            .where(s.records.c.id == record)
            .values(
                **record_columns(str(d["kind"]), doc),
                version=s.records.c.version + 1,
                **_stamp(e, False),
            )
        )
        _set_children(conn, record, doc)
    elif t == "link.add":
        conn.execute(
            insert(s.links),
            [
                {
                    "id": d["link"],
                    "case_id": d["case"],
                    "kind": d["kind"],
                    "from_id": d["from"],
                    "to_id": d["to"],
                    "role": d.get("role"),
                    "created_entry": e.index,
                    "created_by": e.actor,
                    "removed_entry": None,
                }
            ],
        )
    elif t == "link.remove":
        conn.execute(update(s.links).where(s.links.c.id == d["link"]).values(removed_entry=e.index))
    elif t == "assessment":
        conn.execute(
            insert(s.assessments),
            [
                {
                    "entry": e.index,
                    "case_id": d["case"],
                    "record_id": d["record"],
                    "from_status": d["from"],
                    "to_status": d["to"],
                    "rationale": d["rationale"],
                    "actor": e.actor,
                    "actor_id": d.get("by"),
                    "time": e.time,
                }
            ],
        )
        conn.execute(
            update(s.records).where(s.records.c.id == d["record"]).values(assessment=d["to"])
        )
    elif t == "access":
        conn.execute(
            insert(s.accesses),
            [
                {
                    "entry": e.index,
                    "case_id": d["case"],
                    "record_id": d.get("record"),
                    "object_id": d.get("object"),
                    "action": d["action"],
                    "actor": e.actor,
                    "actor_id": d.get("by"),
                }
            ],
        )
    elif t == "token.create":
        cases = d.get("cases")
        conn.execute(
            insert(s.api_tokens),
            [
                {
                    "id": d["token"],
                    "user_id": d["user"],
                    "cases": None if cases is None else _doc_text(cases),
                    "expires": d["expires"],
                    "created_entry": e.index,
                    "revoked_entry": None,
                }
            ],
        )
    elif t == "token.revoke":
        conn.execute(
            update(s.api_tokens)
            .where(s.api_tokens.c.id == d["token"])
            .values(revoked_entry=e.index)
        )


def doc_of(text: str) -> dict[str, Any]:
    """A stored ``doc`` column (canonical JSON of a record's fields) as a dict."""
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def find_case_id(conn: Connection, key: str) -> str | None:
    """The id of the case whose UUID or reference (any letter case) is ``key``."""
    row = conn.execute(
        select(s.cases.c.id).where(
            or_(s.cases.c.id == key, func.lower(s.cases.c.reference) == key.lower())
        )
    ).first()
    return None if row is None else str(row.id)
