"""A folder of evidence files with sidecar metadata, one sidecar per file.

The sidecar of ``photo.jpg`` is ``photo.jpg.json`` (a JSON object) or ``photo.jpg.csv`` (a
header row and one row of values) in the same folder. Its keys are item fields (``title``,
``description``, ``item_kind``, ``captured``, ``location``, ``source``, ``credibility``,
``language``, ``tags``), flat forms of them for CSV (``captured_end``,
``captured_precision``, ``lat``, ``lon``, ``precision_m``; ``tags`` separated by ``;``),
and the provenance of the acquisition (``collector``, ``provenance``: where it came from,
``note``), which default to the command's options. ``source`` names a source record of the
case by UUID or by its exact name. Every sidecar is checked before any file is taken in;
a bad one refuses the whole import. The files are then preserved through intake (a file
ingested before is not taken in again) and each becomes an item with the sidecar's fields;
an item the case already holds for the same bytes is left as it is (investigators may
have edited it; differences are reported), so a second run changes nothing.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svidok.cases.access import Actor
from svidok.cases.service import Casework, CaseworkError
from svidok.cases.views import RecordFilter
from svidok.home import Home
from svidok.imports.common import ImportRefused, ImportReport, Problem, read_csv
from svidok.textsafe import escape_bytes, escape_text

SIDECAR_SUFFIXES = (".json", ".csv")
MAX_SIDECAR = 1 << 20
_ITEM_KEYS = {"title", "description", "item_kind", "captured", "location", "source",
              "credibility", "language", "tags"}
_FLAT_KEYS = {"captured_end", "captured_precision", "lat", "lon", "precision_m"}
_PROVENANCE = {"collector", "provenance", "note"}


@dataclass(frozen=True)
class FolderOptions:
    collector: str
    provenance: str | None = None  # where the files came from (the acquisitions' source)
    note: str | None = None


@dataclass
class _Planned:
    path: Path
    where: str
    fields: dict[str, Any]
    collector: str
    provenance: str | None
    note: str | None


def _sidecar_of(path: Path) -> Path | None:
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def _read_sidecar(path: Path) -> dict[str, Any]:
    if path.stat().st_size > MAX_SIDECAR:
        raise ValueError(f"larger than {MAX_SIDECAR >> 10} KiB")
    if path.suffix == ".json":
        try:
            doc = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"not valid UTF-8 JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return doc
    _, rows = read_csv(path)
    found = list(rows)
    if len(found) != 1 or found[0].extra > 0:
        raise ValueError("a CSV sidecar holds a header row and exactly one row of values")
    return {k: v for k, v in found[0].values.items() if v.strip()}


def _number(value: Any, what: str) -> float:
    try:
        return float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None


def item_fields(doc: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """Item fields from a sidecar (ValueError saying what is wrong)."""
    unknown = sorted(set(doc) - _ITEM_KEYS - _FLAT_KEYS - _PROVENANCE)
    if unknown:
        raise ValueError(f"unknown keys {', '.join(unknown)} (item fields are "
                         f"{', '.join(sorted(_ITEM_KEYS | _FLAT_KEYS))})")
    out = {k: v for k, v in doc.items() if k in _ITEM_KEYS}
    if isinstance(out.get("captured"), str):
        out["captured"] = {"start": out["captured"].strip()}
        if doc.get("captured_end"):
            out["captured"]["end"] = str(doc["captured_end"]).strip()
        if doc.get("captured_precision"):
            out["captured"]["precision"] = str(doc["captured_precision"]).strip()
    if "lat" in doc or "lon" in doc:
        if "location" in doc or not ("lat" in doc and "lon" in doc):
            raise ValueError("give lat and lon together, or location, not both")
        out["location"] = {"lat": _number(doc["lat"], "lat"), "lon": _number(doc["lon"], "lon")}
        if doc.get("precision_m") not in (None, ""):
            out["location"]["precision_m"] = int(_number(doc["precision_m"], "precision_m"))
    if isinstance(out.get("tags"), str):
        out["tags"] = [t.strip() for t in out["tags"].split(";") if t.strip()]
    if isinstance(out.get("credibility"), str) and out["credibility"].strip().isdigit():
        out["credibility"] = int(out["credibility"])
    if out.get("source"):
        name = str(out["source"]).strip()
        if name not in sources.values() and name not in sources:
            raise ValueError(f"source {name!r} is no source of this case (its UUID or name)")
        out["source"] = name if name in sources.values() else sources[name]
    return out


def _walk(root: Path) -> tuple[list[Path], list[Problem]]:
    """Files under ``root`` that are evidence (not sidecars), in a stable order; links and
    special files are problems (a folder import takes plain files only)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        here = Path(folder)
        for name in sorted(names) + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            shown = escape_bytes(os.fsencode(path.relative_to(root)))
            mode = path.lstat().st_mode
            if not stat.S_ISREG(mode):
                problems.append(Problem(shown, "not a plain file (links and special files "
                                               "are not imported from a folder)"))
            elif path.suffix in SIDECAR_SUFFIXES and path.with_suffix("").is_file() \
                    and path.name != path.with_suffix("").name:
                continue  # the sidecar of its neighbour
            else:
                files.append(path)
    return files, problems


def import_folder(
    home: Home, work: Casework, actor: Actor, case_key: str, root: Path, options: FolderOptions
) -> ImportReport:
    """Import the evidence files under ``root`` with their sidecars (see the module notes)."""
    from svidok.intake.ingest import IngestOptions, ingest, summarize

    case = work.find_case(actor, case_key)
    if not root.is_dir():
        raise ImportRefused([Problem(str(root), "not a folder")])
    found = work.find(actor, case.id, RecordFilter(kind="source"), limit=500).items
    sources = {str(r.fields.get("name", "")): r.id for r in found}
    files, problems = _walk(root)
    plan: list[_Planned] = []
    for path in files:
        where = escape_bytes(os.fsencode(path.relative_to(root)))
        sidecar = _sidecar_of(path)
        try:
            doc = _read_sidecar(sidecar) if sidecar else {}
            fields = item_fields(doc, sources)
            fields.setdefault("title", escape_text(path.name))
            work.check_fields("item", fields)
        except ImportRefused as exc:
            problems.extend(Problem(f"{where} (sidecar)", p.reason) for p in exc.problems)
            continue
        except (ValueError, CaseworkError, OSError) as exc:
            problems.append(Problem(f"{where} (sidecar)" if sidecar else where, str(exc)))
            continue
        plan.append(_Planned(
            path, where, fields, str(doc.get("collector") or options.collector),
            str(doc["provenance"]) if doc.get("provenance") else options.provenance,
            str(doc["note"]) if doc.get("note") else options.note,
        ))
    if problems:
        raise ImportRefused(problems)
    report = ImportReport("folder", case.reference)
    groups: dict[tuple[str, str | None, str | None], list[_Planned]] = {}
    for p in plan:
        groups.setdefault((p.collector, p.provenance, p.note), []).append(p)
    objects: dict[Path, str] = {}
    for (collector, provenance, note), members in groups.items():
        done = ingest(home, [os.fsencode(p.path.absolute()) for p in members],
                      IngestOptions(case=case.reference, collector=collector,
                                    source=provenance, note=note))
        for key, n in summarize(done).items():
            report.files[key] = report.files.get(key, 0) + n
        by_path = {o.path: o for o in done.outcomes}
        for p in members:
            outcome = by_path.get(os.fsencode(p.path.absolute()))
            if outcome is None or not outcome.ok or outcome.object_id is None:
                reason = outcome.reason or outcome.status if outcome else "not found by intake"
                report.problems.append(Problem(p.where, f"not preserved: {reason}"))
            else:
                objects[p.path] = outcome.object_id
    _items(work, actor, case.id, plan, objects, report)
    return report


def _items(
    work: Casework, actor: Actor, case_id: str, plan: list[_Planned], objects: dict[Path, str],
    report: ImportReport,
) -> None:
    """Each preserved file as an item with its sidecar's fields: new objects as new items,
    items of objects the case already holds brought to the sidecar's fields."""
    have = work.items_by_object(actor, case_id)
    new: list[dict[str, Any]] = []
    for p in plan:
        obj = objects.get(p.path)
        if obj is None:
            continue
        fields = {**p.fields, "object": obj}
        if obj in have:  # never changed by an import: investigators may have edited it
            if have[obj]:
                current = work.get(actor, case_id, have[obj])
                differ = sorted(k for k, v in work.check_fields("item", fields).items()
                                if current.fields.get(k) != v)
                if differ:
                    report.notes.append(Problem(p.where, "already an item of the case; left "
                                                f"as it is, though {', '.join(differ)} differ"))
                report.unchanged.append(have[obj])
        else:
            have[obj] = ""  # the same bytes twice in the folder: one item
            found = work.intake_fields(obj, escape_text(p.path.name))  # the sidecar wins
            new.append({**found, **fields})
    report.created = work.create_many(actor, case_id, "item", new)
