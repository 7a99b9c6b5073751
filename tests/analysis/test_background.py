"""Hashes made in the background by a server (svidok.derive.jobs): the originals lacking
them at start, then each one submitted, by one long-lived hash worker."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from analysis.kit import jpeg, natural
from conftest import run_ingest, write
from svidok.catalog import schema as s
from svidok.derive.jobs import PreviewJobs
from svidok.home import Home


def _hashed(home: Home) -> dict[str, str]:
    h = s.perceptual_hashes.c
    with home.catalog.engine.connect() as conn:
        return {str(r.object_id): str(r.status)
                for r in conn.execute(select(h.object_id, h.status))}


def _until(check, seconds: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "the background job did not finish in time"
        time.sleep(0.05)


def test_background_hashes(home: Home, tmp_path: Path) -> None:
    first = run_ingest(home, write(tmp_path / "a" / "one.jpg", jpeg(natural(31))))
    one = str(first.outcomes[0].object_id)
    jobs = PreviewJobs(home, "svidok serve")
    jobs.start()
    try:
        _until(lambda: _hashed(home).get(one) == "hashed")
        second = run_ingest(home, write(tmp_path / "b" / "two.jpg", jpeg(natural(32))))
        two = str(second.outcomes[0].object_id)
        cut = run_ingest(home, write(tmp_path / "c" / "cut.jpg", jpeg(natural(33))[:600]))
        broken = str(cut.outcomes[0].object_id)
        jobs.submit([two, broken])
        _until(lambda: _hashed(home).get(two) == "hashed"
               and _hashed(home).get(broken) == "failed")
    finally:
        jobs.stop()
    assert len(_hashed(home)) == 3
