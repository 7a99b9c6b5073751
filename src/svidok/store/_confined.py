"""Opening things under a folder without ever following a symbolic link.

Every lookup is made relative to an open folder descriptor with ``O_NOFOLLOW``, one
path element at a time, so a symbolic link planted anywhere (or swapped in while we
work) is refused rather than followed out of the storage root.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from svidok.errors import PathEscapeError, StoreError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def _check_element(name: str) -> None:
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise PathEscapeError(f"refusing the path element {name!r}")


def _kind_at(dir_fd: int, name: str) -> str:
    try:
        st = os.lstat(name, dir_fd=dir_fd)
    except OSError:
        return "something unreadable"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "a special file"


def open_dir_at(dir_fd: int, name: str) -> int:
    """Open the folder ``name`` inside ``dir_fd``; never follows a symbolic link.

    Raises FileNotFoundError if absent, PathEscapeError if it is a symbolic link and
    StoreError if it is not a folder.
    """
    _check_element(name)
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            kind = _kind_at(dir_fd, name)
            if kind == "a symbolic link":
                raise PathEscapeError(
                    f"{name!r} is a symbolic link; refusing to follow it"
                ) from exc
            raise StoreError(f"{name!r} is {kind}, not a folder") from exc
        raise


def open_file_at(dir_fd: int, name: str) -> int:
    """Open the regular file ``name`` inside ``dir_fd`` for reading; never follows links."""
    _check_element(name)
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise PathEscapeError(f"{name!r} is a symbolic link; refusing to follow it") from exc
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{name!r} is not a regular file")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_dir_path(base_fd: int, parts: Sequence[str]) -> int:
    """Open the folder ``parts`` below ``base_fd``, one element at a time."""
    fd = os.dup(base_fd)
    try:
        for name in parts:
            new_fd = open_dir_at(fd, name)
            os.close(fd)
            fd = new_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file_path(base_fd: int, parts: Sequence[str]) -> int:
    """Open the regular file ``parts`` below ``base_fd`` without following any link."""
    if not parts:
        raise PathEscapeError("empty path")
    dir_fd = open_dir_path(base_fd, parts[:-1])
    try:
        return open_file_at(dir_fd, parts[-1])
    finally:
        os.close(dir_fd)


@contextmanager
def closing_fd(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)


def read_small_at(dir_fd: int, name: str, limit: int) -> bytes:
    """Read a whole small regular file; StoreError if it is larger than ``limit`` bytes."""
    fd = open_file_at(dir_fd, name)
    try:
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise StoreError(f"{name!r} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
