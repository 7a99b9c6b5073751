"""HEIF/HEIC metadata (iPhone photos) without a HEIF decoder.

Pillow cannot open HEIC without the pillow-heif plugin, so this module reads the ISO
base media file structure itself (ISO/IEC 23008-12): the primary item's ``ispe``
(width, height) and ``irot`` properties, and the ``Exif`` item, whose TIFF payload
is parsed by Pillow's EXIF reader. Every size, count and offset is bounded; nothing
is decoded.
"""

from __future__ import annotations

import struct
import warnings
from typing import IO

from svidok.intake.extract_image import fill_exif
from svidok.intake.extract_model import Report, describe

MAX_META = 4 << 20
MAX_EXIF = 4 << 20
MAX_BOXES = 4096


class HeifError(ValueError):
    """The HEIF structure is damaged."""


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        if len(out) >= MAX_BOXES:
            raise HeifError("too many boxes")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise HeifError("truncated box header")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise HeifError(f"box {kind!r} overruns its container")
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


class _Reader:
    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def uint(self, size: int) -> int:
        if size == 0:
            return 0
        if size not in (1, 2, 3, 4, 8) or self.pos + size > self.end:
            raise HeifError("truncated or malformed field")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value


def _top_level(stream: IO[bytes], size: int) -> tuple[bytes, bytes]:
    """The ftyp payload and the meta box payload, read without loading mdat."""
    ftyp, meta = b"", b""
    pos = 0
    for _ in range(64):
        if pos + 8 > size:
            break
        stream.seek(pos)
        head = stream.read(16)
        if len(head) < 8:
            break
        box_size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if box_size == 1 and len(head) >= 16:
            (box_size,) = struct.unpack_from(">Q", head, 8)
            header = 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header:
            raise HeifError("malformed top-level box")
        if kind in (b"ftyp", b"meta"):
            if box_size > MAX_META:
                raise HeifError(f"{kind.decode()} box is larger than {MAX_META >> 20} MiB")
            stream.seek(pos + header)
            payload = stream.read(box_size - header)
            if kind == b"ftyp":
                ftyp = payload
            else:
                meta = payload
        pos += box_size
        if ftyp and meta:
            break
    return ftyp, meta


def _parse_meta(meta: bytes) -> dict[str, object]:
    children = {kind: (s, e) for kind, s, e in _boxes(meta, 4)}
    primary = None
    if b"pitm" in children:
        s, e = children[b"pitm"]
        r = _Reader(meta, s, e)
        version = r.uint(1)
        r.uint(3)
        primary = r.uint(2 if version == 0 else 4)
    types: dict[int, bytes] = {}
    if b"iinf" in children:
        s, e = children[b"iinf"]
        version = meta[s] if s < e else 0
        first = s + 4 + (2 if version == 0 else 4)
        for kind, bs, be in _boxes(meta, first, e):
            if kind != b"infe":
                continue
            r = _Reader(meta, bs, be)
            v = r.uint(1)
            r.uint(3)
            if v < 2:
                continue
            item = r.uint(2 if v == 2 else 4)
            r.uint(2)
            types[item] = meta[r.pos : r.pos + 4]
    locations: dict[int, tuple[int, list[tuple[int, int]]]] = {}
    if b"iloc" in children:
        s, e = children[b"iloc"]
        r = _Reader(meta, s, e)
        version = r.uint(1)
        r.uint(3)
        sizes = r.uint(1)
        more = r.uint(1)
        off_size, len_size, base_size = sizes >> 4, sizes & 15, more >> 4
        index_size = more & 15 if version in (1, 2) else 0
        count = r.uint(2 if version < 2 else 4)
        for _ in range(min(count, MAX_BOXES)):
            item = r.uint(2 if version < 2 else 4)
            method = r.uint(2) & 15 if version in (1, 2) else 0
            r.uint(2)
            base = r.uint(base_size)
            extents = []
            for _ in range(min(r.uint(2), 256)):
                r.uint(index_size)
                extents.append((base + r.uint(off_size), r.uint(len_size)))
            locations[item] = (method, extents)
    props: list[tuple[bytes, int, int]] = []
    links: dict[int, list[int]] = {}
    if b"iprp" in children:
        s, e = children[b"iprp"]
        for kind, bs, be in _boxes(meta, s, e):
            if kind == b"ipco":
                props = _boxes(meta, bs, be)
            elif kind == b"ipma":
                r = _Reader(meta, bs, be)
                version = r.uint(1)
                flags = r.uint(3)
                for _ in range(min(r.uint(4), MAX_BOXES)):
                    item = r.uint(2 if version < 1 else 4)
                    wide = flags & 1
                    links[item] = [
                        r.uint(2 if wide else 1) & (0x7FFF if wide else 0x7F)
                        for _ in range(r.uint(1))
                    ]
    idat = children.get(b"idat")
    return {
        "primary": primary,
        "types": types,
        "locations": locations,
        "props": props,
        "links": links,
        "idat": idat,
    }


def _item_bytes(stream: IO[bytes], meta: bytes, parsed: dict[str, object], item: int) -> bytes:
    locations = parsed["locations"]
    assert isinstance(locations, dict)
    method, extents = locations.get(item, (0, []))
    if sum(length for _, length in extents) > MAX_EXIF:
        raise HeifError("Exif item is implausibly large")
    chunks = []
    for offset, length in extents:
        if method == 1 and isinstance(parsed["idat"], tuple):
            start = parsed["idat"][0] + offset
            chunks.append(meta[start : min(start + length, parsed["idat"][1])])
        elif method == 0:
            stream.seek(offset)
            chunks.append(stream.read(length))
        else:
            raise HeifError("Exif item uses an unsupported storage method")
    return b"".join(chunks)


def extract_heif(stream: IO[bytes], size: int, report: Report) -> None:
    """Fill ``report`` with HEIF metadata (format, width, height, rotation, EXIF)."""
    try:
        ftyp, meta = _top_level(stream, size)
        if not meta:
            raise HeifError("no 'meta' box, so no image items")
        parsed = _parse_meta(meta)
    except (HeifError, struct.error, IndexError) as exc:
        report.fatal = True
        report.error(f"the HEIF structure could not be read: {describe(exc)}")
        return
    out = report.metadata
    out["format"] = "HEIF"
    if len(ftyp) >= 4:
        out["brand"] = ftyp[:4].decode("latin-1").strip()
    primary, props, links = parsed["primary"], parsed["props"], parsed["links"]
    assert isinstance(props, list) and isinstance(links, dict)
    for index in links.get(primary, []) if isinstance(primary, int) else []:
        if not 1 <= index <= len(props):
            continue
        kind, s, e = props[index - 1]
        if kind == b"ispe" and e - s >= 12:
            out["width"], out["height"] = struct.unpack_from(">II", meta, s + 4)
        elif kind == b"irot" and e - s >= 1:
            out["rotation"] = (meta[s] & 3) * 90
    types = parsed["types"]
    assert isinstance(types, dict)
    exif_items = [item for item, kind in types.items() if kind == b"Exif"]
    if not exif_items:
        return
    try:
        payload = _item_bytes(stream, meta, parsed, exif_items[0])
        if len(payload) < 4:
            raise HeifError("Exif item is empty")
        (skip,) = struct.unpack_from(">I", payload)
        from PIL import Image

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exif = Image.Exif()
            exif.load(payload[4 + skip :])
            fill_exif(exif, report)
        for warning in caught:
            report.error(f"damaged EXIF data: {' '.join(str(warning.message).split())}")
    except MemoryError:
        raise
    except Exception as exc:
        report.error(f"EXIF could not be read: {describe(exc)}")
