"""Previews made in the background by a server: the originals lacking them at start, then
each one submitted; its state visible (waiting, working, done, failed with the reason)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import run_ingest, write
from svidok.derive.jobs import JobState, PreviewJobs
from svidok.derive.store import derivatives_of
from svidok.home import Home


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


def _until(check, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "the background job did not finish in time"
        time.sleep(0.05)


def test_background_previews(home: Home, tmp_path: Path) -> None:
    first = run_ingest(home, write(tmp_path / "a" / "one.jpg", _jpeg((200, 0, 0))))
    one = str(first.outcomes[0].object_id)
    jobs = PreviewJobs(home, "svidok serve")
    jobs.start()  # catches up with the originals lacking previews
    try:
        _until(lambda: len(derivatives_of(home, one)) == 2)
        second = run_ingest(home, write(tmp_path / "b" / "two.jpg", _jpeg((0, 200, 0))))
        two = str(second.outcomes[0].object_id)
        broken = run_ingest(home, write(tmp_path / "c" / "cut.jpg", _jpeg((0, 0, 200))[:500]))
        cut = str(broken.outcomes[0].object_id)
        jobs.submit([two, cut])
        assert jobs.state(two) is not None
        _until(lambda: getattr(jobs.state(two), "state", None) == "done")
        _until(lambda: getattr(jobs.state(cut), "state", None) == "failed")
        assert jobs.state(cut).reason  # type: ignore[union-attr]
        assert {d["kind"] for d in derivatives_of(home, two)} == {"thumbnail", "preview"}
        assert jobs.state("sha256:" + "0" * 64) is None
    finally:
        jobs.stop()


def test_an_unexpected_error_fails_that_job_only(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker thread survives any error of one job: the next job is still done."""
    import svidok.derive.jobs as jobs_module

    real = jobs_module.make_previews
    calls: list[object] = []

    def flaky(*args: object, **kwargs: Any) -> object:
        calls.append(kwargs.get("objects"))
        if len(calls) == 1:
            raise RuntimeError("catalog went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs_module, "make_previews", flaky)
    one = str(run_ingest(home, write(tmp_path / "a" / "one.jpg", _jpeg((9, 9, 9))))
              .outcomes[0].object_id)
    two = str(run_ingest(home, write(tmp_path / "b" / "two.jpg", _jpeg((99, 9, 9))))
              .outcomes[0].object_id)
    jobs = PreviewJobs(home, "svidok serve")
    jobs.start(catch_up=False)
    try:
        jobs.submit([one, two])
        _until(lambda: getattr(jobs.state(two), "state", None) == "done", 30)
        assert jobs.state(one) == JobState("failed", "catalog went away")
    finally:
        jobs.stop()
