"""Creating, opening, adding to and reading from the store."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from svidok.errors import ObjectExistsError, ObjectNotFoundError, PathEscapeError, StoreError
from svidok.store import NewObject, OcflStore

from .helpers import WHEN, errors, ocfl_py_object, put

Add = Callable[..., tuple[str, Path]]
DIGEST = hashlib.sha256(b"evidence").hexdigest()


# ---------------------------------------------------------------- init and open


def test_init_writes_a_storage_root(tmp_path: Path) -> None:
    store = OcflStore.init(tmp_path / "new" / "store")
    root = store.root
    assert (root / "0=ocfl_1.1").read_bytes() == b"ocfl_1.1\n"
    layout = json.loads((root / "ocfl_layout.json").read_text())
    assert layout["extension"] == "0004-hashed-n-tuple-storage-layout"
    assert isinstance(layout["description"], str) and layout["description"]
    config = json.loads(
        (root / "extensions/0004-hashed-n-tuple-storage-layout/config.json").read_text()
    )
    assert config == {
        "extensionName": "0004-hashed-n-tuple-storage-layout",
        "digestAlgorithm": "sha256",
        "tupleSize": 3,
        "numberOfTuples": 3,
        "shortObjectRoot": False,
    }
    assert sorted(p.name for p in root.iterdir()) == [
        "0=ocfl_1.1",
        "extensions",
        "ocfl_layout.json",
    ]
    assert not [p for p in root.parent.iterdir() if p.name != "store"]  # no temporary left
    assert OcflStore.open(root).layout == store.layout


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    OcflStore.init(tmp_path / "empty")
    OcflStore.open(tmp_path / "empty")


def test_init_refuses_a_non_empty_folder_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        OcflStore.init(tmp_path / "full")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        OcflStore.init(tmp_path / "file")
    OcflStore.init(tmp_path / "s")
    with pytest.raises(StoreError):
        OcflStore.init(tmp_path / "s")


def test_open_explains_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such folder"):
        OcflStore.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not an OCFL storage root"):
        OcflStore.open(tmp_path / "plain")

    root = OcflStore.init(tmp_path / "s").root
    (root / "0=ocfl_1.1").write_text("ocfl_1.0\n")
    with pytest.raises(StoreError, match="does not contain"):
        OcflStore.open(root)
    (root / "0=ocfl_1.1").write_text("")
    with pytest.raises(StoreError, match="does not contain"):
        OcflStore.open(root)
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    (root / "0=ocfl_1.0").write_text("ocfl_1.0\n")
    with pytest.raises(StoreError, match="exactly one"):
        OcflStore.open(root)
    (root / "0=ocfl_1.0").unlink()

    layout_file = root / "ocfl_layout.json"
    good = layout_file.read_bytes()
    layout_file.write_text('{"extension": "0002-flat-direct-storage-layout", "description": "x"}')
    with pytest.raises(StoreError, match="only reads"):
        OcflStore.open(root)
    layout_file.write_text("{not json")
    with pytest.raises(StoreError, match="cannot be read"):
        OcflStore.open(root)
    layout_file.write_text('{"extension": "0004-hashed-n-tuple-storage-layout"}')
    with pytest.raises(StoreError, match="description"):
        OcflStore.open(root)
    layout_file.unlink()
    with pytest.raises(StoreError, match=r"no ocfl_layout\.json"):
        OcflStore.open(root)
    layout_file.write_bytes(good)

    config = root / "extensions/0004-hashed-n-tuple-storage-layout/config.json"
    config.write_text('{"extensionName": "0004-hashed-n-tuple-storage-layout", "tupleSize": 99}')
    with pytest.raises(StoreError, match="tupleSize"):
        OcflStore.open(root)
    config.unlink()  # the extension's defaults apply without a config.json
    assert OcflStore.open(root).layout.tuple_size == 3


# ---------------------------------------------------------------- ids and paths


def test_object_id() -> None:
    assert OcflStore.object_id(DIGEST) == f"sha256:{DIGEST}"
    assert OcflStore.object_id(DIGEST.upper()) == f"sha256:{DIGEST}"
    for bad in ["", DIGEST[:-1], DIGEST + "0", "g" * 64, f" {DIGEST[1:]}", f"sha256:{DIGEST}"]:
        with pytest.raises(StoreError):
            OcflStore.object_id(bad)


def test_object_path_follows_the_layout(store: OcflStore) -> None:
    object_id = f"sha256:{DIGEST}"
    hashed = hashlib.sha256(object_id.encode()).hexdigest()
    path = store.object_path(object_id)
    assert path == store.root / hashed[:3] / hashed[3:6] / hashed[6:9] / hashed
    for bad in [DIGEST, f"sha256:{DIGEST.upper()}", "sha256:../../etc", f"md5:{DIGEST}", ""]:
        with pytest.raises(StoreError):
            store.object_path(bad)


# ---------------------------------------------------------------- adding and reading


ODD_NAMES = [
    "original",
    "original.jpg",
    "original.tar.gz",
    "оригінал.mp4",
    "original (1) final?.pdf",
    "with  two spaces and trailing space ",
    "%2e%2e%2f.txt",
    "back\\slash.txt",
    ".hidden",
    "...",
    'a:b*c|d<e>f".txt',
    "😀 emoji.png",
    "nested/folder/original.wav",
    "x" * 250 + ".jpg",
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_add_and_read_back_with_odd_names(store: OcflStore, add: Add, name: str) -> None:
    data = f"content for {name}".encode()
    object_id, path = add(data, name)
    assert path == store.object_path(object_id)
    assert store.has_object(object_id)
    with store.open_content(object_id) as fh:
        assert fh.read() == data
    with store.open_content(object_id, name, "v1") as fh:
        assert fh.read() == data
    info = store.content_info(object_id)
    assert info.id == object_id and info.head == "v1" and info.versions == ("v1",)
    [file] = info.files
    assert (file.logical_path, file.size, file.content_path) == (
        name,
        len(data),
        f"v1/content/{name}",
    )
    assert file.digest == hashlib.sha256(data).hexdigest()
    assert store.validate_object(path) == []
    valid, messages = ocfl_py_object(path)
    assert valid, messages


def test_zero_byte_content(store: OcflStore, add: Add) -> None:
    object_id, path = add(b"", "original")
    assert object_id == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    with store.open_content(object_id) as fh:
        assert fh.read() == b""
    assert store.content_info(object_id).files[0].size == 0
    assert store.validate_object(path) == []
    assert ocfl_py_object(path)[0]


def test_object_layout_and_inventory(store: OcflStore, add: Add) -> None:
    when = datetime(2024, 5, 1, 14, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    object_id, path = add(b"photo", "original.jpg", created=when, user_address=None)
    names = sorted(str(p.relative_to(path)) for p in path.rglob("*"))
    assert names == [
        "0=ocfl_object_1.1",
        "inventory.json",
        "inventory.json.sha256",
        "v1",
        "v1/content",
        "v1/content/original.jpg",
        "v1/inventory.json",
        "v1/inventory.json.sha256",
    ]
    raw = (path / "inventory.json").read_bytes()
    assert (path / "v1" / "inventory.json").read_bytes() == raw
    digest = hashlib.sha256(raw).hexdigest()
    assert (path / "inventory.json.sha256").read_text() == f"{digest}  inventory.json\n"
    inv = json.loads(raw)
    content = hashlib.sha256(b"photo").hexdigest()
    assert inv == {
        "digestAlgorithm": "sha256",
        "head": "v1",
        "id": object_id,
        "manifest": {content: ["v1/content/original.jpg"]},
        "type": "https://ocfl.io/1.1/spec/#inventory",
        "versions": {
            "v1": {
                "created": "2024-05-01T12:30:00.250000Z",
                "message": "Original as received",
                "state": {content: ["original.jpg"]},
                "user": {"name": "Svidok test"},
            }
        },
    }
    mode = stat.S_IMODE((path / "v1/content/original.jpg").stat().st_mode)
    assert mode & 0o222 == 0  # stored files are read-only


def test_content_is_moved_not_copied(store: OcflStore, staging: Path) -> None:
    incoming = staging / "incoming"
    incoming.write_bytes(b"big original")
    inode = incoming.stat().st_ino
    object_id = OcflStore.object_id(hashlib.sha256(b"big original").hexdigest())
    path = store.add_object(
        NewObject(
            object_id,
            incoming,
            digest_hex=object_id[7:],
            size=12,
            logical_name="original",
            created=WHEN,
            message="m",
            user_name="u",
            user_address=None,
        ),
        staging_dir=staging,
    )
    assert not incoming.exists()
    assert (path / "v1/content/original").stat().st_ino == inode
    assert list(staging.iterdir()) == []  # nothing left behind


def test_adding_twice_raises_and_keeps_the_file(store: OcflStore, staging: Path, add: Add) -> None:
    _object_id, path = add(b"same")
    before = sorted(p.relative_to(path) for p in path.rglob("*"))
    with pytest.raises(ObjectExistsError):
        add(b"same", "other.name")
    assert sorted(p.relative_to(path) for p in path.rglob("*")) == before
    # the second incoming file is still where it was, for the caller to deal with
    leftovers = [p for p in staging.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"same"


def test_add_refuses_bad_arguments(store: OcflStore, staging: Path) -> None:
    incoming = staging / "incoming"
    incoming.write_bytes(b"abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    good = {
        "digest_hex": digest,
        "size": 3,
        "logical_name": "original",
        "created": WHEN,
        "message": "m",
        "user_name": "u",
        "user_address": None,
        "staging_dir": staging,
    }

    def add(oid: str, content: Path, **values: object) -> Path:
        staging_dir = values.pop("staging_dir")
        new = NewObject(oid, content, **values)  # type: ignore[arg-type]
        return store.add_object(new, staging_dir=staging_dir)  # type: ignore[arg-type]

    object_id = OcflStore.object_id(digest)
    cases: list[tuple[str, dict[str, object], str]] = [
        (object_id, {"digest_hex": DIGEST}, "does not match"),
        (object_id, {"size": 4}, "not the 4 bytes"),
        (object_id, {"size": -1}, "whole number"),
        (object_id, {"logical_name": "../escape"}, "logical name"),
        (object_id, {"logical_name": "/abs"}, "logical name"),
        (object_id, {"logical_name": "a//b"}, "logical name"),
        (object_id, {"logical_name": ""}, "logical name"),
        (object_id, {"logical_name": "tab\there"}, "control"),
        (object_id, {"logical_name": "x" * 256}, "over 255"),
        (object_id, {"created": datetime(2024, 1, 1)}, "time zone"),
        (object_id, {"user_name": ""}, "user name"),
        (object_id, {"staging_dir": staging / "missing"}, "No such file"),
        ("sha256:" + digest.upper(), {}, "not a Svidok object id"),
    ]
    for oid, change, message in cases:
        with pytest.raises(StoreError, match=message):
            add(oid, incoming, **{**good, **change})
        assert incoming.read_bytes() == b"abc"
    inside = store.root / "incoming"
    inside.write_bytes(b"abc")
    with pytest.raises(StoreError, match="must not be inside the store"):
        add(object_id, inside, **good)
    with pytest.raises(StoreError, match="must not be inside the store"):
        add(object_id, incoming, **{**good, "staging_dir": store.root})
    inside.unlink()
    link = staging / "link"
    link.symlink_to(incoming)
    with pytest.raises(StoreError, match="not a regular file"):
        add(object_id, link, **good)
    assert not store.has_object(object_id)
    assert sorted(p.name for p in staging.iterdir()) == ["incoming", "link"]


def test_failure_while_building_puts_the_file_back(
    store: OcflStore, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import svidok.store.ocfl as module

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.OcflStore, "_publish", boom)
    incoming = staging / "incoming"
    incoming.write_bytes(b"keep me")
    incoming.chmod(0o640)
    digest = hashlib.sha256(b"keep me").hexdigest()
    with pytest.raises(OSError, match="No space"):
        store.add_object(
            NewObject(
                OcflStore.object_id(digest),
                incoming,
                digest_hex=digest,
                size=7,
                logical_name="original",
                created=WHEN,
                message="m",
                user_name="u",
                user_address=None,
            ),
            staging_dir=staging,
        )
    assert incoming.read_bytes() == b"keep me"
    assert stat.S_IMODE(incoming.stat().st_mode) == 0o640
    assert [p.name for p in staging.iterdir()] == ["incoming"]
    assert not store.has_object(OcflStore.object_id(digest))


def test_durable_false_still_builds_a_valid_object(store: OcflStore, add: Add) -> None:
    _object_id, path = add(b"batch item", durable=False)
    assert store.validate_object(path) == []


def test_reading_errors(store: OcflStore, add: Add) -> None:
    missing = OcflStore.object_id(DIGEST)
    assert not store.has_object(missing)
    with pytest.raises(ObjectNotFoundError):
        store.open_content(missing)
    with pytest.raises(ObjectNotFoundError):
        store.content_info(missing)
    object_id, _ = add(b"x", "original.txt")
    with pytest.raises(StoreError, match="no version"):
        store.open_content(object_id, version="v2")
    with pytest.raises(StoreError, match="no file"):
        store.open_content(object_id, "other.txt")
    with pytest.raises(StoreError):
        store.open_content("sha256:nothex")


def test_iter_objects(store: OcflStore, add: Add) -> None:
    added = dict(add(bytes([i]) * i) for i in range(5))
    assert dict(store.iter_objects()) == added


def test_validate_object_outside_the_root(store: OcflStore, tmp_path: Path) -> None:
    with pytest.raises(PathEscapeError):
        store.validate_object(tmp_path)
    with pytest.raises(PathEscapeError):
        store.validate_object(store.root / ".." / "elsewhere")
    with pytest.raises(ObjectNotFoundError):
        store.validate_object(store.root / "abc")


def test_scan_of_a_good_store(store: OcflStore, add: Add) -> None:
    objects = dict(add(os.urandom(n), f"original-{n}.bin") for n in (0, 1, 5000, 3 << 20))
    hashed: list[int] = []
    items = list(store.scan(progress=hashed.append))
    assert errors([i for i in items if not hasattr(i, "files")]) == []  # type: ignore[arg-type]
    infos = {i.id: i for i in items if hasattr(i, "files")}
    assert set(infos) == set(objects)
    assert sum(hashed) == 5001 + (3 << 20)
    assert all(n > 0 for n in hashed)
    for object_id, info in infos.items():
        assert info.path == objects[object_id]
        assert info.files[0].digest == object_id[7:]


def test_created_is_utc(store: OcflStore, add: Add) -> None:
    when = datetime(2024, 1, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
    object_id, _ = add(b"tz", created=when)
    assert store.content_info(object_id).created == "2024-01-01T05:00:00Z"


def test_put_helper_uses_unique_names(store: OcflStore, staging: Path) -> None:
    put(store, staging, b"a")
    put(store, staging, b"b")
    assert len(list(store.iter_objects())) == 2
    assert datetime.now(UTC) > WHEN
