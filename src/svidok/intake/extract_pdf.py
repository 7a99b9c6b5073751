"""PDF metadata with pypdf (``strict=False``), without rendering or walking the page tree.

The page count is the ``/Count`` the page-tree root declares (the trailer's ``/Root``
→ ``/Pages``), so a hostile page tree with reference loops is never traversed; a count
larger than the file's size in bytes (or than :data:`MAX_PAGES`) is reported as an error
and not trusted. Indirect
references are followed at most :data:`MAX_HOPS` times. pypdf's own warnings (repairs
it made to a damaged file) are kept under ``parser_warnings``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from typing import IO, Any

from svidok.intake.extract_model import Report, describe
from svidok.intake.extract_times import pdf_date

MAX_HOPS = 16
MAX_WARNINGS = 10
MAX_PAGES = 10_000_000
INFO_FIELDS = {
    "/Title": "title",
    "/Author": "author",
    "/Subject": "subject",
    "/Keywords": "keywords",
    "/Creator": "creator",
    "/Producer": "producer",
    "/Trapped": "trapped",
}
DATE_FIELDS = {"/CreationDate": "creation_date", "/ModDate": "modification_date"}


class _Collector(logging.Handler):
    """Collects pypdf warnings raised by one thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < MAX_WARNINGS:
            with contextlib.suppress(Exception):  # a badly formatted record is dropped
                self.messages.append(record.getMessage()[:300])


def _resolve(value: Any) -> Any:
    from pypdf.generic import IndirectObject

    for _ in range(MAX_HOPS):
        if not isinstance(value, IndirectObject):
            return value
        value = value.get_object()
    raise ValueError("reference loop: an indirect object never resolves")


def _text(value: Any) -> str | None:
    value = _resolve(value)
    if value is None:
        return None
    from pypdf.generic import ByteStringObject, NameObject, TextStringObject

    if isinstance(value, TextStringObject | NameObject):
        return str(value)
    if isinstance(value, ByteStringObject):
        return bytes(value).decode("latin-1")
    if isinstance(value, str | int | float):
        return str(value)
    return None


def extract_pdf(stream: IO[bytes], size: int, report: Report) -> None:
    """Fill ``report`` with PDF metadata (see the schema)."""
    collector = _Collector()
    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.addHandler(collector)
    try:
        _extract(stream, size, report)
    finally:
        pypdf_logger.removeHandler(collector)
        if collector.messages:
            report.metadata["parser_warnings"] = collector.messages


def _extract(stream: IO[bytes], size: int, report: Report) -> None:
    from pypdf import PasswordType, PdfReader

    meta = report.metadata
    try:
        reader = PdfReader(stream, strict=False)
    except MemoryError:
        raise
    except Exception as exc:
        report.fatal = True
        report.error(f"the PDF structure could not be read: {describe(exc)}")
        return
    header = re.match(r"%PDF-(\d+\.\d+)", reader.pdf_header or "")
    meta["pdf_version"] = header.group(1) if header else None
    meta["encrypted"] = bool(reader.is_encrypted)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except MemoryError:
            raise
        except Exception as exc:
            opened = False
            report.error(f"the PDF is encrypted and could not be opened: {describe(exc)}")
        else:
            if not opened:
                report.error("the PDF is encrypted with a password; its metadata is unreadable")
        meta["opened_without_password"] = opened
        if not opened:
            return
    try:
        trailer = reader.trailer
        root = _resolve(trailer.get("/Root"))
    except MemoryError:
        raise
    except Exception as exc:
        report.error(f"the PDF trailer is unreadable: {describe(exc)}")
        root = None
    _catalog(root, size, report)
    try:
        info = _resolve(trailer.get("/Info"))
    except MemoryError:
        raise
    except Exception as exc:
        report.error(f"the document information dictionary is unreadable: {describe(exc)}")
        info = None
    if info is None:
        return
    if not hasattr(info, "get"):
        report.error("the document information entry is not a dictionary")
        return
    for key, name in INFO_FIELDS.items():
        try:
            text = _text(info.get(key))
        except MemoryError:
            raise
        except Exception as exc:
            report.error(f"{key[1:]} is unreadable: {describe(exc)}")
            continue
        if text:
            meta[name] = text
    for key, name in DATE_FIELDS.items():
        try:
            text = _text(info.get(key))
        except MemoryError:
            raise
        except Exception as exc:
            report.error(f"{key[1:]} is unreadable: {describe(exc)}")
            continue
        if text:
            meta[name] = pdf_date(text)


def _catalog(root: Any, size: int, report: Report) -> None:
    meta = report.metadata
    if not hasattr(root, "get"):
        report.error("the PDF has no readable document catalog (/Root), so no page count")
        return
    try:
        version = _resolve(root.get("/Version"))
        if version is not None:
            meta["catalog_version"] = str(version).lstrip("/")
        meta["has_xmp"] = root.get("/Metadata") is not None
        pages = _resolve(root.get("/Pages"))
        count = _resolve(pages.get("/Count")) if hasattr(pages, "get") else None
    except MemoryError:
        raise
    except Exception as exc:
        report.error(f"the page tree is unreadable: {describe(exc)}")
        return
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        report.error("the page tree does not declare a usable page count")
    elif count > MAX_PAGES or count > size:
        meta["declared_page_count"] = int(count)
        report.error(f"the file claims {int(count)} pages, more than a {size}-byte file can hold")
    else:
        meta["page_count"] = int(count)
