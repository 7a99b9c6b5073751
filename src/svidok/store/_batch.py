"""Adding many objects at once: built in one staging folder, placed one after another.

A batch checks its staging folder once, builds every object under one folder (layout
folders shared by objects of the batch are made once), and renames each object into the
store as :func:`svidok.store._write.publish` does for a single one: the first layout
folder missing from the store is renamed with everything under it, so the store never
holds a half-built object or an empty folder. Objects of the batch below a folder so
renamed are in the store from that moment; :meth:`ObjectBatch.place` knows them.

Nothing is flushed: the caller makes the batch durable (``syncfs``) after preparing and
again after placing, as intake does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from svidok.errors import StoreError
from svidok.store import _confined as cf
from svidok.store import _write
from svidok.store._root import open_root
from svidok.store._write import PreparedObject
from svidok.store.layout import HashedNTupleLayout

BATCH_PREFIX = f"{_write.STAGE_PREFIX}batch-"


class ObjectBatch:
    """New objects built together in ``staging_dir`` (see :meth:`OcflStore.batch`).

    Prepare every object first, then place them; a context manager that removes what is
    left in staging (objects not placed) when it ends.
    """

    def __init__(self, root: Path, layout: HashedNTupleLayout, staging_dir: Path) -> None:
        self._root = root
        self._layout = layout
        self._staging = Path(staging_dir)
        self._device = _write.check_staging(root, self._staging).st_dev
        self._root_fd: int | None = open_root(root)
        self._work: Path | None = None
        self._work_fd: int | None = None
        self._made: set[tuple[str, ...]] = set()  # layout folders made under the work folder
        self._moved: set[tuple[str, ...]] = set()  # folders renamed from there into the store

    def __enter__(self) -> ObjectBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, new: _write.NewObject) -> PreparedObject:
        """Build one object (arguments and checks of :meth:`OcflStore.add_object`).

        Raises ObjectExistsError if the store holds it already. The content file is moved
        into the batch's staging folder; on any error it is put back.
        """
        if self._root_fd is None:
            raise StoreError("the batch is closed")
        if self._moved:
            raise StoreError("a batch cannot prepare objects once it has placed some")
        inventory = _write.new_inventory(new)
        object_id, logical_name = new.object_id, new.logical_name
        _write.refuse_existing(self._root, self._layout, object_id, self._root_fd)
        content_file = Path(new.content_file)
        cst = _write.check_content(self._root, content_file, new.size, self._device)
        if content_file.parent != self._staging:  # the staging folder itself is checked once
            _write.check_content_outside(self._root, content_file)
        inv_bytes = inventory.to_bytes()
        if self._work is None or self._work_fd is None:
            self._work, self._work_fd = _new_folder(self._staging)
        return _write.build(
            inventory.id,
            inv_bytes,
            self._layout.path_parts(object_id),
            content_file,
            cst,
            self._work,
            self._work_fd,
            logical_name,
            durable=False,
            made=self._made,
        )

    def place(self, prepared: PreparedObject) -> None:
        """Rename a prepared object of this batch into the store (not flushed).

        Raises ObjectExistsError if another writer stored it first; the prepared object
        is then left for :meth:`discard`.
        """
        if self._root_fd is None or self._work_fd is None or prepared.work != self._work:
            raise StoreError(f"{prepared.object_id} was not prepared by this batch")
        parts = prepared.parts
        if any(parts[:n] in self._moved for n in range(1, len(parts) + 1)):
            return  # it went into the store with a folder placed for another object
        level = _write.publish_level(self._root, self._root_fd, self._work_fd, parts)
        self._moved.add(parts[: level + 1])

    def discard(self, prepared: PreparedObject) -> None:
        """Drop a prepared object that was not placed (its content file too)."""
        _write.discard(prepared)

    def close(self) -> None:
        """Remove the batch's staging folder and whatever it still holds. Safe to call twice."""
        for fd in (self._root_fd, self._work_fd):
            if fd is not None:
                os.close(fd)
        self._root_fd = self._work_fd = None
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def _new_folder(staging: Path) -> tuple[Path, int]:
    """A new folder in ``staging`` for a batch's objects, and a descriptor of it."""
    work = Path(tempfile.mkdtemp(prefix=BATCH_PREFIX, dir=staging))
    try:
        return work, os.open(work, cf.DIR_FLAGS)
    except BaseException:
        work.rmdir()
        raise
