"""Builders for test files written per the format specifications, not by Pillow or PyAV.

EXIF/TIFF (CIPA DC-008 / TIFF 6.0), HEIF (ISO/IEC 23008-12 boxes), PNG (RFC 2083) and
PDF (ISO 32000) are assembled byte by byte, so the extractors are checked against
files they did not write themselves.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
Entry = tuple[int, int, object]


def _encode(endian: str, typ: int, value: object) -> tuple[int, bytes]:
    if typ == ASCII:  # bytes are written raw, to build non-conforming strings
        data = (value if isinstance(value, bytes) else str(value).encode("ascii")) + b"\x00"
        return len(data), data
    if typ in (BYTE, UNDEFINED):
        assert isinstance(value, bytes)
        return len(value), value
    values = list(value) if isinstance(value, list | tuple) else [value]
    if typ == SHORT:
        return len(values), b"".join(struct.pack(endian + "H", v) for v in values)
    if typ == LONG:
        return len(values), b"".join(struct.pack(endian + "I", v) for v in values)
    code = "II" if typ == RATIONAL else "ii"
    return len(values), b"".join(struct.pack(endian + code, *v) for v in values)


def _ifd_size(endian: str, entries: list[Entry]) -> int:
    size = 2 + 12 * len(entries) + 4
    for _tag, typ, value in entries:
        length = len(_encode(endian, typ, value)[1])
        if length > 4:
            size += length + length % 2
    return size


def _ifd(endian: str, entries: list[Entry], offset: int, next_ifd: int) -> bytes:
    entries = sorted(entries, key=lambda e: e[0])
    data_at = offset + 2 + 12 * len(entries) + 4
    head = struct.pack(endian + "H", len(entries))
    data = b""
    for tag, typ, value in entries:
        count, payload = _encode(endian, typ, value)
        if len(payload) <= 4:
            field = payload.ljust(4, b"\x00")
        else:
            field = struct.pack(endian + "I", data_at + len(data))
            data += payload + b"\x00" * (len(payload) % 2)
        head += struct.pack(endian + "HHI", tag, typ, count) + field
    return head + struct.pack(endian + "I", next_ifd) + data


def build_exif(
    ifd0: list[Entry],
    exif: list[Entry] | None = None,
    gps: list[Entry] | None = None,
    *,
    big_endian: bool = True,
    exif_pointer: int | None = None,
    gps_pointer: int | None = None,
    next_ifd: int = 0,
) -> bytes:
    """APP1 payload ``Exif\\0\\0`` + TIFF; pointers may be overridden to corrupt it."""
    e = ">" if big_endian else "<"
    ifd0 = list(ifd0)
    if exif is not None:
        ifd0.append((0x8769, LONG, 0))
    if gps is not None:
        ifd0.append((0x8825, LONG, 0))
    off0 = 8
    off_exif = off0 + _ifd_size(e, ifd0)
    off_gps = off_exif + (_ifd_size(e, exif) if exif is not None else 0)
    ifd0 = [
        (
            t,
            ty,
            (exif_pointer if exif_pointer is not None else off_exif)
            if t == 0x8769
            else (gps_pointer if gps_pointer is not None else off_gps)
            if t == 0x8825
            else v,
        )
        for t, ty, v in ifd0
    ]
    out = (b"MM\x00\x2a" if big_endian else b"II\x2a\x00") + struct.pack(e + "I", off0)
    out += _ifd(e, ifd0, off0, next_ifd)
    if exif is not None:
        out += _ifd(e, exif, off_exif, 0)
    if gps is not None:
        out += _ifd(e, gps, off_gps, 0)
    return b"Exif\x00\x00" + out


def jpeg_with_app1(app1: bytes, size: tuple[int, int] = (64, 48)) -> bytes:
    """A baseline JPEG (pixels by Pillow, no EXIF) with ``app1`` inserted after SOI."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(buffer, "JPEG", quality=80)
    data = buffer.getvalue()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


def rationals(*values: float, den: int = 10000) -> list[tuple[int, int]]:
    return [(round(v * den), den) for v in values]


# --- PNG -------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A grayscale PNG declaring ``width`` x ``height``; ``idat`` defaults to one tiny row."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


# --- HEIF ------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def heif(exif_tiff: bytes, width: int = 4032, height: int = 3024, rotation: int = 1) -> bytes:
    """An iPhone-style HEIC: primary 'hvc1' item with ispe/irot, and an 'Exif' item."""
    image_data = b"\x00\x00\x00\x10" + b"\x26\x01" * 8  # not decodable; never decoded
    exif_item = struct.pack(">I", 6) + b"Exif\x00\x00" + exif_tiff

    def meta(image_at: int, exif_at: int) -> bytes:
        iloc = full_box(
            b"iloc",
            0,
            0,
            bytes([0x44, 0x00])
            + struct.pack(">H", 2)
            + struct.pack(">HHHII", 1, 0, 1, image_at, len(image_data))
            + struct.pack(">HHHII", 2, 0, 1, exif_at, len(exif_item)),
        )
        iinf = full_box(
            b"iinf",
            0,
            0,
            struct.pack(">H", 2)
            + full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"hvc1" + b"\x00")
            + full_box(b"infe", 2, 0, struct.pack(">HH", 2, 0) + b"Exif" + b"\x00"),
        )
        ipco = box(
            b"ipco",
            full_box(b"ispe", 0, 0, struct.pack(">II", width, height))
            + box(b"irot", bytes([rotation])),
        )
        ipma = full_box(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, 2) + bytes([0x81, 0x02]))
        return full_box(
            b"meta",
            0,
            0,
            full_box(b"hdlr", 0, 0, b"\x00" * 4 + b"pict" + b"\x00" * 13)
            + full_box(b"pitm", 0, 0, struct.pack(">H", 1))
            + iloc
            + iinf
            + box(b"iprp", ipco + ipma),
        )

    ftyp = box(b"ftyp", b"heic" + struct.pack(">I", 0) + b"mif1heic")
    start = len(ftyp) + len(meta(0, 0)) + 8
    return ftyp + meta(start, start + len(image_data)) + box(b"mdat", image_data + exif_item)


# --- PDF -------------------------------------------------------------------------------


def pdf(objects: list[bytes], trailer: bytes, version: bytes = b"1.7") -> bytes:
    """Objects 1..n with a correct classic xref table; ``trailer`` is the dict body."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def pdf_with_huge_xref(path: Path, entries: int) -> Path:
    """A valid PDF whose xref table lists ``entries`` objects (slow to parse, not hostile)."""
    head = pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"],
        b"/Root 1 0 R",
    )
    body = head[: head.index(b"xref")]
    xref = len(body)
    offsets = [body.index(b"1 0 obj"), body.index(b"2 0 obj")]
    with path.open("wb") as out:
        out.write(body)
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % entries)
        out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
        free = b"0000000000 00000 f \n"
        remaining = entries - 1 - len(offsets)
        while remaining:
            n = min(remaining, 100_000)
            out.write(free * n)
            remaining -= n
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % entries)
        out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return path


def tiff_with_long_description(path: Path, length: int) -> Path:
    """A valid 1x1 grayscale TIFF whose ImageDescription is ``length`` bytes of text."""
    entries_at = 8
    count = 9
    text_at = entries_at + 2 + 12 * count + 4
    pixel_at = text_at + length
    entries = [
        (256, LONG, 1),
        (257, LONG, 1),
        (258, SHORT, 8),
        (259, SHORT, 1),
        (262, SHORT, 1),
        (270, ASCII, None),
        (273, LONG, pixel_at),
        (278, LONG, 1),
        (279, LONG, 1),
    ]
    head = b"II*\x00" + struct.pack("<I", entries_at) + struct.pack("<H", count)
    for tag, typ, value in entries:
        if tag == 270:
            head += struct.pack("<HHII", tag, typ, length, text_at)
        elif typ == SHORT:
            head += struct.pack("<HHIHH", tag, typ, 1, value, 0)
        else:
            head += struct.pack("<HHII", tag, typ, 1, value)
    head += struct.pack("<I", 0)
    with path.open("wb") as out:
        out.write(head)
        block = b"Witness statement text. " * 43690
        remaining = length - 1
        while remaining:
            piece = block[:remaining]
            out.write(piece)
            remaining -= len(piece)
        out.write(b"\x00\x80")
    return path
