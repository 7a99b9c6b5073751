"""Files written by other tools or built byte by byte from the format specifications."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import av
import pytest

from svidok.intake.detect import detect_media_type
from svidok.intake.extract import extract_in_process

from . import builders as b
from .conftest import check_record


def _spec_exif(big_endian: bool) -> bytes:
    return b.build_exif(
        [
            (0x010F, b.ASCII, "NIKON CORPORATION"),
            (0x0110, b.ASCII, "NIKON D750"),
            (0x0112, b.SHORT, 6),
            (0x0131, b.ASCII, "Ver.1.10 "),
            (0x0132, b.ASCII, "2023:01:14 18:05:09"),
        ],
        exif=[
            (0x9003, b.ASCII, "2023:01:14 18:05:09"),
            (0x9011, b.ASCII, "-03:00"),
            (0x9291, b.ASCII, "07"),
            (0xA431, b.ASCII, "6012345"),
            (0x927C, b.UNDEFINED, b"Nikon\x00\x02\x10\x00\x00" + bytes(range(256)) * 4),
        ],
        gps=[
            (0x0000, b.BYTE, b"\x02\x02\x00\x00"),
            (0x0001, b.ASCII, "S"),
            (0x0002, b.RATIONAL, [(33, 1), (52, 1), (1234, 100)]),
            (0x0003, b.ASCII, "W"),
            (0x0004, b.RATIONAL, [(70, 1), (3, 1), (3000, 100)]),
            (0x0005, b.BYTE, b"\x01"),
            (0x0006, b.RATIONAL, [(125, 10)]),
            (0x0007, b.RATIONAL, [(21, 1), (5, 1), (9, 1)]),
            (0x001D, b.ASCII, "2023:01:14"),
        ],
        big_endian=big_endian,
    )


@pytest.mark.parametrize("big_endian", [True, False])
def test_jpeg_with_spec_built_exif(tmp_path: Path, big_endian: bool) -> None:
    path = tmp_path / "photo.bin"  # the name says nothing about the type
    path.write_bytes(b.jpeg_with_app1(_spec_exif(big_endian)))
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status, result.errors) == ("image/jpeg", "complete", ())
    assert (meta["make"], meta["model"], meta["software"]) == (
        "NIKON CORPORATION",
        "NIKON D750",
        "Ver.1.10",
    )
    assert meta["orientation"] == 6
    assert meta["body_serial_number"] == "6012345"
    assert meta["datetime_original"] == {
        "value": "2023-01-14T18:05:09.07-03:00",
        "raw": "2023:01:14 18:05:09",
        "offset": "-03:00",
    }
    # DateTime has no OffsetTime tag of its own here: naive, never invented.
    assert meta["datetime"] == {
        "value": "2023-01-14T18:05:09",
        "raw": "2023:01:14 18:05:09",
        "offset": None,
        "note": "no offset",
    }
    gps = meta["gps"]
    assert isinstance(gps, dict)
    assert gps["latitude"] == pytest.approx(-(33 + 52 / 60 + 12.34 / 3600), abs=1e-7)
    assert gps["longitude"] == pytest.approx(-(70 + 3 / 60 + 30 / 3600), abs=1e-7)
    assert gps["altitude"] == -12.5  # AltitudeRef 1: below sea level
    assert gps["timestamp"] == {
        "value": "2023-01-14T21:05:09+00:00",
        "raw": "2023:01:14 21:05:09",
        "offset": "+00:00",
    }
    exif = meta["exif"]
    assert isinstance(exif, dict)
    note = exif["Exif"]["MakerNote"]  # type: ignore[index]
    assert note.startswith("hex:4e696b6f6e00") and note.endswith("(1034 bytes)")


def test_heic_built_from_boxes(tmp_path: Path) -> None:
    tiff = _spec_exif(True)[6:]
    path = tmp_path / "IMG_0001"
    path.write_bytes(b.heif(tiff, width=4032, height=3024, rotation=1))
    assert detect_media_type(path) == "image/heic"
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert (result.status, result.errors) == ("complete", ())
    assert (meta["format"], meta["brand"], meta["width"], meta["height"], meta["rotation"]) == (
        "HEIF",
        "heic",
        4032,
        3024,
        90,
    )
    assert meta["make"] == "NIKON CORPORATION"
    assert isinstance(meta["gps"], dict) and meta["gps"]["latitude"] < 0


def test_heic_with_damaged_boxes(tmp_path: Path) -> None:
    data = bytearray(b.heif(_spec_exif(True)[6:]))
    meta_at = data.index(b"meta") - 4
    data[meta_at : meta_at + 4] = (10**9).to_bytes(4, "big")  # meta box overruns the file
    path = tmp_path / "broken.heic"
    path.write_bytes(bytes(data))
    result = extract_in_process(path)
    check_record(result)
    assert result.status == "failed"
    assert "HEIF structure" in result.errors[0]


def test_quicktime_with_apple_tags(tmp_path: Path) -> None:
    """A MOV muxed by FFmpeg with the keys an iPhone writes (mdta metadata)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mov", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata["com.apple.quicktime.location.ISO6709"] = "+50.4501+030.5234+179.000/"
        out.metadata["com.apple.quicktime.make"] = "Apple"
        out.metadata["com.apple.quicktime.model"] = "iPhone 13"
        out.metadata["com.apple.quicktime.creationdate"] = "2022-02-24T05:04:33+0200"
        out.metadata["creation_time"] = "2022-02-24T03:04:33.000000Z"
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 40]) * plane.buffer_size)
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    path = tmp_path / "IMG_0002.MOV"
    path.write_bytes(buffer.getvalue())
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status) == ("video/quicktime", "complete")
    assert (meta["make"], meta["model"]) == ("Apple", "iPhone 13")
    assert meta["gps"] == {
        "latitude": 50.4501,
        "longitude": 30.5234,
        "altitude": 179.0,
        "raw": "+50.4501+030.5234+179.000/",
        "source": "com.apple.quicktime.location.ISO6709",
    }
    assert meta["creation_date_local"] == {
        "value": "2022-02-24T05:04:33+02:00",
        "raw": "2022-02-24T05:04:33+0200",
        "offset": "+02:00",
    }
    assert meta["duration"] == pytest.approx(1.0, abs=0.01)


def test_pdf_dates_without_offset_and_partial(tmp_path: Path) -> None:
    path = tmp_path / "scan"
    path.write_bytes(
        b.pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [] /Count 0 >>",
                b"<< /Producer (Scanner 2.0) /CreationDate (D:20220310) "
                b"/ModDate (D:20220310143000) /Title <FEFF0417043D0456043C043E043A> >>",
            ],
            b"/Root 1 0 R /Info 3 0 R",
            version=b"1.3",
        )
    )
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert result.status == "complete"
    assert meta["pdf_version"] == "1.3"
    assert meta["title"] == "Знімок"
    assert meta["page_count"] == 0
    assert meta["creation_date"] == {
        "value": "2022-03-10T00:00:00",
        "raw": "D:20220310",
        "offset": None,
        "note": "partial date; missing fields set to the PDF defaults; no offset",
    }
    assert meta["modification_date"] == {
        "value": "2022-03-10T14:30:00",
        "raw": "D:20220310143000",
        "offset": None,
        "note": "no offset",
    }


@pytest.mark.parametrize(
    ("encoding", "bom", "expected_bom", "expected_encoding"),
    [
        ("utf-8", codecs.BOM_UTF8, "UTF-8", "utf-8"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16LE", "utf-16le"),
        ("cp1251", b"", None, "cp1251"),
    ],
)
def test_text_encodings(
    tmp_path: Path, encoding: str, bom: bytes, expected_bom: str | None, expected_encoding: str
) -> None:
    text = (
        "Свідок бачив, як колона техніки рухалася вулицею Яблунською о дев'ятій ранку.\r\n"
        "Потім він сховався у підвалі і чекав там до вечора, поки не стало тихо.\r\n"
    ) * 20
    path = tmp_path / "statement"
    path.write_bytes(bom + text.encode(encoding))
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert result.status == "complete", result.errors
    assert meta["bom"] == expected_bom
    assert meta["encoding"] == expected_encoding
    assert meta["line_endings"] == "CRLF"
    assert meta["lines"] == 40
    assert meta["cyrillic_language_hint"] == "uk"


def test_long_text_reads_a_bounded_prefix(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    line = "2022-03-01 10:00:00 shelling reported near the station\n"
    path.write_text(line * 40_000, encoding="ascii")  # 2.2 MB
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert meta["complete"] is False
    assert meta["examined_bytes"] == 1 << 20
    assert meta["note"] == "only the first 1 MiB was examined"
    assert meta["lines"] == (1 << 20) // len(line)


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
        ("AVIF", "image/avif"),
    ],
)
def test_other_image_formats_with_exif(
    tmp_path: Path, make_samples: object, fmt: str, media_type: str
) -> None:
    from PIL import Image

    exif = make_samples.exif_bytes(  # type: ignore[attr-defined]
        make="Google",
        model="Pixel 6",
        when=make_samples.PHOTOS[0][3],  # type: ignore[attr-defined]
        gps=(48.4647, 35.0462, 150.0),
    )
    path = tmp_path / "picture"
    Image.new("RGB", (96, 64), (20, 120, 200)).save(path, fmt, exif=exif)
    result = extract_in_process(path)
    check_record(result)
    meta = result.metadata
    assert (result.media_type, result.status) == (media_type, "complete"), result.errors
    assert (meta["format"], meta["width"], meta["height"]) == (fmt, 96, 64)
    assert (meta["make"], meta["model"]) == ("Google", "Pixel 6")
    gps = meta["gps"]
    assert isinstance(gps, dict)
    assert (gps["latitude"], gps["longitude"]) == (48.4647, 35.0462)
    assert meta["datetime_original"]["offset"] == "+03:00"  # type: ignore[index]


def _encrypted_pdf(path: Path, user: str, owner: str) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Protected report", "/CreationDate": "D:20220501120000+03'00'"})
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    with path.open("wb") as out:
        writer.write(out)
    return path


def test_pdf_encrypted_with_an_empty_user_password(tmp_path: Path) -> None:
    result = extract_in_process(_encrypted_pdf(tmp_path / "a.pdf", "", "owner-secret"))
    check_record(result)
    meta = result.metadata
    assert result.status == "complete", result.errors
    assert (meta["encrypted"], meta["opened_without_password"]) == (True, True)
    assert meta["title"] == "Protected report"
    assert meta["page_count"] == 2


def test_pdf_needing_a_password(tmp_path: Path) -> None:
    result = extract_in_process(_encrypted_pdf(tmp_path / "b.pdf", "user-secret", "owner"))
    check_record(result)
    meta = result.metadata
    assert result.status == "partial"
    assert (meta["encrypted"], meta["opened_without_password"]) == (True, False)
    assert "title" not in meta
    assert "password" in result.errors[0]
