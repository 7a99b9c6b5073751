"""Showing evidence in the browser: thumbnails and previews of originals. Each one is a
read of the evidence, recorded in the ledger (``access``) before a byte is sent. Only
formats a browser shows without running anything are sent inline; every other original
can only be downloaded.

A preview is sent whole or, when the browser asks (``Range``: a video seeking), one byte
range of it. Seeking must not write an entry per request, yet every viewing must be
recorded: see :func:`view_is_recorded` for the rule."""

from __future__ import annotations

import io
import re
import threading
import time
from collections import OrderedDict
from typing import Any, BinaryIO, Generic, TypeVar

from sqlalchemy import select

from svidok.api.deps import ApiState
from svidok.cases.access import Actor
from svidok.cases.service import NotFound
from svidok.cases.views import EvidenceView
from svidok.catalog import schema

#: media types sent inline for preview (sandboxed); anything else: download only
INLINE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/x-wav",
        "audio/webm",
        "audio/flac",
        "audio/mp4",
        "application/pdf",
    }
)
THUMBNAIL_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
)
THUMB_PIXELS = 320
MAX_PIXELS = 100_000_000  # larger pictures are not decoded for a thumbnail
TEXT_PREVIEW_BYTES = 64 * 1024
#: seconds a recorded view covers the later ranges of the same item for the same user
VIEW_WINDOW = 600.0

V = TypeVar("V")


class Recent(Generic[V]):
    """The values used most recently, by key (in memory, bounded, thread-safe)."""

    def __init__(self, entries: int = 2000) -> None:
        self.entries = entries
        self._data: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


_cache: Recent[bytes] = Recent()  # thumbnails already made, by object id


class Unsatisfiable(Exception):
    """The Range header asks only for bytes past the end of the file (416)."""


_RANGE = re.compile(r"bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))", re.IGNORECASE)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range a ``Range`` header asks for, as (first, last) inclusive, cut to
    the file's ``size``; None to send the whole file: no header, or one this server
    ignores as RFC 9110 §14.2 allows (malformed, another unit, several ranges, last
    before first). Unsatisfiable when it asks for no byte of the file."""
    found = _RANGE.fullmatch((header or "").strip())
    if found is None:
        return None
    first, last, suffix = found.groups()
    if suffix is not None:
        if int(suffix) == 0 or size == 0:
            raise Unsatisfiable(header)
        return max(0, size - int(suffix)), size - 1
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise Unsatisfiable(header)
    return int(first), min(int(last), size - 1) if last else size - 1


def view_is_recorded(
    recent: Recent[float], user: str, record: str, first: int, now: float | None = None
) -> bool:
    """Whether a preview sent from byte ``first`` is written to the ledger as a ``view``.

    The rule: a response that begins at the file's first byte (the whole file, or a range
    from byte 0: how a browser begins every viewing, a reload included) is always
    recorded; a range that begins later (seeking within a viewing) is recorded only when
    this server has recorded no view of the item by the same user in the last
    VIEW_WINDOW seconds. So every byte sent is covered by a view entry of that user for
    that item, written before it was sent, and seeking does not flood the ledger. The
    memory is per server process and lost on a restart: then a view is recorded again
    (more entries, never fewer)."""
    now = time.monotonic() if now is None else now
    key = f"{user} {record}"
    last = recent.get(key)
    if first == 0 or last is None or now - last >= VIEW_WINDOW:
        recent.put(key, now)
        return True
    return False


def preview_state(state: ApiState, object_id: str, media_type: str) -> dict[str, Any]:
    """What is known of an original's previews: the kinds stored, the background job's
    state in this server, and the last recorded failure (``derivative.failed``)."""
    from svidok.derive.render import preview_kinds
    from svidok.derive.store import derivatives_of

    e = schema.entries.c
    with state.home.catalog.engine.connect() as conn:
        failed = conn.execute(
            select(e.idx)
            .where(e.object_id == object_id, e.type == "derivative.failed")
            .order_by(e.idx.desc())
            .limit(1)
        ).scalar_one_or_none()
    job = state.previews.state(object_id) if state.previews is not None else None
    errors = state.home.ledger.entry(int(failed)).data.get("errors") if failed is not None else None
    return {
        "expected": list(preview_kinds(media_type)),
        "made": sorted({d["kind"] for d in derivatives_of(state.home, object_id)}),
        "job": job.state if job is not None else None,
        "failed": [str(x) for x in errors] if isinstance(errors, list) else [],
        "failed_entry": failed,
    }


def has_thumbnails(state: ApiState, objects: list[str]) -> set[str]:
    """Those of ``objects`` that have a stored JPEG thumbnail (previews made for them)."""
    d = schema.derivatives.c
    if not objects:
        return set()
    with state.home.catalog.engine.connect() as conn:
        return set(conn.execute(
            select(d.source_id).where(d.source_id.in_(objects), d.kind == "thumbnail",
                                      d.media_type == "image/jpeg")
        ).scalars())


def stored_preview(state: ApiState, object_id: str, kind: str) -> bytes | None:
    """The bytes of the newest stored JPEG derivative of that kind, if there is one."""
    from svidok.derive.store import derivatives_of

    for made in derivatives_of(state.home, object_id):
        if made["kind"] == kind and made["media_type"] == "image/jpeg":
            with state.home.store.open_content(made["object"], made["logical_path"]) as fh:
                return fh.read(8 << 20)
    return None


def _original(state: ApiState, case_id: str, record: str) -> tuple[str, str, str]:
    """(object id, media type, logical path) of the original an item of the case holds."""
    r, o = schema.records.c, schema.objects.c
    with state.home.catalog.engine.connect() as conn:
        row = conn.execute(
            select(o.id, o.media_type, o.logical_path)
            .join(schema.objects, o.id == r.object_id)
            .where(r.id == record, r.case_id == case_id)
        ).first()
    if row is None:
        raise NotFound("this record holds no evidence file")
    return str(row.id), str(row.media_type), str(row.logical_path)


def _picture_thumbnail(handle: BinaryIO) -> bytes | None:
    """A JPEG thumbnail of the picture in ``handle`` (closed), or None when it cannot be
    decoded safely."""
    from PIL import Image, ImageOps

    try:
        with handle, Image.open(handle) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.draft("RGB", (THUMB_PIXELS, THUMB_PIXELS))
            picture = ImageOps.exif_transpose(image).convert("RGB")
            picture.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=80)
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    return out.getvalue()


def thumbnail(state: ApiState, actor: Actor, case_id: str, record: str) -> bytes | None:
    """A JPEG at most 320 px on its longer side, or None when the original is neither a
    picture that can be decoded safely nor has a stored thumbnail (PDF page, video frame).
    The access is recorded before anything is sent; the original is opened only when no
    thumbnail of it is cached or stored."""
    object_id, media_type, logical_path = _original(state, case_id, record)
    if media_type not in THUMBNAIL_TYPES and not has_thumbnails(state, [object_id]):
        return None
    with state.writing():
        state.work.open_evidence(actor, case_id, record, action="thumbnail")
    data = _cache.get(object_id)
    if data is None:
        data = stored_preview(state, object_id, "thumbnail")  # made by `svidok previews`
    if data is None and media_type in THUMBNAIL_TYPES:
        data = _picture_thumbnail(state.home.store.open_content(object_id, logical_path))
    if data is not None:
        _cache.put(object_id, data)
    return data


def text_preview(
    state: ApiState, actor: Actor, case_id: str, record: str, found: EvidenceView
) -> tuple[str, bool]:
    """The beginning of the text original ``found`` (of ``record``), decoded
    (charset-normalizer), and whether it was cut short; recorded as a view first."""
    from charset_normalizer import from_bytes

    with state.writing():
        state.work.open_evidence(actor, case_id, record, action="view")
    with state.home.store.open_content(found.object, found.logical_path) as handle:
        raw = handle.read(TEXT_PREVIEW_BYTES)
    best = from_bytes(raw).best()
    decoded = str(best) if best is not None else raw.decode("utf-8", "replace")
    return decoded, found.size > TEXT_PREVIEW_BYTES
