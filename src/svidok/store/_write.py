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

from svidok._fs import fsync_dir
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
    work: Path  # the staging folder holding the object's layout folders
    content_file: Path
    content_dest: Path
    content_mode: int
    inventory_digest: str  # sha256 of the object's inventory.json, to recognise it later
    shared: bool = False  # ``work`` holds other objects too (an ObjectBatch)

    @property
    def staged_root(self) -> Path:
        """The object's own folder in staging (while it is not placed)."""
        return self.work.joinpath(*self.parts)


def _write_new(dir_fd: int, name: str, data: bytes, *, durable: bool, mode: int = 0o444) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(name, flags, mode, dir_fd=dir_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class NewObject:
    """The v1 of a new object: the content file to move in, and what the inventory says.

    ``content_file`` must be on the store's file system; it is moved, not copied.
    ``created``, ``message``, ``user_name`` and ``user_address`` become the version's
    entry in the inventory (OCFL 1.1 §3.5.3.1)."""

    object_id: str
    content_file: Path
    digest_hex: str
    size: int
    logical_name: str
    created: datetime
    message: str
    user_name: str
    user_address: str | None = None


def new_inventory(new: NewObject) -> Inventory:
    """Check the arguments of :meth:`OcflStore.add_object`; the new object's inventory."""
    object_id, digest_hex, size = new.object_id, new.digest_hex, new.size
    logical_name, message = new.logical_name, new.message
    user_name, user_address = new.user_name, new.user_address
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
        return first_version(
            object_id=object_id,
            digest_algorithm=DIGEST_ALGORITHM,
            digest=digest_hex.lower(),
            logical_path=logical_name,
            created=new.created,
            message=message,
            user_name=user_name,
            user_address=user_address,
        )
    except ValueError as exc:
        raise StoreError(str(exc)) from exc


def refuse_existing(
    root: Path, layout: HashedNTupleLayout, object_id: str, root_fd: int | None = None
) -> None:
    """ObjectExistsError if the store already holds ``object_id``.

    One ``lstat`` answers "absent" (the usual case); anything else is checked one folder
    at a time without following links (and placing the object checks its path that way).
    """
    parts = layout.path_parts(object_id)
    declaration = "/".join((*parts, OBJECT_DECLARATION))
    with contextlib.ExitStack() as stack:
        if root_fd is None:
            root_fd = stack.enter_context(cf.closing_fd(open_root(root)))
        try:
            os.stat(declaration, dir_fd=root_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError:
            pass
    if has_object(root, layout, object_id):
        final = object_path(root, layout, object_id)
        raise ObjectExistsError(f"object {object_id} is already stored at {final}")


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symbolic links resolved, is ``root`` or below it (root is resolved)."""
    resolved = os.path.realpath(path)
    top = str(root)
    return resolved == top or resolved.startswith(top.rstrip("/") + "/")


def check_staging(root: Path, staging_dir: Path) -> os.stat_result:
    """Check that ``staging_dir`` can hold objects for ``root``; the store's ``stat``."""
    try:
        sst = staging_dir.stat()
        rst = root.stat()
    except OSError as exc:
        raise StoreError(f"cannot use {exc.filename}: {exc.strerror}") from exc
    if not stat.S_ISDIR(sst.st_mode):
        raise StoreError(f"the staging folder {staging_dir} is not a folder")
    if _inside(staging_dir, root):
        raise StoreError(f"the staging folder {staging_dir} must not be inside the store {root}")
    if sst.st_dev != rst.st_dev:
        raise StoreError(
            f"the staging folder and the store must be on one file system ({staging_dir}, {root})"
        )
    return rst


def check_content(root: Path, content_file: Path, size: int, device: int) -> os.stat_result:
    """Check the file to be moved into a new object; its ``lstat``."""
    try:
        cst = content_file.lstat()
    except OSError as exc:
        raise StoreError(f"cannot use {exc.filename}: {exc.strerror}") from exc
    if not stat.S_ISREG(cst.st_mode):
        raise StoreError(f"{content_file} is not a regular file")
    if cst.st_size != size:
        raise StoreError(f"{content_file} holds {cst.st_size} bytes, not the {size} bytes expected")
    if cst.st_dev != device:
        raise StoreError(
            f"the content file {content_file} must be on the file system of the store {root}"
        )
    return cst


def check_content_outside(root: Path, content_file: Path) -> None:
    if _inside(content_file, root):
        raise StoreError(f"the content file {content_file} must not be inside the store {root}")


def prepare(
    root: Path,
    layout: HashedNTupleLayout,
    new: NewObject,
    *,
    staging_dir: Path,
    durable: bool,
) -> PreparedObject:
    """Check the arguments of :meth:`OcflStore.add_object`, then build the object in staging."""
    inventory = new_inventory(new)
    object_id, digest_hex, logical_name = new.object_id, new.digest_hex, new.logical_name
    refuse_existing(root, layout, object_id)
    content_file = Path(new.content_file)
    staging_dir = Path(staging_dir)
    rst = check_staging(root, staging_dir)
    cst = check_content(root, content_file, new.size, rst.st_dev)
    check_content_outside(root, content_file)
    inv_bytes = inventory.to_bytes()
    work = Path(
        tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{digest_hex[:12].lower()}-", dir=staging_dir)
    )
    with cf.closing_fd(os.open(work, cf.DIR_FLAGS)) as work_fd:
        return build(
            inventory.id,
            inv_bytes,
            layout.path_parts(object_id),
            content_file,
            cst,
            work,
            work_fd,
            logical_name,
            durable=durable,
        )


def build(
    object_id: str,
    inv_bytes: bytes,
    parts: tuple[str, ...],
    content_file: Path,
    cst: os.stat_result,
    work: Path,
    work_fd: int,
    logical_name: str,
    *,
    durable: bool,
    made: set[tuple[str, ...]] | None = None,
) -> PreparedObject:
    """Build the object folder under ``work`` (open as ``work_fd``), moving the content in.

    ``inv_bytes`` is the serialised inventory. ``made`` (for a batch) holds the layout
    folders already made under ``work`` and receives the ones made here; without it
    ``work`` belongs to this object alone.
    """
    side_bytes = sidecar_bytes(inv_bytes, DIGEST_ALGORITHM)
    mode = stat.S_IMODE(cst.st_mode)
    prepared = PreparedObject(
        object_id,
        parts,
        work,
        content_file,
        work.joinpath(*parts, "v1", "content", logical_name),
        mode,
        hashlib.sha256(inv_bytes).hexdigest(),
        shared=made is not None,
    )
    # every path below is relative to work_fd
    folders = [
        "/".join(parts[:depth])
        for depth in range(1, len(parts))
        if made is None or parts[:depth] not in made
    ]
    obj = "/".join(parts)
    content_dir = f"{obj}/v1/content"
    folders += [obj, f"{obj}/v1", content_dir]
    folders += [f"{content_dir}/{d}" for d in _prefixes(logical_name.split("/")[:-1])]
    sidecar = f"inventory.json.{DIGEST_ALGORITHM}"
    moved = False
    try:
        for folder in folders:
            os.mkdir(folder, 0o755, dir_fd=work_fd)
            if made is not None and folder.count("/") < len(parts) - 1:
                made.add(tuple(folder.split("/")))
        declaration = f"ocfl_object_{SPEC_VERSION}\n".encode()
        _write_new(work_fd, f"{obj}/{OBJECT_DECLARATION}", declaration, durable=durable)
        dest = f"{content_dir}/{logical_name}"
        os.rename(content_file, dest, dst_dir_fd=work_fd)
        moved = True
        read_only = mode & 0o444 or 0o444  # like the other files of the object
        if read_only != mode:
            os.chmod(dest, read_only, dir_fd=work_fd)
        if durable:
            _fsync_at(work_fd, dest)
        for folder in (f"{obj}/v1", obj):
            _write_new(work_fd, f"{folder}/inventory.json", inv_bytes, durable=durable)
            _write_new(work_fd, f"{folder}/{sidecar}", side_bytes, durable=durable)
        if durable:
            for folder in reversed(folders):
                _fsync_at(work_fd, folder)
            os.fsync(work_fd)
    except BaseException as exc:
        discard(prepared, restore=moved, durable=durable, exc=exc)
        raise
    return prepared


def _prefixes(names: list[str]) -> list[str]:
    """``a``, ``a/b``, ``a/b/c`` for the names a, b, c."""
    return ["/".join(names[:n]) for n in range(1, len(names) + 1)]


def _fsync_at(dir_fd: int, name: str) -> None:
    """fsync a file or folder given relative to ``dir_fd``."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    shutil.rmtree(prepared.staged_root if prepared.shared else prepared.work, ignore_errors=True)


def publish(root: Path, work: Path, parts: tuple[str, ...]) -> Path:
    """Rename the staged object (with any layout folders still missing) into place.

    Returns the folder that received the new entry (to be flushed by the caller).
    """
    with (
        cf.closing_fd(open_root(root)) as root_fd,
        cf.closing_fd(os.open(work, cf.DIR_FLAGS)) as work_fd,
    ):
        return root.joinpath(*parts[: publish_level(root, root_fd, work_fd, parts)])


def publish_level(root: Path, root_fd: int, work_fd: int, parts: tuple[str, ...]) -> int:
    """:func:`publish` with the store and the staging folder open; returns how many of
    ``parts`` were in the store already: ``parts[:level + 1]`` (with all it holds) was
    renamed from the staging folder into the store.
    """
    for _attempt in range(100):
        fds = [root_fd]
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
                        f"{root.joinpath(*parts)} is taken by something that is not an OCFL object"
                    ) from None
                raise ObjectExistsError(f"object at {root.joinpath(*parts)} is already stored")
            source = "/".join(parts[: level + 1])
            try:
                os.rename(source, parts[level], src_dir_fd=work_fd, dst_dir_fd=fds[-1])
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT):
                    continue  # another writer got there first; look again
                raise
            return level
        finally:
            for fd in fds[1:]:
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
