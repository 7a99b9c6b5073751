"""kill -9 at any moment leaves a home that verifies; running again completes it, no duplicates.
Two ingests at once never corrupt the home."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import next_spare_catalog, random_bytes, write
from svidok.home import Home

CLI = [sys.executable, "-m", "svidok"]


def _tree(root: Path, files: int, seed: int) -> int:
    rnd = random.Random(seed)
    contents = set()
    for i in range(files):
        size = rnd.choice([0, 10, 1000, 50_000, 400_000])
        data = random_bytes(seed * 1000 + i % (files - 3), size)  # a few repeated contents
        write(root / f"d{i % 7}" / f"f{i:04d}.bin", data)
        contents.add(data)
    return len(contents)


def _svidok(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--home", str(home), *args], capture_output=True, text=True, check=False, timeout=300
    )


def _ingest_args(src: Path) -> list[str]:
    return ["ingest", str(src), "--case", "crash", "--collector", "tester"]


def _counts(home: Path) -> tuple[int, int]:
    from sqlalchemy import text

    with Home.open(home) as h, h.catalog.engine.connect() as db:  # SQLite or PostgreSQL
        objects = db.execute(text("select count(*) from objects")).scalar_one()
        acq = db.execute(text("select count(*) from acquisitions")).scalar_one()
    return objects, acq


@pytest.mark.parametrize("trial", range(6))
def test_kill_during_ingest_then_verify_and_resume(tmp_path: Path, trial: int) -> None:
    home = tmp_path / "home"
    assert _svidok(home, "init").returncode == 0
    src = tmp_path / "src"
    distinct = _tree(src, 300, seed=trial + 1)
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), *_ingest_args(src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(trial).uniform(0.3, 3.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    checked = _svidok(home, "verify", "--no-record")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    resumed = _svidok(home, *_ingest_args(src))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _counts(home) == (distinct, 300)
    again = _svidok(home, "verify")
    assert again.returncode == 0, again.stdout + again.stderr


def test_two_ingests_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _svidok(home, "init").returncode == 0
    a, b = tmp_path / "a", tmp_path / "b"
    _tree(a, 120, seed=7)
    _tree(b, 120, seed=7)  # the same contents under another folder: races on every object
    procs = [
        subprocess.Popen(
            [*CLI, "--home", str(home), *_ingest_args(p)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in (a, b)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    objects, acquisitions = _counts(home)
    assert acquisitions == 240
    with Home.open(home) as h:
        stored = sum(1 for _ in h.store.iter_objects())
    assert objects == stored
    checked = _svidok(home, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert os.listdir(home / "work") == []


def test_kill_while_batches_commit_one_behind_another(tmp_path: Path) -> None:
    """Kills spread over the whole run of a many-batch ingest (batches are committed on
    one thread while the next ones are received): every kill leaves a home that verifies,
    and running again completes it without duplicates."""
    src = tmp_path / "src"
    rnd = random.Random(99)
    for i in range(500):  # small files: several batches, the first ones small
        write(src / f"d{i % 5}" / f"f{i:04d}.bin", random_bytes(50_000 + i, rnd.choice([10, 3000])))
    # how long a whole run takes here, from start to exit
    home = tmp_path / "timed"
    assert _svidok(home, "init").returncode == 0
    start = time.perf_counter()
    assert _svidok(home, *_ingest_args(src)).returncode == 0
    span = time.perf_counter() - start
    for trial in range(3):
        home = tmp_path / f"home-{trial}"
        next_spare_catalog()  # each home its own catalog database (PostgreSQL runs)
        assert _svidok(home, "init").returncode == 0
        proc = subprocess.Popen(
            [*CLI, "--home", str(home), *_ingest_args(src)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(span * (0.35 + 0.25 * trial))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        checked = _svidok(home, "verify", "--no-record")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        resumed = _svidok(home, *_ingest_args(src))
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert _counts(home) == (500, 500)
        assert _svidok(home, "verify").returncode == 0
