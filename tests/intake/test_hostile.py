"""Hostile and broken inputs: every one yields an Extraction with a clear message, fast.

Each case runs in-process (where a hang would hit the pytest timeout) and through the
pool (which must return the same kind of answer and keep working).
"""

from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from svidok.intake.detect import EMPTY, detect_media_type
from svidok.intake.extract import Extraction, ExtractorPool, extract_in_process

from . import builders as b
from .conftest import check_record


def _exif_jpeg(**pointers: int) -> bytes:
    return b.jpeg_with_app1(
        b.build_exif(
            [(0x010F, b.ASCII, "Loop Camera"), (0x0110, b.ASCII, "L-1")],
            exif=[(0x9003, b.ASCII, "2022:03:01 10:00:00")],
            gps=[(0x0001, b.ASCII, "N"), (0x0002, b.RATIONAL, [(50, 1), (0, 1), (0, 1)])],
            **pointers,
        )
    )


def png_bomb(path: Path) -> None:
    path.write_bytes(b.png(100_000, 100_000))


def png_bomb_warning(path: Path) -> None:
    path.write_bytes(b.png(10_000, 10_000))  # 1e8 pixels: over the limit, under twice it


def truncated_jpeg(path: Path, samples: Path) -> None:
    data = (samples / "kharkiv-school.jpg").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def truncated_in_exif(path: Path, samples: Path) -> None:
    path.write_bytes((samples / "kharkiv-school.jpg").read_bytes()[:300])


def exif_ifd_loop(path: Path) -> None:
    # IFD0's next-IFD pointer, the Exif IFD pointer and the GPS pointer all lead back to
    # IFD0 itself (offset 8): a reader following pointers naively never ends.
    path.write_bytes(_exif_jpeg(exif_pointer=8, gps_pointer=8, next_ifd=8))


def exif_offsets_outside(path: Path) -> None:
    path.write_bytes(_exif_jpeg(exif_pointer=0xFFFFFF00, gps_pointer=0x7FFFFFF0))


def random_mp4(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(200_000))


def truncated_mp4(path: Path, samples: Path) -> None:
    data = (samples / "mariupol-convoy.mp4").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def pdf_reference_loop(path: Path) -> None:
    path.write_bytes(b.pdf([b"2 0 R", b"1 0 R"], b"/Root 1 0 R /Info 2 0 R"))


def pdf_huge_page_count(path: Path) -> None:
    path.write_bytes(
        b.pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 2147483647 >>",
            ],
            b"/Root 1 0 R",
        )
    )


def pdf_prev_loop(path: Path) -> None:
    data = b.pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"],
        b"/Root 1 0 R",
    )
    xref = data.index(b"xref")
    path.write_bytes(data.replace(b"/Root 1 0 R", b"/Root 1 0 R /Prev %d" % xref))


def garbage_txt(path: Path) -> None:
    path.write_bytes(bytes(random.Random(2).randrange(256) for _ in range(50_000)))


def empty(path: Path) -> None:
    path.write_bytes(b"")


# name, builder, expected media type, expected status, words expected in the message
CASES: list[tuple[str, Callable[..., None], str, str, str]] = [
    ("bomb.png", png_bomb, "image/png", "failed", "decompression bomb"),
    ("big.png", png_bomb_warning, "image/png", "partial", "decompression-bomb warning"),
    ("cut.jpg", truncated_jpeg, "image/jpeg", "partial", "probably truncated"),
    ("cut-in-exif.jpg", truncated_in_exif, "image/jpeg", "failed", "image header"),
    ("loop.jpg", exif_ifd_loop, "image/jpeg", "complete", ""),
    ("outside.jpg", exif_offsets_outside, "image/jpeg", "partial", "EXIF"),
    ("random.mp4", random_mp4, "application/octet-stream", "skipped", ""),
    ("cut.mp4", truncated_mp4, "video/mp4", "failed", "container could not be read"),
    ("loop.pdf", pdf_reference_loop, "application/pdf", "partial", "unreadable"),
    ("pages.pdf", pdf_huge_page_count, "application/pdf", "partial", "claims 2147483647"),
    ("prev.pdf", pdf_prev_loop, "application/pdf", "complete", ""),
    ("garbage.txt", garbage_txt, "application/octet-stream", "skipped", ""),
    ("empty.bin", empty, EMPTY, "skipped", ""),
]


def _build(tmp_path: Path, samples: Path, name: str, builder: Callable[..., None]) -> Path:
    path = tmp_path / name
    if "samples" in builder.__code__.co_varnames[: builder.__code__.co_argcount]:
        builder(path, samples)
    else:
        builder(path)
    return path


def _check(result: Extraction, media_type: str, status: str, words: str) -> None:
    check_record(result)
    assert result.media_type == media_type
    assert result.status == status, result
    if words:
        assert any(words in e for e in result.errors), result.errors
    if status == "skipped":
        assert isinstance(result.metadata.get("note"), str)


@pytest.mark.parametrize(
    ("name", "builder", "media_type", "status", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_in_process(
    tmp_path: Path,
    samples: Path,
    name: str,
    builder: Callable[..., None],
    media_type: str,
    status: str,
    words: str,
) -> None:
    path = _build(tmp_path, samples, name, builder)
    started = time.monotonic()
    result = extract_in_process(path)
    assert time.monotonic() - started < 10
    _check(result, media_type, status, words)


def test_hostile_through_the_pool(tmp_path: Path, samples: Path) -> None:
    paths = [_build(tmp_path, samples, c[0], c[1]) for c in CASES]
    with ExtractorPool(workers=2, timeout=20) as pool:
        futures = [pool.submit(p) for p in paths]
        for case, future in zip(CASES, futures, strict=True):
            _check(future.result(timeout=60), *case[2:])
        # still healthy afterwards
        assert pool.extract(samples / "bucha-street.jpg").status == "complete"


def test_exif_loop_still_reads_the_camera(tmp_path: Path) -> None:
    path = tmp_path / "loop.jpg"
    exif_ifd_loop(path)
    meta = extract_in_process(path).metadata
    assert (meta["make"], meta["model"]) == ("Loop Camera", "L-1")


def test_decompression_bomb_is_not_decoded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    png_bomb(path)
    assert path.stat().st_size < 200
    result = extract_in_process(path)
    assert "pixels" in result.errors[0]
    assert Image.MAX_IMAGE_PIXELS is not None  # the guard was left in force


def test_fifo_is_not_opened_for_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert detect_media_type(fifo) == "inode/fifo"
    result = extract_in_process(fifo)
    assert (result.media_type, result.status) == ("inode/fifo", "skipped")


def test_missing_file(tmp_path: Path) -> None:
    result = extract_in_process(tmp_path / "gone.jpg")
    assert result.status == "failed"
    assert "could not be opened" in result.errors[0]


def test_exif_strings_are_made_safe(tmp_path: Path) -> None:
    """Non-ASCII, NUL-ridden and huge EXIF strings come out as bounded valid text."""
    maker = b"Ca\xffnon\x00\x00junk"
    exif = b.build_exif(
        [
            (0x010F, b.UNDEFINED, maker),
            (0x0110, b.ASCII, "M" * 60_000),
            (0x010E, b.ASCII, b"caf\xe9 \xed\xa0\x80 \x00 end"),
        ],
    )
    path = tmp_path / "odd.jpg"
    data = b.jpeg_with_app1(exif[:65_000])
    path.write_bytes(data)
    result = extract_in_process(path)
    check_record(result)
    assert result.status in ("complete", "partial")
    meta = result.metadata
    assert meta["make"] == "hex:4361ff6e6f6e00006a756e6b"
    assert isinstance(meta["model"], str) and len(meta["model"]) == 2000
    assert any("model: text cut" in str(n) for n in meta["truncated"])  # type: ignore[union-attr]


def test_many_files_quickly_in_process(tmp_path: Path) -> None:
    """A smoke check that the in-process path holds no state between files."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    for i in range(50):
        path = tmp_path / f"{i}.png"
        path.write_bytes(buffer.getvalue())
        assert extract_in_process(path).status == "complete"
