"""Receiving one file: read each byte once, hashing while copying into staging.

Staged bytes go to the disk while the next ones are read: large files are written past
the page cache (``O_DIRECT``, where the file system allows it), smaller ones get their
write-back started every few MiB. Either way they are durable only after the caller's
``syncfs``."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from svidok._fs import start_writeback
from svidok.errors import IntakeError
from svidok.intake.detect import MAGIC_BYTES_MAX, detect_buffer

CHUNK = 1 << 20
WRITEBACK_EVERY = 8 << 20  # staged bytes handed to the disk while the next ones are read
DIRECT_FROM = 32 << 20  # larger files are written past the page cache (O_DIRECT)
_BLOCK = 4096  # O_DIRECT writes: offsets and lengths in whole blocks
DETECT_BYTES = MAGIC_BYTES_MAX


@dataclass(frozen=True)
class Received:
    """A file copied into staging, with its digest and what was found about it."""

    source: bytes
    staged: Path
    digest: str
    size: int
    media_type: str
    before: os.stat_result


def receive(source: bytes, staged: Path, expected: os.stat_result) -> Received:
    """Copy ``source`` to ``staged`` (new file) while hashing it; check it did not change.

    Raises ``IntakeError`` in plain words: vanished, replaced, not a regular file, changed
    while being read, unreadable.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        src = os.open(source, flags)
    except FileNotFoundError:
        raise IntakeError("the file disappeared before it could be read") from None
    except OSError as exc:
        raise IntakeError(f"cannot open: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(src)
        if not stat.S_ISREG(st.st_mode):
            raise IntakeError("not a regular file any more (replaced while ingesting)")
        if (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino):
            raise IntakeError("the file was replaced by another one while ingesting")
        os.set_blocking(src, True)
        digest = hashlib.sha256()
        head = b""
        size = flushed = 0
        buf = mmap.mmap(-1, CHUNK)  # page-aligned, as O_DIRECT needs
        view = memoryview(buf)
        dst = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        direct = st.st_size >= DIRECT_FROM and _set_direct(dst, True)
        try:
            while True:
                try:
                    n = os.readv(src, [buf])
                except OSError as exc:
                    raise IntakeError(
                        f"read error after {size} bytes: {exc.strerror or exc}"
                    ) from exc
                if n == 0:
                    break
                chunk = view[:n]
                digest.update(chunk)
                if len(head) < DETECT_BYTES:
                    head += bytes(chunk[: DETECT_BYTES - len(head)])
                if direct and n % _BLOCK:  # the tail (or a short read): through the cache
                    direct = not _set_direct(dst, False)
                out = chunk
                while out:
                    try:
                        out = out[os.write(dst, out) :]
                    except OSError as exc:  # a device that wants larger blocks
                        if not (direct and exc.errno == errno.EINVAL and _set_direct(dst, False)):
                            raise
                        direct = False
                size += n
                if not direct and size - flushed >= WRITEBACK_EVERY:
                    start_writeback(dst, flushed, size - flushed)
                    flushed = size
        finally:
            os.close(dst)
        after = os.fstat(src)
    finally:
        os.close(src)
    if size != after.st_size or after.st_mtime_ns != st.st_mtime_ns or size != st.st_size:
        raise IntakeError(
            f"the file changed while it was being read ({st.st_size} bytes before, "
            f"{after.st_size} after, {size} read); not preserved — ingest it again when it is still"
        )
    return Received(source, staged, digest.hexdigest(), size, detect_buffer(head), st)


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for ``fd``; False when the file system refuses it."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | direct if on else flags & ~direct)
    except OSError:
        return False
    return True
