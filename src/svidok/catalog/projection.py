"""How ledger entries become catalog rows. The one place that defines the projection:
the live catalog and ``svidok rebuild``/``svidok verify`` both use it, so they agree by
construction and any difference found means the catalog was changed behind the ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from svidok.analysis import projection as analysis
from svidok.catalog import casework
from svidok.catalog import schema as s
from svidok.ledger.entries import Entry, JSONValue, canonical_json
from svidok.search import index as search_index


def _text(value: JSONValue) -> str:
    return canonical_json(value).decode("utf-8")


def display_path(value: JSONValue) -> str:
    """The display form of a path value from the ledger (see docs/formats.md)."""
    if isinstance(value, Mapping):
        if isinstance(value.get("utf8"), str):
            return str(value["utf8"])
        if isinstance(value.get("display"), str):
            return str(value["display"])
    return str(value)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _object_row(oid: str, e: Entry) -> dict[str, Any]:
    d = e.data
    return {
        "id": oid,
        "size": d["size"],
        "media_type": str(d["media_type"]),
        "logical_path": str(d["logical_path"]),
        "first_entry": e.index,
    }


def apply(conn: Connection, batch: Sequence[Entry]) -> None:
    """Project ``batch`` (consecutive entries) into the catalog inside the caller's transaction."""
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in s.INTAKE}
    new_ids = {str(e.data["object"]) for e in batch if e.type in ("acquisition", "derivative")}
    known = (
        set(conn.execute(select(s.objects.c.id).where(s.objects.c.id.in_(new_ids))).scalars())
        if new_ids
        else set()
    )
    origin: str | None = None
    work: list[Entry] = []  # casework entries, applied one by one after the batch
    for e in batch:
        d = e.data
        obj = d.get("object")
        case_id, record_id = (
            casework.scope(e) if e.type in casework.CASEWORK_TYPES else analysis.scope(e)
        )
        if e.type == "capture":  # a web capture shows in its case's activity
            case_id = str(d["case"])
        elif e.type == "search.read":  # in the custody history of the item it showed
            case_id, record_id = str(d["case"]), str(d["record"])
        rows["entries"].append(
            {
                "idx": e.index,
                "type": e.type,
                "time": e.time,
                "actor": e.actor,
                "object_id": _opt(obj),
                "case_id": case_id,
                "record_id": record_id,
            }
        )
        if e.type in casework.CASEWORK_TYPES:
            work.append(e)
        elif e.type == "init":
            origin = str(d["origin"])
        elif e.type == "key":
            rows["keys"].append(
                {"entry": e.index, "event": str(d["event"]), "vkey": str(d["vkey"])}
            )
        elif e.type == "acquisition":
            oid = str(obj)
            if oid not in known:  # the entry that first stored the object
                known.add(oid)
                rows["objects"].append(_object_row(oid, e))
            file_info = d.get("file")
            mtime = file_info.get("mtime_ns") if isinstance(file_info, Mapping) else None
            rows["acquisitions"].append(
                {
                    "entry": e.index,
                    "object_id": oid,
                    "case_name": str(d["case"]),
                    "collector": str(d["collector"]),
                    "source": _opt(d.get("source")),
                    "note": _opt(d.get("note")),
                    "path": _text(d["path"]),
                    "name": display_path(d["name"]),
                    "size": d["size"],
                    "mtime_ns": _opt(mtime),
                    "acquired_at": str(d["acquired_at"]),
                    "new_object": bool(d["new_object"]),
                }
            )
        elif e.type == "derivative":
            oid = str(obj)
            if oid not in known:  # the entry that first stored the object
                known.add(oid)
                rows["objects"].append(_object_row(oid, e))
            rows["derivatives"].append(
                {
                    "entry": e.index,
                    "object_id": oid,
                    "source_id": str(d["source"]),
                    "kind": str(d["kind"]),
                    "media_type": str(d["media_type"]),
                    "algorithm": str(d["algorithm"]),
                    "params": _text(d["params"]),
                }
            )
        elif e.type == "extraction":
            rows["extractions"].append(
                {
                    "entry": e.index,
                    "object_id": str(obj),
                    "media_type": str(d["media_type"]),
                    "status": str(d["status"]),
                    "extractor": str(d["extractor"]),
                    "metadata": _text(d["metadata"]),
                    "errors": _text(d["errors"]),
                }
            )
        elif e.type == "intake.skip":
            rows["skips"].append(
                {
                    "entry": e.index,
                    "case_name": str(d["case"]),
                    "path": _text(d["path"]),
                    "kind": str(d["kind"]),
                    "reason": str(d["reason"]),
                }
            )
        elif e.type == "verification":
            rows["verifications"].append(
                {
                    "entry": e.index,
                    "result": str(d["result"]),
                    "problems": d["problems"],
                    "tree_size": d["tree_size"],
                }
            )
    for table in s.INTAKE:  # parents before children
        if rows[table.name]:
            conn.execute(insert(table), rows[table.name])
    for e in work:
        casework.apply_entry(conn, e)
    search_index.after_entries(conn, batch)  # derived: the search index follows
    analysis.apply(conn, [e for e in batch if e.type in analysis.TYPES])
    if origin is not None:
        conn.execute(insert(s.meta), [{"key": "origin", "value": origin}])
