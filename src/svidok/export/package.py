"""Court-ready packages: a case's selected items as a BagIt bag that the receiving
institution checks offline with standard tools (docs/formats.md, "Packages").

The order matters for custody: the ``export`` entry is written and signed first, then the
package is built against the checkpoint that covers it, so the package carries the record
of its own making. Every metadata file is computed from the signed entries the package
carries (the same code that checks them, :mod:`svidok.export.verify_package`), never
from the catalog, so what the package says is what the ledger says.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from svidok import __version__
from svidok.cases.access import AccessDenied, Actor, Permission
from svidok.cases.service import Casework
from svidok.cases.views import RecordFilter
from svidok.catalog import schema as s
from svidok.derive.render import PREVIEW_KINDS
from svidok.errors import SvidokError
from svidok.export import package_format as pf
from svidok.export import timestamp_token as tt
from svidok.export import verify_package as vp
from svidok.export.bag import BagWriter, ExportError, publish
from svidok.export.readme import readme
from svidok.home import Home
from svidok.ledger.checkpoint import Receipt
from svidok.ledger.merkle import leaf_hash, verify_inclusion

_CHUNK_IDS = 500
DERIVATIVE_KINDS = frozenset(k for kinds in PREVIEW_KINDS.values() for k in kinds)


@dataclass(frozen=True)
class Selection:
    """Which items of the case: all that every given condition admits (none: all items)."""

    items: tuple[str, ...] = ()
    incident: str | None = None
    query: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"items": list(self.items), "incident": self.incident, "query": self.query}


@dataclass
class ExportResult:
    path: Path
    export: str
    entry: int
    case: str
    items: int
    records: int
    entries: int
    files: int
    bytes: int
    checkpoint_size: int
    protected_included: bool
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def select_items(work: Casework, actor: Actor, case_id: str, selection: Selection) -> list[str]:
    """The ids of the case's items that the selection admits, sorted."""
    chosen: set[str] | None = None
    if selection.items:
        for record in selection.items:
            if work.get(actor, case_id, record).kind != "item":
                raise ExportError(f"{record} is not an item")
        chosen = set(selection.items)
    if selection.incident:
        incident = work.get(actor, case_id, selection.incident)
        if incident.kind != "incident":
            raise ExportError(f"{selection.incident} is not an incident")
        shown = {
            link.from_id
            for link in work.links(actor, case_id, incident.id)
            if link.kind == "item-incident"
        }
        chosen = shown if chosen is None else chosen & shown
    if selection.query or chosen is None:
        found: set[str] = set()
        where = RecordFilter(kind="item", text=selection.query or None)
        offset = 0
        while True:
            page = work.find(actor, case_id, where, limit=500, offset=offset)
            found.update(r.id for r in page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
        chosen = found if chosen is None else chosen & found
    return sorted(chosen)


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _CHUNK_IDS):
        yield list(values[i : i + _CHUNK_IDS])


def _entry_indexes(
    home: Home, case_id: str, reference: str, items: list[str], kinds: Sequence[str] = ()
) -> tuple[set[int], set[str], dict[str, str]]:
    """The ledger entries a package of ``items`` carries (with the ``derivative`` entries of
    the ``kinds`` chosen, ``all``: every kind), the records linked to them, and the items'
    objects (record -> object id)."""
    e, lk, r = s.entries.c, s.links.c, s.records.c
    indexes: set[int] = {0}
    linked: set[str] = set()
    objects: dict[str, str] = {}
    with home.catalog.engine.connect() as conn:
        indexes.update(
            conn.execute(
                select(e.idx).where(e.case_id == case_id, e.type == "case.create")
            ).scalars()
        )
        for chunk in _chunks(items):
            for row in conn.execute(
                select(lk.from_id, lk.to_id, lk.created_entry, lk.removed_entry).where(
                    lk.case_id == case_id, or_(lk.from_id.in_(chunk), lk.to_id.in_(chunk))
                )
            ):
                indexes.add(int(row.created_entry))
                if row.removed_entry is not None:
                    indexes.add(int(row.removed_entry))
                else:
                    linked.update({row.from_id, row.to_id})
            objects.update(
                {
                    str(row.id): str(row.object_id)
                    for row in conn.execute(
                        select(r.id, r.object_id).where(r.id.in_(chunk), r.object_id.is_not(None))
                    )
                }
            )
        linked -= set(items)
        linked |= _referenced(conn, sorted(set(items) | linked)) - set(items)
        records = sorted(set(items) | linked)
        for chunk in _chunks(records):
            indexes.update(
                conn.execute(
                    select(e.idx).where(e.case_id == case_id, e.record_id.in_(chunk))
                ).scalars()
            )
        a, x = s.acquisitions.c, s.extractions.c
        for chunk in _chunks(sorted(set(objects.values()))):
            indexes.update(
                conn.execute(
                    select(a.entry).where(
                        a.object_id.in_(chunk), a.case_name.in_([case_id, reference])
                    )
                ).scalars()
            )
            indexes.update(conn.execute(select(x.entry).where(x.object_id.in_(chunk))).scalars())
            if kinds:
                dv = s.derivatives.c
                chosen = select(dv.entry).where(dv.source_id.in_(chunk))
                if "all" not in kinds:
                    chosen = chosen.where(dv.kind.in_(list(kinds)))
                indexes.update(conn.execute(chosen).scalars())
    return indexes, linked, objects


def _referenced(conn: Any, records: list[str]) -> set[str]:
    """The places and sources that these records' fields name (an item's source and
    place, an incident's places): the package carries them so its references resolve."""
    out: set[str] = set()
    r, rp = s.records.c, s.record_places.c
    for chunk in _chunks(records):
        out.update(str(v) for v in conn.execute(
            select(r.source_id).where(r.id.in_(chunk), r.source_id.is_not(None))).scalars())
        out.update(str(v) for v in conn.execute(
            select(rp.place_id).where(rp.record_id.in_(chunk))).scalars())
    return out


def export_case(
    home: Home,
    work: Casework,
    actor: Actor,
    case_key: str,
    selection: Selection,
    out: Path,
    *,
    recipient: str,
    purpose: str,
    include_protected: bool = False,
    derivatives: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Export the selected items of a case to ``out`` (a new folder, or ``NAME.zip``), with
    the items' ``derivatives`` of those kinds (``all``: every kind; none by default)."""
    out = out.absolute()
    if out.exists() or out.is_symlink():
        raise ExportError(f"{out} exists already: give a new folder or file name")
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} is not a folder")
    if out.resolve().is_relative_to(home.path.resolve()):
        raise ExportError("a package is written outside the data home")
    unknown = sorted(set(derivatives) - DERIVATIVE_KINDS - {"all"})
    if unknown:
        raise ExportError(f"no kind of derivative is called {', '.join(unknown)} (kinds: "
                          f"{', '.join(sorted(DERIVATIVE_KINDS))}, or all)")
    case = work.find_case(actor, case_key)
    if Permission.EXPORT not in case.permissions:
        raise AccessDenied("your role on this case does not allow: export")
    items = select_items(work, actor, case.id, selection)
    if not items:
        raise ExportError("the selection holds no items: nothing to export")
    entry = work.record_export(  # signed into a checkpoint before the package is written
        actor, case.id, items, recipient=recipient, purpose=purpose,
        protected=include_protected, selection=selection.to_json(),
        derivatives=sorted(set(derivatives)),
    )
    latest = home.latest_checkpoint()
    if latest is None or latest.checkpoint.size <= entry.index:
        raise ExportError("the export entry is not covered by a signed checkpoint")
    work_dir = out.with_name(f".{out.name}.building-{os.getpid()}")
    try:
        job = _Job(case.id, case.reference, items, entry.index, str(entry.data["export"]),
                   latest.note, include_protected, tuple(sorted(set(derivatives))))
        result = _build(home, work, actor, job, work_dir, progress)
        publish(work_dir, out)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    result.path = out
    result.protected_included = include_protected
    return result


@dataclass(frozen=True)
class _Job:
    """One export, once its entry is signed."""

    case_id: str
    reference: str
    items: list[str]
    export_entry: int
    export_id: str
    note: str  # the checkpoint the package proves against
    include_protected: bool
    derivatives: tuple[str, ...]


def _build(
    home: Home, work: Casework, actor: Actor, job: _Job, root: Path,
    progress: Callable[[int], None] | None,
) -> ExportResult:
    case_id, reference, items = job.case_id, job.reference, job.items
    export_entry, export_id, note = job.export_entry, job.export_id, job.note
    include_protected = job.include_protected
    vkey = (home.path / "keys" / "ledger.pub").read_text(encoding="utf-8").strip()
    cp = vp.open_checkpoint(note, vp.parse_vkey(vkey))  # as the receiver will open it
    indexes, linked, objects = _entry_indexes(home, case_id, reference, items,
                                              job.derivatives)
    indexes = {i for i in indexes if i < cp.size} | {export_entry}
    bag = BagWriter(root, progress)
    lines = {i: home.ledger.read_raw(i) for i in sorted(indexes)}
    entries = pf.Entries([json.loads(line) for line in lines.values()])
    export_data = json.loads(lines[export_entry])["data"]
    bag.add_bytes("ledger/entries.jsonl", b"".join(line + b"\n" for line in lines.values()))
    proofs = {i: _proof(home, i, line, cp) for i, line in lines.items()}
    for index, proof in proofs.items():
        bag.add_text(f"ledger/proofs/{index:020d}.tlog-proof", proof)
    bag.add_text("key/log.vkey", vkey + "\n")
    bag.add_text("key/log-public-key.pem", _pem(vkey))
    bag.add_text("checkpoint/checkpoint.txt", note)
    bag.add_text("checkpoint/signed-text.txt", cp.body)
    bag.add_bytes("checkpoint/signature.bin", cp.signature)
    stamps = _timestamps(home, cp.size, note)
    for name, token, pem in stamps:
        bag.add_bytes(f"checkpoint/timestamps/{name}.tsr", token)
        bag.add_bytes(f"checkpoint/timestamps/{name}.pem", pem)
    case_ref = {"id": case_id, "reference": reference}

    def described(record: str) -> dict[str, Any]:
        meta = pf.describe(record, entries, case_ref)
        if include_protected and meta["sealed_fields"]:
            view = work.get(actor, case_id, record)
            meta["protected"] = {k: view.fields[k] for k in meta["sealed_fields"]
                                 if k in view.fields}
        return meta

    item_meta = []
    written: set[str] = set()
    for record in items:
        meta = described(record)
        item_meta.append(meta)
        original = meta.get("original")
        if original is not None:
            rel = str(original["file"]).removeprefix("data/")
            if rel not in written:
                digests = _copy_original(home, bag, rel, objects[record])
                if digests["sha256"] != original["sha256"]:
                    raise ExportError(
                        f"the stored bytes of {original['object']} do not match their digest: "
                        "run `svidok verify`; nothing was exported"
                    )
                written.add(rel)
            for derived in meta.get("derivatives", []):
                rel = str(derived["file"]).removeprefix("data/")
                if rel not in written:
                    digests = _copy_original(home, bag, rel, str(derived["object"]))
                    if "sha256:" + digests["sha256"] != derived["object"]:
                        raise ExportError(f"the stored bytes of {derived['object']} do not "
                                          "match their digest: run `svidok verify`")
                    written.add(rel)
            acquisitions = meta["acquisitions"]
            if acquisitions:
                bag.add_text(f"items/{record}/receipt.tlog-proof",
                             proofs[int(acquisitions[0]["entry"])])
        bag.add_text(f"items/{record}/metadata.json", pf.dump(meta))
    record_meta = [described(record) for record in sorted(linked)]
    for meta in record_meta:
        bag.add_text(f"records/{meta['record']}.json", pf.dump(meta))
    places = pf.places_of(record_meta)
    bag.add_text("items.csv", pf.items_csv(item_meta, places))
    bag.add_text("records.csv", pf.records_csv(record_meta, places))
    bag.add_text("items.geojson", pf.geojson(item_meta, places))
    bag.add_text("records.geojson", pf.geojson(record_meta, places))
    export_doc = {
        "format": pf.FORMAT,
        "export": export_id,
        "export_entry": export_entry,
        "case": case_ref,
        "items": items,
        "records": sorted(linked),
        "recipient": export_data["recipient"],
        "purpose": export_data["purpose"],
        "protected_included": include_protected,
        "checkpoint_size": cp.size,
    }
    if job.derivatives:
        export_doc["derivatives"] = list(job.derivatives)
    bag.add_text("export.json", pf.dump(export_doc))
    bag.add_text("README.txt", readme(export_doc, cp.origin, vkey, len(entries.all),
                                         [name for name, _t, _p in stamps]))
    bag.add_bytes("verify_package.py", Path(vp.__file__).read_bytes())
    bag.add_bytes("package_format.py", Path(pf.__file__).read_bytes())
    bag.add_bytes("timestamp_token.py", Path(tt.__file__).read_bytes())
    bag.finish(
        {
            "Source-Organization": cp.origin,
            "External-Description": f"Svidok evidence package of case {reference}: "
            f"{len(items)} items, {len(linked)} linked records",
            "External-Identifier": export_id,
            "Bag-Software-Agent": f"svidok {__version__}",
            "Svidok-Export-Entry": str(export_entry),
            "Svidok-Checkpoint-Size": str(cp.size),
        }
    )
    return ExportResult(
        path=root, export=export_id, entry=export_entry, case=reference, items=len(items),
        records=len(linked), entries=len(entries.all), files=len(bag.digests), bytes=bag.octets,
        checkpoint_size=cp.size, protected_included=include_protected,
    )


def _proof(home: Home, index: int, line: bytes, cp: vp.Checkpoint) -> str:
    """A tlog-proof of entry ``index`` (its ``line``) against this package's checkpoint,
    whatever later checkpoints other writers sign meanwhile; checked before it goes out
    (the checkpoint's signature was checked once, when it was opened)."""
    path = tuple(home.ledger.tree.inclusion_proof(index, cp.size))
    verify_inclusion(leaf_hash(line), index, cp.size, path, cp.root)
    return Receipt(index=index, proof=path, checkpoint_note=cp.note, extra=line).to_text()


def _timestamps(home: Home, size: int, note: str) -> list[tuple[str, bytes, bytes]]:
    """The checkpoint's RFC 3161 tokens from the configured TSAs, each with the TSA's trusted
    certificates (PEM); a token that does not verify is left out, never handed over."""
    from svidok.timestamps import TimestampError

    stamps = home.timestamps()
    found = []
    for tsa in stamps.authorities:
        path = stamps.token_path(size, tsa.name)
        try:
            token = path.read_bytes()
            tsa.check(token, note.encode("utf-8"), path.name)
            pem = tsa.pem()
            tt.check(token, note.encode("utf-8"), pem)  # as the receiver will check it
        except (OSError, TimestampError, ValueError):
            continue
        found.append((tsa.name, token, pem))
    return found


def _copy_original(home: Home, bag: BagWriter, rel: str, object_id: str) -> dict[str, str]:
    with home.catalog.engine.connect() as conn:
        logical = conn.execute(
            select(s.objects.c.logical_path).where(s.objects.c.id == object_id)
        ).scalar_one_or_none()
    if logical is None:
        raise ExportError(f"{object_id} is not in the catalog")
    try:
        with home.store.open_content(object_id, str(logical)) as source:
            return bag.add_stream(rel, source)
    except (OSError, SvidokError) as exc:
        raise ExportError(f"cannot read {object_id} from the store: {exc}") from exc


def _pem(vkey: str) -> str:
    """The log's Ed25519 public key as PEM (SubjectPublicKeyInfo), for openssl."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = base64.b64decode(vkey.split("+", 2)[2])[1:]
    key = Ed25519PublicKey.from_public_bytes(raw)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
