"""Adding objects to the store.

Each object is built whole in a staging folder on the same file system, its content
file moved (not copied) into it, and then renamed into place in one step, so the final
path never holds a half-written object.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from svidok._fs import fsync_dir, fsync_path
from svidok.errors import ObjectExistsError, StoreError
from svidok.store import _confined as cf
from svidok.store._root import (
    OBJECT_DECLARATION,
    SPEC_VERSION,
    has_object,
    object_id_for,
    object_path,
    open_root,
    require_id,
)
from svidok.store.inventory import Inventory, first_version, path_elements_problem, sidecar_bytes
from svidok.store.layout import HashedNTupleLayout

DIGEST_ALGORITHM = "sha256"
NAME_MAX = 255  # bytes in one file name on common file systems
STAGE_PREFIX = ".svidok-stage-"


@dataclass(frozen=True)
class PreparedObject:
    """An object built in staging, not yet in the store (``OcflStore.prepare_object``)."""

    object_id: str
    parts: tuple[str, ...]
    work: Path
    content_file: Path
    content_dest: Path
    content_mode: int
    inventory_digest: str  # sha256 of the object's inventory.json, to recognise it later


def _mkdir_chain(base: Path, parts: tuple[str, ...]) -> list[Path]:
    created: list[Path] = []
    current = base
    for name in parts:
        current = current / name
        current.mkdir(0o755)
        created.append(current)
    return created


def _write_new(path: Path, data: bytes, *, durable: bool, mode: int = 0o444) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def prepare(
    root: Path,
    layout: HashedNTupleLayout,
    object_id: str,
    content_file: Path,
    *,
    digest_hex: str,
    size: int,
    logical_name: str,
    created: datetime,
    message: str,
    user_name: str,
    user_address: str | None,
    staging_dir: Path,
    durable: bool,
) -> PreparedObject:
    """Check the arguments of :meth:`OcflStore.add_object`, then build the object in staging."""
    require_id(object_id)
    if object_id != object_id_for(digest_hex):
        raise StoreError(f"object id {object_id} does not match the digest {digest_hex}")
    problem = path_elements_problem(logical_name)
    if problem is not None:
        raise StoreError(f"the logical name {logical_name!r} {problem}")
    if any(len(e.encode("utf-8")) > NAME_MAX for e in logical_name.split("/")):
        raise StoreError(f"the logical name {logical_name!r} has a part over {NAME_MAX} bytes")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise StoreError(f"size must be a whole number of bytes, not {size!r}")
    if not isinstance(user_name, str) or not user_name:
        raise StoreError("the user name must be a non-empty string")
    if not isinstance(message, str):
        raise StoreError("the message must be a string")
    if user_address is not None and not isinstance(user_address, str):
        raise StoreError("the user address must be a string or None")
    try:
        inventory = first_version(
            object_id=object_id,
            digest_algorithm=DIGEST_ALGORITHM,
            digest=digest_hex.lower(),
            logical_path=logical_name,
            created=created,
            message=message,
            user_name=user_name,
            user_address=user_address,
        )
    except ValueError as exc:
        raise StoreError(str(exc)) from exc
    parts = layout.path_parts(object_id)
    final = object_path(root, layout, object_id)
    if has_object(root, layout, object_id):
        raise ObjectExistsError(f"object {object_id} is already stored at {final}")

    content_file = Path(content_file)
    staging_dir = Path(staging_dir)
    try:
        cst = content_file.lstat()
        sst = staging_dir.stat()
        rst = root.stat()
    except OSError as exc:
        raise StoreError(f"cannot add {object_id}: {exc.filename}: {exc.strerror}") from exc
    if not stat.S_ISREG(cst.st_mode):
        raise StoreError(f"{content_file} is not a regular file")
    if cst.st_size != size:
        raise StoreError(f"{content_file} holds {cst.st_size} bytes, not the {size} bytes expected")
    if not stat.S_ISDIR(sst.st_mode):
        raise StoreError(f"the staging folder {staging_dir} is not a folder")
    for what, where in (("staging folder", staging_dir), ("content file", content_file)):
        resolved = where.resolve()
        if resolved == root or root in resolved.parents:
            raise StoreError(f"the {what} {where} must not be inside the store {root}")
    if not cst.st_dev == sst.st_dev == rst.st_dev:
        raise StoreError(
            "the content file, the staging folder and the store must be on one file system "
            f"({content_file}, {staging_dir}, {root})"
        )
    return _build(
        inventory,
        parts,
        content_file,
        cst,
        staging_dir,
        digest_hex,
        logical_name,
        durable=durable,
    )


def _build(
    inventory: Inventory,
    parts: tuple[str, ...],
    content_file: Path,
    cst: os.stat_result,
    staging_dir: Path,
    digest_hex: str,
    logical_name: str,
    *,
    durable: bool,
) -> PreparedObject:
    """Build the object folder in staging, moving the content file into it."""
    inv_bytes = inventory.to_bytes()
    side_bytes = sidecar_bytes(inv_bytes, DIGEST_ALGORITHM)
    work = Path(
        tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{digest_hex[:12].lower()}-", dir=staging_dir)
    )
    obj = work.joinpath(*parts)
    logical_parts = tuple(logical_name.split("/"))
    content_dest = obj.joinpath("v1", "content", *logical_parts)
    prepared = PreparedObject(
        inventory.id,
        parts,
        work,
        content_file,
        content_dest,
        stat.S_IMODE(cst.st_mode),
        hashlib.sha256(inv_bytes).hexdigest(),
    )
    moved = False
    try:
        made = _mkdir_chain(work, parts)
        made += _mkdir_chain(obj, ("v1", "content", *logical_parts[:-1]))
        _write_new(
            obj / OBJECT_DECLARATION, f"ocfl_object_{SPEC_VERSION}\n".encode(), durable=durable
        )
        content_file.rename(content_dest)
        moved = True
        content_dest.chmod(stat.S_IMODE(cst.st_mode) & 0o444 or 0o444)
        if durable:
            fsync_path(content_dest)
        v1 = obj / "v1"
        _write_new(v1 / "inventory.json", inv_bytes, durable=durable)
        _write_new(v1 / f"inventory.json.{DIGEST_ALGORITHM}", side_bytes, durable=durable)
        _write_new(obj / "inventory.json", inv_bytes, durable=durable)
        _write_new(obj / f"inventory.json.{DIGEST_ALGORITHM}", side_bytes, durable=durable)
        if durable:
            for folder in reversed(made):
                fsync_dir(folder)
            fsync_dir(work)
    except BaseException as exc:
        discard(prepared, restore=moved, durable=durable, exc=exc)
        raise
    return prepared


def discard(
    prepared: PreparedObject,
    *,
    restore: bool = False,
    durable: bool = False,
    exc: BaseException | None = None,
) -> None:
    """Drop a prepared object; with ``restore`` first put the content file back."""
    if restore:
        try:
            prepared.content_dest.rename(prepared.content_file)
        except OSError as restore_error:
            if exc is not None:
                exc.add_note(
                    f"the content file could not be put back ({restore_error}); "
                    f"it is at {prepared.content_dest}"
                )
            return
        with contextlib.suppress(OSError):
            prepared.content_file.chmod(prepared.content_mode)
            if durable:
                fsync_dir(prepared.content_file.parent)
    shutil.rmtree(prepared.work, ignore_errors=True)


def publish(root: Path, work: Path, parts: tuple[str, ...]) -> Path:
    """Rename the staged object (with any layout folders still missing) into place.

    Returns the folder that received the new entry (to be flushed by the caller).
    """
    for _attempt in range(100):
        with cf.closing_fd(open_root(root)) as root_fd:
            fds = [os.dup(root_fd)]
            try:
                level = 0
                while level < len(parts):
                    try:
                        fds.append(cf.open_dir_at(fds[-1], parts[level]))
                    except FileNotFoundError:
                        break
                    level += 1
                if level == len(parts):
                    try:
                        os.stat(OBJECT_DECLARATION, dir_fd=fds[-1], follow_symlinks=False)
                    except FileNotFoundError:
                        if not os.listdir(fds[-1]):  # noqa: PTH208 - a descriptor
                            # An empty folder where the object belongs: take its place.
                            with contextlib.suppress(OSError):
                                os.rmdir(parts[-1], dir_fd=fds[-2])
                            continue
                        raise StoreError(
                            f"{root.joinpath(*parts)} is taken by something that is "
                            "not an OCFL object"
                        ) from None
                    raise ObjectExistsError(f"object at {root.joinpath(*parts)} is already stored")
                with cf.closing_fd(os.open(work.joinpath(*parts[:level]), cf.DIR_FLAGS)) as src:
                    try:
                        os.rename(parts[level], parts[level], src_dir_fd=src, dst_dir_fd=fds[-1])
                    except OSError as exc:
                        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT):
                            continue  # another writer got there first; look again
                        raise
                return root.joinpath(*parts[:level])
            finally:
                for fd in fds:
                    os.close(fd)
    raise StoreError(f"gave up placing {root.joinpath(*parts)}: the folders kept changing")


def interrupted_adds(layout: HashedNTupleLayout, staging_dir: Path) -> list[Path]:
    """Content files left in staging by killed adds (see :meth:`OcflStore.interrupted_adds`)."""
    found: list[Path] = []
    depth = layout.depth
    for work in sorted(Path(staging_dir).glob(f"{STAGE_PREFIX}*")):
        if work.is_symlink() or not work.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(work):  # does not follow links
            rel = Path(dirpath).relative_to(work).parts
            if len(rel) > depth + 1 and rel[depth : depth + 2] == ("v1", "content"):
                found.extend(Path(dirpath, name) for name in sorted(filenames))
            dirnames.sort()
    return [p for p in found if p.is_file() and not p.is_symlink()]
