"""Receiving one file: the staged copy is the source byte for byte, whichever way it is written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from svidok.errors import IntakeError
from svidok.intake import receive as rx

SIZES = [0, 1, 4095, 4096, 4097, rx.CHUNK - 1, rx.CHUNK, rx.CHUNK + 1, 3 * rx.CHUNK + 12345]


@pytest.fixture(params=["page cache", "direct", "direct refused"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param != "page cache":
        monkeypatch.setattr(rx, "DIRECT_FROM", 0)
    if request.param == "direct refused":
        monkeypatch.setattr(rx, "_set_direct", lambda _fd, _on: False)
    monkeypatch.setattr(rx, "WRITEBACK_EVERY", 2 * rx.CHUNK)
    return str(request.param)


@pytest.mark.parametrize("size", SIZES)
def test_staged_copy_is_exact(tmp_path: Path, mode: str, size: int) -> None:
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    staged = tmp_path / "staged"
    got = rx.receive(bytes(source), staged, source.stat())
    assert staged.read_bytes() == data
    assert got.digest == hashlib.sha256(data).hexdigest() and got.size == size
    assert staged.stat().st_mode & 0o777 == 0o444


def test_direct_writes_are_used_where_the_file_system_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    real = rx._set_direct

    def spy(fd: int, on: bool) -> bool:
        calls.append(on)
        return real(fd, on)

    monkeypatch.setattr(rx, "DIRECT_FROM", 0)
    monkeypatch.setattr(rx, "_set_direct", spy)
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(2 * rx.CHUNK + 5))
    rx.receive(bytes(source), tmp_path / "staged", source.stat())
    assert calls[0] is True  # asked for; the tail (5 bytes) is then written through the cache
    assert calls[1:] in ([False], [])


def test_a_replaced_source_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"one")
    before = source.stat()
    source.rename(tmp_path / "kept")  # keeps its inode, so the new file gets another
    source.write_bytes(b"two")
    with pytest.raises(IntakeError, match="replaced"):
        rx.receive(bytes(source), tmp_path / "staged", before)
