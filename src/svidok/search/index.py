"""Keeping the search index in step with the catalog.

Each record has one ``search_docs`` row: the text that describes it (title or names,
description, tags, and for an item its file names and notes, its original's metadata and
the text extracted from it) and that text's terms (:func:`svidok.search.normalise.body`).
Fields that hold witness identities or contact details (sealed in the ledger) are never
indexed. The projection calls :func:`after_entries` for every batch it applies, so the index
changes in the same transaction as the rows it describes; ``svidok rebuild`` empties it and
replays it with the catalog (then reloads the extracted texts from the store).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from svidok.catalog import schema as s
from svidok.ledger.entries import Entry
from svidok.search.normalise import body

#: Characters of text kept per record (for snippets); its first ``MAX_WORDS`` are indexed.
MAX_DISPLAY = 200_000
TEXT_KIND = "text"  # the kind of derivative that holds extracted text
_CHUNK = 500

#: Fields indexed, per kind of record (protected fields are never among them).
_FIELDS: dict[str, tuple[str, ...]] = {
    "item": ("title", "description", "item_kind"),
    "incident": ("title", "description", "categories", "status"),
    "person": ("names", "description", "status"),
    "place": ("name", "variants", "admin_area", "description"),
    "source": ("name", "description", "url", "source_type"),
}
_PROTECTED: dict[str, frozenset[str]] = {
    "person": frozenset(
        {"legal_name", "contact", "address", "identity_document", "protected_notes"}
    ),
    "source": frozenset({"contact"}),
}


def _strings(value: Any) -> Iterator[str]:
    """The text in a field's value: strings, names' values, leaves of nested metadata."""
    if isinstance(value, str):
        if not value.startswith("svidok-enc:"):  # a sealed value never enters the index
            yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if key in ("script", "language", "kind") and isinstance(inner, str):
                continue
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def record_text(kind: str, doc: Mapping[str, Any]) -> list[str]:
    """The indexed text of a record's fields (never a protected one)."""
    hidden = _PROTECTED.get(kind, frozenset())
    out: list[str] = []
    for name in _FIELDS.get(kind, ()):
        if name not in hidden and name in doc:
            out.extend(_strings(doc[name]))
    out.extend(_strings(doc.get("tags", [])))
    return out


def _object_text(conn: Connection, obj: str) -> list[str]:
    """File names, notes and sources of an original's acquisitions, the string values of
    its extracted metadata, and the text extracted from it (newest text derivative)."""
    a, x, d, t = s.acquisitions.c, s.extractions.c, s.derivatives.c, s.search_texts.c
    out: list[str] = []
    for r in conn.execute(
        select(a.name, a.note, a.source).where(a.object_id == obj).order_by(a.entry)
    ):
        out.extend(v for v in (r.name, r.note, r.source) if v)
    for r in conn.execute(select(x.metadata).where(x.object_id == obj).order_by(x.entry)):
        out.extend(_strings(_fields(str(r.metadata))))
    text = conn.execute(
        select(t.text)
        .join(s.derivatives, d.object_id == t.object_id)
        .where(d.source_id == obj, d.kind == TEXT_KIND)
        .order_by(d.entry.desc())
        .limit(1)
    ).scalar_one_or_none()
    if text:
        out.append(str(text))
    return out


def _fields(text: str) -> dict[str, Any]:
    """A record's stored fields (nothing, should the column not hold a JSON object)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def refresh_all(conn: Connection) -> None:
    """Index every record (a catalog made before the index existed: migration 0005)."""
    refresh(conn, (str(v) for v in conn.execute(select(s.records.c.id)).scalars()))


def tsvector_literal(terms: Sequence[str]) -> str:
    """The terms as PostgreSQL ``tsvector`` input, positions from 1 (terms are letters and
    digits only: nothing to quote)."""
    positions: dict[str, list[str]] = {}
    for i, term in enumerate(terms, start=1):
        positions.setdefault(term, []).append(str(i))
    return " ".join(f"'{t}':{','.join(p)}" for t, p in positions.items())


_COPIED = (
    s.records.c.kind, s.records.c.subkind, s.records.c.status, s.records.c.assessment,
    s.records.c.grade, s.records.c.time_start, s.records.c.time_end, s.records.c.lat,
    s.records.c.lon,
)


def refresh(conn: Connection, records: Iterable[str]) -> None:
    """Make the index rows of ``records`` again from the catalog."""
    ids = sorted(set(records))
    r, sd = s.records.c, s.search_docs.c
    postgres = conn.dialect.name == "postgresql"
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        rows = conn.execute(
            select(r.id, r.case_id, r.label, r.object_id, r.doc, *_COPIED)
            .where(r.id.in_(chunk))
        ).all()
        have = {
            str(row.record_id): int(row.id)
            for row in conn.execute(select(sd.record_id, sd.id).where(sd.record_id.in_(chunk)))
        }
        for row in rows:
            doc = _fields(str(row.doc))
            parts = [str(row.label), *record_text(str(row.kind), doc)]
            if row.object_id:
                parts.extend(_object_text(conn, str(row.object_id)))
            display = "\n".join(dict.fromkeys(p.strip() for p in parts if p.strip()))
            display = display[:MAX_DISPLAY]
            terms = body(display)
            values = {
                "case_id": row.case_id,
                **{col.name: getattr(row, col.name) for col in _COPIED},
                "body": " ".join(terms),
                "display": display,
                "vec": tsvector_literal(terms) if postgres else None,
            }
            if str(row.id) in have:
                conn.execute(
                    update(s.search_docs).where(sd.id == have[str(row.id)]).values(**values)
                )
            else:
                conn.execute(insert(s.search_docs), [{"record_id": row.id, **values}])


def items_of(conn: Connection, objects: Iterable[str]) -> list[str]:
    """The records (items) whose original is one of ``objects``."""
    objs = sorted(set(objects))
    out: list[str] = []
    for i in range(0, len(objs), _CHUNK):
        out.extend(
            str(v)
            for v in conn.execute(
                select(s.records.c.id).where(s.records.c.object_id.in_(objs[i : i + _CHUNK]))
            ).scalars()
        )
    return out


def after_entries(conn: Connection, batch: Sequence[Entry]) -> None:
    """Index what ``batch`` (just projected) changed: records created or updated, and the
    items whose original gained a text, a metadata extraction or an acquisition."""
    records: set[str] = set()
    objects: set[str] = set()
    for e in batch:
        if e.type in ("record.create", "record.update", "assessment"):
            records.add(str(e.data["record"]))
        elif e.type == "derivative" and e.data.get("kind") == TEXT_KIND:
            objects.add(str(e.data["source"]))
        elif e.type in ("acquisition", "extraction"):
            objects.add(str(e.data["object"]))
    if objects:
        records.update(items_of(conn, objects))
    if records:
        refresh(conn, records)


def clear(conn: Connection, *, texts: bool) -> None:
    """Empty the index (and, with ``texts``, the extracted texts it was made from)."""
    conn.execute(delete(s.search_docs))
    if texts:
        conn.execute(delete(s.search_texts))
