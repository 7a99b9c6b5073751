"""A case's items or incidents as one CSV or GeoJSON file, for spreadsheets and QGIS.

Not a court package (``svidok export`` is): a working table of what the catalog says now,
with the same columns and properties as the indexes inside packages
(:mod:`svidok.export.package_format`). Tables hold metadata only, never evidence content;
protected values never appear in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from sqlalchemy import select

from svidok.cases.access import Actor
from svidok.cases.service import Casework
from svidok.cases.views import RecordFilter, RecordView
from svidok.catalog import schema as s
from svidok.export import package_format as pf
from svidok.export.bag import ExportError

Kind = Literal["items", "incidents"]
Format = Literal["csv", "geojson"]


def _all(work: Casework, actor: Actor, case_id: str, kind: str) -> Iterator[RecordView]:
    offset = 0
    while True:
        page = work.find(actor, case_id, RecordFilter(kind=kind), limit=500, offset=offset)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def _meta(view: RecordView, evidence: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A record in the shape the package indexes use (package_format)."""
    meta: dict[str, Any] = {"record": view.id, "kind": view.kind, "status": view.assessment.value,
                            "fields": {k: v for k, v in view.fields.items()
                                       if k not in view.hidden}}
    found = evidence.get(str(view.fields.get("object")))
    if view.kind == "item" and found is not None:
        meta["original"] = found["original"]
        meta["acquisitions"] = found["acquisitions"]
    return meta


def _evidence(work: Casework, case_id: str, objects: list[str]) -> dict[str, dict[str, Any]]:
    """Per object: its size and type and its acquisitions for this case (collector, time),
    in a few queries for the whole table, never one per item."""
    o, a = s.objects.c, s.acquisitions.c
    out: dict[str, dict[str, Any]] = {}
    with work.home.catalog.engine.connect() as conn:
        reference = conn.execute(
            select(s.cases.c.reference).where(s.cases.c.id == case_id)).scalar_one()
        for i in range(0, len(objects), 500):
            chunk = objects[i : i + 500]
            for row in conn.execute(select(o.id, o.size, o.media_type).where(o.id.in_(chunk))):
                out[str(row.id)] = {"original": {
                    "sha256": str(row.id).removeprefix("sha256:"), "size": row.size,
                    "media_type": row.media_type, "file": ""}, "acquisitions": []}
            for row in conn.execute(
                select(a.object_id, a.collector, a.acquired_at)
                .where(a.object_id.in_(chunk), a.case_name.in_([case_id, reference]))
                .order_by(a.entry)
            ):
                if str(row.object_id) in out:
                    out[str(row.object_id)]["acquisitions"].append(
                        {"collector": row.collector, "acquired_at": row.acquired_at})
    return out


def table(work: Casework, actor: Actor, case_key: str, kind: Kind, fmt: Format) -> str:
    """The case's ``kind`` records as CSV or GeoJSON text."""
    if kind not in ("items", "incidents") or fmt not in ("csv", "geojson"):
        raise ExportError("a table is of items or incidents, as csv or geojson")
    case = work.find_case(actor, case_key)
    views = list(_all(work, actor, case.id, kind.removesuffix("s")))
    objects = sorted({str(v.fields["object"]) for v in views if v.fields.get("object")})
    evidence = _evidence(work, case.id, objects)
    records = [_meta(v, evidence) for v in views]
    places = pf.places_of([_meta(v, {}) for v in _all(work, actor, case.id, "place")])
    if fmt == "geojson":
        return pf.geojson(records, places)
    return pf.items_csv(records, places) if kind == "items" else pf.records_csv(records, places)
