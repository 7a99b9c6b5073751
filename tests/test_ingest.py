"""Intake: originals preserved bit for bit, provenance exact, bad input handled."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import OPTIONS, random_bytes, run_ingest, sha256, write
from svidok.catalog import schema
from svidok.home import Home
from svidok.intake.ingest import IngestOptions
from svidok.textsafe import escape_bytes


def _count(home: Home, table: object) -> int:
    with home.catalog.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _entries(home: Home, kind: str) -> list:  # type: ignore[type-arg]
    return [e for e in home.ledger.iter_entries() if e.type == kind]


def test_files_are_preserved_exactly_and_deduplicated(home: Home, tmp_path: Path) -> None:
    src = tmp_path / "evidence"
    a = write(src / "a.bin", random_bytes(1, 300_000))
    write(src / "sub" / "copy-of-a.dat", a.read_bytes())
    write(src / "sub" / "deeper" / "empty.txt", b"")
    write(src / "b.txt", "Свідчення: вибух о 06:40\n".encode())
    report = run_ingest(home, src)
    assert report.ok, [o.reason for o in report.outcomes]
    assert report.count("preserved") == 4
    objects = {o.object_id for o in report.outcomes}
    assert len(objects) == 3
    assert f"sha256:{sha256(b'')}" in objects
    for o in report.outcomes:
        assert o.object_id is not None
        with home.store.open_content(o.object_id) as fh:
            assert sha256(fh.read()) == o.object_id.removeprefix("sha256:")
    acq = _entries(home, "acquisition")
    assert len(acq) == 4
    assert sum(1 for e in acq if e.data["new_object"]) == 3
    assert len(_entries(home, "extraction")) == 3
    by_name = {e.data["name"]["utf8"]: e for e in acq}
    assert by_name["b.txt"].data["case"] == "bucha-2022"
    assert by_name["b.txt"].data["collector"] == "Olena Test"
    assert by_name["b.txt"].data["file"]["mtime_ns"] == str((src / "b.txt").stat().st_mtime_ns)
    assert by_name["b.txt"].data["path"]["utf8"] == str(src / "b.txt")
    assert by_name["b.txt"].data["media_type"] == "text/plain"
    assert by_name["copy-of-a.dat"].data["new_object"] is False


def test_same_ingest_twice_adds_nothing(home: Home, tmp_path: Path) -> None:
    src = tmp_path / "evidence"
    for i in range(5):
        write(src / f"f{i}", random_bytes(i, 1000 + i))
    assert run_ingest(home, src).count("preserved") == 5
    size = home.ledger.size
    again = run_ingest(home, src)
    assert again.ok and again.count("already-preserved") == 5
    assert home.ledger.size == size
    assert _count(home, schema.acquisitions) == 5
    # the same bytes from another source are a new acquisition of the same object
    other = run_ingest(
        home, src, options=IngestOptions(case="bucha-2022", collector="Petro", source="second copy")
    )
    assert other.count("preserved") == 5 and not any(o.new_object for o in other.outcomes)
    assert _count(home, schema.objects) == 5 and _count(home, schema.acquisitions) == 10


def test_hostile_names_preserved_and_shown_escaped(home: Home, tmp_path: Path) -> None:
    src = tmp_path / "names"
    src.mkdir()
    names = [
        b"line\nbreak.txt",
        b"bidi\xe2\x80\xaegpj.exe",
        b"not-utf8-\xff\xfe.bin",
        b"tab\tand\x1besc",
        b"  spaced  ",
    ]
    for i, name in enumerate(names):
        with open(os.path.join(os.fsencode(src), name), "wb") as fh:
            fh.write(bytes([i]) * (i + 1))
    report = run_ingest(home, src)
    assert report.ok and report.count("preserved") == len(names)
    recorded = {}
    for e in _entries(home, "acquisition"):
        value = e.data["name"]
        raw = value["utf8"].encode() if "utf8" in value else base64.b64decode(value["b64"])
        recorded[raw] = e
    assert set(recorded) == set(names)
    shown = {o.display for o in report.outcomes}
    for text in shown:
        assert "\n" not in text and "\u202e" not in text and "\x1b" not in text
    assert any("\\u202e" in text for text in shown)
    assert escape_bytes(b"not-utf8-\xff\xfe.bin").endswith("\\xff\\xfe.bin")
    assert recorded[b"not-utf8-\xff\xfe.bin"].data["name"]["display"] == "not-utf8-\\xff\\xfe.bin"


def test_links_fifos_and_errors_are_reported_not_followed(home: Home, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside-secret.txt", b"outside the tree")
    src = tmp_path / "tree"
    target = write(src / "real.txt", b"inside")
    (src / "inner-link").symlink_to(target)
    (src / "outer-link").symlink_to(outside)
    (src / "broken-link").symlink_to(tmp_path / "nowhere")
    os.mkfifo(src / "pipe")
    report = run_ingest(home, src, tmp_path / "does-not-exist", Path("/proc/self/mem"))
    status = {os.path.basename(o.path): o for o in report.outcomes}
    assert status[b"real.txt"].status == "preserved"
    assert status[b"inner-link"].status == "linked"
    assert status[b"outer-link"].status == "skipped" and "outside" in (
        status[b"outer-link"].reason or ""
    )
    assert status[b"pipe"].status == "skipped" and "FIFO" in (status[b"pipe"].reason or "")
    assert status[b"does-not-exist"].status == "failed"
    assert status[b"mem"].status == "failed"
    assert not report.ok
    # nothing from outside the tree was stored
    stored = {o.object_id for o in report.outcomes if o.object_id}
    assert f"sha256:{sha256(b'outside the tree')}" not in stored
    skips = _entries(home, "intake.skip")
    assert {e.data["kind"] for e in skips} >= {"symlink", "fifo", "failed"}
    link = next(e for e in skips if e.data["path"]["utf8"].endswith("outer-link"))
    assert link.data["target"]["utf8"] == str(outside)


def test_home_is_never_ingested_into_itself(home: Home, tmp_path: Path) -> None:
    report = run_ingest(home, home.path)
    assert report.count("preserved") == 0 and not report.ok


def test_bad_options_refused() -> None:
    import pytest

    from svidok.errors import IntakeError

    for kwargs in (
        {"case": "", "collector": "x"},
        {"case": "c", "collector": " "},
        {"case": "c\u202e", "collector": "x"},
    ):
        with pytest.raises(IntakeError):
            IngestOptions(**kwargs)  # type: ignore[arg-type]
    assert OPTIONS.case == "bucha-2022"


def test_batches_start_small_and_respect_both_limits() -> None:
    from svidok.intake import ingest as intake
    from svidok.intake.walk import Candidate

    def files(count: int, size: int = 1) -> list[Candidate]:
        st = os.stat_result((0o100644, 0, 0, 1, 0, 0, size, 0, 0, 0))
        return [Candidate(path=b"f", root=b"f", kind="file", st=st) for _ in range(count)]

    sizes = [len(b) for b in intake._batches(files(1000))]
    first = intake.BATCH_FIRST
    assert sizes[:3] == [first, 2 * first, 4 * first]
    assert max(sizes) == intake.BATCH_FILES and sum(sizes) == 1000
    big = intake.BATCH_BYTES // 2 + 1
    assert [len(b) for b in intake._batches(files(3, big))] == [1, 1, 1]
    assert list(intake._batches([])) == []


def test_many_files_recorded_in_order_across_batches(home: Home, tmp_path: Path) -> None:
    src = tmp_path / "many"
    for i in range(150):  # three batches, committed while the next is received
        write(src / f"f{i:03d}.bin", random_bytes(1000 + i, 100 + i % 7))
    report = run_ingest(home, src)
    assert report.ok and report.count("preserved") == 150
    paths = [e.data["path"]["utf8"] for e in _entries(home, "acquisition")]
    assert paths == [os.fsdecode(o.path) for o in report.outcomes]
    assert paths == sorted(paths)
    entries = [o.entry for o in report.outcomes]
    assert entries == sorted(entries) and None not in entries
    assert _count(home, schema.objects) == 150
    assert list(home.work.iterdir()) == []


def test_a_failed_commit_stops_the_ingest_and_keeps_earlier_batches(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from svidok.intake import ingest as intake

    src = tmp_path / "many"
    for i in range(100):
        write(src / f"f{i:03d}.bin", random_bytes(2000 + i, 50))
    real = intake._prepare
    calls = []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(intake, "_prepare", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_ingest(home, src)
    assert len(_entries(home, "acquisition")) == intake.BATCH_FIRST
    monkeypatch.setattr(intake, "_prepare", real)
    again = run_ingest(home, src)
    assert again.ok and again.count("preserved") == 100 - intake.BATCH_FIRST
    assert _count(home, schema.acquisitions) == 100
