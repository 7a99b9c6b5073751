"""validate_object() and scan() find damage; ocfl-py, judging independently, agrees.

Each case builds a store of several objects (empty content, odd names), damages it in
one way, and checks that Svidok reports the expected kind of problem, that the
undamaged objects stay clean, and (where the damage breaks the OCFL rules ocfl-py
checks) that ocfl-py also calls the object invalid.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from svidok.errors import PathEscapeError
from svidok.store import ObjectInfo, OcflStore, StoreProblem

from .helpers import errors, kinds, make_writable, ocfl_py_object, ocfl_py_root, put

CONTENTS: list[tuple[bytes, str]] = [
    (b"", "original"),
    (b"The first witness statement.\n" * 100, "original.txt"),
    (bytes(range(256)) * 64, "фото з місця події.jpg"),
    (b"%PDF-1.4 fake", "report (final) #2.pdf"),
]


@dataclass
class Built:
    store: OcflStore
    ids: list[str]
    paths: list[Path]

    @property
    def victim(self) -> Path:
        return self.paths[1]


@pytest.fixture
def built(store: OcflStore, staging: Path) -> Built:
    ids, paths = [], []
    for data, name in CONTENTS:
        object_id, path = put(store, staging, data, name)
        ids.append(object_id)
        paths.append(path)
    return Built(store, ids, paths)


def rewrite(path: Path, data: bytes) -> None:
    make_writable(path)
    path.write_bytes(data)


def content_file(obj: Path) -> Path:
    [f] = [p for p in (obj / "v1" / "content").rglob("*") if p.is_file() or p.is_symlink()]
    return f


def edit_inventory(
    obj: Path, change: Callable[[dict[str, object]], None], *, sidecars: bool
) -> None:
    """Change both inventories; rewrite the sidecars too when ``sidecars``."""
    for where in (obj, obj / "v1"):
        inv = json.loads((where / "inventory.json").read_bytes())
        change(inv)
        raw = json.dumps(inv, indent=2).encode()
        rewrite(where / "inventory.json", raw)
        if sidecars:
            rewrite(
                where / "inventory.json.sha256",
                f"{hashlib.sha256(raw).hexdigest()} inventory.json\n".encode(),
            )


# ---------------------------------------------------------------- damage to one object


def flip_byte(b: Built) -> None:
    f = content_file(b.victim)
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    rewrite(f, bytes(data))


def truncate(b: Built) -> None:
    f = content_file(b.victim)
    make_writable(f)
    os.truncate(f, f.stat().st_size - 1)


def extra_content_file(b: Built) -> None:
    (b.victim / "v1" / "content" / "planted.txt").write_bytes(b"not in the manifest")


def extra_root_file(b: Built) -> None:
    (b.victim / "notes.txt").write_bytes(b"x")


def extra_version_file(b: Built) -> None:
    (b.victim / "v1" / "readme").write_bytes(b"x")


def missing_content(b: Built) -> None:
    content_file(b.victim).unlink()


def inventory_edited_sidecar_not(b: Built) -> None:
    def change(inv: dict[str, object]) -> None:
        inv["versions"]["v1"]["message"] = "quietly rewritten"  # type: ignore[index]

    edit_inventory(b.victim, change, sidecars=False)


def only_root_inventory_edited(b: Built) -> None:
    raw = (b.victim / "inventory.json").read_bytes().replace(b"Original as", b"Altered as")
    rewrite(b.victim / "inventory.json", raw)
    rewrite(
        b.victim / "inventory.json.sha256",
        f"{hashlib.sha256(raw).hexdigest()}  inventory.json\n".encode(),
    )


def wrong_sidecar(b: Built) -> None:
    rewrite(b.victim / "inventory.json.sha256", f"{'0' * 64}  inventory.json\n".encode())


def garbled_sidecar(b: Built) -> None:
    rewrite(b.victim / "inventory.json.sha256", b"this is not a digest\n")


def missing_sidecar(b: Built) -> None:
    (b.victim / "inventory.json.sha256").unlink()


def missing_declaration(b: Built) -> None:
    (b.victim / "0=ocfl_object_1.1").unlink()


def older_declaration(b: Built) -> None:
    (b.victim / "0=ocfl_object_1.1").unlink()
    (b.victim / "0=ocfl_object_1.0").write_bytes(b"ocfl_object_1.0\n")


def bad_declaration_text(b: Built) -> None:
    rewrite(b.victim / "0=ocfl_object_1.1", b"ocfl_object_1.1")


def inventory_not_json(b: Built) -> None:
    for where in (b.victim, b.victim / "v1"):
        rewrite(where / "inventory.json", b"{ broken")


def missing_version_dir(b: Built) -> None:
    shutil.rmtree(b.victim / "v1")


def extra_version_dir(b: Built) -> None:
    shutil.copytree(b.victim / "v1", b.victim / "v2")


def id_changed_consistently(b: Built) -> None:
    other = "sha256:" + "ab" * 32

    def change(inv: dict[str, object]) -> None:
        inv["id"] = other

    edit_inventory(b.victim, change, sidecars=True)


def symlink_instead_of_content(b: Built) -> None:
    f = content_file(b.victim)
    outside = b.store.root.parent / "outside-copy"
    outside.write_bytes(f.read_bytes())
    make_writable(f)
    f.unlink()
    f.symlink_to(outside)


def symlink_to_folder_in_object(b: Built) -> None:
    (b.victim / "v1" / "content" / "linked").symlink_to(
        b.store.root.parent, target_is_directory=True
    )


def empty_folder_in_content(b: Built) -> None:
    (b.victim / "v1" / "content" / "empty").mkdir()


@dataclass(frozen=True)
class Case:
    damage: Callable[[Built], None]
    expected: set[str]
    ocfl_py_invalid: bool  # does ocfl-py (independently) call the object invalid?


OBJECT_CASES = {
    "flipped byte": Case(flip_byte, {"content-digest-mismatch"}, True),
    "truncated": Case(truncate, {"content-digest-mismatch"}, True),
    "extra content file": Case(extra_content_file, {"content-extra"}, True),
    "extra file in object root": Case(extra_root_file, {"object-extra-entry"}, True),
    "extra file in version folder": Case(extra_version_file, {"version-extra-entry"}, True),
    "missing content": Case(missing_content, {"content-missing"}, True),
    "inventory edited, sidecar not": Case(inventory_edited_sidecar_not, {"sidecar-mismatch"}, True),
    "root inventory edited with its sidecar": Case(
        only_root_inventory_edited, {"version-inventory"}, True
    ),
    "wrong sidecar digest": Case(wrong_sidecar, {"sidecar-mismatch"}, True),
    "garbled sidecar": Case(garbled_sidecar, {"sidecar-invalid"}, True),
    "missing sidecar": Case(missing_sidecar, {"sidecar-missing"}, True),
    "declaration missing": Case(missing_declaration, {"object-declaration"}, True),
    # the inventory's type no longer matches the declared OCFL version (E038); ocfl-py 2.1
    # lets the inventory's type win and does not object
    "declaration of an older OCFL": Case(older_declaration, {"inventory-invalid"}, False),
    # ocfl-py accepts a declaration without its final newline; OCFL 1.1 (E007) does not
    "declaration text": Case(bad_declaration_text, {"object-declaration"}, False),
    "inventory not JSON": Case(inventory_not_json, {"inventory-invalid"}, True),
    "version folder missing": Case(missing_version_dir, {"version-dirs"}, True),
    "extra version folder": Case(extra_version_dir, {"version-dirs"}, True),
    "empty folder in content": Case(empty_folder_in_content, {"empty-dir"}, True),
    # Beyond what ocfl-py checks: Svidok's own rules and link refusal.
    "id changed (sidecars updated)": Case(
        id_changed_consistently, {"wrong-path", "id-content-mismatch"}, False
    ),
    "symlink instead of content": Case(
        symlink_instead_of_content, {"symlink", "content-missing"}, False
    ),
    "symlink to a folder in content": Case(symlink_to_folder_in_object, {"symlink"}, False),
}


@pytest.mark.parametrize("name", list(OBJECT_CASES))
def test_object_damage_is_found(built: Built, name: str) -> None:
    case = OBJECT_CASES[name]
    for path in built.paths:
        assert built.store.validate_object(path) == [], path
        assert ocfl_py_object(path)[0]
    case.damage(built)

    found = kinds(built.store.validate_object(built.victim))
    assert case.expected <= found, found
    for path in built.paths:
        if path != built.victim:
            assert built.store.validate_object(path) == []

    scanned = list(built.store.scan())
    problems = [p for p in scanned if isinstance(p, StoreProblem)]
    assert case.expected <= kinds(problems)
    assert all(p.path is not None and built.victim in (p.path, *p.path.parents) for p in problems)
    infos = {i.id for i in scanned if isinstance(i, ObjectInfo)}
    assert set(built.ids) - {built.ids[1]} <= infos

    valid, messages = ocfl_py_object(built.victim)
    if case.ocfl_py_invalid:
        assert not valid, "ocfl-py should agree the object is invalid"
    else:
        # ocfl-py follows links and does not know Svidok's id rules; Svidok must not.
        pass
    assert messages is not None


def test_fixity_off_skips_digests_but_not_structure(built: Built) -> None:
    flip_byte(built)
    assert built.store.validate_object(built.victim, fixity=False) == []
    assert kinds(built.store.validate_object(built.victim)) == {"content-digest-mismatch"}
    missing_content(built)
    assert "content-missing" in kinds(built.store.validate_object(built.victim, fixity=False))


def test_problems_carry_the_object_id_and_plain_words(built: Built) -> None:
    truncate(built)
    [problem] = built.store.validate_object(built.victim)
    assert problem.object_id == built.ids[1]
    assert problem.spec_code == "E092"
    assert "has changed" in problem.message and "bytes on disk" in problem.message
    assert str(problem).startswith("error: ")


# ---------------------------------------------------------------- damage to the hierarchy


def test_object_at_the_wrong_layout_path(built: Built) -> None:
    wrong = built.store.root / "fff" / "fff" / "fff" / ("f" * 64)
    wrong.parent.mkdir(parents=True)
    shutil.copytree(built.victim, wrong)
    problems = built.store.validate_object(wrong)
    assert kinds(problems) == {"wrong-path"}
    assert "layout puts" in problems[0].message
    assert kinds(list(built.store.scan())) == {"wrong-path"}
    # ocfl-py validates objects but not where they sit; its verdict on the object is "valid"
    assert ocfl_py_object(wrong)[0]


def test_object_moved_to_a_non_layout_folder(built: Built) -> None:
    moved = built.store.root / "misc" / "object"
    moved.parent.mkdir()
    shutil.move(built.victim, moved)
    found = kinds(list(built.store.scan()))
    assert {"wrong-path", "stray-dir"} <= found
    assert "empty-dir" in found  # the layout folders it left behind


def test_stray_folder_and_files_in_the_root(built: Built) -> None:
    (built.store.root / "stray").mkdir()
    (built.store.root / "stray" / "note.txt").write_text("left here")
    (built.store.root / "empty").mkdir()
    tuple_dir = built.victim.parent
    (tuple_dir / "loose-file").write_text("x")
    (built.store.root / "unknown-file.txt").write_text("x")
    problems = [p for p in built.store.scan() if isinstance(p, StoreProblem)]
    by_path = {(p.path, p.kind.value) for p in problems}
    root = built.store.root
    assert (root / "stray", "stray-dir") in by_path
    assert (root / "stray" / "note.txt", "stray-file") in by_path
    assert (root / "empty", "empty-dir") in by_path
    assert (tuple_dir / "loose-file", "stray-file") in by_path
    warnings = [p for p in problems if p.severity == "warning"]
    assert [p.path for p in warnings] == [root / "unknown-file.txt"]
    # ocfl-py agrees the hierarchy is broken (files outside objects, empty folder)
    ok, _num, _good, _ = ocfl_py_root(root)
    assert not ok


def test_symlinked_layout_folder(built: Built) -> None:
    """A tuple folder replaced by a link to a copy elsewhere: found, and never read."""
    outside = built.store.root.parent / "outside"
    top = built.store.root / built.victim.relative_to(built.store.root).parts[0]
    shutil.copytree(top, outside)
    shutil.rmtree(top)
    top.symlink_to(outside, target_is_directory=True)
    assert "symlink" in kinds(list(built.store.scan()))
    with pytest.raises(PathEscapeError):
        built.store.open_content(built.ids[1])
    with pytest.raises(PathEscapeError):
        built.store.has_object(built.ids[1])
    assert "symlink" in kinds(built.store.validate_object(built.victim))


def test_store_root_files_damaged(built: Built) -> None:
    root = built.store.root
    (root / "0=ocfl_1.1").write_text("wrong\n")
    (root / "extensions" / "junk.txt").write_text("x")
    found = kinds(list(built.store.scan()))
    assert {"root-declaration", "stray-file"} <= found


def test_clean_store_is_valid_for_both(built: Built) -> None:
    assert errors([p for p in built.store.scan() if isinstance(p, StoreProblem)]) == []
    ok, num, good, errs = ocfl_py_root(built.store.root)
    assert ok and num == good == len(CONTENTS), errs
