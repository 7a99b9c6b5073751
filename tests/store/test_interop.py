"""Objects written by ocfl-py (an independent OCFL implementation) are read and judged
the same way by Svidok, including multi-version objects, sha512, another content
folder name, fixity blocks, and objects broken in ways OCFL 1.1 forbids.

ocfl-py's pip package ships no test fixtures, so the fixtures here are built with
ocfl-py's own writer at test time and then damaged one rule at a time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ocfl
import pytest
from ocfl.version_metadata import VersionMetadata

from svidok.errors import PathEscapeError, StoreError
from svidok.store import OcflStore
from svidok.store.inventory import parse_inventory, sidecar_bytes

from .helpers import errors, kinds, make_writable, ocfl_py_object, ocfl_py_root, put

VERSIONS: dict[str, dict[str, bytes]] = {
    "v1": {"original.txt": b"first", "empty": b"", "sub/deep.bin": b"nested"},
    "v2": {"original.txt": b"first", "new.txt": b"changed", "renamed.bin": b"nested"},
    "v3": {"original.txt": b"third"},
}
FIRST_ID = "sha256:" + hashlib.sha256(b"first").hexdigest()


def build_with_ocfl_py(store: OcflStore, tmp: Path, algorithm: str) -> Path:
    """A three-version object written by ocfl-py, placed where the layout puts its id."""
    src = tmp / f"src-{algorithm}"
    for version, files in VERSIONS.items():
        for name, data in files.items():
            (src / version / name).parent.mkdir(parents=True, exist_ok=True)
            (src / version / name).write_bytes(data)
    target = store.object_path(FIRST_ID)
    target.parent.mkdir(parents=True)
    obj = ocfl.Object(identifier=FIRST_ID, digest_algorithm=algorithm, content_directory="stuff")
    metadata = {
        i: VersionMetadata(
            created=f"2024-0{i}-01T10:00:00Z",
            message=f"version {i}",
            name="ocfl-py",
            address="mailto:ocfl@example.org",
        )
        for i in (1, 2, 3)
    }
    obj.build(str(src), metadata, objdir=str(target))
    if algorithm != "sha256":
        # Svidok finds the id's sha256 through the fixity block when content uses sha512.
        def add_fixity(inv: dict[str, Any]) -> None:
            inv["fixity"] = {
                "sha256": {hashlib.sha256(b"first").hexdigest(): ["v1/stuff/original.txt"]},
                "md5": {hashlib.md5(b"nested").hexdigest(): ["v1/stuff/sub/deep.bin"]},
            }

        edit(target, add_fixity, head_too=True)
    return target


def edit(obj: Path, change: Callable[[dict[str, Any]], None], *, head_too: bool = True) -> None:
    """Change the root inventory (and the head version's copy), keeping sidecars right."""
    root_inv = json.loads((obj / "inventory.json").read_bytes())
    algorithm = root_inv["digestAlgorithm"]
    head = root_inv["head"]
    change(root_inv)
    raw = json.dumps(root_inv, indent=2).encode()
    for where in [obj, obj / head] if head_too else [obj]:
        for name, data in (
            ("inventory.json", raw),
            (f"inventory.json.{algorithm}", sidecar_bytes(raw, algorithm)),
        ):
            if (where / name).exists():
                make_writable(where / name)
            (where / name).write_bytes(data)


@pytest.fixture(params=["sha256", "sha512"])
def imported(request: pytest.FixtureRequest, store: OcflStore, tmp_path: Path) -> Path:
    return build_with_ocfl_py(store, tmp_path, request.param)


def test_objects_written_by_ocfl_py_are_valid_and_readable(
    store: OcflStore, imported: Path
) -> None:
    assert ocfl_py_object(imported)[0]
    assert store.validate_object(imported) == []
    assert errors([p for p in store.scan() if not hasattr(p, "files")]) == []  # type: ignore[arg-type]
    info = store.content_info(FIRST_ID)
    assert info.head == "v3" and info.versions == ("v1", "v2", "v3")
    assert [(f.logical_path, f.size) for f in info.files] == [("original.txt", 5)]
    for version, files in VERSIONS.items():
        for name, data in files.items():
            with store.open_content(FIRST_ID, name, version) as fh:
                assert fh.read() == data, (version, name)
    with pytest.raises(StoreError, match="name one"):
        store.open_content(FIRST_ID, version="v1")
    with store.open_content(FIRST_ID) as fh:  # head has one file
        assert fh.read() == b"third"
    ok, num, good, errs = ocfl_py_root(store.root)
    assert ok and num == good == 1, errs


def _swap_digest(inv: dict[str, Any]) -> None:
    manifest = inv["manifest"]
    first, second = sorted(manifest)[:2]
    manifest[first], manifest[second] = manifest[second], manifest[first]


def _bad_path(inv: dict[str, Any]) -> None:
    digest = next(iter(inv["manifest"]))
    inv["manifest"][digest] = ["v1/stuff/../../../../etc/passwd"]


def _conflicting_logical(inv: dict[str, Any]) -> None:
    state = inv["versions"]["v1"]["state"]
    digest = next(iter(state))
    state[digest] = [*state[digest], "original.txt/inside"]


def _unused_manifest_entry(inv: dict[str, Any]) -> None:
    inv["manifest"]["0" * len(next(iter(inv["manifest"])))] = ["v1/stuff/ghost"]


def _state_not_in_manifest(inv: dict[str, Any]) -> None:
    state = inv["versions"]["v3"]["state"]
    digest = next(iter(state))
    state["f" * len(digest)] = state.pop(digest)


def _gap(inv: dict[str, Any]) -> None:
    inv["versions"]["v5"] = inv["versions"].pop("v3")
    inv["head"] = "v5"


def _extra_key(inv: dict[str, Any]) -> None:
    inv["note"] = "not allowed"


def _bad_created(inv: dict[str, Any]) -> None:
    inv["versions"]["v2"]["created"] = "yesterday"


def _wrong_head(inv: dict[str, Any]) -> None:
    inv["head"] = "v2"


def _fixity_wrong(inv: dict[str, Any]) -> None:
    inv["fixity"] = {"md5": {"0" * 32: ["v1/stuff/original.txt"]}}


def _prior_state_changed(obj: Path) -> None:
    raw = json.loads((obj / "v1" / "inventory.json").read_bytes())
    state = raw["versions"]["v1"]["state"]
    digest = next(iter(state))
    state[digest] = ["a-different-name"]
    data = json.dumps(raw).encode()
    algorithm = raw["digestAlgorithm"]
    for name, content in (
        ("inventory.json", data),
        (f"inventory.json.{algorithm}", sidecar_bytes(data, algorithm)),
    ):
        make_writable(obj / "v1" / name)
        (obj / "v1" / name).write_bytes(content)


def _content_changed(obj: Path) -> None:
    f = obj / "v2" / "stuff" / "new.txt"
    make_writable(f)
    f.write_bytes(b"Changed")


def _head_copy_differs(obj: Path) -> None:
    edit(obj, lambda inv: inv["versions"]["v3"].update(message="edited"), head_too=False)


# (change, OCFL rule broken); ocfl-py 2.1 does not check E102, so it is left out of its part
INVENTORY_MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "manifest digests swapped": (_swap_digest, "E092"),
    "content path escapes": (_bad_path, "E099"),
    "conflicting logical paths": (_conflicting_logical, "E095"),
    "manifest entry used by no version": (_unused_manifest_entry, "E107"),
    "state digest not in manifest": (_state_not_in_manifest, "E050"),
    "gap in versions": (_gap, "E010"),
    "key OCFL does not define": (_extra_key, "E102"),
    "created not RFC 3339": (_bad_created, "E049"),
    "head is not the last version": (_wrong_head, "E040"),
    "fixity digest wrong": (_fixity_wrong, "E093"),
}
FILE_MUTATIONS: dict[str, tuple[Callable[[Path], None], str]] = {
    "prior version's state rewritten": (_prior_state_changed, "E066"),
    "content of a later version changed": (_content_changed, "E092"),
    "root inventory differs from head's copy": (_head_copy_differs, "E064"),
}


@pytest.mark.parametrize("name", list(INVENTORY_MUTATIONS) + list(FILE_MUTATIONS))
def test_broken_ocfl_py_objects_are_rejected_by_both(
    store: OcflStore, imported: Path, name: str
) -> None:
    if name in INVENTORY_MUTATIONS:
        change, code = INVENTORY_MUTATIONS[name]
        edit(imported, change)
    else:
        damage, code = FILE_MUTATIONS[name]
        damage(imported)
    problems = errors(store.validate_object(imported))
    assert code in {p.spec_code for p in problems}, [str(p) for p in problems]
    valid, _messages = ocfl_py_object(imported)
    if code != "E102":
        assert not valid, f"ocfl-py should reject this too ({name})"


def test_duplicate_json_keys_are_refused(store: OcflStore, imported: Path) -> None:
    raw = (imported / "inventory.json").read_bytes()
    doubled = raw.replace(b'"head": "v3"', b'"head": "v1", "head": "v3"', 1)
    assert doubled != raw
    inventory, problems = parse_inventory(doubled)
    assert inventory is None and "twice" in problems[0].message


# ---------------------------------------------------------------- confinement


def _consistent_edit(obj: Path, change: Callable[[dict[str, Any]], None]) -> None:
    edit(obj, change, head_too=True)


@pytest.mark.parametrize(
    "content_path",
    [
        "v1/content/../../../../../etc/passwd",
        "/etc/passwd",
        "v1/content//original",
        "v1/inventory.json",
        "v1/content/./original",
    ],
)
def test_open_content_refuses_escaping_inventory_paths(
    store: OcflStore, staging: Path, content_path: str
) -> None:
    object_id, path = put(store, staging, b"secret", "original")

    def change(inv: dict[str, Any]) -> None:
        digest = next(iter(inv["manifest"]))
        inv["manifest"][digest] = [content_path]

    _consistent_edit(path, change)
    with pytest.raises(PathEscapeError):
        store.open_content(object_id)


def test_open_content_never_follows_links(store: OcflStore, staging: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "original").write_bytes(b"not evidence")

    object_id, path = put(store, staging, b"evidence", "original")
    content = path / "v1" / "content"
    make_writable(content / "original")
    (content / "original").unlink()
    (content / "original").symlink_to(outside / "original")
    with pytest.raises(PathEscapeError):
        store.open_content(object_id)

    object_id, path = put(store, staging, b"evidence 2", "original")
    shutil.rmtree(path / "v1" / "content")
    (path / "v1" / "content").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathEscapeError):
        store.open_content(object_id)

    object_id, path = put(store, staging, b"evidence 3", "original")
    moved = tmp_path / "moved-object"
    shutil.move(path, moved)
    path.symlink_to(moved, target_is_directory=True)
    with pytest.raises(PathEscapeError):
        store.open_content(object_id)
    with pytest.raises(PathEscapeError):
        store.content_info(object_id)


def test_open_content_checks_the_inventory_digest_and_id(store: OcflStore, staging: Path) -> None:
    object_id, path = put(store, staging, b"abc", "original")
    raw = (path / "inventory.json").read_bytes()
    make_writable(path / "inventory.json")
    (path / "inventory.json").write_bytes(raw.replace(b"Original as", b"Edited as"))
    with pytest.raises(StoreError, match="does not match its digest"):
        store.open_content(object_id)
    (path / "inventory.json").write_bytes(raw)
    _consistent_edit(path, lambda inv: inv.update(id="sha256:" + "0" * 64))
    with pytest.raises(StoreError, match="says it is"):
        store.open_content(object_id)


# ---------------------------------------------------------------- later versions


def test_a_second_version_can_be_added_later(store: OcflStore, staging: Path) -> None:
    """What a derivative or redaction will do: v2 next to v1, written with the same model."""
    from svidok.store.inventory import parse_inventory

    object_id, path = put(store, staging, b"the original", "original.jpg")
    inventory, _ = parse_inventory((path / "inventory.json").read_bytes())
    assert inventory is not None
    thumb = b"a thumbnail"
    digest = hashlib.sha256(thumb).hexdigest()
    state = {d: list(p) for d, p in inventory.versions["v1"].state.items()}
    state[digest] = ["derivatives/thumb.jpg"]
    new = inventory.with_new_version(
        added={digest: ["v2/content/derivatives/thumb.jpg"]},
        state=state,
        created=datetime(2024, 6, 1, tzinfo=UTC),
        message="Thumbnail",
        user_name="svidok",
        user_address=None,
    )
    assert new.head == "v2"
    raw = new.to_bytes()
    (path / "v2" / "content" / "derivatives").mkdir(parents=True)
    (path / "v2" / "content" / "derivatives" / "thumb.jpg").write_bytes(thumb)
    for where in (path / "v2", path):
        for name, data in (
            ("inventory.json", raw),
            ("inventory.json.sha256", sidecar_bytes(raw, "sha256")),
        ):
            if (where / name).exists():
                make_writable(where / name)
            (where / name).write_bytes(data)
    assert store.validate_object(path) == []
    assert ocfl_py_object(path)[0]
    with store.open_content(object_id, "derivatives/thumb.jpg") as fh:
        assert fh.read() == thumb
    with store.open_content(object_id, "original.jpg", "v1") as fh:
        assert fh.read() == b"the original"
    assert store.content_info(object_id).versions == ("v1", "v2")
    shutil.rmtree(path / "v2")
    assert "version-dirs" in kinds(store.validate_object(path))
