"""Reading stored objects: inventories checked against their sidecars, and content files.

Every path read from an inventory is checked and opened one element at a time without
following symbolic links, so nothing can lead a read outside the object.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from svidok.errors import ObjectNotFoundError, PathEscapeError, StoreError
from svidok.store import _confined as cf
from svidok.store._root import INVENTORY_LIMIT, SMALL_LIMIT, object_path, open_object
from svidok.store.inventory import (
    Inventory,
    new_hasher,
    parse_inventory,
    parse_sidecar,
    path_elements_problem,
)
from svidok.store.layout import HashedNTupleLayout

_PATH_CODES = frozenset({"E042", "E052", "E053", "E099", "E100", "E017", "E018", "E108"})


@dataclass(frozen=True)
class LogicalFile:
    """One file of an object's version, as the inventory names it."""

    logical_path: str
    digest: str  # lowercase hex, in the object's digest algorithm
    size: int | None  # bytes on disk; None when the content file is missing
    content_path: str  # relative to the object root, "/"-separated


@dataclass(frozen=True)
class ObjectInfo:
    """What an object holds at its head version."""

    id: str
    path: Path
    head: str
    digest_algorithm: str
    versions: tuple[str, ...]
    files: tuple[LogicalFile, ...]
    created: str
    message: str | None
    user_name: str | None
    user_address: str | None


def inventory_digest(root: Path, layout: HashedNTupleLayout, object_id: str) -> str | None:
    """SHA-256 of the stored object's root inventory.json, None if it has none."""
    try:
        fd = open_object(root, layout, object_id)
    except ObjectNotFoundError:
        return None
    with cf.closing_fd(fd):
        try:
            raw = cf.read_small_at(fd, "inventory.json", INVENTORY_LIMIT)
        except OSError:
            return None
    return hashlib.sha256(raw).hexdigest()


def _read_inventory(obj_fd: int, where: Path) -> Inventory:
    """The object's root inventory, checked against its sidecar; StoreError if unusable."""
    try:
        raw = cf.read_small_at(obj_fd, "inventory.json", INVENTORY_LIMIT)
    except FileNotFoundError:
        raise StoreError(f"{where} has no inventory.json") from None
    except OSError as exc:
        raise StoreError(f"cannot read {where}/inventory.json: {exc.strerror}") from exc
    inventory, problems = parse_inventory(raw)
    errors = [p for p in problems if p.severity == "error"]
    escapes = [p for p in errors if p.spec_code in _PATH_CODES]
    if escapes:
        raise PathEscapeError(f"the inventory of {where} has an unsafe path: {escapes[0].message}")
    if inventory is None or errors:
        detail = errors[0].message if errors else "unusable"
        raise StoreError(f"the inventory of {where} is not valid: {detail}")
    sidecar = f"inventory.json.{inventory.digest_algorithm}"
    try:
        stated = parse_sidecar(cf.read_small_at(obj_fd, sidecar, SMALL_LIMIT))
    except FileNotFoundError:
        raise StoreError(f"{where} has no {sidecar}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {where}/{sidecar}: {exc.strerror}") from exc
    actual = new_hasher(inventory.digest_algorithm)
    actual.update(raw)
    if stated != actual.hexdigest():
        raise StoreError(f"the inventory of {where} does not match its digest in {sidecar}")
    return inventory


def _inventory_for(
    root: Path, layout: HashedNTupleLayout, object_id: str, obj_fd: int
) -> Inventory:
    where = object_path(root, layout, object_id)
    inventory = _read_inventory(obj_fd, where)
    if inventory.id != object_id:
        raise StoreError(f"the object at {where} says it is {inventory.id!r}, not {object_id}")
    return inventory


def _content_parts(inventory: Inventory, content_path: str) -> tuple[str, ...]:
    problem = path_elements_problem(content_path)
    if problem is not None:
        raise PathEscapeError(f"the content path {content_path!r} {problem}")
    parts = tuple(content_path.split("/"))
    if (
        len(parts) < 3
        or parts[0] not in inventory.versions
        or (parts[1] != inventory.content_dir_name)
    ):
        raise PathEscapeError(
            f"the content path {content_path!r} is not inside a version's content folder"
        )
    return parts


def open_content(
    root: Path,
    layout: HashedNTupleLayout,
    object_id: str,
    logical_path: str | None = None,
    version: str | None = None,
) -> BinaryIO:
    """A stored file, opened for reading (see :meth:`OcflStore.open_content`)."""
    with cf.closing_fd(open_object(root, layout, object_id)) as obj_fd:
        inventory = _inventory_for(root, layout, object_id, obj_fd)
        version = inventory.head if version is None else version
        if version not in inventory.versions:
            raise StoreError(f"object {object_id} has no version {version!r}")
        state = inventory.logical_state(version)
        if logical_path is None:
            if len(state) != 1:
                raise StoreError(
                    f"object {object_id} holds {len(state)} files in {version}; name one"
                )
            logical_path = next(iter(state))
        digest = state.get(logical_path)
        if digest is None:
            raise StoreError(f"object {object_id} has no file {logical_path!r} in {version}")
        content_path = inventory.content_path_for(digest)
        if content_path is None:
            raise StoreError(f"object {object_id}: no content path for {logical_path!r}")
        parts = _content_parts(inventory, content_path)
        try:
            fd = cf.open_file_path(obj_fd, parts)
        except FileNotFoundError:
            raise StoreError(
                f"object {object_id}: the content file {content_path} is missing"
            ) from None
    return open(fd, "rb")


def content_info(root: Path, layout: HashedNTupleLayout, object_id: str) -> ObjectInfo:
    """What the object holds at its head version, with the sizes of its content files."""
    with cf.closing_fd(open_object(root, layout, object_id)) as obj_fd:
        inventory = _inventory_for(root, layout, object_id, obj_fd)
        sizes: dict[str, int] = {}
        for content_path in inventory.content_paths():
            parts = _content_parts(inventory, content_path)
            try:
                fd = cf.open_file_path(obj_fd, parts)
            except (FileNotFoundError, StoreError):
                continue
            with cf.closing_fd(fd):
                sizes[content_path] = os.fstat(fd).st_size
    return object_info(inventory, object_path(root, layout, object_id), sizes)


def object_info(inventory: Inventory, path: Path, sizes: dict[str, int]) -> ObjectInfo:
    """The head version of ``inventory``, with the content sizes found on disk."""
    files = []
    for logical_path, digest in sorted(inventory.logical_state(inventory.head).items()):
        content_path = inventory.content_path_for(digest) or ""
        files.append(LogicalFile(logical_path, digest, sizes.get(content_path), content_path))
    head = inventory.versions[inventory.head]
    return ObjectInfo(
        id=inventory.id,
        path=path,
        head=inventory.head,
        digest_algorithm=inventory.digest_algorithm,
        versions=tuple(inventory.version_names()),
        files=tuple(files),
        created=head.created,
        message=head.message,
        user_name=head.user_name,
        user_address=head.user_address,
    )
