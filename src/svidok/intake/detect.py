"""Media type detection from a file's content (libmagic via python-magic), never its name.

* :func:`detect_media_type` returns libmagic's MIME type, ``"application/octet-stream"``
  when libmagic does not know the content or fails, and ``"application/x-empty"`` for a
  zero-byte file (libmagic says ``inode/x-empty`` or ``application/x-empty``).
* Something that is not a regular file is never opened for reading (a FIFO would block):
  it gets ``inode/directory``, ``inode/fifo``, ``inode/socket``, ``inode/chardevice`` or
  ``inode/blockdevice``.
* libmagic reads at most :data:`MAGIC_BYTES_MAX` bytes of the file.
* :func:`extension_for` maps a media type to a conventional file-name extension from a
  fixed table (never :mod:`mimetypes`, whose answers depend on the machine).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path
from typing import Any

OCTET_STREAM = "application/octet-stream"
EMPTY = "application/x-empty"
MAGIC_BYTES_MAX = 1 << 20

_EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/bmp": ".bmp",
    "image/x-ms-bmp": ".bmp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/heic-sequence": ".heics",
    "image/heif-sequence": ".heifs",
    "image/avif": ".avif",
    "image/jp2": ".jp2",
    "image/jxl": ".jxl",
    "image/svg+xml": ".svg",
    "image/x-icon": ".ico",
    "image/vnd.microsoft.icon": ".ico",
    "image/x-canon-cr2": ".cr2",
    "image/x-nikon-nef": ".nef",
    "image/x-adobe-dng": ".dng",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
    "video/webm": ".webm",
    "video/x-msvideo": ".avi",
    "video/mpeg": ".mpg",
    "video/mp2t": ".ts",
    "video/3gpp": ".3gp",
    "video/3gpp2": ".3g2",
    "video/x-flv": ".flv",
    "video/x-ms-asf": ".wmv",
    "video/ogg": ".ogv",
    "audio/mpeg": ".mp3",
    "audio/x-wav": ".wav",
    "audio/wav": ".wav",
    "audio/x-m4a": ".m4a",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/x-hx-aac-adts": ".aac",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/amr": ".amr",
    "audio/x-aiff": ".aiff",
    "audio/x-ms-wma": ".wma",
    "audio/webm": ".weba",
    "application/ogg": ".ogg",
    "application/pdf": ".pdf",
    "application/json": ".json",
    "application/xml": ".xml",
    "application/zip": ".zip",
    "application/gzip": ".gz",
    "application/x-7z-compressed": ".7z",
    "application/x-tar": ".tar",
    "application/x-rar": ".rar",
    "application/vnd.rar": ".rar",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.ms-excel": ".xls",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/html": ".html",
    "text/xml": ".xml",
    "text/markdown": ".md",
    "text/calendar": ".ics",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
}

_SPECIAL = (
    (stat.S_ISDIR, "inode/directory"),
    (stat.S_ISFIFO, "inode/fifo"),
    (stat.S_ISSOCK, "inode/socket"),
    (stat.S_ISCHR, "inode/chardevice"),
    (stat.S_ISBLK, "inode/blockdevice"),
)

_magic_lock = threading.Lock()
_magic: Any = None


def _magic_cookie() -> Any:
    """One libmagic handle per process (python-magic serialises calls on it)."""
    global _magic
    with _magic_lock:
        if _magic is None:
            import magic

            cookie = magic.Magic(mime=True)
            with contextlib.suppress(Exception):  # an old libmagic keeps its own limit
                cookie.setparam(magic.MAGIC_PARAM_BYTES_MAX, MAGIC_BYTES_MAX)
            _magic = cookie
        return _magic


def libmagic_version() -> str:
    """libmagic's version as ``"5.44"`` (``"?"`` if it cannot be told)."""
    try:
        import magic

        number = int(getattr(magic, "version")())  # noqa: B009 - untyped in python-magic
    except Exception:
        return "?"
    return f"{number // 100}.{number % 100:02d}"


def normalise(mime: str) -> str:
    """libmagic's answer made canonical: lower case, no parameters, empty file unified."""
    mime = mime.split(";", 1)[0].strip().lower()
    if mime in ("inode/x-empty", "application/x-empty"):
        return EMPTY
    if not mime or "/" not in mime:
        return OCTET_STREAM
    return mime


def special_file_type(mode: int) -> str | None:
    """The ``inode/…`` type for a non-regular file mode, None for a regular file."""
    for test, name in _SPECIAL:
        if test(mode):
            return name
    return None


def detect_fd(fd: int) -> tuple[str, str | None]:
    """Media type of the open regular file ``fd`` (read from offset 0) and any libmagic error.

    The file offset is left at 0.
    """
    if os.fstat(fd).st_size == 0:
        return EMPTY, None
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        answer = _magic_cookie().from_descriptor(fd)
    except MemoryError:
        raise
    except Exception as exc:
        return OCTET_STREAM, f"libmagic could not identify the content: {exc}"
    finally:
        os.lseek(fd, 0, os.SEEK_SET)
    return normalise(answer if isinstance(answer, str) else str(answer)), None


def open_regular(path: Path) -> tuple[int | None, str | None, int]:
    """Open ``path`` read-only without blocking on FIFOs or devices.

    Returns (fd, None, size) for a regular file, or (None, inode type, 0) otherwise.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        special = special_file_type(info.st_mode)
        if special is not None:
            os.close(fd)
            return None, special, 0
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, None, info.st_size


def detect_media_type(path: Path) -> str:
    """The MIME type of ``path``'s content according to libmagic (see the module docstring).

    Raises :class:`OSError` if the file cannot be opened.
    """
    fd, special, _size = open_regular(path)
    if fd is None:
        return special or OCTET_STREAM
    try:
        return detect_fd(fd)[0]
    finally:
        os.close(fd)


def extension_for(media_type: str) -> str:
    """The conventional extension (with the dot) for ``media_type``, or ``""`` if unknown."""
    return _EXTENSIONS.get(normalise(media_type), "") if media_type else ""


def detect_buffer(head: bytes) -> str:
    """Media type of content whose first bytes (up to :data:`MAGIC_BYTES_MAX`) are ``head``.

    Used during intake, where the first chunk is already in memory while it is copied.
    """
    if not head:
        return EMPTY
    try:
        return normalise(str(_magic_cookie().from_buffer(head[:MAGIC_BYTES_MAX])))
    except Exception:  # libmagic failures must not stop intake
        return OCTET_STREAM
