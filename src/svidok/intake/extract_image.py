"""Image metadata with Pillow, read from headers only: pixels are never decoded.

Pillow's decompression-bomb guard (:data:`PIL.Image.MAX_IMAGE_PIXELS`) stays in force:
an image declaring more than twice that many pixels is refused (status ``failed``), and
the warning Pillow gives above the limit is recorded as an error (status ``partial``).
Pillow's warnings about corrupt EXIF data are recorded as errors too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import IO, Any

from svidok.intake.extract_model import Report, bytes_to_text, describe, guarded
from svidok.intake.extract_times import exif_time, gps_time

# Formats Pillow may try (MPO comes through the JPEG plugin); anything else (EPS, which
# runs Ghostscript, and the rarer plugins) is refused even if libmagic calls the content
# an image. Formats this Pillow lacks are left out when the list is first used.
PILLOW_FORMATS = (
    "JPEG",
    "PNG",
    "TIFF",
    "WEBP",
    "GIF",
    "BMP",
    "AVIF",
    "JPEG2000",
    "ICO",
    "PPM",
    "TGA",
    "PCX",
    "DDS",
    "QOI",
    "PSD",
)
_available: tuple[str, ...] | None = None


def _formats() -> tuple[str, ...]:
    global _available
    if _available is None:
        from PIL import Image

        Image.init()
        _available = tuple(f for f in PILLOW_FORMATS if f in Image.OPEN)
    return _available


EXIF_IFD, GPS_IFD, INTEROP_IFD, IFD1 = 0x8769, 0x8825, 0xA005, -1
_POINTERS = {EXIF_IFD, GPS_IFD, INTEROP_IFD, 0x927C}  # 0x927C (MakerNote) is kept as bytes
_TAGS_MAIN = {
    0x010F: "make",
    0x0110: "model",
    0x0131: "software",
    0x013B: "artist",
    0x8298: "copyright",
    0x010E: "image_description",
}
_TAGS_EXIF = {0xA431: "body_serial_number", 0xA434: "lens_model", 0xA433: "lens_make"}


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = bytes_to_text(value)
    if isinstance(value, str):
        value = value.rstrip("\x00").strip()
        return value or None
    return None


def exif_value_text(value: object) -> str:
    """One EXIF value as a short string, for the bounded ``exif`` map."""
    if isinstance(value, bytes):
        return bytes_to_text(value)
    if isinstance(value, tuple):
        return ", ".join(exif_value_text(v) for v in value[:64]) + (
            ", …" if len(value) > 64 else ""
        )
    if isinstance(value, str):
        return value.rstrip("\x00")
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if isinstance(numerator, int) and isinstance(denominator, int):
        return f"{numerator}/{denominator}" if denominator != 1 else str(numerator)
    return str(value)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _dms(value: object, ref: object, negative: str) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return _number(value)  # some writers store decimal degrees directly
    parts = [_number(v) for v in value]
    if any(p is None for p in parts):
        return None
    degrees, minutes, seconds = (p for p in parts if p is not None)
    result = degrees + minutes / 60 + seconds / 3600
    ref_text = _text(ref)
    return -result if ref_text and ref_text.upper().startswith(negative) else result


def _gps(gps: Mapping[int, Any], report: Report) -> dict[str, object] | None:
    if not gps:
        return None
    out: dict[str, object] = {}
    if 2 in gps:
        lat = _dms(gps[2], gps.get(1), "S")
        lon = _dms(gps.get(4), gps.get(3), "W") if 4 in gps else None
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            report.error("GPS position in EXIF is unreadable or out of range; not used")
        else:
            out["latitude"], out["longitude"] = round(lat, 7), round(lon, 7)
    if 6 in gps:
        alt = _number(gps[6])
        ref = gps.get(5)
        below = ref in (1, b"\x01", "\x01") or (isinstance(ref, tuple) and ref[:1] == (1,))
        if alt is None:
            report.error("GPS altitude in EXIF is unreadable; not used")
        else:
            out["altitude"] = -alt if below else alt
    stamp = gps.get(7)
    if isinstance(stamp, tuple) and len(stamp) == 3:
        hms = [_number(v) for v in stamp]
        if all(v is not None for v in hms):
            h, m, s = (v for v in hms if v is not None)
            out["timestamp"] = gps_time(_text(gps.get(29)), (h, m, s))
        else:
            report.error("GPS timestamp in EXIF is unreadable; not used")
    for tag, name in ((18, "map_datum"), (27, "processing_method"), (11, "dop")):
        if tag in gps:
            out[name] = _text(gps[tag]) if tag != 11 else _number(gps[tag])
    return out or None


def fill_exif(exif: Any, report: Report) -> None:
    """Normalised EXIF fields and the bounded ``exif`` map from a Pillow ``Image.Exif``."""
    from PIL import ExifTags

    main = dict(exif.items())
    ifds: dict[str, Mapping[int, Any]] = {"IFD0": main}
    directories = (("Exif", EXIF_IFD), ("GPS", GPS_IFD), ("Interop", INTEROP_IFD), ("IFD1", IFD1))
    for name, tag in directories:
        if tag == IFD1 or tag in main or (tag == INTEROP_IFD and EXIF_IFD in main):
            try:
                ifds[name] = exif.get_ifd(tag)
            except MemoryError:
                raise
            except Exception as exc:
                report.error(f"EXIF {name} directory is unreadable: {describe(exc)}")
    sub = ifds.get("Exif", {})
    meta = report.metadata
    for tag, key in _TAGS_MAIN.items():
        if (text := _text(main.get(tag))) is not None:
            meta[key] = text
    for tag, key in _TAGS_EXIF.items():
        if (text := _text(sub.get(tag))) is not None:
            meta[key] = text
    for key, tag, offset_tag, subsec_tag, source in (
        ("datetime_original", 0x9003, 0x9011, 0x9291, sub),
        ("datetime_digitized", 0x9004, 0x9012, 0x9292, sub),
        ("datetime", 0x0132, 0x9010, 0x9290, main),
    ):
        raw = _text(source.get(tag))
        if raw is not None:
            meta[key] = exif_time(raw, _text(sub.get(offset_tag)), _text(sub.get(subsec_tag)))
    orientation = main.get(0x0112)
    if isinstance(orientation, int):
        meta["orientation"] = orientation
    gps = _gps(ifds.get("GPS", {}), report)
    if gps:
        meta["gps"] = gps
    full: dict[str, dict[str, str]] = {}
    for name, ifd in ifds.items():
        names = ExifTags.GPSTAGS if name == "GPS" else ExifTags.TAGS
        entries = {
            names.get(tag, f"0x{tag:04X}"): exif_value_text(value)
            for tag, value in ifd.items()
            if not (tag in _POINTERS and isinstance(value, int))
        }
        if entries:
            full[name] = entries
    if full:
        meta["exif"] = full


def _jpeg_ends(stream: IO[bytes]) -> bool:
    """Whether an end-of-image marker (FF D9) follows the first start-of-scan (FF DA).

    Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart
    marker, so the first FF D9 after the scan starts is the real end of the image.
    """
    stream.seek(0)
    tail = b""
    in_scan = False
    while chunk := stream.read(1 << 20):
        data = tail + chunk
        if not in_scan:
            start = data.find(b"\xff\xda")
            if start < 0:
                tail = data[-1:]
                continue
            in_scan, data = True, data[start:]
        if data.find(b"\xff\xd9") >= 0:
            return True
        tail = data[-1:]
    return False


def _png_ends(stream: IO[bytes]) -> bool:
    """Whether the chunk chain reaches IEND with every chunk wholly present."""
    stream.seek(0, 2)
    size = stream.tell()
    pos = 8
    for _ in range(1 << 20):
        stream.seek(pos)
        head = stream.read(8)
        if len(head) < 8:
            return False
        length = int.from_bytes(head[:4], "big")
        pos += 12 + length
        if pos > size:
            return False
        if head[4:8] == b"IEND":
            return True
    return False


def extract_image(stream: IO[bytes], report: Report) -> None:
    """Fill ``report`` with image metadata read from ``stream`` (see the schema)."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            im = Image.open(stream, formats=_formats())
        except Image.DecompressionBombError as exc:
            report.fatal = True
            report.error(f"refused as a possible decompression bomb: {describe(exc)}")
            return
        except UnidentifiedImageError:
            report.fatal = True
            report.error("Pillow does not recognise this image format or the header is damaged")
            return
        except MemoryError:
            raise
        except Exception as exc:
            report.fatal = True
            report.error(f"the image header could not be read: {describe(exc)}")
            return
        with im:
            meta = report.metadata
            meta["format"] = im.format
            meta["width"], meta["height"] = im.size
            meta["mode"] = im.mode
            info = im.info
            if isinstance(info.get("icc_profile"), bytes):
                meta["icc_profile_bytes"] = len(info["icc_profile"])
            if isinstance(info.get("xmp"), bytes | str):
                meta["xmp_bytes"] = len(info["xmp"])
            dpi = info.get("dpi")
            if isinstance(dpi, tuple) and len(dpi) == 2:
                meta["dpi"] = [_number(dpi[0]), _number(dpi[1])]
            if im.format == "PNG" and "exif" not in info:
                pass  # a PNG eXIf chunk after the pixel data would need decoding; not read
            else:
                guarded(report, "EXIF could not be read", lambda: fill_exif(im.getexif(), report))
            ended = _jpeg_ends(stream) if im.format in ("JPEG", "MPO") else None
            ended = _png_ends(stream) if im.format == "PNG" else ended
            if ended is not None:
                meta["image_data_complete"] = ended
                if not ended:
                    report.error(
                        "the image data stops before its end marker; the file is probably truncated"
                    )
    for warning in caught:
        text = " ".join(str(warning.message).split())
        if issubclass(warning.category, Image.DecompressionBombWarning):
            report.error(f"decompression-bomb warning (pixels not decoded): {text}")
        elif "EXIF" in text or "Tag" in text:
            report.error(f"damaged EXIF data: {text}")
