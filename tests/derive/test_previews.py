"""``svidok previews``: the samples' previews made and stored as derivatives, nothing made
twice, a broken original's failure recorded in the ledger (not retried unless asked), and
the home still verifying."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from conftest import run_ingest, write, write_samples
from svidok.derive.previews import make_previews
from svidok.derive.store import derivatives_of
from svidok.home import Home
from svidok.verify import verify

CLI = [sys.executable, "-m", "svidok"]


def test_previews_of_the_samples(home: Home, tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "samples")
    report = run_ingest(home, samples)
    objects = {o.path.rsplit(b"/", 1)[-1].decode(): o.object_id for o in report.outcomes}
    made = make_previews(home, "tester")
    assert not made.failed, made.failed
    kinds = {name: sorted(d["kind"] for d in derivatives_of(home, str(obj)))
             for name, obj in objects.items()}
    assert kinds["bucha-street.jpg"] == ["preview", "thumbnail"]
    assert kinds["mariupol-convoy.mp4"] == ["keyframes", "thumbnail"]
    assert kinds["voice-note.wav"] == ["waveform"]
    assert kinds["incident-report.pdf"] == ["preview", "thumbnail"]
    assert kinds["witness-statement.txt"] == []
    thumb = next(d for d in derivatives_of(home, str(objects["bucha-street.jpg"]))
                 if d["kind"] == "thumbnail")
    with home.store.open_content(thumb["object"], thumb["logical_path"]) as fh:
        picture = Image.open(io.BytesIO(fh.read()))
        assert max(picture.size) <= 320 and not picture.getexif()  # no GPS in a preview
    size = home.ledger.size
    again = make_previews(home, "tester")
    assert again.stored == 0 and home.ledger.size == size
    assert verify(home, quick=False).ok


def test_a_broken_original_is_recorded_not_retried(home: Home, tmp_path: Path) -> None:
    good = io.BytesIO()
    Image.new("RGB", (400, 300), (120, 30, 30)).save(good, "JPEG")
    broken = good.getvalue()[:600]  # a JPEG cut short
    run_ingest(home, write(tmp_path / "in" / "cut.jpg", broken))
    report = make_previews(home, "tester")
    assert len(report.failed) == 1
    failures = [e for e in home.ledger.iter_entries() if e.type == "derivative.failed"]
    assert len(failures) == 1 and failures[0].data["errors"]
    assert make_previews(home, "tester").failed == []  # not tried again by this algorithm
    assert len(make_previews(home, "tester", retry=True).failed) == 1
    assert verify(home, quick=True).ok


def test_cli_previews(home_path: Path, tmp_path: Path) -> None:
    with Home.open(home_path) as home:
        run_ingest(home, write_samples(tmp_path / "samples") / "bucha-street.jpg")
    done = subprocess.run([*CLI, "--home", str(home_path), "previews", "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stored"] == 2
    bad = subprocess.run([*CLI, "--home", str(home_path), "previews", "--case", "NOPE"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no case" in bad.stderr and "Traceback" not in bad.stderr


def test_an_original_missing_from_the_store_is_recorded(home: Home, tmp_path: Path) -> None:
    """An original the store cannot give back is a ``derivative.failed`` entry like any other
    failure, and the failures found before it are recorded too (not lost with the run)."""
    good = io.BytesIO()
    Image.new("RGB", (400, 300), (120, 30, 30)).save(good, "JPEG")
    run_ingest(home, write(tmp_path / "in" / "a-cut.jpg", good.getvalue()[:600]))
    gone = run_ingest(home, write(tmp_path / "in2" / "b-gone.jpg", good.getvalue()))
    lost = gone.outcomes[0].object_id
    (home.store.content_info(str(lost)).path / "inventory.json").write_bytes(b"{")
    report = make_previews(home, "tester")
    assert len(report.failed) == 2
    assert report.failed[1][0] == lost and "store" in report.failed[1][1]
    failures = [e for e in home.ledger.iter_entries() if e.type == "derivative.failed"]
    assert [e.data["object"] for e in failures][-1] == lost and len(failures) == 2
