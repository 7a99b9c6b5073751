"""The extraction itself: open the file safely, detect its type, run one extractor.

Used in-process by :func:`extract_in_process` and by the worker processes of
:class:`svidok.intake.extract_pool.ExtractorPool`. The extractor modules (and so Pillow,
PyAV, pypdf and charset-normalizer) are imported only when a file of their kind arrives.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

from svidok.intake.detect import EMPTY, OCTET_STREAM, detect_fd, open_regular
from svidok.intake.extract_model import (
    Extraction,
    JSONValue,
    Report,
    Status,
    describe,
    extractor_name,
    failed,
)

_IMAGE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/bmp",
    "image/x-ms-bmp",
    "image/avif",
    "image/jp2",
    "image/jpx",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/x-portable-pixmap",
    "image/x-portable-greymap",
    "image/x-portable-bitmap",
    "image/x-tga",
    "image/x-pcx",
    "image/vnd-ms.dds",
    "image/x-canon-cr2",
    "image/x-nikon-nef",
    "image/x-adobe-dng",
    "image/x-sony-arw",
}
_HEIF_TYPES = {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
_TEXT_TYPES = {"application/json", "application/xml", "image/svg+xml", "message/rfc822"}
_AV_EXTRA = {"application/ogg", "application/x-matroska", "application/mxf"}
_NOT_AV = {"audio/midi", "audio/x-mod"}


def route(media_type: str) -> str | None:
    """Which extractor handles ``media_type``: image, heif, av, pdf, text, or None."""
    if media_type in _IMAGE_TYPES:
        return "image"
    if media_type in _HEIF_TYPES:
        return "heif"
    if media_type == "application/pdf":
        return "pdf"
    if media_type.startswith("text/") or media_type in _TEXT_TYPES:
        return "text"
    if media_type in _NOT_AV:
        return None
    if media_type.startswith(("video/", "audio/")) or media_type in _AV_EXTRA:
        return "av"
    return None


def extract_file(path: Path, announce: Callable[[str], None] | None = None) -> Extraction:
    """Extraction of ``path``; MemoryError propagates (the worker turns it into a restart).

    ``announce`` is told the media type as soon as it is known.
    """
    extraction = _extract(path, announce, read=True)
    assert extraction is not None  # reading, every file gets one
    return extraction


def describe_unread(path: Path) -> Extraction | None:
    """The Extraction of a file that no extractor reads (its type found by libmagic alone,
    as :func:`extract_file` does), or None when an extractor has to read it.

    This runs libmagic, and nothing else, in the calling process: intake uses it to
    describe such files without handing them to a worker.
    """
    return _extract(path, None, read=False)


def _extract(
    path: Path, announce: Callable[[str], None] | None, *, read: bool
) -> Extraction | None:
    try:
        fd, special, size = open_regular(path)
    except OSError as exc:
        return failed(OCTET_STREAM, f"the file could not be opened: {exc.strerror or exc}")
    if fd is None:
        return Extraction(
            special or OCTET_STREAM,
            "skipped",
            {"note": f"not a regular file ({special}); not read"},
            (),
            extractor_name(),
        )
    with os.fdopen(fd, "rb") as stream:
        try:
            media_type, magic_error = detect_fd(fd)
        except OSError as exc:
            return failed(OCTET_STREAM, f"the file could not be read: {exc.strerror or exc}")
        kind = route(media_type)
        if not read and kind is not None and media_type != EMPTY:
            return None
        if announce is not None:
            announce(media_type)
        report = Report()
        report.metadata["size_bytes"] = size
        if magic_error:
            report.error(magic_error)
        if media_type == EMPTY:
            report.metadata["note"] = "empty file (0 bytes); nothing to extract"
        elif kind is None:
            report.metadata["note"] = f"no metadata extractor for {media_type}"
        else:
            _run(kind, stream, size, report)
    status: Status
    if kind is None or media_type == EMPTY:
        status = "skipped"
    elif report.fatal:
        status = "failed"
    else:
        status = "partial" if report.errors else "complete"
    # Extraction cleans the metadata into plain JSON on construction.
    metadata = cast(dict[str, JSONValue], report.metadata)
    return Extraction(media_type, status, metadata, tuple(report.errors), extractor_name())


def _run(kind: str, stream: object, size: int, report: Report) -> None:
    binary = cast(IO[bytes], stream)
    try:
        if kind == "image":
            from svidok.intake.extract_image import extract_image

            extract_image(binary, report)
        elif kind == "heif":
            from svidok.intake.extract_heif import extract_heif

            extract_heif(binary, size, report)
        elif kind == "av":
            from svidok.intake.extract_av import extract_av

            extract_av(binary, report)
        elif kind == "pdf":
            from svidok.intake.extract_pdf import extract_pdf

            extract_pdf(binary, size, report)
        else:
            from svidok.intake.extract_text import extract_text

            extract_text(binary, size, report)
    except MemoryError:
        raise
    except ImportError as exc:  # a library that cannot be mapped into the allowance
        if "allocate memory" in str(exc) or "map segment" in str(exc):
            raise MemoryError(str(exc)) from exc
        report.fatal = True
        report.error(f"the extraction library could not be loaded: {describe(exc)}")
    except RecursionError:
        report.fatal = len(report.metadata) <= 1
        report.error("the file's structure is nested too deeply to read")
    except Exception as exc:
        report.fatal = len(report.metadata) <= 1
        report.error(f"metadata extraction stopped on an unexpected problem: {describe(exc)}")


def extract_in_process(path: Path) -> Extraction:
    """Extract metadata from ``path`` in this process, without isolation or limits.

    Meant for the workers and for tests: a hostile file can exhaust this process's
    memory or time, and the capture of library warnings is process-wide, so concurrent
    calls from several threads may attribute a warning to the wrong file. Intake uses
    :class:`~svidok.intake.extract_pool.ExtractorPool`.
    """
    seen: list[str] = []
    try:
        return extract_file(Path(path), seen.append)
    except MemoryError:
        media_type = seen[-1] if seen else OCTET_STREAM
        return failed(media_type, "metadata extraction ran out of memory and was stopped")
