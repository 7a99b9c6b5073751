"""Court-ready packages: a real demo case exported as a BagIt bag, checked by the Library of
Congress ``bagit`` validator, by sha256sum and openssl as its README says, by the script it
ships, and by ``svidok verify-package``; then tampered with in every way a defence expert
might try, each of which must be caught."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import bagit
import pytest

from conftest import write_samples
from svidok.cases.access import AccessDenied, Actor
from svidok.cases.service import open_casework
from svidok.cases.views import RecordFilter
from svidok.demo import run_demo
from svidok.export import package_format as pf
from svidok.export import verify_package as vp
from svidok.export.bag import ExportError
from svidok.export.package import Selection, export_case
from svidok.home import Home
from svidok.verify import verify as run_verify

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "svidok"]
OPERATOR = Actor.operator("tester")
SECRETS = ["Кравчишин", "Kravchyshyn", "Ярошук", "Yaroshuk", "+380 00 000 00 01"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export")
    write_samples(base / "samples")
    home_path = base / "home"
    Home.init(home_path, origin="svidok.test/export", actor="tester")
    with Home.open(home_path) as home:
        run_demo(home, OPERATOR, base / "samples")
        work = open_casework(home)
        export_case(home, work, OPERATOR, "demo", Selection(), base / "bag",
                    recipient="ICC Office of the Prosecutor", purpose="Article 15 communication")
    return {"home": home_path, "bag": base / "bag", "base": base}


@pytest.fixture()
def bag(site: dict[str, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "bag"
    shutil.copytree(site["bag"], copy)
    return copy


def _vkey(site: dict[str, Path]) -> str:
    return (site["home"] / "keys" / "ledger.pub").read_text().strip()


def _problems(path: Path, key: str | None = None) -> list[str]:
    report = vp.verify(path, key)
    return report.problems


def _remanifest(path: Path) -> None:
    """What a careful forger does after an edit: every manifest made to fit again."""
    b = bagit.Bag(str(path))
    b.save(manifests=True)
    bagit.Bag(str(path)).validate()  # the bag alone no longer shows the edit


def _item_dirs(bag: Path) -> list[Path]:
    return sorted((bag / "data" / "items").iterdir())


# ------------------------------------------------------------------ intact packages
def test_intact_package_passes_every_check(site: dict[str, Path]) -> None:
    bagit.Bag(str(site["bag"])).validate()  # the Library of Congress validator
    report = vp.verify(site["bag"], _vkey(site))
    assert report.ok, report.problems
    assert report.facts["items"] == 8 and report.facts["checked_items"] == 8
    assert report.facts["recipient"] == "ICC Office of the Prosecutor"
    assert report.facts["key_trusted"] is True
    originals = list((site["bag"] / "data" / "originals").iterdir())
    samples = {hashlib.sha256(p.read_bytes()).hexdigest()
               for p in (site["base"] / "samples").iterdir()}
    assert {p.name.split(".")[0] for p in originals} == samples  # the bytes, bit for bit
    for p in originals:
        assert hashlib.sha256(p.read_bytes()).hexdigest() == p.name.split(".")[0]


def test_export_is_in_the_ledger_and_the_home_stays_intact(site: dict[str, Path]) -> None:
    with Home.open(site["home"]) as home:
        exports = [e for e in home.ledger.iter_entries() if e.type == "export"]
        assert len(exports) >= 1
        data = exports[0].data
        assert data["recipient"] == "ICC Office of the Prosecutor"
        assert data["purpose"] == "Article 15 communication"
        assert data["items"] == 8 and data["protected_included"] is False
        doc = json.loads((site["bag"] / "data" / "export.json").read_text())
        assert doc["export_entry"] == exports[0].index
        report = run_verify(home, against=[], quick=True)
        assert report.ok, report.problems


def test_standard_tools_of_the_readme_work(site: dict[str, Path]) -> None:
    bag = site["bag"]
    readme = (bag / "data" / "README.txt").read_text()
    assert "sha256sum -c manifest-sha256.txt" in readme and "openssl pkeyutl" in readme
    for tool in ("sha256sum", "sha512sum"):
        run = subprocess.run([tool, "-c", f"manifest-{tool[:6]}.txt"], cwd=bag,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
    run = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "data/key/log-public-key.pem",
         "-rawin", "-in", "data/checkpoint/signed-text.txt", "-sigfile",
         "data/checkpoint/signature.bin"], cwd=bag, capture_output=True, text=True)
    assert run.returncode == 0 and "Signature Verified Successfully" in run.stdout, run.stderr
    vkey = _vkey(site)
    raw = base64.b64decode(vkey.split("+", 2)[2])[1:]
    pem = (bag / "data" / "key" / "log-public-key.pem").read_text()
    assert base64.b64decode("".join(pem.splitlines()[1:-1]))[-32:] == raw


def test_the_shipped_script_needs_no_svidok(site: dict[str, Path], tmp_path: Path) -> None:
    script = site["bag"] / "data" / "verify_package.py"
    parts = (script, script.parent / "package_format.py", script.parent / "timestamp_token.py")
    alone = tmp_path / "alone"
    alone.mkdir()
    for part in parts:
        text = part.read_text()
        assert "svidok." not in text and "import svidok" not in text, part
        shutil.copy(part, alone / part.name)
    run = subprocess.run([sys.executable, "-I", str(alone / "verify_package.py"),
                          str(site["bag"]), "--key", _vkey(site)],
                         capture_output=True, text=True, cwd=alone)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PACKAGE INTACT" in run.stdout


def test_protected_values_stay_out_unless_asked_for(site: dict[str, Path], tmp_path: Path) -> None:
    every = b"".join(p.read_bytes() for p in site["bag"].rglob("*") if p.is_file())
    assert not [s for s in SECRETS if s.encode() in every]
    assert b'"sealed_fields": [\n  "address"' in every  # named, never given
    with Home.open(site["home"]) as home:
        work = open_casework(home)
        analyst = work.add_user(OPERATOR, "ana", "Ana", admin=False)
        case = work.find_case(OPERATOR, "demo")
        work.grant(OPERATOR, case.id, analyst.id, "analyst")
        ana = Actor(name="ana", user_id=analyst.id)
        with pytest.raises(AccessDenied):  # an analyst may not export at all
            export_case(home, work, ana, "demo", Selection(), tmp_path / "x",
                        recipient="r", purpose="p")
        out = tmp_path / "with-protected"
        export_case(home, work, OPERATOR, "demo", Selection(), out, recipient="UN mechanism",
                    purpose="identification", include_protected=True)
    every = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert any(s.encode() in every for s in SECRETS)
    report = vp.verify(out, _vkey(site))
    assert report.ok, report.problems
    assert any("protected values included in clear" in n for n in report.notes)


def test_selection_by_incident_and_query(site: dict[str, Path], tmp_path: Path) -> None:
    with Home.open(site["home"]) as home:
        work = open_casework(home)
        case = work.find_case(OPERATOR, "demo")
        incident = work.find(OPERATOR, case.id, RecordFilter(kind="incident"), limit=1).items[0]
        shown = {link.from_id for link in work.links(OPERATOR, case.id, incident.id)
                 if link.kind == "item-incident"}
        assert shown
        result = export_case(home, work, OPERATOR, "demo", Selection(incident=incident.id),
                             tmp_path / "inc.zip", recipient="court", purpose="trial")
        assert result.items == len(shown)
        with pytest.raises(ExportError, match="exists already"):
            export_case(home, work, OPERATOR, "demo", Selection(), tmp_path / "inc.zip",
                        recipient="court", purpose="trial")
        with pytest.raises(ExportError, match="no items"):
            export_case(home, work, OPERATOR, "demo", Selection(query="no such title"),
                        tmp_path / "none", recipient="court", purpose="trial")
    assert not (tmp_path / "none").exists()
    report = vp.verify(tmp_path / "inc.zip", _vkey(site))
    assert report.ok, report.problems
    with zipfile.ZipFile(tmp_path / "inc.zip") as z:
        assert all(n.startswith("inc/") for n in z.namelist())
    doc = json.loads(zipfile.ZipFile(tmp_path / "inc.zip").read("inc/data/export.json"))
    assert sorted(doc["items"]) == sorted(shown)


def test_incidents_stand_at_their_places_and_the_home_is_off_limits(
    site: dict[str, Path]
) -> None:
    features = json.loads((site["bag"] / "data" / "records.geojson").read_text())["features"]
    assert {f["properties"]["kind"] for f in features} >= {"incident", "place"}
    with Home.open(site["home"]) as home:
        size = home.ledger.size
        with pytest.raises(ExportError, match="outside"):
            export_case(home, open_casework(home), OPERATOR, "demo", Selection(),
                        site["home"] / "inside", recipient="x", purpose="y")
        with pytest.raises(ExportError, match="no kind of derivative is called bogus"):
            export_case(home, open_casework(home), OPERATOR, "demo", Selection(),
                        site["base"] / "bogus", recipient="x", purpose="y",
                        derivatives=("bogus",))
        assert home.ledger.size == size  # refused before anything was recorded


def test_cli_export_and_verify_package(site: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cli-bag"
    run = subprocess.run([*CLI, "--home", str(site["home"]), "export", "--case", "demo",
                          "--query", "bucha", "--out", str(out), "--to", "Prosecutor General",
                          "--purpose", "indictment", "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["items"] == 1
    ok = subprocess.run([*CLI, "verify-package", str(out), "--key", _vkey(site)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "PACKAGE INTACT" in ok.stdout, ok.stdout + ok.stderr
    again = subprocess.run([*CLI, "--home", str(site["home"]), "export", "--case", "demo",
                            "--out", str(out), "--to", "x", "--purpose", "y"],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert "Traceback" not in again.stderr
    victim = next((out / "data" / "originals").iterdir())
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    bad = subprocess.run([*CLI, "verify-package", str(out)], capture_output=True, text=True)
    assert bad.returncode == 1 and "PACKAGE NOT INTACT" in bad.stdout
    assert victim.name in bad.stdout
    missing = subprocess.run([*CLI, "verify-package", str(tmp_path / "nothing")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


# ------------------------------------------------------------------ tampering
def _flip_original(bag: Path) -> str:
    victim = next((bag / "data" / "originals").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    return victim.name


def _drop_original(bag: Path) -> str:
    victim = next((bag / "data" / "originals").iterdir())
    victim.unlink()
    return victim.name


def _alter_receipt(bag: Path) -> str:
    receipt = _item_dirs(bag)[0] / "receipt.tlog-proof"
    lines = receipt.read_text().split("\n")
    proof = lines[3]
    raw = bytearray(base64.b64decode(proof))
    raw[0] ^= 0xFF
    lines[3] = base64.b64encode(bytes(raw)).decode()
    receipt.write_text("\n".join(lines))
    return "receipt.tlog-proof"


def _swap_checkpoint(bag: Path, home: Path) -> str:
    older = sorted((home / "ledger" / "checkpoints").glob("*.note"))[-3].read_text()
    (bag / "data" / "checkpoint" / "checkpoint.txt").write_text(older)
    return "checkpoint"


def _edit_metadata(bag: Path) -> str:
    meta = _item_dirs(bag)[0] / "metadata.json"
    doc = json.loads(meta.read_text())
    doc["fields"]["captured"] = {"start": "2022-03-29T10:00:00+03:00", "precision": "second"}
    meta.write_text(pf.dump(doc))
    return "metadata.json"


def _edit_acquisition(bag: Path) -> str:
    meta = _item_dirs(bag)[1] / "metadata.json"
    doc = json.loads(meta.read_text())
    doc["acquisitions"][0]["collector"] = "Someone Else"
    meta.write_text(pf.dump(doc))
    return "metadata.json"


def _edit_csv(bag: Path) -> str:
    path = bag / "data" / "items.csv"
    path.write_text(path.read_text().replace("in review", "verified", 1))
    return "items.csv"


def _edit_recipient(bag: Path) -> str:
    path = bag / "data" / "export.json"
    doc = json.loads(path.read_text())
    doc["recipient"] = "Someone else"
    path.write_text(pf.dump(doc))
    return "recipient"


def _drop_entry(bag: Path) -> str:
    path = bag / "data" / "ledger" / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    access = next(i for i, line in enumerate(lines) if b"\"type\":\"record.update\"" in line)
    del lines[access]
    path.write_bytes(b"\n".join(lines))
    return "proof of an entry the package does not list"


def _swap_original(bag: Path) -> str:
    a, b = sorted((bag / "data" / "originals").glob("*.jpg"))[:2]
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    return a.name


def _add_file(bag: Path) -> str:
    (bag / "data" / "originals" / ("0" * 64 + ".jpg")).write_bytes(b"planted")
    return "0000000000"


TAMPERING: dict[str, Callable[..., str]] = {
    "change a byte of an original": _flip_original,
    "drop an original": _drop_original,
    "alter a receipt": _alter_receipt,
    "edit metadata": _edit_metadata,
    "edit an acquisition": _edit_acquisition,
    "edit the CSV index": _edit_csv,
    "edit the recipient": _edit_recipient,
    "drop a ledger entry": _drop_entry,
    "swap two originals": _swap_original,
    "plant a file": _add_file,
}


# what each edit is caught by once a forger has made the bag's manifests fit again
CAUGHT_BY = {
    "alter a receipt": "inclusion proof does not lead to the signed root",
    "change a byte of an original": "is not the bytes the ledger names",
    "drop a ledger entry": "a proof of an entry the package does not list",
    "drop an original": "is missing",
    "edit an acquisition": "acquisitions differ from what the signed entries say",
    "edit metadata": "fields differ from what the signed entries say",
    "edit the CSV index": "items.csv does not match the signed entries",
    "edit the recipient": "recipient is not what export entry",
    "plant a file": "an original no item of the export names",
    "swap two originals": "is not the bytes the ledger names",
}


@pytest.mark.parametrize("forger_fixes_manifests", [False, True])
@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_caught(bag: Path, name: str, forger_fixes_manifests: bool,
                             site: dict[str, Path]) -> None:
    hint = TAMPERING[name](bag)
    if forger_fixes_manifests:
        _remanifest(bag)
    problems = _problems(bag, _vkey(site))
    assert problems, name
    assert any(hint in p for p in problems), problems
    if forger_fixes_manifests:
        assert any(CAUGHT_BY[name] in p for p in problems), problems


@pytest.mark.parametrize("forger_fixes_manifests", [False, True])
def test_swapped_checkpoint_is_caught(bag: Path, site: dict[str, Path],
                                      forger_fixes_manifests: bool) -> None:
    _swap_checkpoint(bag, site["home"])
    if forger_fixes_manifests:
        _remanifest(bag)
    problems = _problems(bag, _vkey(site))
    assert any("checkpoint" in p for p in problems), problems


def test_another_key_is_refused(bag: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = "svidok.test/export"
    kid = hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4].hex()
    encoded = base64.b64encode(b"\x01" + raw).decode()
    other = f"{name}+{kid}+{encoded}"
    problems = _problems(bag, other)
    assert any("not the key you gave" in p for p in problems)


def test_hostile_zip_is_refused(tmp_path: Path, site: dict[str, Path]) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        for p in sorted(site["bag"].rglob("*")):
            if p.is_file():
                z.write(p, f"bag/{p.relative_to(site['bag']).as_posix()}")
        z.writestr("bag/../../escape.txt", b"x")
    problems = _problems(evil, _vkey(site))
    assert any("leave the bag" in p for p in problems)
    assert not (tmp_path.parent / "escape.txt").exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    assert _problems(junk)


def test_chosen_derivatives_travel_marked_as_such(site: dict[str, Path], tmp_path: Path) -> None:
    import io

    from PIL import Image

    from svidok.derive.store import DerivativeSpec, store_derivatives

    with Home.open(site["home"]) as home:
        work = open_casework(home)
        case = work.find_case(OPERATOR, "demo")
        photo = next(i for i in work.find(OPERATOR, case.id, RecordFilter(kind="item"),
                                          limit=50).items if i.label == "bucha-street.jpg")
        specs = []
        for kind, colour in (("thumbnail", (10, 20, 30)), ("preview", (40, 50, 60))):
            picture = io.BytesIO()
            Image.new("RGB", (24, 16), colour).save(picture, "JPEG", quality=80)
            specs.append(DerivativeSpec(photo.fields["object"], kind, "image/jpeg",
                                        picture.getvalue(), "svidok-preview/test", {}))
        store_derivatives(home, specs, "tester")
        without = export_case(home, work, OPERATOR, "demo", Selection(items=(photo.id,)),
                              tmp_path / "plain", recipient="court", purpose="trial")
        result = export_case(home, work, OPERATOR, "demo", Selection(items=(photo.id,)),
                             tmp_path / "with", recipient="court", purpose="trial",
                             derivatives=("thumbnail",))
        exports = [e for e in home.ledger.iter_entries() if e.type == "export"]
        assert exports[-1].data["derivatives"] == ["thumbnail"]
    assert not (without.path / "data" / "derivatives").exists()
    files = list((result.path / "data" / "derivatives").iterdir())
    assert len(files) == 1 and files[0].suffix == ".jpg"  # only the kind chosen
    meta = json.loads((result.path / "data" / "items" / photo.id / "metadata.json").read_text())
    (derived,) = meta["derivatives"]
    assert derived["kind"] == "thumbnail" and derived["derivative_of"] == photo.fields["object"]
    assert derived["file"] == f"data/derivatives/{files[0].name}"
    report = vp.verify(result.path, _vkey(site))
    assert report.ok, report.problems
    bagit.Bag(str(result.path)).validate()
    files[0].write_bytes(files[0].read_bytes()[:-3] + b"\x00\x00\x00")  # a forged preview
    _remanifest(result.path)
    problems = _problems(result.path, _vkey(site))
    assert any("derivative" in p and "not the bytes" in p for p in problems), problems
