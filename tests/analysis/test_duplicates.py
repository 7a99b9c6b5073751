"""Hashes recorded in the ledger and projected into the catalog (rebuilt equal), pairs of
items found within a case, decisions recorded and changed, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ImageOps

from analysis.kit import OPERATOR, case_with_files, jpeg, natural, png, video
from svidok.analysis.duplicates import Duplicates
from svidok.analysis.hashing import compute_hashes
from svidok.cases.access import AccessDenied, Actor
from svidok.cases.service import CaseworkError, NotFound
from svidok.home import Home
from svidok.rebuild import rebuild
from svidok.verify import verify

CLI = [sys.executable, "-m", "svidok"]


def _files() -> dict[str, bytes]:
    scene, other = natural(21), natural(22)
    return {
        "scene.jpg": jpeg(scene),
        "scene-mirrored.jpg": jpeg(ImageOps.mirror(scene)),
        "scene-small.png": png(scene.resize((320, 240))),
        "other.jpg": jpeg(other),
        "cut.jpg": jpeg(natural(23))[:700],
        "clip.mp4": video([1, 2, 3]),
        "clip-again.mp4": video([1, 2, 3], size=(240, 180), quality=10),
        "notes.txt": b"not a picture",
    }


@pytest.fixture()
def filled(home: Home, tmp_path: Path) -> tuple[Home, str, dict[str, str]]:
    _work, case_id, items = case_with_files(home, tmp_path / "in", _files())
    return home, case_id, items


def test_hashes_in_the_ledger_and_rebuilt(filled: tuple[Home, str, dict[str, str]]) -> None:
    home, _case_id, _items = filled
    report = compute_hashes(home, "tester")
    assert report.hashed == 6 and report.unchanged == 1  # the text file takes none
    assert len(report.failed) == 1 and "cut.jpg" not in report.failed[0][1]
    entries = [e for e in home.ledger.iter_entries() if e.type == "perceptual_hash"]
    assert len(entries) == 7
    pictures = [e.data for e in entries if e.data["algorithm"] == "pdq"
                and e.data["status"] == "hashed"]
    assert len(pictures) == 4 and all(len(str(d["hash"])) == 64 for d in pictures)
    assert all(len(d["dihedral"]) == 7 and d["quality"] for d in pictures)  # type: ignore[arg-type]
    assert all(str(d["version"]).startswith("svidok-pdq/1 (pdqhash ") for d in pictures)
    videos = [e.data for e in entries if e.data["algorithm"] == "vpdq"]
    assert len(videos) == 2 and all(len(d["frames"]) == 3 for d in videos)  # type: ignore[arg-type]
    failed = [e.data for e in entries if e.data["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["reason"]
    size = home.ledger.size
    again = compute_hashes(home, "tester")  # nothing twice, the failure not retried
    assert again.hashed == 0 and not again.failed and home.ledger.size == size
    assert len(compute_hashes(home, "tester", retry=True).failed) == 1
    before = home.catalog.dump()
    rebuild(home)
    assert home.catalog.dump() == before
    assert verify(home, quick=False).ok


def test_pairs_and_decisions(filled: tuple[Home, str, dict[str, str]]) -> None:
    home, case_id, items = filled
    compute_hashes(home, "tester")
    dups = Duplicates(_casework(home))
    pairs = {frozenset((p.a, p.b)): p for p in dups.for_case(OPERATOR, case_id)}
    scene, mirrored = items["scene.jpg"], items["scene-mirrored.jpg"]
    small, other = items["scene-small.png"], items["other.jpg"]
    clips = frozenset((items["clip.mp4"], items["clip-again.mp4"]))
    assert set(pairs) == {frozenset((scene, mirrored)), frozenset((scene, small)),
                          frozenset((mirrored, small)), clips}
    assert all(p.status == "possible" for p in pairs.values())
    assert pairs[clips].algorithm == "vpdq" and (pairs[clips].percent or 0) >= 80
    assert (pairs[frozenset((scene, small))].distance or 99) <= 31
    assert [p.b if p.a == other else p.a for p in dups.for_item(OPERATOR, case_id, other)] == []

    pair = dups.decide(OPERATOR, case_id, mirrored, scene, "rejected", "a different day")
    assert (pair.status, pair.note) == ("rejected", "a different day")
    pair = dups.decide(OPERATOR, "dup-2026", scene, mirrored, "confirmed")  # changed later
    assert pair.status == "confirmed" and pair.decided_by == "tester"
    fileless = _casework(home).create(OPERATOR, case_id, "item", {"title": "No file"}).id
    for first, second in ((fileless, scene), (scene, fileless)):  # either UUID the smaller
        kept = dups.decide(OPERATOR, case_id, first, second, "rejected")
        assert kept.status == "rejected" and kept.algorithm == ""
    assert [p.status for p in dups.for_item(OPERATOR, case_id, fileless)] == ["rejected"]
    manual = dups.decide(OPERATOR, case_id, scene, other, "confirmed", "same street")
    assert manual.algorithm == "" and manual.status == "confirmed"  # kept though not alike
    decisions = [e for e in home.ledger.iter_entries() if e.type == "duplicate.decision"]
    assert [e.data["decision"] for e in decisions] == [
        "rejected", "confirmed", "rejected", "rejected", "confirmed"]
    assert decisions[0].data["a"] < decisions[0].data["b"]
    for_scene = {p.b if p.a == scene else p.a: p.status
                 for p in dups.for_item(OPERATOR, case_id, scene)}
    assert for_scene == {mirrored: "confirmed", small: "possible", other: "confirmed",
                         fileless: "rejected"}
    before = home.catalog.dump()
    rebuild(home)
    assert home.catalog.dump() == before
    assert verify(home, quick=False).ok


def test_bad_decisions_are_refused(filled: tuple[Home, str, dict[str, str]]) -> None:
    home, case_id, items = filled
    dups = Duplicates(_casework(home))
    scene, other = items["scene.jpg"], items["other.jpg"]
    size = home.ledger.size
    with pytest.raises(CaseworkError, match="one of confirmed, rejected"):
        dups.decide(OPERATOR, case_id, scene, other, "maybe")
    with pytest.raises(CaseworkError, match="not a duplicate of itself"):
        dups.decide(OPERATOR, case_id, scene, scene, "confirmed")
    with pytest.raises(NotFound):
        dups.decide(OPERATOR, case_id, scene, "00000000-0000-0000-0000-000000000000",
                    "confirmed")
    with pytest.raises(NotFound):
        dups.for_case(OPERATOR, "no-such-case")
    stranger = Actor("stranger", user_id="11111111-1111-1111-1111-111111111111")
    with pytest.raises(AccessDenied):
        dups.for_case(stranger, case_id)
    with pytest.raises(AccessDenied):
        dups.decide(stranger, case_id, scene, other, "confirmed")
    assert home.ledger.size == size


def test_command_line(filled: tuple[Home, str, dict[str, str]]) -> None:
    home, _case_id, items = filled
    env_home = ["--home", str(home.path)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "duplicates", *args, *env_home], capture_output=True,
                              text=True, timeout=300)

    hashed = run("hash", "--case", "dup-2026", "--json")
    assert hashed.returncode == 1 and json.loads(hashed.stdout)["hashed"] == 6  # one failed
    listed = run("list", "--case", "dup-2026", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 4
    scene, mirrored = items["scene.jpg"], items["scene-mirrored.jpg"]
    done = run("confirm", scene, mirrored, "--case", "dup-2026", "--note", "same photo")
    assert done.returncode == 0 and "confirmed" in done.stdout
    assert "confirmed" in run("list", "--case", "dup-2026").stdout
    for args in (("list", "--case", "nope"), ("hash", "--case", "nope"),
                 ("reject", scene, scene, "--case", "dup-2026"),
                 ("confirm", scene, "x", "--case", "dup-2026")):
        bad = run(*args)
        assert bad.returncode == 2, (args, bad.stdout, bad.stderr)
        assert bad.stderr.startswith("svidok: ") and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def _casework(home: Home):  # type: ignore[no-untyped-def]
    from svidok.cases.service import open_casework

    return open_casework(home)
