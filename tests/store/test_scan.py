"""scan(): every object reported exactly once, in a stable order, with the threaded
hashing path exercised (large files, and every file when the threshold is lowered)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import svidok.store._content as content_module
from svidok.store import ObjectInfo, OcflStore, StoreProblem

from .helpers import kinds, make_writable

Add = Callable[..., tuple[str, Path]]


def scan_all(
    store: OcflStore, **kwargs: object
) -> tuple[list[StoreProblem], list[ObjectInfo], int]:
    hashed: list[int] = []
    items = list(store.scan(progress=hashed.append, **kwargs))  # type: ignore[arg-type]
    problems = [i for i in items if isinstance(i, StoreProblem)]
    infos = [i for i in items if isinstance(i, ObjectInfo)]
    assert len(problems) + len(infos) == len(items)
    return problems, infos, sum(hashed)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_files_go_to_threads_and_every_object_is_reported(
    store: OcflStore, add: Add, threads: int
) -> None:
    sizes = [300_000, 1 << 20, 5, 2 << 20, 0, 700_000, 1 << 20, 12]
    added = dict(add(os.urandom(n), f"file-{i}.bin") for i, n in enumerate(sizes))
    store.scan_threads = threads
    problems, infos, hashed = scan_all(store)
    assert problems == []
    assert [i.id for i in infos] == [oid for oid, _ in sorted(added.items(), key=lambda x: x[1])]
    assert hashed == sum(sizes)
    assert {i.id: i.files[0].size for i in infos} == {
        oid: n for oid, n in zip(added, sizes, strict=True)
    }


def test_many_objects_all_hashed_on_threads(
    store: OcflStore, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.thread_hash_min = 0
    added = dict(add(os.urandom(n % 97), f"f{n}") for n in range(60))
    problems, infos, _ = scan_all(store)
    assert problems == [] and {i.id for i in infos} == set(added) and len(infos) == 60
    # damage a few: each one is found, attached to the right object, the rest stay clean
    victims = sorted(added.items(), key=lambda x: x[1])[5:60:11]
    for _, path in victims:
        [f] = [p for p in (path / "v1" / "content").iterdir()]
        make_writable(f)
        f.write_bytes(f.read_bytes() + b"!")
    problems, infos, _ = scan_all(store)
    assert len(infos) == 60
    assert kinds(problems) == {"content-digest-mismatch"}
    assert {p.object_id for p in problems} == {oid for oid, _ in victims}
    # each object's problems come right before its ObjectInfo
    items = list(store.scan())
    for n, item in enumerate(items):
        if isinstance(item, StoreProblem):
            following = next(i for i in items[n:] if isinstance(i, ObjectInfo))
            assert following.id == item.object_id


def test_stopping_early_is_safe(
    store: OcflStore, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        add(os.urandom(400_000 + n))
    real_hash = content_module.hash_fd

    def slow_hash(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)  # so that hashing jobs are still queued when the scan is closed
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(content_module, "hash_fd", slow_hash)
    open_before = len(os.listdir("/proc/self/fd"))
    scan = store.scan()
    first = next(scan)
    assert isinstance(first, ObjectInfo)
    scan.close()  # raises nothing, and leaves no thread or open file behind
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert len(list(store.scan())) == 12


def test_fixity_off_hashes_nothing(store: OcflStore, add: Add) -> None:
    add(os.urandom(500_000))
    problems, infos, hashed = scan_all(store, fixity=False)
    assert problems == [] and len(infos) == 1 and hashed == 0
