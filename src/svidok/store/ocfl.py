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

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from svidok._fs import fsync_dir
from svidok.errors import StoreError
from svidok.store import _confined as cf
from svidok.store import _content, _read, _root, _scan, _write
from svidok.store._batch import ObjectBatch as ObjectBatch
from svidok.store._read import LogicalFile as LogicalFile
from svidok.store._read import ObjectInfo as ObjectInfo
from svidok.store._write import NewObject as NewObject
from svidok.store._write import PreparedObject as PreparedObject
from svidok.store.layout import HashedNTupleLayout
from svidok.store.problems import ProblemKind as ProblemKind
from svidok.store.problems import StoreProblem as StoreProblem

__all__ = ["LogicalFile", "ObjectBatch", "ObjectInfo", "OcflStore"]


class OcflStore:
    """An OCFL 1.1 storage root laid out with extension 0004 (sha256, 3 tuples of 3)."""

    scan_threads: int = 2  # threads that hash large files during scan()
    thread_hash_min: int = _content.THREAD_HASH_MIN  # files this large go to those threads

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
        root = _root.absolute(root)
        layout = HashedNTupleLayout()
        if root.is_symlink():
            raise StoreError(f"cannot create a storage root at {root}: it is a symbolic link")
        if root.exists():
            if not root.is_dir():
                raise StoreError(f"cannot create a storage root at {root}: it is not a folder")
            if any(root.iterdir()):
                raise StoreError(f"cannot create a storage root at {root}: the folder is not empty")
            _root.write_root_files(root, layout)
            fsync_dir(root)
        else:
            root.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
            try:
                _root.write_root_files(tmp, layout)
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

    @classmethod
    def open(cls, root: Path) -> OcflStore:
        """Open an existing storage root, checking its declaration and layout."""
        root = _root.absolute(root)
        if not root.is_dir():
            raise StoreError(f"there is no storage root at {root}: no such folder")
        root = root.resolve()
        with cf.closing_fd(_root.open_root(root)) as root_fd:
            problems, layout = _root.check_root(root_fd, root)
        errors = [p for p in problems if p.severity == "error"]
        if errors or layout is None:
            raise StoreError(errors[0].message if errors else f"{root}: unusable storage layout")
        return cls(root, layout)

    # ------------------------------------------------------------------ ids, paths

    @staticmethod
    def object_id(digest_hex: str) -> str:
        """The object id for content with this sha256 digest: ``sha256:<64 lowercase hex>``."""
        return _root.object_id_for(digest_hex)

    def object_path(self, object_id: str) -> Path:
        """Where the layout puts the object ``object_id`` (whether it exists or not)."""
        return _root.object_path(self.root, self.layout, object_id)

    def has_object(self, object_id: str) -> bool:
        """Whether an object folder with its declaration exists for ``object_id``."""
        return _root.has_object(self.root, self.layout, object_id)

    def inventory_digest(self, object_id: str) -> str | None:
        """SHA-256 of the stored object's root inventory.json, None if it has none.

        Tells exactly which ``prepare_object`` call produced the object in the store
        (inventories carry their creation time), for recovery after a crash.
        """
        return _read.inventory_digest(self.root, self.layout, object_id)

    # ------------------------------------------------------------------ adding

    def add_object(self, new: NewObject, *, staging_dir: Path, durable: bool = True) -> Path:
        """Store ``new.content_file`` as the v1 of a new object; the object's path back.

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
        prepared = _write.prepare(
            self.root, self.layout, new, staging_dir=staging_dir, durable=durable
        )
        try:
            placed_in = self._publish(prepared.work, prepared.parts)
        except BaseException as exc:
            self.discard_object(prepared, restore=True, durable=durable, exc=exc)
            raise
        if durable:
            fsync_dir(placed_in)
        shutil.rmtree(prepared.work, ignore_errors=True)  # only empty layout folders are left
        return self.root.joinpath(*prepared.parts)

    def prepare_object(self, new: NewObject, *, staging_dir: Path) -> PreparedObject:
        """Build a whole object in ``staging_dir`` without placing it; nothing is flushed.

        The first half of :meth:`add_object` (same arguments and checks), for callers that
        make a whole batch durable with one ``syncfs`` *before* any object enters the store
        (``intake/ingest.py``). Follow with :meth:`commit_object` or :meth:`discard_object`.
        """
        return _write.prepare(self.root, self.layout, new, staging_dir=staging_dir, durable=False)

    def batch(self, staging_dir: Path) -> ObjectBatch:
        """Add many objects at once, built together in ``staging_dir`` (a context manager).

        Cheaper per object than :meth:`prepare_object`: the staging folder is checked once
        and the objects share one folder in it. Prepare every object
        (:meth:`ObjectBatch.prepare`), make them durable, then place each
        (:meth:`ObjectBatch.place`); nothing is flushed. Used by ``intake/ingest.py``.
        """
        return ObjectBatch(self.root, self.layout, staging_dir)

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
        _write.discard(prepared, restore=restore, durable=durable, exc=exc)

    def _publish(self, work: Path, parts: tuple[str, ...]) -> Path:
        """Rename a staged object into place; returns the folder to flush."""
        return _write.publish(self.root, work, parts)

    def interrupted_adds(self, staging_dir: Path) -> list[Path]:
        """Content files that add_object calls killed part-way left in ``staging_dir``.

        A process killed after moving the content into its staging folder but before the
        object was renamed into the store leaves the content at
        ``staging_dir/.svidok-stage-*/<layout folders>/v1/content/<logical name>``. Call
        this when no add_object is running on that staging folder (for example at start-up)
        and add each file again; then delete the ``.svidok-stage-*`` folder it is in.
        """
        return _write.interrupted_adds(self.layout, staging_dir)

    # ------------------------------------------------------------------ reading

    def open_content(
        self, object_id: str, logical_path: str | None = None, version: str | None = None
    ) -> BinaryIO:
        """Open a stored file for reading.

        ``version`` defaults to the head version; ``logical_path`` may be left out when
        that version holds a single file. Symbolic links are never followed and every
        path from the inventory is confined to the object (PathEscapeError otherwise).
        """
        return _read.open_content(self.root, self.layout, object_id, logical_path, version)

    def content_info(self, object_id: str) -> ObjectInfo:
        """The object's head version: its files with digests, sizes and content paths."""
        return _read.content_info(self.root, self.layout, object_id)

    # ------------------------------------------------------------------ walking and checking

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """(object id from its inventory, object path) for every object in the store.

        Objects whose inventory cannot be read are skipped; :meth:`scan` reports them.
        """
        return _scan.iter_objects(self.root, self.layout)

    def validate_object(self, object_path: Path, *, fixity: bool = True) -> list[StoreProblem]:
        """Check one object fully; an empty list means it is valid.

        Checks the declaration, the inventory's JSON structure and its sidecar digest,
        that the id is a Svidok id at the place the layout gives it, the version folders
        and their inventories, that every manifest file exists and nothing else is in the
        content folders, and (with ``fixity``) every content file's digest.
        """
        return _scan.validate_object(
            self.root,
            self.layout,
            object_path,
            fixity=fixity,
            hash_file=_content.hash_fd,
        )

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
        yield from _scan.scan(
            self.root,
            self.layout,
            threads=self.scan_threads,
            fixity=fixity,
            progress=progress,
            hash_file=_content.hash_fd,
            thread_min=self.thread_hash_min,
        )
