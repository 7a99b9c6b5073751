"""Derivatives in the store: each its own OCFL object with a ``derivative`` entry naming
its source; the original's object untouched; verify, rebuild, the independent verifier and
ocfl-py all accept the home; a second run stores nothing twice; a crash between placing
and recording is completed by the next command."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from PIL import Image

from conftest import random_bytes, run_ingest, write
from svidok.derive.store import DerivativeSpec, derivatives_of, existing, store_derivatives
from svidok.home import Home
from svidok.verify import verify

ROOT = Path(__file__).resolve().parents[2]
ALGORITHM = "svidok-preview-test/1"


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "PNG")
    return out.getvalue()


def _original(home: Home, tmp_path: Path) -> str:
    report = run_ingest(home, write(tmp_path / "in" / "a.bin", random_bytes(1, 5000)))
    obj = report.outcomes[0].object_id
    assert obj is not None
    return obj


def _spec(
    source: str, kind: str = "thumbnail", colour: tuple[int, int, int] = (1, 2, 3)
) -> DerivativeSpec:
    return DerivativeSpec(source, kind, "image/png", _png(colour), ALGORITHM, {"max_side": 32})


def test_a_derivative_is_an_object_of_its_own(home: Home, tmp_path: Path) -> None:
    source = _original(home, tmp_path)
    inventory = (home.store.object_path(source) / "inventory.json").read_bytes()
    specs = [_spec(source), _spec(source, "preview", (9, 9, 9))]
    entries = store_derivatives(home, specs, "tester")
    assert [e.type for e in entries] == ["derivative", "derivative"]
    data = entries[0].data
    assert data["source"] == source and data["kind"] == "thumbnail" and data["new_object"]
    assert data["logical_path"] == "thumbnail.png" and data["algorithm"] == ALGORITHM
    assert home.store.has_object(str(data["object"]))
    with home.store.open_content(str(data["object"]), "thumbnail.png") as fh:
        assert fh.read() == _png((1, 2, 3))
    assert (home.store.object_path(source) / "inventory.json").read_bytes() == inventory
    assert [d["kind"] for d in derivatives_of(home, source)] == ["preview", "thumbnail"]
    assert existing(home, [source]) == {
        (source, "thumbnail", ALGORITHM),
        (source, "preview", ALGORITHM),
    }
    assert store_derivatives(home, [_spec(source)], "tester") == []  # a second run
    report = verify(home, quick=False)
    assert report.ok, report.problems


def test_the_same_picture_from_two_originals_is_one_object(home: Home, tmp_path: Path) -> None:
    a = _original(home, tmp_path)
    b = run_ingest(home, write(tmp_path / "in2" / "b.bin", random_bytes(2, 7000))).outcomes[0]
    assert b.object_id is not None
    entries = store_derivatives(home, [_spec(a), _spec(b.object_id)], "tester")
    assert entries[0].data["object"] == entries[1].data["object"]
    assert [e.data["new_object"] for e in entries] == [True, False]
    assert verify(home, quick=False).ok


def test_rebuild_and_the_independent_verifier_accept_derivatives(
    home_path: Path, tmp_path: Path
) -> None:
    with Home.open(home_path) as home:
        store_derivatives(home, [_spec(_original(home, tmp_path))], "tester")
    script = ROOT / "examples" / "independent_verify.py"
    done = subprocess.run(
        [sys.executable, str(script), str(home_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rebuilt = subprocess.run(
        [sys.executable, "-m", "svidok", "--home", str(home_path), "rebuild"],
        capture_output=True,
        text=True,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    with Home.open(home_path) as home:
        assert verify(home, quick=True).ok


CRASH = """
import os, sys
from pathlib import Path
from svidok.home import Home
from svidok.derive.store import DerivativeSpec, store_derivatives
Home.commit = lambda self, drafts: os._exit(9)  # killed after placing, before recording
with Home.open(Path(sys.argv[1])) as home:
    spec = DerivativeSpec(sys.argv[2], "thumbnail", "image/png", bytes.fromhex(sys.argv[3]),
                          "svidok-preview-test/1", {})
    store_derivatives(home, [spec], "tester")
"""


def test_a_placed_but_unrecorded_derivative_is_completed(home_path: Path, tmp_path: Path) -> None:
    with Home.open(home_path) as home:
        source = _original(home, tmp_path)
        size = home.ledger.size
    picture = _png((5, 6, 7))
    killed = subprocess.run(
        [sys.executable, "-c", CRASH, str(home_path), source, picture.hex()],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr
    with Home.open(home_path) as home:
        assert home.ledger.size == size  # placed in the store, not recorded
        report = verify(home, quick=True)
        assert report.ok, report.problems  # an interrupted run's object: a note
        assert any("interrupted" in f.message for f in report.findings if f.severity == "note")
    with Home.open(home_path) as home, home.writing():  # the next command that writes
        pass
    with Home.open(home_path) as home:
        made = [e for e in home.ledger.iter_entries() if e.type == "derivative"]
        assert len(made) == 1 and made[0].data["source"] == source
        assert verify(home, quick=False).ok
