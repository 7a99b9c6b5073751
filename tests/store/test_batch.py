"""ObjectBatch: many objects built in one staging folder, placed one after another."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from svidok.errors import ObjectExistsError, StoreError
from svidok.store import NewObject, OcflStore, StoreProblem
from svidok.store.ocfl import ObjectBatch, PreparedObject

from .helpers import WHEN, ocfl_py_root, put


def _parts(store: OcflStore, data: bytes) -> tuple[str, ...]:
    return store.layout.path_parts(OcflStore.object_id(hashlib.sha256(data).hexdigest()))


def _sharing(store: OcflStore, levels: int, count: int, tag: str) -> list[bytes]:
    """``count`` different contents whose object paths share their first ``levels`` folders."""
    seen: dict[tuple[str, ...], list[bytes]] = {}
    for i in itertools.count():
        data = f"{tag} {i}".encode()
        group = seen.setdefault(_parts(store, data)[:levels], [])
        group.append(data)
        if len(group) == count:
            return group
    raise AssertionError("unreachable")


def _prepare(batch: ObjectBatch, staging: Path, data: bytes, name: str = "x") -> PreparedObject:
    incoming = staging / f"incoming-{hashlib.sha256(data).hexdigest()[:16]}"
    incoming.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return batch.prepare(
        NewObject(
            OcflStore.object_id(digest),
            incoming,
            digest_hex=digest,
            size=len(data),
            logical_name=f"original-{name}.bin",
            created=WHEN,
            message="batch test",
            user_name="Svidok test",
            user_address=None,
        ),
    )


def _problems(store: OcflStore) -> list[str]:
    return [str(p) for p in store.scan() if isinstance(p, StoreProblem)]


def _read(store: OcflStore, data: bytes) -> bytes:
    with store.open_content(OcflStore.object_id(hashlib.sha256(data).hexdigest())) as fh:
        return fh.read()


def test_objects_sharing_layout_folders_all_arrive(
    store: OcflStore, staging: Path, tmp_path: Path
) -> None:
    one = _sharing(store, 1, 3, "one")  # same first folder
    two = _sharing(store, 2, 2, "two")  # same first two folders
    # the store already holds a neighbour of the last one: it goes in below that folder
    near = _sharing(store, 1, 2, "near")
    other_staging = tmp_path / "other"
    other_staging.mkdir()
    put(store, other_staging, near[0])
    contents = [*one, *two, near[1], b"alone"]
    with store.batch(staging) as batch:
        prepared = [_prepare(batch, staging, d, str(i)) for i, d in enumerate(contents)]
        assert not any(staging.glob("incoming-*")), "content files are moved, not copied"
        for obj in prepared:
            batch.place(obj)
        for obj in prepared:
            assert store.inventory_digest(obj.object_id) == obj.inventory_digest
    assert list(staging.iterdir()) == []
    assert _problems(store) == []
    for d in [*contents, near[0]]:
        assert _read(store, d) == d
    ok, num, good, errs = ocfl_py_root(store.root)
    assert ok and num == good == len(contents) + 1, errs


def test_object_stored_by_another_writer_first(
    store: OcflStore, staging: Path, tmp_path: Path
) -> None:
    first, neighbour = _sharing(store, 2, 2, "race")
    with store.batch(staging) as batch:
        ours = _prepare(batch, staging, first)
        theirs_too = _prepare(batch, staging, neighbour)
        other_staging = tmp_path / "other"
        other_staging.mkdir()
        put(store, other_staging, first)  # another writer, between prepare and place
        with pytest.raises(ObjectExistsError):
            batch.place(ours)
        batch.discard(ours)
        batch.place(theirs_too)
    assert _problems(store) == []
    assert _read(store, first) == first
    assert _read(store, neighbour) == neighbour


def test_stored_object_refused_when_prepared(store: OcflStore, staging: Path) -> None:
    put(store, staging, b"kept")
    with store.batch(staging) as batch, pytest.raises(ObjectExistsError):
        _prepare(batch, staging, b"kept")
    incoming = staging / f"incoming-{hashlib.sha256(b'kept').hexdigest()[:16]}"
    assert incoming.read_bytes() == b"kept"  # left where it was


def test_no_prepare_after_place_nor_after_close(store: OcflStore, staging: Path) -> None:
    batch = store.batch(staging)
    batch.place(_prepare(batch, staging, b"a"))
    with pytest.raises(StoreError, match="once it has placed"):
        _prepare(batch, staging, b"b")
    batch.close()
    batch.close()
    with pytest.raises(StoreError, match="closed"):
        _prepare(batch, staging, b"c")


def test_failed_build_puts_the_content_back(store: OcflStore, staging: Path) -> None:
    with store.batch(staging) as batch:
        _prepare(batch, staging, b"first")
        with pytest.raises(StoreError, match="logical name"):
            _prepare(batch, staging, b"second", name="bad/../name")
        incoming = staging / f"incoming-{hashlib.sha256(b'second').hexdigest()[:16]}"
        assert incoming.read_bytes() == b"second"
    assert sorted(p.name for p in staging.iterdir()) == [incoming.name]
    assert _problems(store) == []


def test_content_and_staging_inside_the_store_refused(store: OcflStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="must not be inside the store"):
        store.batch(store.root / "extensions")
    staging = tmp_path / "staging"
    staging.mkdir()
    inside = store.root / "incoming"
    inside.write_bytes(b"inside")
    digest = hashlib.sha256(b"inside").hexdigest()
    with store.batch(staging) as batch, pytest.raises(StoreError, match="inside the store"):
        batch.prepare(
            NewObject(
                OcflStore.object_id(digest),
                inside,
                digest_hex=digest,
                size=6,
                logical_name="original.bin",
                created=WHEN,
                message="m",
                user_name="u",
                user_address=None,
            ),
        )
    assert inside.read_bytes() == b"inside"


def test_object_of_another_batch_refused(store: OcflStore, staging: Path) -> None:
    with store.batch(staging) as one, store.batch(staging) as two:
        prepared = _prepare(one, staging, b"mine")
        with pytest.raises(StoreError, match="not prepared by this batch"):
            two.place(prepared)
        one.place(prepared)
    assert _read(store, b"mine") == b"mine"
