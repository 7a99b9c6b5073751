"""Reading a whole ledger file from scratch, in one process and in parallel readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.ledger import scan
from svidok.ledger.entries import Draft, Entry
from svidok.ledger.merkle import HashTree, leaf_hash


def _write(path: Path, count: int) -> list[bytes]:
    lines = []
    for i in range(count):
        kind = "acquisition" if i % 3 == 0 else "extraction"
        data = {"object": f"sha256:{i:064x}", "size": i, "gps": [50.45 + i / 1e4, 30.52]}
        lines.append(Entry.create(Draft(kind, "Olena", data), i).raw)
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return lines


@pytest.fixture(params=["one process", "parallel readers"])
def parallel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if request.param == "parallel readers":
        monkeypatch.setattr(scan, "PARALLEL_FROM", 0)
        monkeypatch.setattr(scan.os, "cpu_count", lambda: 4)  # four readers, even on 2 cores
        return True
    return False


def test_whole_file(tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "entries.jsonl"
    lines = _write(path, 301)
    piece = scan.read_ledger(path, acquisitions=True)
    assert piece.error is None and piece.count == 301
    assert piece.good_end == path.stat().st_size
    assert piece.tree is not None
    assert piece.tree.root() == HashTree([leaf_hash(x) for x in lines]).root()
    assert piece.tree.inclusion_proof(200) == HashTree(
        [leaf_hash(x) for x in lines]
    ).inclusion_proof(200)
    assert [a[0] for a in piece.acquisitions] == list(range(0, 301, 3))
    assert piece.acquisitions[5] == (15, f"sha256:{15:064x}", 15)
    assert piece.first is not None and piece.first["type"] == "acquisition"


def test_damage_late_in_the_file_stops_the_valid_part(tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "entries.jsonl"
    lines = _write(path, 301)
    raw = path.read_bytes()
    at = raw.index(lines[250])
    path.write_bytes(
        raw[:at] + lines[250].replace(b'"size":250', b'"size":251') + raw[at + len(lines[250]) :]
    )
    piece = scan.read_ledger(path)
    assert piece.count == 301  # the edit keeps the line canonical: only the tree can tell
    path.write_bytes(
        raw[:at] + lines[250].replace(b'"size":250', b'"size": 250') + raw[at + len(lines[250]) :]
    )
    piece = scan.read_ledger(path)
    assert piece.count == 250 and piece.good_end == at
    assert piece.error is not None and f"at byte {at}" in piece.error and "canonical" in piece.error
    assert (
        piece.tree is not None
        and piece.tree.root() == HashTree([leaf_hash(x) for x in lines[:250]]).root()
    )


def test_a_missing_entry_is_found(tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "entries.jsonl"
    lines = _write(path, 301)
    del lines[180]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    piece = scan.read_ledger(path)
    assert piece.count == 180
    assert piece.error is not None and "says it is entry 181" in piece.error


def test_torn_tail(tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "entries.jsonl"
    _write(path, 120)
    full = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b'{"actor":"Ole')
    piece = scan.read_ledger(path)
    assert piece.count == 120 and piece.good_end == full
