"""A case's items or incidents as one CSV or GeoJSON file, for spreadsheets and QGIS.

Not a court package (``svidok export`` is): a working table of what the catalog says now,
with the same columns and properties as the indexes inside packages
(:mod:`svidok.export.package_format`). Tables hold metadata only, never evidence content;
protected values never appear in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from svidok.cases.access import Actor
from svidok.cases.service import Casework, NotFound
from svidok.cases.views import RecordFilter, RecordView
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


def _meta(work: Casework, actor: Actor, case_id: str, view: RecordView) -> dict[str, Any]:
    """A record in the shape the package indexes use (package_format)."""
    meta: dict[str, Any] = {"record": view.id, "kind": view.kind, "status": view.assessment.value,
                            "fields": {k: v for k, v in view.fields.items()
                                       if k not in view.hidden}}
    if view.kind == "item" and view.fields.get("object"):
        try:
            evidence = work.evidence(actor, case_id, view.id)
        except NotFound:
            return meta
        meta["original"] = {"sha256": evidence.sha256, "size": evidence.size,
                            "media_type": evidence.media_type, "file": ""}
        meta["acquisitions"] = [{"collector": a.collector, "acquired_at": a.acquired_at}
                                for a in evidence.acquisitions]
    return meta


def table(work: Casework, actor: Actor, case_key: str, kind: Kind, fmt: Format) -> str:
    """The case's ``kind`` records as CSV or GeoJSON text."""
    if kind not in ("items", "incidents") or fmt not in ("csv", "geojson"):
        raise ExportError("a table is of items or incidents, as csv or geojson")
    case = work.find_case(actor, case_key)
    records = [_meta(work, actor, case.id, v)
               for v in _all(work, actor, case.id, kind.removesuffix("s"))]
    places = pf.places_of([_meta(work, actor, case.id, v)
                           for v in _all(work, actor, case.id, "place")])
    if fmt == "geojson":
        return pf.geojson(records, places)
    return pf.items_csv(records, places) if kind == "items" else pf.records_csv(records, places)
