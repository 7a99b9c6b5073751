"""What a Svidok evidence package says about each record, computed from the signed ledger
entries it carries: the metadata files, the CSV and the GeoJSON indexes. The exporter
writes them with this code and the package's verifier recomputes them with it, so a file
that says anything else is caught. Standard library only; it ships in every package
beside verify_package.py (see docs/formats.md, "Packages")."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any


class Problem(Exception):
    """One thing found wrong (its text says what, in plain words)."""


FORMAT = "svidok-package/1"
SEALED = "svidok-enc:"  # the prefix of a protected value as the ledger holds it
ITEM_COLUMNS = [
    "record", "title", "item_kind", "captured", "latitude", "longitude", "status",
    "sha256", "size", "media_type", "original", "collectors", "acquired_at", "tags",
]
RECORD_COLUMNS = ["record", "kind", "title", "time", "latitude", "longitude", "status"]


# ------------------------------------------------------------ what the entries say
def data_of(e: dict[str, Any]) -> dict[str, Any]:
    d = e.get("data")
    return d if isinstance(d, dict) else {}


def _merged(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _stamp(e: dict[str, Any]) -> dict[str, Any]:
    return {"entry": e["index"], "time": e["time"], "actor": e["actor"]}


class Entries:
    """A package's entries, sorted by index, with the entries that name each record,
    link or object (as ``record``, ``from``, ``to``, ``link``, ``object`` or ``source``)
    found at once: describing every record stays linear in the number of entries."""

    _KEYS = ("record", "from", "to", "link", "object", "source")

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.all = entries
        self._by: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            d = data_of(e)
            for key in {str(d[k]) for k in self._KEYS if isinstance(d.get(k), str)}:
                self._by.setdefault(key, []).append(e)

    def about(self, *keys: str) -> list[dict[str, Any]]:
        """The entries naming any of ``keys``, each once, in index order."""
        found = {id(e): e for key in keys for e in self._by.get(key, [])}
        return sorted(found.values(), key=lambda e: int(e["index"]))


def describe(record: str, entries: Entries, case: dict[str, str]) -> dict[str, Any]:
    """The metadata of one record as the entries say it: fields (sealed protected values
    left out and named), status with its history, links, custody and, for an item, its
    original with its acquisitions for this case, extractions and chosen derivatives."""
    fields: dict[str, Any] = {}
    kind, status, created = "", "unverified", False
    assessments: list[dict[str, Any]] = []
    links: dict[str, dict[str, Any]] = {}
    custody: list[dict[str, Any]] = []
    mine = entries.about(record)
    added = [str(data_of(e).get("link")) for e in mine if e["type"] == "link.add"]
    for e in entries.about(record, *added):  # with the removals of its links
        d, t = data_of(e), e["type"]
        if d.get("case") not in (None, case["id"], case["reference"]):
            continue
        if t == "record.create" and d.get("record") == record:
            fields, kind, created = dict(d.get("fields") or {}), str(d.get("kind")), True
        elif t == "record.update" and d.get("record") == record:
            fields = _merged(fields, d.get("changes") or {})
        elif t == "assessment" and d.get("record") == record:
            status = str(d.get("to"))
            assessments.append({**_stamp(e), "from": d.get("from"), "to": d.get("to"),
                                "rationale": d.get("rationale")})
        elif t == "link.add" and record in (d.get("from"), d.get("to")):
            links[str(d.get("link"))] = {"link": d.get("link"), "kind": d.get("kind"),
                                         "from": d.get("from"), "to": d.get("to"),
                                         "role": d.get("role"), "entry": e["index"]}
        elif t == "link.remove" and str(d.get("link")) in links:
            links.pop(str(d.get("link")))
        else:
            continue
        custody.append({**_stamp(e), "type": t})
    if not created:
        raise Problem(f"record {record}: no record.create entry for it in the package")
    sealed = sorted(k for k, v in fields.items() if isinstance(v, str) and v.startswith(SEALED))
    out: dict[str, Any] = {
        "record": record,
        "kind": kind,
        "case": case["id"],
        "fields": {k: v for k, v in fields.items() if k not in sealed},
        "sealed_fields": sealed,
        "status": status,
        "assessments": assessments,
        "links": sorted(links.values(), key=lambda link: int(link["entry"])),
    }
    obj = fields.get("object") if kind == "item" else None
    if isinstance(obj, str):
        of_object = entries.about(obj)
        acquired = [e for e in of_object if e["type"] == "acquisition"
                    and data_of(e).get("object") == obj
                    and data_of(e).get("case") in (case["id"], case["reference"])]
        extracted = [e for e in of_object if e["type"] == "extraction"
                     and data_of(e).get("object") == obj]
        accessed = [e for e in mine if e["type"] == "access"
                    and data_of(e).get("record") == record]
        derived = [e for e in of_object if e["type"] == "derivative"
                   and data_of(e).get("source") == obj]
        custody.extend({**_stamp(e), "type": e["type"]}
                       for e in acquired + extracted + accessed + derived)
        first = data_of(acquired[0]) if acquired else {}
        out["original"] = {
            "object": obj,
            "sha256": obj.removeprefix("sha256:"),
            "size": first.get("size"),
            "media_type": first.get("media_type"),
            "file": original_path(obj, first.get("logical_path")),
        }
        out["acquisitions"] = [{**_stamp(e), **data_of(e)} for e in acquired]
        out["extractions"] = [{**_stamp(e), **data_of(e)} for e in extracted]
        out["accesses"] = [{**_stamp(e), "action": data_of(e).get("action")} for e in accessed]
        out["receipt"] = f"data/items/{record}/receipt.tlog-proof"
        if derived:  # chosen derivatives (previews), marked as such: never the evidence
            out["derivatives"] = [
                {**_stamp(e), **data_of(e), "derivative_of": obj,
                 "file": derivative_path(str(data_of(e).get("object")),
                                         data_of(e).get("logical_path"))}
                for e in derived
            ]
    out["custody"] = sorted(custody, key=lambda c: int(c["entry"]))
    return out


def original_path(obj: str, logical_path: Any, folder: str = "originals") -> str:
    """Where a package keeps an object's bytes: by digest, with a safe file name ending."""
    digest = obj.removeprefix("sha256:")
    suffix = Path(str(logical_path or "")).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,10}", suffix):
        suffix = ".bin"
    return f"data/{folder}/{digest}{suffix}"


def derivative_path(obj: str, logical_path: Any) -> str:
    """Where a package keeps a derivative's bytes (apart from the originals)."""
    return original_path(obj, logical_path, "derivatives")


Places = dict[str, tuple[Any, Any]]  # place record UUID -> (lat, lon)


def places_of(records: list[dict[str, Any]]) -> Places:
    """The positions of the place records among ``records``."""
    return {m["record"]: (m["fields"]["lat"], m["fields"]["lon"]) for m in records
            if m.get("kind") == "place" and "lat" in m["fields"] and "lon" in m["fields"]}


def _point(fields: dict[str, Any], places: Places) -> tuple[Any, Any]:
    """A record's position: its own, else that of the (first) place it names."""
    loc = fields.get("location")
    if isinstance(loc, dict) and "lat" in loc and "lon" in loc:
        return loc["lat"], loc["lon"]
    if "lat" in fields and "lon" in fields:  # a place
        return fields["lat"], fields["lon"]
    for place in fields.get("places") or []:  # an incident
        if place in places:
            return places[place]
    return None, None


def _time(fields: dict[str, Any]) -> str:
    for name in ("captured", "time"):
        value = fields.get(name)
        if isinstance(value, dict):
            start, end = value.get("start") or "", value.get("end") or ""
            return f"{start}/{end}" if end else str(start)
    return ""


def _title(m: dict[str, Any]) -> str:
    f = m["fields"]
    names = f.get("names")
    if isinstance(names, list) and names and isinstance(names[0], dict):
        return str(names[0].get("value") or names[0].get("name") or "")
    for key in ("title", "name"):
        if isinstance(f.get(key), str):
            return str(f[key])
    return str(m.get("original", {}).get("file", "")).rsplit("/", 1)[-1]


def _csv(rows: list[list[Any]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:  # a leading =, +, - or @ would be a formula in a spreadsheet
        writer.writerow(["'" + c if isinstance(c, str) and c and c[0] in "=+-@\t\r" else c
                         for c in ("" if v is None else v for v in row)])
    return out.getvalue()


def items_csv(items: list[dict[str, Any]], places: Places | None = None) -> str:
    rows = []
    for m in items:
        f, o = m["fields"], m.get("original", {})
        lat, lon = _point(f, places or {})
        acq = m.get("acquisitions", [])
        rows.append([m["record"], _title(m), f.get("item_kind"), _time(f), lat, lon,
                     m["status"], o.get("sha256"), o.get("size"), o.get("media_type"),
                     o.get("file"), "; ".join(sorted({str(a.get("collector")) for a in acq})),
                     acq[0]["acquired_at"] if acq else "", "; ".join(f.get("tags", []))])
    return _csv(rows, ITEM_COLUMNS)


def records_csv(records: list[dict[str, Any]], places: Places | None = None) -> str:
    rows = []
    for m in records:
        lat, lon = _point(m["fields"], places or {})
        rows.append([m["record"], m["kind"], _title(m), _time(m["fields"]), lat, lon,
                     m["status"]])
    return _csv(rows, RECORD_COLUMNS)


def geojson(records: list[dict[str, Any]], places: Places | None = None) -> str:
    """RFC 7946 FeatureCollection of the records with a position (lon, lat order); an
    incident stands at its first place."""
    features = []
    for m in records:
        lat, lon = _point(m["fields"], places or {})
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            loc = m["fields"].get("location")
            precision = loc.get("precision_m") if isinstance(loc, dict) else None
            features.append({
                "type": "Feature",
                "id": m["record"],
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"record": m["record"], "kind": m["kind"], "title": _title(m),
                               "time": _time(m["fields"]), "status": m["status"],
                               "precision_m": precision,
                               "sha256": m.get("original", {}).get("sha256")},
            })
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def dump(doc: Any) -> str:
    """How a package writes its JSON files (so a verifier can compare them exactly)."""
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


