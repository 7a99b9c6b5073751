"""docs/formats.md and examples/independent_verify.py stay true to the code.

(a) A real data home, built through the Python API, passes the independent verifier, and
    every kind of tampering (an entry byte, a content byte, the checkpoint, a rollback
    against a published checkpoint, a receipt) makes it fail.
(b) The document describes what the code writes: every entry type and every member of the
    entries a real home holds (with its JSON type), every command, and a worked example
    whose numbers check out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.cases.access import Actor
from svidok.cases.service import Casework, Cipher
from svidok.cli import app
from svidok.home import Home
from svidok.intake.ingest import IngestOptions, ingest
from svidok.ledger.entries import ENTRY_TYPES, canonical_json
from svidok.protect import FieldCipher

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "formats.md"
README = ROOT / "README.md"
SCRIPT = ROOT / "examples" / "independent_verify.py"
OPTIONS = IngestOptions(case="formats-doc", collector="Olena Test", source="test suite")


@functools.cache
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("independent_verify", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(*args: object, optimise: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the independent verifier as a court would: a separate interpreter, no svidok."""
    flags = ["-O"] if optimise else []
    return subprocess.run(
        [sys.executable, *flags, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def svidok(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "svidok", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _entries(home: Path) -> list[dict[str, Any]]:
    raw = (home / "ledger" / "entries.jsonl").read_bytes()
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


# ----------------------------------------------------------------------- a real home
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding every entry type, a receipt for an acquisition and a published
    checkpoint (taken before the last command, as a court would have kept it)."""
    base = tmp_path_factory.mktemp("formats")
    src = base / "evidence"
    (src / "sub").mkdir(parents=True)
    (src / "statement.txt").write_bytes("Свідчення: вибух о 06:40.\n".encode())
    (src / "photo.bin").write_bytes(bytes(range(256)) * 40)
    (src / "sub" / "copy.bin").write_bytes(bytes(range(256)) * 40)
    with open(os.path.join(os.fsencode(src), b"not-utf8-\xff.dat"), "wb") as fh:
        fh.write(b"name that is not UTF-8")
    outside = base / "outside.txt"
    outside.write_bytes(b"outside the given folder")
    (src / "link-out").symlink_to(outside)
    os.mkfifo(src / "pipe")
    home = base / "home"
    Home.init(home, origin="svidok.test/formats", actor="tester")
    with Home.open(home) as h:
        report = ingest(h, [os.fsencode(src)], OPTIONS)
    assert report.count("preserved") == 4, [(o.status, o.reason) for o in report.outcomes]
    shutil.copy(home / "ledger" / "checkpoint", base / "published.checkpoint")
    done = svidok("verify", "--home", home)  # records a verification entry, signs again
    assert done.returncode == 0, done.stdout + done.stderr
    with Home.open(home) as h:
        _casework(h, base / "fields.key")
        _derivative(h)
        _text_failed(h)
        _search_read(h)
        _near_duplicates(h, base / "fields.key")
        _capture(h)
    acquisition = next(e for e in _entries(home) if e["type"] == "acquisition")
    made = svidok(
        "receipt",
        acquisition["data"]["object"],
        "--home",
        home,
        "-o",
        base / "acquisition.tlog-proof",
    )
    assert made.returncode == 0, made.stderr
    return base


def _derivative(home: Home) -> None:
    """A preview picture of the first object, stored as a derivative."""
    import io

    from PIL import Image

    from svidok.derive.store import DerivativeSpec, store_derivatives

    picture = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(picture, "PNG")
    obj = next(e for e in _entries(home.path) if e["type"] == "acquisition")["data"]["object"]
    spec = DerivativeSpec(obj, "thumbnail", "image/png", picture.getvalue(),
                          "svidok-preview/1 (test)", {"max_side": 320})
    assert store_derivatives(home, [spec], "tester")
    from svidok.ledger.entries import Draft

    failed = Draft("derivative.failed", "tester", {
        "object": obj, "algorithm": "svidok-preview/1", "media_type": "image/jpeg",
        "errors": ["the picture is truncated"], "made": []})
    with home.writing():
        home.commit([failed])


def _near_duplicates(home: Home, key_file: Path) -> None:
    """A picture's hash, a hash that failed, and a decision on a pair of items."""
    from svidok.analysis.duplicates import Duplicates
    from svidok.analysis.hashing import Hashed, draft_for

    key = FieldCipher.load_or_create(key_file)
    work = Casework(home, Cipher(key.encrypt, key.decrypt))
    operator = Actor.operator("tester")
    objects = sorted({e["data"]["object"] for e in _entries(home.path)
                      if e["type"] == "acquisition"})
    picture = Hashed("pdq", "ab" * 32, 93, ["cd" * 32] * 7, [], None)
    with home.writing():
        home.commit([draft_for(objects[0], "tester", "image/jpeg", picture),
                     draft_for(objects[1], "tester", "video/mp4", "no frame could be decoded")])
    case = work.find_case(operator, "formats-doc").id
    a, b = (work.create(operator, case, "item", {"title": f"Copy {n}", "object": obj}).id
            for n, obj in enumerate(objects[:2]))
    Duplicates(work).decide(operator, case, a, b, "confirmed", "the same photograph")


def _text_failed(home: Home) -> None:
    """The text of the first object could not be extracted (search)."""
    from svidok.ledger.entries import Draft

    obj = next(e for e in _entries(home.path) if e["type"] == "acquisition")["data"]["object"]
    failed = Draft("text.failed", "tester", {
        "object": obj, "algorithm": "svidok-text/1", "media_type": "application/pdf",
        "errors": ["the text could not be read: PdfReadError: EOF marker not found"]})
    with home.writing():
        home.commit([failed])


def _search_read(home: Home) -> None:
    """A search that showed the text extracted from an item's original."""
    from svidok.ledger.entries import Draft

    obj = next(e for e in _entries(home.path) if e["type"] == "acquisition")["data"]["object"]
    read = Draft("search.read", "tester", {
        "case": "00000000-0000-4000-8000-000000000001",
        "record": "00000000-0000-4000-8000-000000000002", "object": obj,
        "purpose": "search", "via": "cli", "query": "ab" * 32})
    with home.writing():
        home.commit([read])


def _capture(home: Home) -> None:
    """A ``capture`` entry as svidok.capture writes it, naming an object already acquired
    (the capture tests in tests/capture make real ones with Chromium)."""
    from svidok.ledger.entries import Draft

    acquired = next(e for e in _entries(home.path) if e["type"] == "acquisition")["data"]
    data = {
        "case": "formats-doc", "collector": "tester", "note": None,
        "url": "http://example.org/a", "final_url": "http://example.org/b",
        "redirects": [{"url": "http://example.org/a", "status": 302}], "status": 200,
        "title": "A page", "started": "2026-12-05T10:00:00.000000Z",
        "ended": "2026-12-05T10:00:03.000000Z", "rendered": True, "cut": ["screenshot"],
        "tls": None,
        "user_agent": "Mozilla/5.0 Svidok", "tools": {"svidok": "0.1.0", "chromium": "140",
                                                      "playwright": "1.55"},
        "limits": {"timeout": 60.0, "max_bytes": 1000, "max_response": 1000,
                   "max_requests": 500, "max_redirects": 10, "block_private": False,
                   "allow_untrusted": False},
        "requests": 2, "bytes": 100, "skipped_count": 0, "skipped": [],
        "objects": [{"role": "resource", "object": acquired["object"],
                     "media_type": acquired["media_type"], "size": acquired["size"],
                     "url": "http://example.org/b"}],
    }
    with home.writing():
        home.commit([Draft("capture", "tester", data)])


def _casework(home: Home, key_file: Path) -> None:
    """One entry of every casework type, through the casework API."""
    key = FieldCipher.load_or_create(key_file)
    work = Casework(home, Cipher(key.encrypt, key.decrypt))
    operator = Actor.operator("tester")
    users = {}
    for name in ("olena", "iryna"):
        made = work.add_user(operator, name, name.title(), admin=False)
        users[name] = Actor(name=made.username, user_id=made.id)
    olena, iryna = users["olena"], users["iryna"]
    work.set_user(operator, iryna.user_id or "", display_name="Iryna K.")
    case = work.create_case(olena, {"reference": "formats-doc", "title": "Formats"}).id
    work.update_case(olena, case, {"description": "worked example"})
    work.grant(olena, case, iryna.user_id or "", "reviewer")
    obj = next(e for e in _entries(home.path) if e["type"] == "acquisition")["data"]["object"]
    item = work.create(olena, case, "item", {"title": "Photo", "object": obj, "item_kind": "photo"})
    witness = work.create(
        olena, case, "person", {"names": [{"value": "W-1", "kind": "pseudonym"}], "contact": "x"}
    )
    incident = work.create(olena, case, "incident", {"title": "Shelling"})
    work.update(olena, case, item.id, {"captured": {"start": "2022-03-19", "precision": "day"}})
    work.link(olena, case, "person-incident", witness.id, incident.id, "witness")
    link = work.link(olena, case, "item-incident", item.id, incident.id, "crater")
    work.unlink(olena, case, link.id, "wrong incident")
    work.assess(olena, case, item.id, "in review", "geolocated")
    work.assess(iryna, case, item.id, "verified", "checked by a second reviewer")
    work.open_evidence(iryna, case, item.id, "download")
    work.issue_token(olena, olena.user_id or "", "tok123456789", [case], "2027-01-01T00:00:00Z")
    work.revoke_token(olena, "tok123456789")
    work.record_export(olena, case, [item.id], recipient="Prosecutor", purpose="trial",
                       protected=False, selection={"items": [item.id], "incident": None,
                                                   "query": None})
    work.revoke(olena, case, iryna.user_id or "")


@pytest.fixture()
def copy(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built home, free to tamper with."""
    home = tmp_path / "home"
    shutil.copytree(built / "home", home, symlinks=True)
    return home


def _vkey(home: Path) -> str:
    return (home / "keys" / "ledger.pub").read_text(encoding="utf-8").strip()


def _fails(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout and words in result.stderr, result.stderr


def test_script_is_independent() -> None:
    """Standard library and `cryptography` only: nothing of Svidok's."""
    source = SCRIPT.read_text(encoding="utf-8")
    imported = re.findall(r"^(?:import|from) ([\w.]+(?:, [\w.]+)*)", source, re.MULTILINE)
    modules = {m.split(".")[0] for group in imported for m in group.split(", ")}
    assert modules <= {
        "argparse",
        "base64",
        "hashlib",
        "json",
        "re",
        "sys",
        "decimal",
        "pathlib",
        "cryptography",
    }, modules


def test_every_entry_type_is_in_the_built_home(built: Path) -> None:
    assert {e["type"] for e in _entries(built / "home")} == ENTRY_TYPES


def test_intact_home_passes(copy: Path) -> None:
    result = run_script(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    # three originals and one preview
    assert result.stdout.rstrip().endswith("OK") and "store: 4 objects" in result.stdout
    assert svidok("verify", "--home", copy, "--no-record").returncode == 0


def test_ledger_folder_and_published_key_alone_pass(copy: Path, built: Path) -> None:
    result = run_script(
        copy / "ledger", "--key", _vkey(copy), "--against", built / "published.checkpoint"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_changed_entry_byte_fails(copy: Path) -> None:
    path = copy / "ledger" / "entries.jsonl"
    data = path.read_bytes()
    at = data.index(b'"collector":"Olena Test"') + len(b'"collector":"O')
    path.write_bytes(data[:at] + b"X" + data[at + 1 :])  # still valid, canonical JSON
    _fails(run_script(copy), "differs")


def test_broken_entry_line_fails(copy: Path) -> None:
    path = copy / "ledger" / "entries.jsonl"
    data = bytearray(path.read_bytes())
    data[data.index(b'"index":3') + 8] = ord("4")  # entry 3 claims to be entry 4
    path.write_bytes(bytes(data))
    _fails(run_script(copy), "entry 3")


def test_changed_content_byte_fails(copy: Path) -> None:
    target = sorted(p for p in (copy / "store").rglob("content/*") if p.stat().st_size)[0]
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    _fails(run_script(copy), "does not match its digest")
    assert run_script(copy, "--no-content").returncode == 0  # same size, not re-hashed


def test_missing_and_planted_objects_fail(copy: Path, tmp_path: Path) -> None:
    objects = sorted(p.parent for p in (copy / "store").rglob("0=ocfl_object_1.1"))
    moved = tmp_path / "moved"
    shutil.move(objects[0], moved)
    _fails(run_script(copy, "--no-content"), "missing or of another size")
    shutil.move(moved, objects[0])
    planted = objects[1].parent / ("0" * 64)
    shutil.copytree(objects[1], planted)
    _fails(run_script(copy, "--no-content"), "not where the storage layout puts")


def test_changed_checkpoint_fails(copy: Path, tmp_path: Path) -> None:
    path = copy / "ledger" / "checkpoint"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = str(int(lines[1]) - 1)  # claim a smaller tree
    path.write_text("\n".join(lines), encoding="utf-8")
    _fails(run_script(copy), "InvalidSignature")
    result = run_script(copy, optimise=True)  # checks must not be assertions
    assert result.returncode == 1


def test_checkpoint_signed_by_another_key_fails(copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    Home.init(other, origin="svidok.test/formats", actor="impostor")
    shutil.copy(other / "ledger" / "checkpoint", copy / "ledger" / "checkpoint")
    _fails(run_script(copy), "not signed")


def test_rollback_is_caught_by_the_published_checkpoint(copy: Path, built: Path) -> None:
    """Without the key nobody can sign a new checkpoint, but the last entries and every
    checkpoint covering them can be removed; only a checkpoint published earlier shows it
    (in a whole home, removed acquisitions also leave objects no entry names)."""
    published = built / "published.checkpoint"
    size = int(published.read_text(encoding="utf-8").split("\n")[1])
    ledger = copy / "ledger"
    for note in (ledger / "checkpoints").glob("*.note"):
        if int(note.stem) >= size:
            note.unlink()
    kept = sorted((ledger / "checkpoints").glob("*.note"))[-1]
    shutil.copy(kept, ledger / "checkpoint")
    lines = (ledger / "entries.jsonl").read_bytes().split(b"\n")[: int(kept.stem)]
    (ledger / "entries.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    key = _vkey(copy)
    assert run_script(ledger, "--key", key).returncode == 0  # invisible in the ledger alone
    _fails(run_script(ledger, "--key", key, "--against", published), "signed at")


def test_receipt_verifies_and_tampering_fails(built: Path, tmp_path: Path) -> None:
    receipt = built / "acquisition.tlog-proof"
    key = _vkey(built / "home")
    result = run_script("--receipt", receipt, "--key", key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"type":"acquisition"' in result.stdout
    lines = receipt.read_text(encoding="utf-8").split("\n")
    entry = base64.b64decode(lines[1].removeprefix("extra "))
    forged = entry.replace(b"Olena Test", b"Petro Test")
    bad = tmp_path / "forged.tlog-proof"
    bad.write_text(
        "\n".join([lines[0], "extra " + base64.b64encode(forged).decode(), *lines[2:]]),
        encoding="utf-8",
    )
    _fails(run_script("--receipt", bad, "--key", key), "does not lead to the signed root")
    assert svidok("verify-receipt", bad, "--key", key).returncode == 1


# --------------------------------------------------------------- RFC 8785 agreement
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_script_canonical_json_equals_svidok(value: Any) -> None:
    try:
        expected = canonical_json(value)
    except ValueError:
        return  # lone surrogates: neither side can write them
    assert _script().jcs(value).encode("utf-8") == expected


def test_script_canonical_json_edge_numbers() -> None:
    jcs = _script().jcs
    for value in (-0.0, 1e21, 1e-7, 1e-6, 5e-324, 2.0**53, 2.0**70, 0.1, 123.456, -1.5e300):
        assert jcs(value).encode("utf-8") == canonical_json(value), value


# ------------------------------------------------------------- the document itself
def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    """Body of every ``### `name` `` section, up to the next heading of level 2 or 3."""
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.MULTILINE)
    out: dict[str, str] = {}
    for head, body in zip(parts[1::2], parts[2::2], strict=True):
        m = re.fullmatch(r"### `([^`]+)`.*", head)
        if m:
            out[m.group(1)] = body
    return out


def _members(body: str) -> dict[str, str]:
    """``| `name` | type | meaning |`` rows of a section: name -> type text."""
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", body, flags=re.MULTILINE)
    return {name: kind.strip() for name, kind in rows}


_KINDS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: type(v) is int,
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: type(v) in (int, float),
    "object": lambda v: isinstance(v, dict),
    "array of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "array": lambda v: isinstance(v, list),
    "path value": lambda v: (
        isinstance(v, dict) and (set(v) == {"utf8"} or set(v) == {"b64", "display"})
    ),
}


def _type_ok(kind: str, value: object) -> bool:
    if value is None:
        return "or null" in kind
    base = kind.split(",")[0].removesuffix(" or null").strip()
    assert base in _KINDS, f"docs/formats.md uses an unknown type {kind!r}"
    return bool(_KINDS[base](value))


def _flatten(data: dict[str, Any], table: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """Members by dotted name, descending only into objects the table itself details."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = prefix + key
        out[name] = value
        if isinstance(value, dict) and any(k.startswith(name + ".") for k in table):
            out.update(_flatten(value, table, name + "."))
    return out


def test_every_entry_type_is_documented() -> None:
    sections = _sections(_doc())
    missing = sorted(t for t in ENTRY_TYPES if t not in sections)
    assert not missing, f"entry types not documented in docs/formats.md: {missing}"


def test_real_entries_match_the_documented_members(built: Path) -> None:
    sections = _sections(_doc())
    envelope = _members(sections["entry"])
    assert set(envelope) == {"svidok", "index", "type", "time", "actor", "tool", "host", "data"}
    for entry in _entries(built / "home"):
        for name, kind in envelope.items():
            assert _type_ok(kind, entry[name]), (name, kind, entry[name])
        table = _members(sections[entry["type"]])
        found = _flatten(entry["data"], table)
        where = f"entry {entry['index']} ({entry['type']})"
        undocumented = sorted(set(found) - set(table))
        assert not undocumented, f"{where} has members the document lacks: {undocumented}"
        for name, kind in table.items():
            parent = name.rpartition(".")[0]
            if name not in found:
                optional = "optional" in kind or (parent and parent not in found)
                assert optional, f"{where} lacks {name}, which docs/formats.md requires"
            else:
                assert _type_ok(kind, found[name]), f"{where}: {name} is not {kind}"


def test_every_command_is_documented() -> None:
    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    readme, doc = README.read_text(encoding="utf-8"), _doc()
    for name in commands:
        assert f"`svidok {name}" in readme, f"README.md does not document `svidok {name}`"
        assert f"svidok {name}" in doc, f"docs/formats.md does not mention `svidok {name}`"


def test_cited_standards_have_addresses() -> None:
    doc = _doc()
    for url in (
        "https://www.rfc-editor.org/rfc/rfc8785",
        "https://www.rfc-editor.org/rfc/rfc9162",
        "https://c2sp.org/signed-note",
        "https://c2sp.org/tlog-checkpoint",
        "https://c2sp.org/tlog-proof",
        "https://ocfl.io/1.1/spec/",
        "https://ocfl.github.io/extensions/0004-hashed-n-tuple-storage-layout.html",
    ):
        assert url in doc, url


def _blocks() -> dict[str, str]:
    found = re.findall(r"^```text (example-[a-z-]+)\n(.*?)^```", _doc(), re.MULTILINE | re.DOTALL)
    return dict(found)


def test_worked_example_checks_out(tmp_path: Path) -> None:
    """The example's entry lines, leaf hashes, root, checkpoint and receipt agree."""
    blocks, iv = _blocks(), _script()
    lines = [line.encode("utf-8") for line in blocks["example-entries"].splitlines()]
    leaves = [hashlib.sha256(b"\x00" + line).digest() for line in lines]
    assert blocks["example-leaves"].split() == [leaf.hex() for leaf in leaves]
    key = iv.vkey(blocks["example-vkey"])
    size, root = iv.checkpoint(blocks["example-checkpoint"], key)
    assert size == len(lines) and root == iv.mth(leaves)
    for i, line in enumerate(lines):
        entry = json.loads(line)
        assert entry["index"] == i and canonical_json(entry) == line
    inventory = blocks["example-inventory"].encode("utf-8")
    assert blocks["example-sidecar"] == hashlib.sha256(inventory).hexdigest() + "  inventory.json\n"
    object_id = json.loads(inventory)["id"]
    assert json.loads(lines[2])["data"]["object"] == object_id
    h = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    assert f"store/{h[:3]}/{h[3:6]}/{h[6:9]}/{h}/" in _doc()
    receipt = tmp_path / "example.tlog-proof"
    receipt.write_text(blocks["example-receipt"], encoding="utf-8")
    result = run_script("--receipt", receipt, "--key", blocks["example-vkey"].strip())
    assert result.returncode == 0, result.stdout + result.stderr
