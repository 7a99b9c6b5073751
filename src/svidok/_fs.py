"""Durable file-system primitives: fsync of files and folders, atomic writes, syncfs."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

_libc_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_libc_name, use_errno=True) if _libc_name else None
_sync_file_range = getattr(_libc, "sync_file_range", None)
if _sync_file_range is not None:
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    _sync_file_range.restype = ctypes.c_int
_SYNC_FILE_RANGE_WRITE = 2


def fsync_path(path: Path) -> None:
    """fsync a file or a folder by path."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """fsync a folder, so that names created or renamed in it are durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def syncfs(path: Path) -> None:
    """Flush every dirty page of the file system holding ``path`` (one call for a batch).

    Uses Linux syncfs(2); elsewhere falls back to sync(2).
    """
    if _libc is not None and hasattr(_libc, "syncfs"):
        fd = os.open(path, os.O_RDONLY)
        try:
            if _libc.syncfs(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), str(path))
        finally:
            os.close(fd)
    else:  # pragma: no cover - non-Linux
        os.sync()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a range of a file to disk now, without waiting
    (Linux ``sync_file_range(2)``, ``SYNC_FILE_RANGE_WRITE``), so that the disk works while
    the next bytes are read and hashed. Durability still comes only from a later fsync or
    syncfs. Does nothing where the call is missing; its failure is not an error."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def is_unfinished_write(path: Path) -> bool:
    """Whether ``path`` is the temporary file of an :func:`atomic_write` that was stopped
    before its rename (``.<name>.tmp-<pid>``): never data, safe to remove."""
    name = path.name
    head, sep, pid = name.rpartition(".tmp-")
    return name.startswith(".") and bool(sep) and pid.isdigit() and len(head) > 1


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: temporary file, fsync, rename, fsync folder."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)
