"""Check a Svidok evidence package (a BagIt bag) completely and offline.

    python3 verify_package.py BAG_FOLDER_OR_ZIP [--key VKEY_OR_FILE] [--json]

Needs only the Python standard library (3.11 or newer) and the package `cryptography`
(for Ed25519). It does not need Svidok: this very file ships inside every package Svidok
exports (data/verify_package.py) and is what `svidok verify-package` runs.

What it checks, in order (the package's README.txt says the same in plain words):
 1. the bag (RFC 8493): bagit.txt, both payload manifests (SHA-256 and SHA-512) against every
    payload file, no file missing or unlisted, Payload-Oxum, both tag manifests;
 2. the log's key and the signed checkpoint (C2SP signed note, Ed25519), and that the
    openssl-friendly copies of both (PEM key, signed text, raw signature) say the same;
    the checkpoint's RFC 3161 timestamp tokens, if any (timestamp_token.py, beside this);
 3. every ledger entry in the package: its C2SP tlog-proof leads to the checkpoint's root
    (RFC 9162 inclusion proof), and the entry file holds exactly those entries;
 4. the export entry: who exported what, to whom and why, and that the items are exactly
    the ones it names;
 5. every item: its original's SHA-256 and size are those of the acquisition entries, its
    receipt verifies, and its metadata file (and every index: CSV, GeoJSON) is exactly what
    the signed entries say. Values the ledger holds only sealed (protected fields) cannot
    be checked here; if the exporter included them in clear, that is reported.
Exit status: 0 intact, 1 problems found (each printed), 2 cannot run (bad arguments).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import stat
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

try:  # inside Svidok
    from . import package_format as pf
    from . import timestamp_token as tt
except ImportError:  # the copy in a package: its sibling files
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import package_format as pf  # type: ignore[import-not-found, no-redef]
    import timestamp_token as tt  # type: ignore[import-not-found, no-redef]

Problem = pf.Problem
FORMAT = pf.FORMAT

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
CHUNK = 1 << 20
MAX_META = 64 << 20  # the largest metadata or proof file read into memory
MAX_ENTRIES_FILE = 2 << 30  # the largest entries.jsonl this checker reads
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sha512")


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


# ------------------------------------------------------------------ reading a bag
class Tree:
    """The files of a bag in a folder or in a zip archive: relative POSIX path -> opener.
    Nothing is extracted, no link is followed, no path may leave the bag."""

    def __init__(self, source: Path) -> None:
        self.files: dict[str, Callable[[], IO[bytes]]] = {}
        self.sizes: dict[str, int] = {}
        self.bad: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        mode = source.lstat().st_mode
        if stat.S_ISDIR(mode):
            self._walk(source)
        elif stat.S_ISREG(mode) and zipfile.is_zipfile(source):
            self._open_zip(source)
        else:  # never opened: a FIFO or a device could block the check
            raise Problem(f"{source} is neither a folder nor a zip archive")

    def _walk(self, root: Path) -> None:
        for folder, dirs, names in os.walk(root, followlinks=False):
            for name in list(dirs) + names:
                path = Path(folder) / name
                rel = path.relative_to(root).as_posix()
                mode = path.lstat().st_mode
                if stat.S_ISLNK(mode):
                    self.bad.append(f"{rel}: a symbolic link (a bag holds only plain files)")
                elif stat.S_ISREG(mode):
                    self.files[rel] = partial(_open_file, path)
                    self.sizes[rel] = path.lstat().st_size
                elif not stat.S_ISDIR(mode):
                    self.bad.append(f"{rel}: not a plain file")

    def _open_zip(self, source: Path) -> None:
        archive = self._zip = zipfile.ZipFile(source)
        infos = [i for i in archive.infolist() if not i.is_dir()]
        tops = {i.filename.split("/", 1)[0] for i in infos}
        prefix = ""
        if len(tops) == 1 and f"{next(iter(tops))}/bagit.txt" in archive.namelist():
            prefix = next(iter(tops)) + "/"  # the usual form: the bag's folder, zipped
        for info in infos:
            name = info.filename
            parts = name.split("/")
            if name.startswith("/") or "\\" in name or ".." in parts or "" in parts[:-1]:
                self.bad.append(f"{name!r}: a path that would leave the bag")
                continue
            if stat.S_ISLNK(info.external_attr >> 16) or info.flag_bits & 0x1:
                self.bad.append(f"{name}: a link or an encrypted member")
                continue
            if info.file_size > 64 << 20 and info.file_size > 200 * max(info.compress_size, 1):
                self.bad.append(f"{name}: compressed {info.file_size // info.compress_size}:1 "
                                "(refused as a possible decompression bomb)")
                continue
            rel = name[len(prefix):] if name.startswith(prefix) else name
            if rel in self.files:
                self.bad.append(f"{name}: stored twice in the archive")
                continue
            self.files[rel] = partial(archive.open, info)
            self.sizes[rel] = info.file_size

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def read(self, rel: str, limit: int = MAX_META) -> bytes:
        if rel not in self.files:
            raise Problem(f"{rel} is missing")
        if self.sizes[rel] > limit:
            raise Problem(f"{rel} is larger than {limit} bytes")
        with self.files[rel]() as handle:
            return handle.read(self.sizes[rel] + 1)[:limit]

    def text(self, rel: str) -> str:
        try:
            return self.read(rel).decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(f"{rel} is not UTF-8 text") from None

    def json(self, rel: str) -> Any:
        try:
            return json.loads(self.text(rel))
        except (ValueError, RecursionError) as exc:
            raise Problem(f"{rel} is not valid JSON ({str(exc)[:200]})") from None

    def digests(self, rel: str) -> dict[str, str]:
        hashes = {a: hashlib.new(a) for a in ALGORITHMS}
        with self.files[rel]() as handle:
            while chunk := handle.read(CHUNK):
                for h in hashes.values():
                    h.update(chunk)
        return {a: h.hexdigest() for a, h in hashes.items()}


def _manifest(text: str, where: str) -> dict[str, str]:
    """path -> digest from a BagIt manifest (RFC 8493 §2.1.3: CR, LF and % are encoded)."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, _, path = line.strip("\r").partition(" ")
        path = path.lstrip(" ")
        if not re.fullmatch(r"[0-9a-fA-F]+", digest) or not path:
            raise Problem(f"{where} line {number} is not '<digest> <path>'")
        path = path.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
        if path in out:
            raise Problem(f"{where} lists {path} twice")
        out[path] = digest.lower()
    return out


# ------------------------------------------------------------------ the log's proofs
def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def parse_vkey(text: str) -> tuple[str, bytes, bytes]:
    """(name, 4-byte key ID, 32-byte Ed25519 key) of a note verifier key."""
    try:
        name, kid, raw_text = text.strip().split("+", 2)
        raw = b64(raw_text)
    except ValueError:
        raise Problem("the key is not a verifier key (<name>+<key ID>+<base64 key>)") from None
    if raw[:1] != b"\x01" or len(raw) != 33:
        raise Problem("the key is not an Ed25519 verifier key")
    if _h(name.encode(), b"\n", raw)[:4].hex() != kid:
        raise Problem("the key's ID does not match the key")
    return name, bytes.fromhex(kid), raw[1:]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str  # the signed text, with its final line feed
    signature: bytes  # the log's 64-byte Ed25519 signature
    note: str  # the whole signed note


def open_checkpoint(note: str, key: tuple[str, bytes, bytes]) -> Checkpoint:
    """A C2SP tlog-checkpoint in a signed note, its signature by ``key`` verified."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, kid, pub = key
    body, sep, sigs = note.rpartition("\n\n")
    if not sep:
        raise Problem("the checkpoint is not a signed note")
    signature = b""
    for line in sigs.splitlines():
        signer, _, sig = line.removeprefix("\u2014 ").partition(" ")
        try:
            raw = b64(sig)
        except ValueError:
            raise Problem("a signature line of the checkpoint is not base64") from None
        if signer == name and raw[:4] == kid:
            try:
                Ed25519PublicKey.from_public_bytes(pub).verify(raw[4:], (body + "\n").encode())
            except InvalidSignature:
                raise Problem("the checkpoint's signature does not verify with the key") from None
            signature = raw[4:]
    if not signature:
        raise Problem("the checkpoint carries no signature by the log's key")
    lines = body.split("\n")
    if len(lines) < 3 or lines[0] != name or not re.fullmatch(r"0|[1-9]\d*", lines[1]):
        raise Problem("the checkpoint's origin or tree size is not the log's")
    try:
        root = b64(lines[2])
    except ValueError:
        raise Problem("the checkpoint's root hash is not base64") from None
    return Checkpoint(name, int(lines[1]), root, body + "\n", signature, note)


def check_proof(text: str, cp: Checkpoint) -> tuple[int, bytes]:
    """(index, entry bytes) of a tlog-proof whose inclusion proof leads to ``cp``'s root."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER or len(lines) < 3 or not lines[1].startswith("extra "):
        raise Problem("not a tlog-proof carrying its entry")
    if note != cp.note:
        raise Problem("proves against another checkpoint than the package's")
    try:
        entry, index = b64(lines[1][6:]), int(lines[2].removeprefix("index "))
        path = [b64(p) for p in lines[3:]]
    except ValueError:
        raise Problem("a line of the proof is malformed") from None
    if not 0 <= index < cp.size:
        raise Problem(f"entry {index} cannot be in a log of {cp.size} entries")
    fn, sn, r = index, cp.size - 1, _h(b"\x00", entry)  # RFC 9162 §2.1.3.2
    for p in path:
        if sn == 0 or len(p) != 32:
            raise Problem("the inclusion proof is too long or malformed")
        if fn & 1 or fn == sn:
            r = _h(b"\x01", p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _h(b"\x01", r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != cp.root:
        raise Problem("the inclusion proof does not lead to the signed root")
    return index, entry


# --------------------------------------------------------------------- the checks
@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _step(report: Report, what: Callable[[], None]) -> bool:
    try:
        what()
        return True
    except Problem as exc:
        report.problems.append(str(exc))
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        report.problems.append(f"cannot read the package: {exc}")
    except Exception as exc:  # a hostile package must never stop the check
        report.problems.append(
            f"the package is malformed where it was being checked "
            f"({type(exc).__name__}: {str(exc)[:200]})")
    return False


def verify(source: Path, key_text: str | None = None) -> Report:
    """Check the package at ``source`` (a bag folder or a zip of one)."""
    report = Report()
    try:
        tree = Tree(source)
    except (Problem, OSError, zipfile.BadZipFile) as exc:
        report.problems.append(str(exc))
        return report
    except Exception as exc:  # a hostile archive must never stop the check
        report.problems.append(f"cannot read the package ({type(exc).__name__}: {exc})")
        return report
    try:
        _step(report, lambda: _verify(tree, key_text, report))
    finally:
        tree.close()
    return report


def _verify(tree: Tree, key_text: str | None, report: Report) -> None:
    report.problems.extend(tree.bad)
    payload: dict[str, dict[str, str]] = {}
    if not _step(report, lambda: _check_bag(tree, report, payload)):
        return
    state: dict[str, Any] = {}
    if not _step(report, lambda: _check_key_and_checkpoint(tree, key_text, report, state)):
        return
    _step(report, lambda: _check_timestamps(tree, report))
    if not _step(report, lambda: _check_entries(tree, report, state)):
        return
    _step(report, lambda: _check_export(tree, report, state))
    if "export" in state:
        _step(report, lambda: _check_records(tree, report, state, payload))


def _check_bag(tree: Tree, report: Report, payload: dict[str, dict[str, str]]) -> None:
    if tree.read("bagit.txt") != BAGIT_TXT:
        raise Problem("bagit.txt is not the BagIt 1.0 declaration (UTF-8)")
    manifests = {a: _manifest(tree.text(f"manifest-{a}.txt"), f"manifest-{a}.txt")
                 for a in ALGORITHMS}
    files = sorted(p for p in tree.files if p.startswith("data/"))
    for a, listed in manifests.items():
        for p in sorted(set(listed) - set(files)):
            report.problems.append(f"{p}: listed in manifest-{a}.txt but missing")
        for p in sorted(set(files) - set(listed)):
            report.problems.append(f"{p}: in the payload but not in manifest-{a}.txt")
    for p in files:
        got = tree.digests(p)
        payload[p] = got
        for a, listed in manifests.items():
            if p in listed and listed[p] != got[a]:
                report.problems.append(f"{p}: its {a.upper()} differs from manifest-{a}.txt "
                                       "(the file was changed)")
    info = tree.text("bag-info.txt")
    oxum = re.search(r"^Payload-Oxum:\s*(\d+)\.(\d+)\s*$", info, re.M)
    total = sum(tree.sizes[p] for p in files)
    if oxum is None or (int(oxum[1]), int(oxum[2])) != (total, len(files)):
        report.problems.append(f"bag-info.txt: Payload-Oxum is not {total}.{len(files)}")
    tags = [p for p in tree.files if "/" not in p and not p.startswith("tagmanifest-")]
    tag_digests = {p: tree.digests(p) for p in tags}  # each tag file read once
    for a in ALGORITHMS:
        listed = _manifest(tree.text(f"tagmanifest-{a}.txt"), f"tagmanifest-{a}.txt")
        for p in sorted(set(tags) - set(listed)):
            report.problems.append(f"{p}: a tag file not in tagmanifest-{a}.txt")
        for p, digest in sorted(listed.items()):
            if p not in tree.files:
                report.problems.append(f"{p}: listed in tagmanifest-{a}.txt but missing")
                continue
            if p not in tag_digests:  # a tag file in a folder
                tag_digests[p] = tree.digests(p)
            if tag_digests[p][a] != digest:
                report.problems.append(f"{p}: its {a.upper()} differs from tagmanifest-{a}.txt")
    for p in sorted(tree.files):
        if "/" in p and not p.startswith("data/"):
            report.problems.append(f"{p}: a file outside data/ that is not a tag file")
    report.facts["payload_files"] = len(files)
    report.facts["payload_bytes"] = total


def _check_key_and_checkpoint(
    tree: Tree, key_text: str | None, report: Report, state: dict[str, Any]
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    packaged = tree.text("data/key/log.vkey").strip()
    key = parse_vkey(packaged)
    if key_text is not None:
        if parse_vkey(key_text) != key:
            raise Problem("the package's log key is not the key you gave: do not trust it")
        report.facts["key_trusted"] = True
    else:
        report.facts["key_trusted"] = False
        report.notes.append(
            f"the log's key was taken from the package itself (key ID {key[1].hex()}): compare "
            "it with the key the archive published, or give it with --key")
    pem = load_pem_public_key(tree.read("data/key/log-public-key.pem"))
    if pem.public_bytes_raw() != key[2]:  # type: ignore[union-attr]
        raise Problem("data/key/log-public-key.pem is not the log's key")
    cp = open_checkpoint(tree.text("data/checkpoint/checkpoint.txt"), key)
    if tree.read("data/checkpoint/signed-text.txt") != cp.body.encode():
        raise Problem("data/checkpoint/signed-text.txt is not the checkpoint's signed text")
    if tree.read("data/checkpoint/signature.bin") != cp.signature:
        raise Problem("data/checkpoint/signature.bin is not the checkpoint's signature")
    state["key"], state["checkpoint"] = key, cp
    report.facts.update(origin=cp.origin, key_id=key[1].hex(), checkpoint_size=cp.size)


def _check_timestamps(tree: Tree, report: Report) -> None:
    where = "data/checkpoint/timestamps/"
    files = {rel[len(where):]: tree.read(rel) for rel in tree.files if rel.startswith(where)}
    problems, notes, stamps = tt.check_package(files, tree.read("data/checkpoint/checkpoint.txt"))
    report.problems.extend(problems)
    report.notes.extend(notes)
    report.facts["timestamps"] = stamps


def _check_entries(tree: Tree, report: Report, state: dict[str, Any]) -> None:
    cp: Checkpoint = state["checkpoint"]
    raw = tree.read("data/ledger/entries.jsonl", limit=MAX_ENTRIES_FILE)
    if raw and not raw.endswith(b"\n"):
        raise Problem("data/ledger/entries.jsonl does not end with a line feed")
    lines = raw.split(b"\n")[:-1] if raw else []
    entries: dict[int, dict[str, Any]] = {}
    proofs = {p for p in tree.files if p.startswith("data/ledger/proofs/")}
    for number, line in enumerate(lines, start=1):
        try:
            e = json.loads(line)
            index = e["index"]
            if not isinstance(index, int) or not isinstance(e.get("data"), dict):
                raise ValueError("no index or data")
        except (ValueError, TypeError, KeyError):
            raise Problem(f"data/ledger/entries.jsonl line {number} is not an entry") from None
        if entries and index <= max(entries):
            raise Problem(f"data/ledger/entries.jsonl: entry {index} is out of order")
        name = f"data/ledger/proofs/{index:020d}.tlog-proof"
        proofs.discard(name)
        try:
            got_index, got = check_proof(tree.text(name), cp)
        except Problem as exc:
            report.problems.append(f"{name}: {exc}")
            continue
        if got_index != index or got != line:
            report.problems.append(f"{name}: proves another entry than line {number} holds")
            continue
        entries[index] = e
    for name in sorted(proofs):
        report.problems.append(f"{name}: a proof of an entry the package does not list")
    first = entries.get(0)
    if first is None or first["type"] != "init" or parse_vkey(
        str(pf.data_of(first).get("vkey"))) != state["key"]:
        report.problems.append("entry 0 (the log's init entry, naming its key) is missing or "
                               "names another key")
    state["entries"] = [entries[i] for i in sorted(entries)]
    report.facts["entries"] = len(entries)


def _check_export(tree: Tree, report: Report, state: dict[str, Any]) -> None:
    doc = tree.json("data/export.json")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise Problem(f"data/export.json is not a {FORMAT} description")
    entries = {e["index"]: e for e in state["entries"]}
    entry = entries.get(doc.get("export_entry"))
    if entry is None or entry["type"] != "export":
        raise Problem("data/export.json names no export entry of the package's ledger")
    d = pf.data_of(entry)
    items = doc.get("items")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise Problem("data/export.json lists no items")
    digest = hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()
    case: dict[str, Any] = doc["case"] if isinstance(doc.get("case"), dict) else {}
    expected = {"export": doc.get("export"), "case": case.get("id"), "items": len(items),
                "items_sha256": digest, "recipient": doc.get("recipient"),
                "purpose": doc.get("purpose"),
                "protected_included": doc.get("protected_included"),
                "derivatives": doc.get("derivatives")}
    for name, value in expected.items():
        if d.get(name) != value:
            raise Problem(f"data/export.json: {name} is not what export entry "
                          f"{entry['index']} says")
    if doc.get("checkpoint_size") != state["checkpoint"].size:
        raise Problem("data/export.json names another checkpoint than the package's")
    if not any(e["type"] == "case.create" and pf.data_of(e).get("case") == case.get("id")
               and pf.data_of(e).get("fields", {}).get("reference") == case.get("reference")
               for e in state["entries"]):
        raise Problem("data/export.json: the case's reference is not the one its entry gives")
    state["export"], state["case"] = doc, {"id": str(case["id"]),
                                           "reference": str(case["reference"])}
    report.facts.update(export_entry=entry["index"], exported_by=entry["actor"],
                        exported_at=entry["time"], recipient=d.get("recipient"),
                        purpose=d.get("purpose"), case=case.get("reference"), items=len(items))


def _check_records(
    tree: Tree, report: Report, state: dict[str, Any], payload: dict[str, dict[str, str]]
) -> None:
    doc, entries, case = state["export"], pf.Entries(state["entries"]), state["case"]
    described: dict[str, list[dict[str, Any]]] = {"items": [], "records": []}
    places = (("items", "data/items/{}/metadata.json"), ("records", "data/records/{}.json"))
    for group, folder in places:
        for record in doc.get(group, []):
            found: list[dict[str, Any]] = []
            if not _step(report, partial(_collect_description, found, str(record), entries,
                                         case)):
                continue
            expected = found[0]
            described[group].append(expected)
            rel = folder.format(record)
            if _step(report, partial(_check_given, tree, report, rel, expected)) and isinstance(
                expected.get("original"), dict
            ):
                cp = state["checkpoint"]
                _step(report, partial(_check_original, tree, expected, payload, cp))
    items, others = described["items"], described["records"]
    originals = {str(m["original"]["file"]) for m in items if "original" in m}
    derived = {str(d["file"]) for m in items for d in m.get("derivatives", [])}
    for p in sorted(tree.files):
        if p.startswith("data/originals/") and p not in originals:
            report.problems.append(f"{p}: an original no item of the export names")
        if p.startswith("data/derivatives/") and p not in derived:
            report.problems.append(f"{p}: a derivative no derivative entry of the package names")
        owner = re.fullmatch(r"data/(items|records)/([^/.]+)(/.*|\.json)", p)
        if owner and owner[2] not in doc.get(owner[1], []):
            report.problems.append(f"{p}: belongs to no record of the export")
    positions = pf.places_of(others)
    for name, text in (("data/items.csv", pf.items_csv(items, positions)),
                       ("data/records.csv", pf.records_csv(others, positions)),
                       ("data/items.geojson", pf.geojson(items, positions)),
                       ("data/records.geojson", pf.geojson(others, positions))):
        if name not in tree.files:
            report.problems.append(f"{name} is missing")
        elif tree.text(name) != text:
            report.problems.append(f"{name} does not match the signed entries")
    report.facts["checked_items"] = len(items)
    report.facts["checked_records"] = len(others)


def _collect_description(into: list[dict[str, Any]], record: str,
                          entries: pf.Entries, case: dict[str, str]) -> None:
    into.append(pf.describe(record, entries, case))


def _check_given(tree: Tree, report: Report, rel: str, expected: dict[str, Any]) -> None:
    """A metadata file must say exactly what the entries say (protected values apart)."""
    given = tree.json(rel)
    if not isinstance(given, dict):
        raise Problem(f"{rel} is not a JSON object")
    protected = given.pop("protected", None)
    if given != expected:
        differ = sorted(k for k in set(given) | set(expected) if given.get(k) != expected.get(k))
        raise Problem(f"{rel}: {', '.join(differ)} differ from what the signed entries say")
    if protected:
        report.notes.append(f"{rel}: protected values included in clear ("
                            f"{', '.join(sorted(protected))}); the ledger holds them sealed, "
                            "so this package cannot prove them")


def _check_original(
    tree: Tree, m: dict[str, Any], payload: dict[str, dict[str, str]], cp: Checkpoint,
) -> None:
    original, record = m["original"], m["record"]
    got = payload.get(original["file"])
    if got is None:
        raise Problem(f"item {record}: its original {original['file']} is missing")
    if got["sha256"] != original["sha256"]:
        raise Problem(f"item {record}: {original['file']} is not the bytes the ledger names "
                      f"(SHA-256 {got['sha256']}, the ledger says {original['sha256']})")
    if tree.sizes[original["file"]] != original["size"]:
        raise Problem(f"item {record}: {original['file']} is not of the size acquired")
    if not m["acquisitions"]:
        raise Problem(f"item {record}: no acquisition for this case names its original")
    try:
        index, _ = check_proof(tree.text(m["receipt"]), cp)
    except Problem as exc:
        raise Problem(f"{m['receipt']}: {exc}") from None
    if index not in {a["entry"] for a in m["acquisitions"]}:
        raise Problem(f"{m['receipt']}: not a receipt of an acquisition of this original")
    for derived in m.get("derivatives", []):  # previews: what people were shown, not evidence
        got = payload.get(derived["file"])
        if got is None or "sha256:" + got["sha256"] != derived["object"] or \
                tree.sizes[derived["file"]] != derived["size"]:
            raise Problem(f"item {record}: the derivative {derived['file']} is missing or is "
                          "not the bytes its derivative entry names")


# ----------------------------------------------------------------------- the CLI
def report_lines(report: Report) -> Iterator[str]:
    for p in report.problems:
        yield f"problem: {p}"
    for n in report.notes:
        yield f"note: {n}"
    f = report.facts
    if report.ok:
        yield (f"PACKAGE INTACT: {f.get('items', 0)} items of case {f.get('case')}, "
               f"{f.get('payload_files', 0)} files ({f.get('payload_bytes', 0)} bytes), "
               f"{f.get('entries', 0)} ledger entries proven against checkpoint "
               f"{f.get('origin')} at {f.get('checkpoint_size')}; exported by "
               f"{f.get('exported_by')} at {f.get('exported_at')} to {f.get('recipient')}")
    else:
        yield f"PACKAGE NOT INTACT: {len(report.problems)} problems found"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("package", type=Path, help="the bag's folder, or a zip of it")
    parser.add_argument("--key", help="the log's key as the archive published it (text or file)")
    parser.add_argument("--json", action="store_true", help="the result as JSON")
    args = parser.parse_args(argv)
    key = args.key
    if key is not None and Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8")
    try:
        report = verify(args.package, key)
    except Problem as exc:  # a bad --key
        report = Report(problems=[str(exc)])
    if args.json:
        print(json.dumps({"ok": report.ok, "problems": report.problems, "notes": report.notes,
                          "facts": report.facts}, indent=1, ensure_ascii=False))
    else:
        for line in report_lines(report):
            print(line.encode("unicode_escape").decode("ascii") if not line.isprintable()
                  else line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
