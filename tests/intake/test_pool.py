"""The worker pool: isolation, limits, recovery, and leaving no processes behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from svidok.intake.extract import Extraction, ExtractorPool, extract_in_process

from . import builders as b
from .conftest import check_record


def _children() -> set[int]:
    """Process ids of this process's children, zombies included (Linux)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # succeeds for a zombie too, so this proves the child was reaped
    except ProcessLookupError:
        return True
    return False


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_workers(pool: ExtractorPool, count: int) -> list[int]:
    """A worker starts with its first file: give ``count`` of them one each, and wait."""
    note = Path(tempfile.mkdtemp()) / "note.txt"
    note.write_text("Свідок: показання записано.\n", encoding="utf-8")
    for future in [pool.submit(note) for _ in range(count)]:
        assert future.result(timeout=60).status == "complete"
    shutil.rmtree(note.parent)
    deadline = time.monotonic() + 30
    while len(pool.worker_pids()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return pool.worker_pids()


def test_workers_run_with_limits(samples: Path) -> None:
    with ExtractorPool(workers=2, timeout=7.0, memory_limit=700 << 20) as pool:
        assert pool.extract(samples / "bucha-street.jpg").status == "complete"
        pids = _wait_for_workers(pool, 2)
        assert len(pids) == 2 and os.getpid() not in pids
        for pid in pids:
            limits = Path(f"/proc/{pid}/limits").read_text()
            lines = {line[:26].strip(): line[26:].split() for line in limits.splitlines()[1:]}
            assert lines["Max file size"][:2] == ["0", "0"]
            assert lines["Max core file size"][:2] == ["0", "0"]
            assert lines["Max address space"][:2] == [str(700 << 20)] * 2
            assert lines["Max cpu time"][0] != "unlimited"
            assert os.getpriority(os.PRIO_PROCESS, pid) >= 10


def test_memory_allowance_exceeded(tmp_path: Path, samples: Path) -> None:
    """A valid TIFF whose 64 MiB description cannot be read within a 100 MiB allowance."""
    big = b.tiff_with_long_description(tmp_path / "scan.tif", 64 << 20)
    assert extract_in_process(big).status == "complete"  # fine without the limit
    with ExtractorPool(workers=1, timeout=30, memory_limit=100 << 20) as pool:
        assert pool.extract(samples / "irpin-bridge.jpg").status == "complete"
        first = pool.worker_pids()
        result = pool.extract(big)
        check_record(result)
        assert (result.media_type, result.status) == ("image/tiff", "failed")
        assert result.errors == (
            "metadata extraction ran out of its 100 MiB memory allowance and was stopped",
        )
        # the worker was replaced and the pool carries on
        assert pool.extract(samples / "irpin-bridge.jpg").status == "complete"
        assert pool.worker_pids() != first
        assert all(_gone(pid) for pid in first)


def test_allowance_too_small_to_start(samples: Path) -> None:
    with ExtractorPool(workers=1, timeout=30, memory_limit=4 << 20) as pool:
        result = pool.extract(samples / "bucha-street.jpg")
    check_record(result)
    assert result.status == "failed"
    assert "4 MiB memory allowance" in result.errors[0]


def test_timeout_kills_and_replaces_the_worker(tmp_path: Path, samples: Path) -> None:
    """A large but valid PDF (1.5 million xref entries) takes seconds; the limit is 1 s."""
    slow = b.pdf_with_huge_xref(tmp_path / "archive.pdf", 1_500_000)
    with ExtractorPool(workers=1, timeout=1.0) as pool:
        pids = _wait_for_workers(pool, 1)
        started = time.monotonic()
        result = pool.extract(slow)
        elapsed = time.monotonic() - started
        check_record(result)
        assert (result.media_type, result.status) == ("application/pdf", "failed")
        assert result.errors == ("metadata extraction took longer than 1 s and was stopped",)
        assert 1.0 <= elapsed < 6
        assert _gone(pids[0])
        after = pool.extract(samples / "witness-statement.txt")
        assert after.status == "complete"


def test_a_killed_worker_is_reported_and_replaced(tmp_path: Path, samples: Path) -> None:
    slow = b.pdf_with_huge_xref(tmp_path / "archive.pdf", 1_000_000)
    with ExtractorPool(workers=1, timeout=60) as pool:
        pid = _wait_for_workers(pool, 1)[0]
        before = _cpu_seconds(pid)
        future = pool.submit(slow)
        deadline = time.monotonic() + 20
        while _cpu_seconds(pid) < before + 0.3 and time.monotonic() < deadline:
            time.sleep(0.02)  # until the worker is busy parsing the file
        os.kill(pid, signal.SIGSEGV)
        result = future.result(timeout=30)
        check_record(result)
        assert result.status == "failed"
        assert "crashed (SIGSEGV)" in result.errors[0]
        assert result.media_type == "application/pdf"
        assert pool.extract(samples / "bucha-street.jpg").status == "complete"
        assert _gone(pid)


def test_close_leaves_no_children(tmp_path: Path, samples: Path) -> None:
    slow = b.pdf_with_huge_xref(tmp_path / "archive.pdf", 1_000_000)
    before = _children()
    pool = ExtractorPool(workers=2, timeout=60)
    pids = _wait_for_workers(pool, 2)
    busy = [pool.submit(slow) for _ in range(2)]
    queued = [pool.submit(samples / "bucha-street.jpg") for _ in range(20)]
    time.sleep(0.3)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 5
    assert _children() <= before
    assert all(_gone(pid) for pid in pids)
    for future in busy + queued:
        result = future.result(timeout=1)
        assert result.status == "failed"
        assert "pool was closed" in result.errors[0]
    with pytest.raises(RuntimeError):
        pool.submit(samples / "bucha-street.jpg")
    pool.close()  # twice is fine


def test_garbage_collected_pool_kills_its_workers() -> None:
    pool = ExtractorPool(workers=1)
    pids = _wait_for_workers(pool, 1)
    del pool
    import gc

    gc.collect()
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(_gone(pid) for pid in pids)


def test_submit_from_many_threads(samples: Path, pool: ExtractorPool) -> None:
    paths = sorted(samples.iterdir())
    results: list[Future[Extraction]] = []
    lock = threading.Lock()

    def worker() -> None:
        for path in paths:
            future = pool.submit(path)
            with lock:
                results.append(future)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 * len(paths)
    assert all(f.result(timeout=60).status == "complete" for f in results)


def test_odd_file_names(tmp_path: Path, samples: Path, pool: ExtractorPool) -> None:
    data = (samples / "bucha-street.jpg").read_bytes()
    names = [b"\xff\xfe not utf-8.jpg", "свідок \n newline.jpg".encode(), b"-rf"]
    for raw in names:
        path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), raw)))
        path.write_bytes(data)
        result = pool.extract(path)
        assert result.status == "complete", result.errors


def test_relative_paths_are_resolved_at_submit(
    samples: Path, pool: ExtractorPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(samples)
    future = pool.submit(Path("bucha-street.jpg"))
    monkeypatch.chdir("/")
    assert future.result(timeout=60).status == "complete"


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        ExtractorPool(workers=0)
    with pytest.raises(ValueError):
        ExtractorPool(timeout=0)
    with pytest.raises(ValueError):
        ExtractorPool(memory_limit=1000)


def test_heavy_libraries_are_loaded_only_when_needed(samples: Path) -> None:
    """A worker that has only seen JPEGs has not mapped FFmpeg or imported pypdf."""
    with ExtractorPool(workers=1) as pool:
        assert pool.extract(samples / "bucha-street.jpg").status == "complete"
        pid = pool.worker_pids()[0]
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libavformat" not in maps and "libjpeg" in maps
        assert pool.extract(samples / "mariupol-convoy.mp4").status == "complete"
        assert pool.worker_pids() == [pid]
        assert "libavformat" in Path(f"/proc/{pid}/maps").read_text()


def test_no_worker_for_a_file_no_extractor_reads(tmp_path: Path, samples: Path) -> None:
    """Given the type found in its first bytes, a file no extractor reads is described in
    this process exactly as a worker would describe it, and no worker is started; a file
    whose whole content shows a type that has an extractor still goes to a worker."""
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(300_000))
    empty = tmp_path / "empty"
    empty.touch()
    with ExtractorPool(workers=2) as pool:
        for path in (blob, empty):
            hint = "application/x-empty" if path == empty else "application/octet-stream"
            got = pool.submit(path, hint).result(timeout=5)
            assert got == extract_in_process(path)
            assert got.status == "skipped"
        assert pool.worker_pids() == []
        photo = pool.submit(samples / "bucha-street.jpg", "application/octet-stream").result()
        assert (photo.media_type, photo.status) == ("image/jpeg", "complete")
        assert len(pool.worker_pids()) == 1


def test_worker_starts_quickly() -> None:
    started = time.monotonic()
    with ExtractorPool(workers=2) as pool:
        _wait_for_workers(pool, 2)
        ready = time.monotonic() - started
    assert ready < 5  # typically well under 0.2 s


def test_workers_ignore_modules_in_the_current_folder(
    tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An evidence folder holding 'magic.py' or 'PIL/' must not be imported by a worker."""
    (tmp_path / "magic.py").write_text("raise SystemExit(99)\n")
    (tmp_path / "PIL").mkdir()
    (tmp_path / "PIL" / "__init__.py").write_text("raise SystemExit(98)\n")
    monkeypatch.chdir(tmp_path)
    with ExtractorPool(workers=1) as pool:
        result = pool.extract(samples / "bucha-street.jpg")
    assert result.status == "complete", result.errors
