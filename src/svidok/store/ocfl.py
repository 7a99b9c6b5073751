"""Svidok's OCFL 1.1 storage root: originals kept bit for bit, one object per content.

Layout of a store holding one object, the file ``original.jpg`` whose sha256 is
2a6927…2997 (object id ``sha256:2a6927…2997``; the folders come from
sha256("sha256:2a6927…2997") = 8580939e…4d3a, extension 0004 with 3 tuples of 3)::

    store/
    ├── 0=ocfl_1.1
    ├── ocfl_layout.json
    ├── extensions/0004-hashed-n-tuple-storage-layout/config.json
    └── 858/093/9e9/8580939e9bef2ed3880d3a97ea3d5c4e3f3943f28b241909141a4b6b701d4d3a/
        ├── 0=ocfl_object_1.1
        ├── inventory.json
        ├── inventory.json.sha256
        └── v1/
            ├── inventory.json
            ├── inventory.json.sha256
            └── content/original.jpg

Objects are built whole in a staging folder on the same file system and then renamed
into place in one step, so the final path never holds a half-written object. Every
path read from an inventory is checked and opened one element at a time without
following symbolic links, so nothing can lead a read outside the storage root.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from svidok._fs import atomic_write, fsync_dir, fsync_path
from svidok.errors import ObjectExistsError, ObjectNotFoundError, PathEscapeError, StoreError
from svidok.store import _confined as cf
from svidok.store.inventory import (
    FIXITY_ALGORITHMS,
    INVENTORY_TYPES,
    Inventory,
    compare_prior,
    first_version,
    load_json,
    new_hasher,
    parse_inventory,
    parse_sidecar,
    path_elements_problem,
    sidecar_bytes,
)
from svidok.store.layout import EXTENSION_NAME, HashedNTupleLayout, layout_file_bytes
from svidok.store.problems import ProblemKind, Severity, StoreProblem

__all__ = ["LogicalFile", "ObjectInfo", "OcflStore"]

SPEC_VERSION = "1.1"
ROOT_DECLARATION = f"0=ocfl_{SPEC_VERSION}"
OBJECT_DECLARATION = f"0=ocfl_object_{SPEC_VERSION}"
LAYOUT_FILE = "ocfl_layout.json"
EXTENSIONS_DIR = "extensions"
LAYOUT_CONFIG = (EXTENSIONS_DIR, EXTENSION_NAME, "config.json")
DIGEST_ALGORITHM = "sha256"
CHUNK_SIZE = 1 << 20  # 1 MiB reads when hashing
NAME_MAX = 255  # bytes in one file name on common file systems
_OBJECT_ID = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_OBJECT_DECL = re.compile(r"0=ocfl_object_(\d+\.\d+)")
_VERSION_DIR = re.compile(r"v\d+")
_KNOWN_OBJECT_SPECS = ("1.0", "1.1")
_SMALL_LIMIT = 64 * 1024  # declaration, sidecar, layout files
_INVENTORY_LIMIT = 64 * 1024 * 1024
_PATH_CODES = frozenset({"E042", "E052", "E053", "E099", "E100", "E017", "E018", "E108"})
_STAGE_PREFIX = ".svidok-stage-"
_THREAD_HASH_MIN = 256 * 1024  # scan() hashes files this large on worker threads
_ROOT_FILES_KNOWN = frozenset({ROOT_DECLARATION, LAYOUT_FILE, f"ocfl_{SPEC_VERSION}.md"})


@dataclass(frozen=True)
class LogicalFile:
    """One file of an object's version, as the inventory names it."""

    logical_path: str
    digest: str  # lowercase hex, in the object's digest algorithm
    size: int | None  # bytes on disk; None when the content file is missing
    content_path: str  # relative to the object root, "/"-separated


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


@dataclass(frozen=True)
class _Expected:
    """A digest an inventory states for a content file; ``source`` None: the manifest."""

    algorithm: str
    digest: str
    source: str | None


class _ByteCounter:
    """Bytes hashed so far, shared by worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._reported = 0

    def add(self, n: int) -> None:
        with self._lock:
            self._total += n

    def take(self) -> int:
        """Bytes hashed since the last call."""
        with self._lock:
            delta = self._total - self._reported
            self._reported = self._total
            return delta


def _require_id(object_id: str) -> str:
    if not isinstance(object_id, str) or not _OBJECT_ID.fullmatch(object_id):
        raise StoreError(
            f"{object_id!r} is not a Svidok object id "
            "(expected 'sha256:' and 64 lowercase hex digits)"
        )
    return object_id


def _absolute(path: Path) -> Path:
    """Absolute and normalised (``..`` removed), without resolving symbolic links."""
    return Path(os.path.normpath(Path(path).expanduser().absolute()))


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


def _hash_fd(
    fd: int, algorithms: list[str], on_bytes: Callable[[int], None] | None
) -> tuple[dict[str, str], int]:
    """Digests of the open file in each algorithm, reading it once in 1 MiB chunks."""
    hashers = [new_hasher(a) for a in algorithms]
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    total = 0
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    with open(fd, "rb", buffering=0, closefd=False) as raw:
        while True:
            n = raw.readinto(view)
            if not n:
                break
            chunk = view[:n]
            for h in hashers:
                h.update(chunk)  # hashlib releases the GIL for large updates
            total += n
            if on_bytes is not None:
                on_bytes(n)
    return {a: h.hexdigest() for a, h in zip(algorithms, hashers, strict=True)}, total


class OcflStore:
    """An OCFL 1.1 storage root laid out with extension 0004 (sha256, 3 tuples of 3)."""

    scan_threads: int = 2  # threads that hash large files during scan()

    def __init__(self, root: Path, layout: HashedNTupleLayout) -> None:
        """Use :meth:`init` or :meth:`open`; this does no checking."""
        self.root = root
        self.layout = layout

    # ------------------------------------------------------------------ creation

    @classmethod
    def init(cls, root: Path) -> OcflStore:
        """Create a new, empty storage root at ``root`` (absent, or an empty folder).

        Everything written is flushed to disk before this returns. When ``root`` does
        not exist yet the storage root is built beside it and renamed into place, so a
        crash leaves either nothing or a complete storage root.
        """
        root = _absolute(root)
        layout = HashedNTupleLayout()
        if root.is_symlink():
            raise StoreError(f"cannot create a storage root at {root}: it is a symbolic link")
        if root.exists():
            if not root.is_dir():
                raise StoreError(f"cannot create a storage root at {root}: it is not a folder")
            if any(root.iterdir()):
                raise StoreError(f"cannot create a storage root at {root}: the folder is not empty")
            cls._write_root_files(root, layout)
            fsync_dir(root)
        else:
            root.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
            try:
                cls._write_root_files(tmp, layout)
                fsync_dir(tmp)
                try:
                    tmp.rename(root)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create a storage root at {root}: {exc.strerror}"
                    ) from exc
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            fsync_dir(root.parent)
        return cls(root.resolve(), layout)

    @staticmethod
    def _write_root_files(root: Path, layout: HashedNTupleLayout) -> None:
        ext_dir = root.joinpath(*LAYOUT_CONFIG[:-1])
        ext_dir.mkdir(parents=True)
        atomic_write(ext_dir / LAYOUT_CONFIG[-1], layout.config_bytes())
        fsync_dir(ext_dir.parent)
        atomic_write(root / LAYOUT_FILE, layout_file_bytes())
        # The declaration goes last: a storage root without it is not one.
        atomic_write(root / ROOT_DECLARATION, f"ocfl_{SPEC_VERSION}\n".encode())

    @classmethod
    def open(cls, root: Path) -> OcflStore:
        """Open an existing storage root, checking its declaration and layout."""
        root = _absolute(root)
        if not root.is_dir():
            raise StoreError(f"there is no storage root at {root}: no such folder")
        root = root.resolve()
        try:
            root_fd = os.open(root, cf.DIR_FLAGS)
        except OSError as exc:
            raise StoreError(f"cannot open the storage root {root}: {exc.strerror}") from exc
        try:
            problems, layout = cls._check_root(root_fd, root)
        finally:
            os.close(root_fd)
        errors = [p for p in problems if p.severity == "error"]
        if errors or layout is None:
            raise StoreError(errors[0].message if errors else f"{root}: unusable storage layout")
        return cls(root, layout)

    @staticmethod
    def _check_root(
        root_fd: int, root: Path
    ) -> tuple[list[StoreProblem], HashedNTupleLayout | None]:
        problems: list[StoreProblem] = []

        def bad(kind: ProblemKind, message: str, code: str | None, at: Path = root) -> None:
            problems.append(StoreProblem(kind, message, path=at, spec_code=code))

        names = sorted(os.listdir(root_fd))
        declarations = [n for n in names if n.startswith("0=")]
        if not declarations:
            bad(
                ProblemKind.ROOT_DECLARATION,
                f"{root} is not an OCFL storage root: there is no {ROOT_DECLARATION} file",
                "E069",
            )
        elif declarations != [ROOT_DECLARATION]:
            bad(
                ProblemKind.ROOT_DECLARATION,
                f"{root} declares {', '.join(declarations)}; Svidok needs exactly one "
                f"{ROOT_DECLARATION} file",
                "E076",
            )
        else:
            text: bytes | None
            try:
                text = cf.read_small_at(root_fd, ROOT_DECLARATION, _SMALL_LIMIT)
            except (OSError, StoreError) as exc:
                text = None
                bad(ProblemKind.ROOT_DECLARATION, f"cannot read {ROOT_DECLARATION}: {exc}", "E080")
            if text is not None and text != f"ocfl_{SPEC_VERSION}\n".encode():
                bad(
                    ProblemKind.ROOT_DECLARATION,
                    f"{ROOT_DECLARATION} in {root} does not contain 'ocfl_{SPEC_VERSION}' "
                    "and a newline",
                    "E080",
                )
        layout: HashedNTupleLayout | None = None
        try:
            doc = load_json(cf.read_small_at(root_fd, LAYOUT_FILE, _SMALL_LIMIT))
        except FileNotFoundError:
            bad(ProblemKind.ROOT_LAYOUT, f"{root} has no {LAYOUT_FILE}; Svidok needs one", None)
            return problems, None
        except (OSError, StoreError, ValueError) as exc:
            bad(ProblemKind.ROOT_LAYOUT, f"{LAYOUT_FILE} in {root} cannot be read: {exc}", "E070")
            return problems, None
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("extension"), str)
            or not isinstance(doc.get("description"), str)
        ):
            bad(
                ProblemKind.ROOT_LAYOUT,
                f"{LAYOUT_FILE} in {root} needs the string keys 'extension' and 'description'",
                "E070",
            )
            return problems, None
        if doc["extension"] != EXTENSION_NAME:
            bad(
                ProblemKind.ROOT_LAYOUT,
                f"{root} uses the storage layout {doc['extension']!r}; Svidok only reads "
                f"{EXTENSION_NAME!r}",
                "E071",
            )
            return problems, None
        try:
            config_fd = cf.open_dir_path(root_fd, LAYOUT_CONFIG[:-1])
        except FileNotFoundError:
            layout = HashedNTupleLayout()  # the extension's defaults
        except (OSError, StoreError) as exc:
            bad(ProblemKind.ROOT_LAYOUT, f"the layout extension folder is unusable: {exc}", None)
            return problems, None
        else:
            try:
                raw = cf.read_small_at(config_fd, LAYOUT_CONFIG[-1], _SMALL_LIMIT)
                layout = HashedNTupleLayout.from_config(load_json(raw))
            except FileNotFoundError:
                layout = HashedNTupleLayout()
            except (OSError, StoreError, ValueError) as exc:
                bad(
                    ProblemKind.ROOT_LAYOUT,
                    f"{'/'.join(LAYOUT_CONFIG)} in {root} is unusable: {exc}",
                    None,
                )
                return problems, None
            finally:
                os.close(config_fd)
        return problems, layout

    # ------------------------------------------------------------------ ids, paths

    @staticmethod
    def object_id(digest_hex: str) -> str:
        """The object id for content with this sha256 digest: ``sha256:<64 lowercase hex>``."""
        if not isinstance(digest_hex, str) or not _HEX64.fullmatch(digest_hex):
            raise StoreError(f"{digest_hex!r} is not a sha256 digest (64 hex digits)")
        return f"sha256:{digest_hex.lower()}"

    def object_path(self, object_id: str) -> Path:
        """Where the layout puts the object ``object_id`` (whether it exists or not)."""
        parts = self.layout.path_parts(_require_id(object_id))
        for name in parts:
            if name in ("", ".", "..") or "/" in name:
                raise PathEscapeError(f"the layout gave an unsafe path for {object_id}")
        path = self.root.joinpath(*parts)
        if path.parent == path or self.root not in path.parents:
            raise PathEscapeError(f"the path for {object_id} would leave the storage root")
        return path

    def _root_fd(self) -> int:
        try:
            return os.open(self.root, cf.DIR_FLAGS)
        except OSError as exc:
            raise StoreError(f"cannot open the storage root {self.root}: {exc.strerror}") from exc

    def _open_object(self, object_id: str) -> int:
        """Open the object's folder (no links followed); ObjectNotFoundError if absent."""
        parts = self.layout.path_parts(_require_id(object_id))
        with cf.closing_fd(self._root_fd()) as root_fd:
            try:
                fd = cf.open_dir_path(root_fd, parts)
            except FileNotFoundError:
                raise ObjectNotFoundError(f"no object {object_id} in the store") from None
        try:
            os.stat(OBJECT_DECLARATION, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            os.close(fd)
            raise ObjectNotFoundError(
                f"no object {object_id} in the store (its folder holds no {OBJECT_DECLARATION})"
            ) from None
        return fd

    def inventory_digest(self, object_id: str) -> str | None:
        """SHA-256 of the stored object's root inventory.json, None if it has none.

        Tells exactly which ``prepare_object`` call produced the object in the store
        (inventories carry their creation time), for recovery after a crash.
        """
        try:
            fd = self._open_object(object_id)
        except ObjectNotFoundError:
            return None
        with cf.closing_fd(fd):
            try:
                raw = cf.read_small_at(fd, "inventory.json", _INVENTORY_LIMIT)
            except OSError:
                return None
        return hashlib.sha256(raw).hexdigest()

    def has_object(self, object_id: str) -> bool:
        """Whether an object folder with its declaration exists for ``object_id``."""
        try:
            fd = self._open_object(object_id)
        except ObjectNotFoundError:
            return False
        os.close(fd)
        return True

    # ------------------------------------------------------------------ adding

    def add_object(
        self,
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
        durable: bool = True,
    ) -> Path:
        """Store ``content_file`` as the v1 of a new object and return the object's path.

        The object is built whole inside ``staging_dir``, which must be on the same file
        system as the store; ``content_file`` (same file system too) is *moved* into it,
        not copied, and made read-only. The finished object folder is then renamed into
        place, creating the layout folders as part of the same rename, so the final path
        holds either nothing or a complete object, whenever the process dies.

        With ``durable`` every file and folder is flushed before and after the rename.
        With ``durable=False`` nothing is flushed: the caller must flush the file system
        (``svidok._fs.syncfs``) before relying on the object, e.g. once per batch.

        Raises ObjectExistsError if the object is already stored, also when another
        process stores it first while this call runs. On any error the content file is
        put back where it was; if even that fails the error notes where it is.
        """
        inventory, parts, final, cst = self._check_add(
            object_id,
            content_file,
            digest_hex=digest_hex,
            size=size,
            logical_name=logical_name,
            created=created,
            message=message,
            user_name=user_name,
            user_address=user_address,
            staging_dir=staging_dir,
        )
        prepared = self._build(
            inventory,
            parts,
            Path(content_file),
            cst,
            Path(staging_dir),
            digest_hex,
            logical_name,
            durable=durable,
        )
        try:
            placed_in = self._publish(prepared.work, parts)
        except BaseException as exc:
            self.discard_object(prepared, restore=True, durable=durable, exc=exc)
            raise
        if durable:
            fsync_dir(placed_in)
        shutil.rmtree(prepared.work, ignore_errors=True)  # only empty layout folders are left
        return final

    def prepare_object(
        self,
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
    ) -> PreparedObject:
        """Build a whole object in ``staging_dir`` without placing it; nothing is flushed.

        The first half of :meth:`add_object` (same arguments and checks), for callers that
        make a whole batch durable with one ``syncfs`` *before* any object enters the store
        (``intake/ingest.py``). Follow with :meth:`commit_object` or :meth:`discard_object`.
        """
        inventory, parts, _final, cst = self._check_add(
            object_id,
            content_file,
            digest_hex=digest_hex,
            size=size,
            logical_name=logical_name,
            created=created,
            message=message,
            user_name=user_name,
            user_address=user_address,
            staging_dir=staging_dir,
        )
        return self._build(
            inventory,
            parts,
            Path(content_file),
            cst,
            Path(staging_dir),
            digest_hex,
            logical_name,
            durable=False,
        )

    def commit_object(self, prepared: PreparedObject) -> Path:
        """Rename a prepared object into place (not flushed: the caller syncs the batch).

        Raises ObjectExistsError if another writer stored it first; the prepared object is
        then left for :meth:`discard_object`.
        """
        self._publish(prepared.work, prepared.parts)
        shutil.rmtree(prepared.work, ignore_errors=True)  # only empty layout folders are left
        return self.root.joinpath(*prepared.parts)

    def discard_object(
        self,
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

    def _check_add(
        self,
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
    ) -> tuple[Inventory, tuple[str, ...], Path, os.stat_result]:
        _require_id(object_id)
        if object_id != self.object_id(digest_hex):
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
        parts = self.layout.path_parts(object_id)
        final = self.object_path(object_id)
        if self.has_object(object_id):
            raise ObjectExistsError(f"object {object_id} is already stored at {final}")

        content_file = Path(content_file)
        staging_dir = Path(staging_dir)
        try:
            cst = content_file.lstat()
            sst = staging_dir.stat()
            rst = self.root.stat()
        except OSError as exc:
            raise StoreError(f"cannot add {object_id}: {exc.filename}: {exc.strerror}") from exc
        if not stat.S_ISREG(cst.st_mode):
            raise StoreError(f"{content_file} is not a regular file")
        if cst.st_size != size:
            raise StoreError(
                f"{content_file} holds {cst.st_size} bytes, not the {size} bytes expected"
            )
        if not stat.S_ISDIR(sst.st_mode):
            raise StoreError(f"the staging folder {staging_dir} is not a folder")
        for what, where in (("staging folder", staging_dir), ("content file", content_file)):
            resolved = where.resolve()
            if resolved == self.root or self.root in resolved.parents:
                raise StoreError(f"the {what} {where} must not be inside the store {self.root}")
        if not cst.st_dev == sst.st_dev == rst.st_dev:
            raise StoreError(
                "the content file, the staging folder and the store must be on one file system "
                f"({content_file}, {staging_dir}, {self.root})"
            )

        return inventory, parts, final, cst

    def _build(
        self,
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
            tempfile.mkdtemp(prefix=f"{_STAGE_PREFIX}{digest_hex[:12].lower()}-", dir=staging_dir)
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
            self.discard_object(prepared, restore=moved, durable=durable, exc=exc)
            raise
        return prepared

    def interrupted_adds(self, staging_dir: Path) -> list[Path]:
        """Content files that add_object calls killed part-way left in ``staging_dir``.

        A process killed after moving the content into its staging folder but before the
        object was renamed into the store leaves the content at
        ``staging_dir/.svidok-stage-*/<layout folders>/v1/content/<logical name>``. Call
        this when no add_object is running on that staging folder (for example at start-up)
        and add each file again; then delete the ``.svidok-stage-*`` folder it is in.
        """
        found: list[Path] = []
        depth = self.layout.depth
        for work in sorted(Path(staging_dir).glob(f"{_STAGE_PREFIX}*")):
            if work.is_symlink() or not work.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(work):  # does not follow links
                rel = Path(dirpath).relative_to(work).parts
                if len(rel) > depth + 1 and rel[depth : depth + 2] == ("v1", "content"):
                    found.extend(Path(dirpath, name) for name in sorted(filenames))
                dirnames.sort()
        return [p for p in found if p.is_file() and not p.is_symlink()]

    def _publish(self, work: Path, parts: tuple[str, ...]) -> Path:
        """Rename the staged object (with any layout folders still missing) into place.

        Returns the folder that received the new entry (to be flushed by the caller).
        """
        for _attempt in range(100):
            with cf.closing_fd(self._root_fd()) as root_fd:
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
                                f"{self.root.joinpath(*parts)} is taken by something that is "
                                "not an OCFL object"
                            ) from None
                        raise ObjectExistsError(
                            f"object at {self.root.joinpath(*parts)} is already stored"
                        )
                    with cf.closing_fd(os.open(work.joinpath(*parts[:level]), cf.DIR_FLAGS)) as src:
                        try:
                            os.rename(
                                parts[level], parts[level], src_dir_fd=src, dst_dir_fd=fds[-1]
                            )
                        except OSError as exc:
                            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT):
                                continue  # another writer got there first; look again
                            raise
                    return self.root.joinpath(*parts[:level])
                finally:
                    for fd in fds:
                        os.close(fd)
        raise StoreError(f"gave up placing {self.root.joinpath(*parts)}: the folders kept changing")

    # ------------------------------------------------------------------ reading

    def _read_inventory(self, obj_fd: int, where: Path) -> Inventory:
        """The object's root inventory, checked against its sidecar; StoreError if unusable."""
        try:
            raw = cf.read_small_at(obj_fd, "inventory.json", _INVENTORY_LIMIT)
        except FileNotFoundError:
            raise StoreError(f"{where} has no inventory.json") from None
        except OSError as exc:
            raise StoreError(f"cannot read {where}/inventory.json: {exc.strerror}") from exc
        inventory, problems = parse_inventory(raw)
        errors = [p for p in problems if p.severity == "error"]
        escapes = [p for p in errors if p.spec_code in _PATH_CODES]
        if escapes:
            raise PathEscapeError(
                f"the inventory of {where} has an unsafe path: {escapes[0].message}"
            )
        if inventory is None or errors:
            detail = errors[0].message if errors else "unusable"
            raise StoreError(f"the inventory of {where} is not valid: {detail}")
        sidecar = f"inventory.json.{inventory.digest_algorithm}"
        try:
            stated = parse_sidecar(cf.read_small_at(obj_fd, sidecar, _SMALL_LIMIT))
        except FileNotFoundError:
            raise StoreError(f"{where} has no {sidecar}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {where}/{sidecar}: {exc.strerror}") from exc
        actual = new_hasher(inventory.digest_algorithm)
        actual.update(raw)
        if stated != actual.hexdigest():
            raise StoreError(f"the inventory of {where} does not match its digest in {sidecar}")
        return inventory

    def _inventory_for(self, object_id: str, obj_fd: int) -> Inventory:
        where = self.object_path(object_id)
        inventory = self._read_inventory(obj_fd, where)
        if inventory.id != object_id:
            raise StoreError(f"the object at {where} says it is {inventory.id!r}, not {object_id}")
        return inventory

    @staticmethod
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
        self, object_id: str, logical_path: str | None = None, version: str | None = None
    ) -> BinaryIO:
        """Open a stored file for reading.

        ``version`` defaults to the head version; ``logical_path`` may be left out when
        that version holds a single file. Symbolic links are never followed and every
        path from the inventory is confined to the object (PathEscapeError otherwise).
        """
        with cf.closing_fd(self._open_object(object_id)) as obj_fd:
            inventory = self._inventory_for(object_id, obj_fd)
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
            parts = self._content_parts(inventory, content_path)
            try:
                fd = cf.open_file_path(obj_fd, parts)
            except FileNotFoundError:
                raise StoreError(
                    f"object {object_id}: the content file {content_path} is missing"
                ) from None
        return open(fd, "rb")

    def content_info(self, object_id: str) -> ObjectInfo:
        """The object's head version: its files with digests, sizes and content paths."""
        with cf.closing_fd(self._open_object(object_id)) as obj_fd:
            inventory = self._inventory_for(object_id, obj_fd)
            sizes: dict[str, int] = {}
            for content_path in inventory.content_paths():
                parts = self._content_parts(inventory, content_path)
                try:
                    fd = cf.open_file_path(obj_fd, parts)
                except (FileNotFoundError, StoreError):
                    continue
                with cf.closing_fd(fd):
                    sizes[content_path] = os.fstat(fd).st_size
        return self._info(inventory, self.object_path(object_id), sizes)

    @staticmethod
    def _info(inventory: Inventory, path: Path, sizes: dict[str, int]) -> ObjectInfo:
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

    # ------------------------------------------------------------------ walking

    def _walk(self) -> Iterator[StoreProblem | tuple[str, ...]]:
        """Walk the storage root: problems found on the way, and each object's path parts."""
        with cf.closing_fd(self._root_fd()) as root_fd:
            problems, _ = self._check_root(root_fd, self.root)
            yield from problems
            entries = sorted(os.scandir(root_fd), key=lambda e: e.name)
            for entry in entries:
                path = self.root / entry.name
                if entry.is_symlink():
                    yield StoreProblem(
                        ProblemKind.SYMLINK, "symbolic link in the storage root", path, None, "E090"
                    )
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name == EXTENSIONS_DIR:
                        yield from self._check_extensions(root_fd)
                    else:
                        yield from self._walk_dir(root_fd, (entry.name,))
                elif not entry.is_file(follow_symlinks=False):
                    yield StoreProblem(ProblemKind.SPECIAL_FILE, "not a regular file", path)
                elif entry.name not in _ROOT_FILES_KNOWN and not entry.name.startswith("0="):
                    yield StoreProblem(
                        ProblemKind.STRAY_FILE,
                        "file in the storage root that Svidok does not know",
                        path,
                        severity="warning",
                    )

    def _check_extensions(self, root_fd: int) -> Iterator[StoreProblem]:
        base = self.root / EXTENSIONS_DIR
        try:
            fd = cf.open_dir_at(root_fd, EXTENSIONS_DIR)
        except (OSError, StoreError) as exc:
            yield StoreProblem(ProblemKind.UNREADABLE, f"cannot read: {exc}", base)
            return
        with cf.closing_fd(fd):
            for entry in sorted(os.scandir(fd), key=lambda e: e.name):
                if entry.is_symlink():
                    yield StoreProblem(
                        ProblemKind.SYMLINK, "symbolic link", base / entry.name, None, "E090"
                    )
                elif not entry.is_dir(follow_symlinks=False):
                    yield StoreProblem(
                        ProblemKind.STRAY_FILE,
                        "the extensions folder may only hold extension folders",
                        base / entry.name,
                        None,
                        "E112",
                    )
                elif entry.name != EXTENSION_NAME:
                    yield StoreProblem(
                        ProblemKind.STRAY_DIR,
                        "extension folder Svidok does not know",
                        base / entry.name,
                        None,
                        "W016",
                        "warning",
                    )

    def _walk_dir(
        self, parent_fd: int, parts: tuple[str, ...]
    ) -> Iterator[StoreProblem | tuple[str, ...]]:
        path = self.root.joinpath(*parts)
        try:
            fd = cf.open_dir_at(parent_fd, parts[-1])
        except (OSError, StoreError) as exc:
            yield StoreProblem(ProblemKind.UNREADABLE, f"cannot read this folder: {exc}", path)
            return
        with cf.closing_fd(fd):
            try:
                entries = sorted(os.scandir(fd), key=lambda e: e.name)
            except OSError as exc:
                yield StoreProblem(ProblemKind.UNREADABLE, f"cannot list: {exc.strerror}", path)
                return
            if not entries:
                yield StoreProblem(ProblemKind.EMPTY_DIR, "empty folder", path, None, "E073")
                return
            if any(
                (e.name.startswith("0=") or e.name == "inventory.json")
                and not e.is_dir(follow_symlinks=False)
                for e in entries
            ):
                yield parts  # an object, or what is left of one (validate_object judges it)
                return
            depth = len(parts)
            if depth > self.layout.number_of_tuples or not self.layout.tuple_name_ok(parts[-1]):
                yield StoreProblem(
                    ProblemKind.STRAY_DIR,
                    "folder that is neither an object nor a folder of the storage layout",
                    path,
                    None,
                    "E088",
                )
            for entry in entries:
                child = path / entry.name
                if entry.is_symlink():
                    yield StoreProblem(ProblemKind.SYMLINK, "symbolic link", child, None, "E090")
                elif entry.is_dir(follow_symlinks=False):
                    yield from self._walk_dir(fd, (*parts, entry.name))
                elif entry.is_file(follow_symlinks=False):
                    yield StoreProblem(
                        ProblemKind.STRAY_FILE,
                        "file that belongs to no object",
                        child,
                        None,
                        "E084",
                    )
                else:
                    yield StoreProblem(ProblemKind.SPECIAL_FILE, "not a regular file", child)

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """(object id from its inventory, object path) for every object in the store.

        Objects whose inventory cannot be read are skipped; :meth:`scan` reports them.
        """
        for item in self._walk():
            if isinstance(item, StoreProblem):
                continue
            path = self.root.joinpath(*item)
            try:
                with cf.closing_fd(self._root_fd()) as root_fd:
                    obj_fd = cf.open_dir_path(root_fd, item)
                with cf.closing_fd(obj_fd):
                    raw = cf.read_small_at(obj_fd, "inventory.json", _INVENTORY_LIMIT)
                doc = load_json(raw)
            except (OSError, StoreError, ValueError):
                continue
            if isinstance(doc, dict) and isinstance(doc.get("id"), str):
                yield doc["id"], path

    # ------------------------------------------------------------------ validation

    def _relative_parts(self, object_path: Path) -> tuple[str, ...]:
        absolute = _absolute(object_path)
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise PathEscapeError(
                f"{object_path} is not inside the storage root {self.root}"
            ) from None
        if not rel.parts:
            raise PathEscapeError(f"{object_path} is the storage root itself, not an object")
        return rel.parts

    def validate_object(self, object_path: Path, *, fixity: bool = True) -> list[StoreProblem]:
        """Check one object fully; an empty list means it is valid.

        Checks the declaration, the inventory's JSON structure and its sidecar digest,
        that the id is a Svidok id at the place the layout gives it, the version folders
        and their inventories, that every manifest file exists and nothing else is in the
        content folders, and (with ``fixity``) every content file's digest.
        """
        parts = self._relative_parts(object_path)
        with cf.closing_fd(self._root_fd()) as root_fd:
            try:
                os.close(cf.open_dir_path(root_fd, parts))
            except FileNotFoundError:
                raise ObjectNotFoundError(f"there is no folder {object_path}") from None
            except (OSError, StoreError):
                pass  # reported as a problem below
        problems, _ = self._validate_parts(parts, fixity, None)
        return problems

    def _validate_parts(
        self, parts: tuple[str, ...], fixity: bool, on_bytes: Callable[[int], None] | None
    ) -> tuple[list[StoreProblem], ObjectInfo | None]:
        return _ObjectCheck(self, parts, fixity, on_bytes).run()

    def scan(
        self, *, fixity: bool = True, progress: Callable[[int], None] | None = None
    ) -> Iterator[StoreProblem | ObjectInfo]:
        """Walk and check the whole storage root.

        Yields a :class:`StoreProblem` for everything wrong (stray files and folders,
        empty folders, links, and each object's problems, which come just before that
        object's :class:`ObjectInfo`), and an :class:`ObjectInfo` for every object whose
        inventory could be read, in a stable order. Large files are hashed on
        ``scan_threads`` worker threads while the calling thread walks on, so several
        files are hashed at once. ``progress``, if given, is called from the calling
        thread with the number of bytes hashed since its previous call.
        """
        counter = _ByteCounter()
        on_bytes = counter.add if progress is not None else None
        max_ahead = max(2, self.scan_threads * 4)  # objects checked but not yet reported

        def report() -> None:
            if progress is not None:
                delta = counter.take()
                if delta:
                    progress(delta)

        queue: deque[StoreProblem | _ObjectCheck] = deque()
        checks = 0
        with ThreadPoolExecutor(
            max_workers=max(1, self.scan_threads), thread_name_prefix="svidok-scan"
        ) as pool:
            jobs = _HashJobs(pool)
            try:

                def emit(limit: int) -> Iterator[StoreProblem | ObjectInfo]:
                    """Report finished heads; wait for the head while over ``limit`` are open."""
                    nonlocal checks
                    while queue:
                        head = queue[0]
                        if isinstance(head, StoreProblem):
                            queue.popleft()
                            yield head
                            continue
                        if not head.done():
                            if checks <= limit:
                                return
                            while not head.done():
                                wait(list(head.pending.values()), timeout=0.25)
                                report()
                        queue.popleft()
                        checks -= 1
                        problems, info = head.finish()
                        report()
                        yield from problems
                        if info is not None:
                            yield info

                for item in self._walk():
                    if isinstance(item, StoreProblem):
                        queue.append(item)
                    else:
                        check = _ObjectCheck(self, item, fixity, on_bytes, jobs)
                        check.start()
                        queue.append(check)
                        checks += 1
                    report()
                    yield from emit(limit=max_ahead)
                yield from emit(limit=-1)
            finally:
                for entry in queue:
                    if isinstance(entry, _ObjectCheck):
                        for future in entry.pending.values():
                            future.cancel()
        report()


class _HashJobs:
    """Hashing of large files on worker threads, with a bound on files open at once."""

    def __init__(self, pool: ThreadPoolExecutor, max_open: int = 32) -> None:
        self.pool = pool
        self.slots = threading.BoundedSemaphore(max_open)

    def submit(
        self, fd: int, algorithms: list[str], on_bytes: Callable[[int], None] | None
    ) -> Future[tuple[dict[str, str], int]]:
        """Hash the open file ``fd`` (closed when done); blocks while too many are queued."""
        self.slots.acquire()

        def job() -> tuple[dict[str, str], int]:
            try:
                return _hash_fd(fd, algorithms, on_bytes)
            finally:
                os.close(fd)
                self.slots.release()

        def if_cancelled(future: Future[tuple[dict[str, str], int]]) -> None:
            if future.cancelled():  # the job never ran: close and free its slot here
                os.close(fd)
                self.slots.release()

        try:
            future = self.pool.submit(job)
        except BaseException:
            os.close(fd)
            self.slots.release()
            raise
        future.add_done_callback(if_cancelled)
        return future


class _ObjectCheck:
    """Validation of one object (see :meth:`OcflStore.validate_object`).

    :meth:`start` checks the structure and hashes small files at once; large files go
    to ``jobs`` (other threads) when given. :meth:`finish` waits for those digests and
    compares everything.
    """

    def __init__(
        self,
        store: OcflStore,
        parts: tuple[str, ...],
        fixity: bool,
        on_bytes: Callable[[int], None] | None,
        jobs: _HashJobs | None = None,
    ) -> None:
        self.store = store
        self.parts = parts
        self.path = store.root.joinpath(*parts)
        self.fixity = fixity
        self.on_bytes = on_bytes
        self.jobs = jobs
        self.problems: list[StoreProblem] = []
        self.object_id: str | None = None
        self.inventory: Inventory | None = None
        self.priors: dict[str, Inventory] = {}
        self.expectations: dict[str, list[_Expected]] = {}
        self.on_disk: dict[str, int] = {}  # content path -> size
        self.digests: dict[str, dict[str, str]] = {}  # content path -> algorithm -> digest
        self.pending: dict[str, Future[tuple[dict[str, str], int]]] = {}

    def add(
        self,
        kind: ProblemKind,
        message: str,
        code: str | None = None,
        *,
        at: str | None = None,
        severity: Severity = "error",
    ) -> None:
        path = self.path / at if at else self.path
        self.problems.append(StoreProblem(kind, message, path, self.object_id, code, severity))

    def run(self) -> tuple[list[StoreProblem], ObjectInfo | None]:
        self.start()
        return self.finish()

    def done(self) -> bool:
        return all(f.done() for f in self.pending.values())

    def start(self) -> None:
        try:
            with cf.closing_fd(self.store._root_fd()) as root_fd:
                obj_fd = cf.open_dir_path(root_fd, self.parts)
        except PathEscapeError as exc:
            self.add(
                ProblemKind.SYMLINK, f"the path to this object has a symbolic link: {exc}", "E090"
            )
            return
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open the object folder: {exc}")
            return
        try:
            self._check(obj_fd)
        except OSError as exc:
            self.add(ProblemKind.UNREADABLE, f"reading failed: {exc}")
            self.inventory = None
        finally:
            os.close(obj_fd)

    def finish(self) -> tuple[list[StoreProblem], ObjectInfo | None]:
        for content_path, future in self.pending.items():
            try:
                found, size = future.result()
            except OSError as exc:
                self.add(ProblemKind.UNREADABLE, f"reading failed: {exc}", at=content_path)
                continue
            self.on_disk[content_path] = size
            self.digests[content_path] = found
        self.pending.clear()
        info = None
        if self.inventory is not None:
            self._compare(self.inventory)
            info = OcflStore._info(self.inventory, self.path, self.on_disk)
        problems = [replace(p, object_id=self.object_id) for p in self.problems]
        return problems, info

    # -- helpers

    def _list(self, fd: int, rel: str) -> tuple[dict[str, os.DirEntry[str]], set[str]]:
        """Regular files and folders in ``fd``; links and special files become problems."""
        files: dict[str, os.DirEntry[str]] = {}
        dirs: set[str] = set()
        for entry in sorted(os.scandir(fd), key=lambda e: e.name):
            at = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                self.add(ProblemKind.SYMLINK, "symbolic link inside an object", "E090", at=at)
            elif entry.is_dir(follow_symlinks=False):
                dirs.add(entry.name)
            elif entry.is_file(follow_symlinks=False):
                files[entry.name] = entry
            else:
                self.add(ProblemKind.SPECIAL_FILE, "not a regular file", "E090", at=at)
        return files, dirs

    def _read(self, fd: int, name: str, rel: str, limit: int) -> bytes | None:
        try:
            return cf.read_small_at(fd, name, limit)
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot read: {exc}", at=rel)
            return None

    def _check_sidecar(
        self, fd: int, files: dict[str, Any], raw: bytes, alg: str, rel: str
    ) -> None:
        """``rel`` is the inventory's path relative to the object root."""
        name = f"inventory.json.{alg}"
        side_rel = f"{rel}.{alg}"
        if name not in files:
            self.add(ProblemKind.SIDECAR_MISSING, f"{side_rel} is missing", "E058", at=side_rel)
            return
        data = self._read(fd, name, side_rel, _SMALL_LIMIT)
        if data is None:
            return
        stated = parse_sidecar(data)
        if stated is None:
            self.add(
                ProblemKind.SIDECAR_INVALID,
                f"{side_rel} is not of the form '<digest> inventory.json'",
                "E061",
                at=side_rel,
            )
            return
        hasher = new_hasher(alg)
        hasher.update(raw)
        if stated != hasher.hexdigest():
            self.add(
                ProblemKind.SIDECAR_MISMATCH,
                f"{rel} does not match the digest in {side_rel} (changed or damaged)",
                "E060",
                at=rel,
            )

    def _adopt(self, problems: list[StoreProblem], kind: ProblemKind | None = None) -> None:
        for p in problems:
            self.problems.append(
                replace(p, path=self.path, kind=kind or p.kind, object_id=self.object_id)
            )

    # -- the checks

    def _check(self, obj_fd: int) -> None:
        files, dirs = self._list(obj_fd, "")
        spec = self._check_declaration(obj_fd, files)
        if "inventory.json" not in files:
            self.add(ProblemKind.INVENTORY_MISSING, "the object has no inventory.json", "E063")
            return
        raw = self._read(obj_fd, "inventory.json", "inventory.json", _INVENTORY_LIMIT)
        if raw is None:
            return
        inventory, inv_problems = parse_inventory(raw, expected_spec=spec)
        if inventory is None:
            self._adopt(inv_problems)
            for alg in ("sha512", "sha256"):
                if f"inventory.json.{alg}" in files:
                    self._check_sidecar(obj_fd, files, raw, alg, "inventory.json")
            return
        self.object_id = inventory.id
        self._adopt(inv_problems)
        alg = inventory.digest_algorithm
        self._check_sidecar(obj_fd, files, raw, alg, "inventory.json")
        self._check_identity(inventory)

        decl = next((n for n in files if n.startswith("0=")), None)
        allowed = {decl, "inventory.json", f"inventory.json.{alg}"}
        for name in sorted(set(files) - allowed):
            self.add(
                ProblemKind.OBJECT_EXTRA_ENTRY, "unexpected file in the object", "E001", at=name
            )
        for name in sorted(dirs - set(inventory.versions)):
            if name == "logs":
                continue
            if name == EXTENSIONS_DIR:
                self._check_object_extensions(obj_fd)
            elif _VERSION_DIR.fullmatch(name):
                self.add(
                    ProblemKind.VERSION_DIRS,
                    f"version folder {name} is not in the inventory",
                    "E046",
                    at=name,
                )
            else:
                self.add(
                    ProblemKind.OBJECT_EXTRA_ENTRY,
                    "unexpected folder in the object",
                    "E001",
                    at=name,
                )
        for name in inventory.version_names():
            if name not in dirs:
                self.add(
                    ProblemKind.VERSION_DIRS,
                    f"version folder {name} named in the inventory is missing",
                    "E010",
                    at=name,
                )

        # Pass 1: version folders and their inventories; pass 2: content, hashed once.
        priors: dict[str, Inventory] = {}
        content_dirs: list[str] = []
        for version in inventory.version_names():
            if version in dirs and self._check_version(obj_fd, inventory, raw, version, priors):
                content_dirs.append(version)
        self._check_spec_order(inventory, priors)
        expectations = self._expectations(inventory, priors)
        wanted: dict[str, set[str]] = {}
        for content_path, items in expectations.items():
            wanted[content_path] = {e.algorithm for e in items}
        for version in content_dirs:
            self._walk_version_content(obj_fd, inventory, version, wanted)
        self.priors = priors
        self.expectations = expectations
        self.inventory = inventory

    def _compare(self, inventory: Inventory) -> None:
        on_disk, digests = self.on_disk, self.digests
        expectations, priors = self.expectations, self.priors

        manifest = inventory.content_paths()
        for content_path in sorted(set(manifest) - set(on_disk)):
            self.add(
                ProblemKind.CONTENT_MISSING,
                f"{content_path} is listed in the manifest but missing",
                "E092",
                at=content_path,
            )
        for content_path in sorted(set(on_disk) - set(manifest)):
            self.add(
                ProblemKind.CONTENT_EXTRA,
                f"{content_path} is in a content folder but not in the manifest",
                "E023",
                at=content_path,
            )
        for version, prior in sorted(priors.items()):
            self._check_prior_covers(version, prior, inventory, on_disk)
        for content_path, found in sorted(digests.items()):
            reported: set[tuple[str, str]] = set()
            for e in expectations.get(content_path, []):
                actual = found.get(e.algorithm)
                if actual is None or actual == e.digest or (e.algorithm, e.digest) in reported:
                    continue
                reported.add((e.algorithm, e.digest))
                if e.source is None:
                    self.add(
                        ProblemKind.CONTENT_DIGEST,
                        f"{content_path} has changed: its {e.algorithm} is {actual}, "
                        f"the inventory says {e.digest} ({on_disk[content_path]} bytes on disk)",
                        "E092",
                        at=content_path,
                    )
                elif e.source == "fixity":
                    self.add(
                        ProblemKind.FIXITY_MISMATCH,
                        f"{content_path}: its {e.algorithm} is {actual}, the fixity "
                        f"block says {e.digest}",
                        "E093",
                        at=content_path,
                    )
                else:
                    self.add(
                        ProblemKind.CONTENT_DIGEST,
                        f"{content_path}: its {e.algorithm} is {actual}, but {e.source} "
                        f"says {e.digest}",
                        "E092",
                        at=content_path,
                    )

    @staticmethod
    def _expectations(
        inventory: Inventory, priors: dict[str, Inventory]
    ) -> dict[str, list[_Expected]]:
        """Every digest some inventory states for each content path."""
        result: dict[str, list[_Expected]] = {}

        def expect(path: str, algorithm: str, digest: str, source: str | None) -> None:
            item = _Expected(algorithm, digest.lower(), source)
            items = result.setdefault(path, [])
            if all((i.algorithm, i.digest) != (item.algorithm, item.digest) for i in items):
                items.append(item)

        for path, digest in inventory.content_paths().items():
            expect(path, inventory.digest_algorithm, digest, None)
        manifest = inventory.content_paths()
        for algorithm, block in (inventory.fixity or {}).items():
            if algorithm in FIXITY_ALGORITHMS:
                for digest, paths in block.items():
                    for path in paths:
                        if path in manifest:
                            expect(path, algorithm, digest, "fixity")
        for version, prior in sorted(priors.items()):
            for path, digest in prior.content_paths().items():
                if path in manifest:
                    expect(path, prior.digest_algorithm, digest, f"{version}/inventory.json")
        return result

    def _check_prior_covers(
        self, version: str, prior: Inventory, inventory: Inventory, on_disk: dict[str, int]
    ) -> None:
        """A version's inventory must list every content file of that version and before."""
        number = int(version[1:])
        listed = prior.content_paths()
        for content_path in sorted(on_disk):
            folder = content_path.split("/", 1)[0]
            in_scope = folder in inventory.versions and int(folder[1:]) <= number
            if in_scope and content_path not in listed:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{version}/inventory.json does not list {content_path}",
                    "E023",
                    at=f"{version}/inventory.json",
                )

    def _check_spec_order(self, inventory: Inventory, priors: dict[str, Inventory]) -> None:
        """Each version must follow the same or a later OCFL version than the one before (E103)."""
        order = {v: i for i, v in enumerate(INVENTORY_TYPES)}
        last = -1
        for version in inventory.version_names():
            inv = inventory if version == inventory.head else priors.get(version)
            spec = inv.spec_version if inv is not None else None
            if spec is None:
                continue
            if order[spec] < last:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{version} follows an older OCFL version than the version before it",
                    "E103",
                    at=version,
                )
            last = max(last, order[spec])

    def _check_declaration(self, obj_fd: int, files: dict[str, Any]) -> str | None:
        declarations = sorted(n for n in files if n.startswith("0="))
        if len(declarations) != 1:
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"expected one {OBJECT_DECLARATION} file, found {len(declarations)}",
                "E003",
            )
            return None
        name = declarations[0]
        match = _OBJECT_DECL.fullmatch(name)
        if match is None or match.group(1) not in _KNOWN_OBJECT_SPECS:
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"{name} is not an OCFL object declaration Svidok knows",
                "E006",
                at=name,
            )
            return None
        data = self._read(obj_fd, name, name, _SMALL_LIMIT)
        if data is not None and data != f"{name[2:]}\n".encode():
            self.add(
                ProblemKind.OBJECT_DECLARATION,
                f"{name} must contain '{name[2:]}' and a newline",
                "E007",
                at=name,
            )
        return match.group(1)

    def _check_identity(self, inventory: Inventory) -> None:
        object_id = inventory.id
        if not _OBJECT_ID.fullmatch(object_id):
            self.add(
                ProblemKind.ID_INVALID,
                f"the id {object_id!r} is not of the form sha256:<64 lowercase hex digits>",
            )
            return
        expected = self.store.layout.path_parts(object_id)
        if expected != self.parts:
            self.add(
                ProblemKind.WRONG_PATH,
                f"the object is at {'/'.join(self.parts)} but the layout puts {object_id} at "
                f"{'/'.join(expected)}",
                "E083",
            )
        first = inventory.version_names()[0]
        digest = object_id.split(":", 1)[1]
        if inventory.digest_algorithm == "sha256":
            v1_digests = set(inventory.logical_state(first).values())
        else:
            v1_digests = set()
            v1_paths = {
                inventory.content_path_for(d) for d in inventory.logical_state(first).values()
            }
            for value, paths in (inventory.fixity or {}).get("sha256", {}).items():
                if v1_paths & set(paths):
                    v1_digests.add(value.lower())
        if digest not in v1_digests:
            self.add(
                ProblemKind.ID_CONTENT_MISMATCH,
                f"the id names content {digest[:16]}… but {first} holds no file with that sha256",
            )

    def _check_object_extensions(self, obj_fd: int) -> None:
        with cf.closing_fd(cf.open_dir_at(obj_fd, EXTENSIONS_DIR)) as fd:
            files, _ = self._list(fd, EXTENSIONS_DIR)
            for name in files:
                self.add(
                    ProblemKind.OBJECT_EXTRA_ENTRY,
                    "the extensions folder may only hold folders",
                    "E067",
                    at=f"{EXTENSIONS_DIR}/{name}",
                )

    def _check_version(
        self,
        obj_fd: int,
        inventory: Inventory,
        root_raw: bytes,
        version: str,
        priors: dict[str, Inventory],
    ) -> bool:
        """Check a version folder's entries and inventory; True if it has a content folder."""
        try:
            vfd = cf.open_dir_at(obj_fd, version)
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=version)
            return False
        with cf.closing_fd(vfd):
            files, dirs = self._list(vfd, version)
            content = inventory.content_dir_name
            alg = self._check_version_inventory(vfd, files, inventory, root_raw, version, priors)
            expected = {"inventory.json", f"inventory.json.{alg}"} if alg else {"inventory.json"}
            for name in sorted(files):
                if name not in expected:
                    self.add(
                        ProblemKind.VERSION_EXTRA_ENTRY,
                        "unexpected file in a version folder",
                        "E015",
                        at=f"{version}/{name}",
                    )
            for name in sorted(dirs - {content}):
                self.add(
                    ProblemKind.VERSION_EXTRA_ENTRY,
                    "unexpected folder in a version folder",
                    "W002",
                    at=f"{version}/{name}",
                    severity="warning",
                )
            return content in dirs

    def _walk_version_content(
        self,
        obj_fd: int,
        inventory: Inventory,
        version: str,
        wanted: dict[str, set[str]],
    ) -> None:
        content = inventory.content_dir_name
        try:
            cfd = cf.open_dir_path(obj_fd, (version, content))
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=f"{version}/{content}")
            return
        with cf.closing_fd(cfd):
            self._walk_content(cfd, f"{version}/{content}", wanted)

    def _check_version_inventory(
        self,
        vfd: int,
        files: dict[str, Any],
        inventory: Inventory,
        root_raw: bytes,
        version: str,
        priors: dict[str, Inventory],
    ) -> str | None:
        """Check a version folder's inventory; returns its digest algorithm if known."""
        rel = f"{version}/inventory.json"
        if "inventory.json" not in files:
            self.add(
                ProblemKind.VERSION_INVENTORY,
                f"{rel} is missing",
                "W010",
                at=version,
                severity="warning",
            )
            return None
        raw = self._read(vfd, "inventory.json", rel, _INVENTORY_LIMIT)
        if raw is None:
            return None
        if version == inventory.head:
            if raw != root_raw:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{rel} differs from the object's inventory.json",
                    "E064",
                    at=rel,
                )
            self._check_sidecar(vfd, files, raw, inventory.digest_algorithm, rel)
            return inventory.digest_algorithm
        prior, problems = parse_inventory(raw, where=rel)
        self._adopt(problems, ProblemKind.VERSION_INVENTORY)
        if prior is None:
            return None
        self._check_sidecar(vfd, files, raw, prior.digest_algorithm, rel)
        priors[version] = prior
        if prior.head != version:
            self.add(
                ProblemKind.VERSION_INVENTORY, f"{rel} has head {prior.head!r}", "E040", at=rel
            )
        if prior.type in INVENTORY_TYPES.values():
            self._adopt(compare_prior(inventory, prior, rel), ProblemKind.VERSION_INVENTORY)
        return prior.digest_algorithm

    def _walk_content(self, fd: int, rel: str, wanted: dict[str, set[str]]) -> None:
        files, dirs = self._list(fd, rel)
        if not files and not dirs:
            self.add(ProblemKind.EMPTY_DIR, "empty folder inside a content folder", "E024", at=rel)
        for name in sorted(files):
            content_path = f"{rel}/{name}"
            algorithms = sorted(wanted.get(content_path, {}))
            if not self.fixity or not algorithms:
                self.on_disk[content_path] = files[name].stat(follow_symlinks=False).st_size
                continue
            try:
                ffd = cf.open_file_at(fd, name)
            except (OSError, StoreError) as exc:
                self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=content_path)
                continue
            if self.jobs is not None and os.fstat(ffd).st_size >= _THREAD_HASH_MIN:
                self.pending[content_path] = self.jobs.submit(ffd, algorithms, self.on_bytes)
                continue
            with cf.closing_fd(ffd):
                found, size = _hash_fd(ffd, algorithms, self.on_bytes)
            self.on_disk[content_path] = size
            self.digests[content_path] = found
        for name in sorted(dirs):
            try:
                sub = cf.open_dir_at(fd, name)
            except (OSError, StoreError) as exc:
                self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=f"{rel}/{name}")
                continue
            with cf.closing_fd(sub):
                self._walk_content(sub, f"{rel}/{name}", wanted)
