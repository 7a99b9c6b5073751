"""A package from another Svidok (``svidok export``) taken into a case of this one.

The package is checked completely first (the same check as ``svidok verify-package``,
against the sending archive's published key); a package that is not intact is refused
whole. Then its originals are preserved through intake, each acquisition naming the
package, the sending archive and the export entry, and its records are made again in the
case: places and sources first, then incidents and people, then the items, with their
references and links carried over. Each record made carries the tag
``imported-from:<its UUID in the sending archive>``, by which a second run finds it and
makes nothing twice. Verification statuses are not carried over: they were the sending
archive's judgement, and the package's metadata files keep them for anyone to read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from svidok.cases.access import Actor
from svidok.cases.service import Casework, CaseworkError
from svidok.export import verify_package as vp
from svidok.home import Home
from svidok.imports.common import ImportRefused, ImportReport, Problem

TAG_PREFIX = "imported-from:"
_ORDER = ("place", "source", "incident", "person", "item")


def _remap(kind: str, fields: dict[str, Any], ids: Mapping[str, str]) -> tuple[
    dict[str, Any], list[str]
]:
    """Fields with references to records of the sending archive replaced by the new
    records' UUIDs; references the package does not resolve are dropped (named)."""
    out, dropped = dict(fields), []
    if kind == "item" and out.get("source"):
        if out["source"] in ids:
            out["source"] = ids[out["source"]]
        else:
            dropped.append("source")
            out.pop("source")
    location = out.get("location")
    if isinstance(location, dict) and location.get("place"):
        location = dict(location)
        if location["place"] in ids:
            location["place"] = ids[location["place"]]
        else:
            dropped.append("location.place")
            location.pop("place")
        out["location"] = location
    if kind == "incident" and out.get("places"):
        kept = [ids[p] for p in out["places"] if p in ids]
        if len(kept) < len(out["places"]):
            dropped.append("places")
        out["places"] = kept
    return out, dropped


def import_package(
    home: Home, work: Casework, actor: Actor, case_key: str, source: Path, *,
    key: str | None, collector: str, accept_packaged_key: bool = False,
) -> ImportReport:
    """Import the package at ``source`` (a bag folder or its zip) into a case."""
    where = source.name
    if key is None and not accept_packaged_key:
        raise ImportRefused([Problem(where, "give the sending archive's published key with "
                                            "--key (or --accept-packaged-key to trust the key "
                                            "the package carries)")])
    case = work.find_case(actor, case_key)
    checked = vp.verify(source, key)
    if not checked.ok:
        raise ImportRefused([Problem(where, p) for p in checked.problems])
    tree = vp.Tree(source)
    try:
        doc = tree.json("data/export.json")
        metas = {r: tree.json(f"data/items/{r}/metadata.json") for r in doc["items"]}
        metas |= {r: tree.json(f"data/records/{r}.json") for r in doc["records"]}
        _check_all(work, metas)
        report = ImportReport("package", case.reference)
        provenance = (f"Svidok package {doc['export']} from {checked.facts['origin']} "
                      f"(export entry {doc['export_entry']}, checkpoint "
                      f"{doc['checkpoint_size']}) to {doc['recipient']}")
        done = {tag.removeprefix(TAG_PREFIX)
                for tag in work.tagged(actor, case.id, TAG_PREFIX)}
        pending = {r: m for r, m in metas.items() if r not in done}  # a second run: none
        objects = _originals(home, tree, source, case.reference, pending, collector,
                             provenance, report)
    finally:
        tree.close()
    _records(work, actor, case.id, metas, objects, report)
    return report


def _originals(
    home: Home, tree: vp.Tree, source: Path, case_ref: str, metas: Mapping[str, Any],
    collector: str, provenance: str, report: ImportReport,
) -> dict[str, str]:
    """Preserve the package's originals (from the bag's folder itself, or from a private
    copy of the zip's); object id -> the bag path it came from."""
    from svidok.intake.ingest import IngestOptions, ingest, summarize

    files = sorted({str(m["original"]["file"]) for m in metas.values() if "original" in m})
    if not files:
        return {}
    scratch = None
    try:
        if source.is_dir():
            paths = [source.absolute() / f for f in files]
        else:
            scratch = Path(tempfile.mkdtemp(prefix="svidok-import-"))
            paths = []
            for f in files:
                target = scratch / source.stem / f
                target.parent.mkdir(parents=True, exist_ok=True)
                with tree.files[f]() as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                paths.append(target)
        options = IngestOptions(case=case_ref, collector=collector, source=provenance,
                                note=f"imported from {source.name}")
        done = ingest(home, [os.fsencode(p) for p in paths], options)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    report.files = {k: n for k, n in summarize(done).items() if n}
    by_path = {o.path: o for o in done.outcomes}
    received: dict[str, str] = {}
    for name, path in zip(files, paths, strict=True):
        outcome = by_path.get(os.fsencode(path))
        if outcome is not None and outcome.ok and outcome.object_id is not None:
            received[outcome.object_id] = name
        else:
            why = (outcome.reason or outcome.status) if outcome else "not found by intake"
            report.problems.append(Problem(name, f"not preserved: {why}"))
    return received


def _check_all(work: Casework, metas: Mapping[str, Any]) -> None:
    """Every record's fields checked before anything is written (references stand in for
    the records they will name)."""
    stand_in = {r: r for r in metas}
    problems = []
    for record, meta in sorted(metas.items()):
        if meta.get("kind") not in _ORDER:
            problems.append(Problem(f"record {record}", f"unknown kind {meta.get('kind')!r}"))
            continue
        fields, _ = _remap(meta["kind"], dict(meta["fields"]), stand_in)
        fields |= dict(meta.get("protected") or {})
        try:
            work.check_fields(meta["kind"], fields)
        except CaseworkError as exc:
            problems.append(Problem(f"record {record}", str(exc)))
    if problems:
        raise ImportRefused(problems)


def _records(
    work: Casework, actor: Actor, case_id: str, metas: Mapping[str, Any],
    objects: Mapping[str, str], report: ImportReport,
) -> None:
    ids = {tag.removeprefix(TAG_PREFIX): record
           for tag, record in work.tagged(actor, case_id, TAG_PREFIX).items()}
    for kind in _ORDER:
        todo = [(r, m) for r, m in sorted(metas.items()) if m.get("kind") == kind]
        docs, origins = [], []
        for record, meta in todo:
            if record in ids:
                report.unchanged.append(ids[record])
                continue
            if kind == "item" and meta.get("original", {}).get("object") not in objects:
                continue  # its original could not be preserved (reported above)
            fields, dropped = _remap(kind, dict(meta["fields"]), ids)
            fields |= dict(meta.get("protected") or {})
            fields["tags"] = [*fields.get("tags", []), TAG_PREFIX + record]
            if dropped:
                report.notes.append(Problem(f"record {record}", "references the package does "
                                            f"not hold were left out: {', '.join(dropped)}"))
            docs.append(fields)
            origins.append(record)
        made = work.create_many(actor, case_id, kind, docs)
        ids.update(zip(origins, made, strict=True))
        report.created.extend(made)
    _links(work, actor, case_id, metas, ids)


def _links(work: Casework, actor: Actor, case_id: str, metas: Mapping[str, Any],
           ids: Mapping[str, str]) -> None:
    have = {(link.kind, link.from_id, link.to_id) for link in work.links(actor, case_id)}
    for meta in metas.values():
        for link in meta.get("links", []):
            start, end = ids.get(link["from"]), ids.get(link["to"])
            if start and end and (link["kind"], start, end) not in have:
                work.link(actor, case_id, link["kind"], start, end, link.get("role"))
                have.add((link["kind"], start, end))
