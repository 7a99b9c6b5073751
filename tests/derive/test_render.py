"""Preview rendering: every kind renders, deterministically and within its bounds, with no
metadata carried over; hostile and broken files end as plain errors, fast, with no worker
process left behind."""

from __future__ import annotations

import io
import os
import random
import struct
import time
import wave
from pathlib import Path

import pytest
from PIL import Image

from conftest import write_samples
from intake import builders as b
from svidok.derive.render import (
    PREVIEW_KINDS,
    Rendered,
    preview_kinds,
    render_previews,
)

ALGORITHM_PREFIX = "svidok-preview/1 (Pillow "
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def large_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A legal 81-megapixel PNG, small on disk, that takes seconds and ~250 MiB to decode."""
    path = tmp_path_factory.mktemp("large") / "large.png"
    Image.new("RGB", (9000, 9000), (40, 60, 80)).save(path, compress_level=1)
    return path


def _workers() -> list[str]:
    """Render workers (alive or zombie) that are children of this process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and (b"_render_worker" in cmdline or " Z " in stat):
            found.append(f"{entry.name}: {stat[:80]}")
    return found


def _decoded(preview: Rendered) -> Image.Image:
    image = Image.open(io.BytesIO(preview.data))
    assert image.format == FORMATS[preview.media_type]
    image.load()
    return image


def _check_clean(preview: Rendered) -> None:
    """No EXIF, GPS, XMP, ICC profile or text/time chunks in the preview's bytes."""
    data = preview.data
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop"):
        assert marker not in data, marker
    image = _decoded(preview)
    assert not image.getexif()
    if preview.media_type == "image/jpeg":
        assert b"\xff\xe1" not in data[: data.find(b"\xff\xda")]  # no APP1 before the scan
    else:
        for chunk in (b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME", b"iCCP"):
            assert chunk not in data, chunk


CASES = [
    ("bucha-street.jpg", "image/jpeg", {"thumbnail": "image/jpeg", "preview": "image/jpeg"}),
    ("no-gps-interior.jpg", "image/jpeg", {"thumbnail": "image/jpeg", "preview": "image/jpeg"}),
    ("mariupol-convoy.mp4", "video/mp4", {"thumbnail": "image/jpeg", "keyframes": "image/jpeg"}),
    ("voice-note.wav", "audio/x-wav", {"waveform": "image/png"}),
    (
        "incident-report.pdf",
        "application/pdf",
        {"thumbnail": "image/jpeg", "preview": "image/jpeg"},
    ),
]


@pytest.mark.parametrize(("name", "media_type", "kinds"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_renders_within_bounds_and_deterministically(
    samples: Path, name: str, media_type: str, kinds: dict[str, str]
) -> None:
    first, errors = render_previews(samples / name, media_type)
    assert errors == []
    assert {p.kind: p.media_type for p in first} == kinds
    assert tuple(p.kind for p in first) == preview_kinds(media_type)
    for preview in first:
        assert preview.algorithm.startswith(ALGORITHM_PREFIX)
        assert "pypdfium2 " in preview.algorithm and "PyAV " in preview.algorithm
        image = _decoded(preview)
        assert image.mode in ("RGB", "L")
        width, height = image.size
        if preview.kind == "thumbnail":
            assert max(width, height) <= 320 and preview.params["max_side"] == 320
        elif preview.kind == "preview":
            assert max(width, height) <= 1280 and preview.params["max_side"] == 1280
        elif preview.kind == "keyframes":
            frames = preview.params["frames"]
            assert isinstance(frames, int) and 2 <= frames <= 8
            assert height <= 160 and width <= frames * 320
        else:
            assert (width, height) == (800, 120)
            assert preview.params["seconds_drawn"] == pytest.approx(2.0, abs=0.01)
            assert preview.params["truncated"] is False
        _check_clean(preview)
    second, errors = render_previews(samples / name, media_type)
    assert errors == []
    assert [(p.kind, p.data, p.params, p.algorithm) for p in second] == [
        (p.kind, p.data, p.params, p.algorithm) for p in first
    ]
    assert _workers() == []


def test_video_poster_is_taken_a_tenth_in(samples: Path) -> None:
    previews, _ = render_previews(samples / "mariupol-convoy.mp4", "video/mp4")
    poster = next(p for p in previews if p.kind == "thumbnail")
    at = poster.params["at_seconds"]
    assert isinstance(at, float) and 0.2 <= at <= 0.4  # 10% of a 2.5 s clip, to a frame
    strip = next(p for p in previews if p.kind == "keyframes")
    times = [float(t) for t in str(strip.params["at_seconds"]).split(",")]
    assert times == sorted(times) and times[-1] <= 2.5


def test_video_display_rotation_is_applied(tmp_path: Path) -> None:
    import av

    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        for index in range(10):
            image = Image.new("RGB", (64, 32), (200, 0, 0))
            image.paste((0, 0, 200), (0, 0, 32, 32))  # left half blue
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    # the track header's matrix of a phone held upright: shown turned 90° clockwise
    data = path.read_bytes()
    identity = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    at = data.index(identity, data.index(b"tkhd"))
    turned = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(data[:at] + turned + data[at + len(identity) :])
    previews, errors = render_previews(path, "video/mp4")
    assert errors == [] and [p.kind for p in previews] == ["thumbnail", "keyframes"]
    for preview in previews:
        shown = _decoded(preview).convert("RGB")
        assert shown.height == 64  # each frame 32 wide and 64 high, upright
        assert shown.width % 32 == 0 and shown.width // 32 in range(1, 9)
        red, _green, blue = shown.getpixel((shown.width // 2, 3))  # type: ignore[misc]
        assert blue > 150 and red < 100  # the left (blue) half is now on top


def test_waveform_draws_at_most_thirty_minutes(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    second = bytes(128 + (64 if (i // 40) % 2 else -64) for i in range(8000))
    with wave.open(str(path), "wb") as out:  # 31 minutes of 8 kHz, 8-bit mono: 15 MB
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(second * (31 * 60))
    previews, errors = render_previews(path, "audio/x-wav")
    assert errors == []
    (waveform,) = previews
    assert waveform.params["seconds_drawn"] == 1800.0 and waveform.params["max_seconds"] == 1800
    assert waveform.params["truncated"] is True
    drawn = _decoded(waveform)
    assert drawn.size == (800, 120) and drawn.getpixel((400, 30)) < 128  # loud all along


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90° clockwise: portrait
    exif[0x010F] = "Serial Camera"
    exif[0xA431] = "SN-1234567"  # BodySerialNumber
    image = Image.new("RGB", (400, 200), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 200, 200))  # left half blue
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=95)
    previews, errors = render_previews(path, "image/jpeg")
    assert errors == []
    thumbnail = next(p for p in previews if p.kind == "thumbnail")
    assert thumbnail.params["exif_orientation"] == 6
    shown = _decoded(thumbnail)
    assert shown.size == (160, 320)
    red, _green, blue = shown.convert("RGB").getpixel((80, 40))  # type: ignore[misc]
    assert blue > 150 and red < 100  # the left (blue) half is now on top
    for preview in previews:
        _check_clean(preview)
        assert b"SN-1234567" not in preview.data and b"Serial Camera" not in preview.data


def test_no_exif_or_gps_survives_from_the_samples(samples: Path) -> None:
    originals = ["bucha-street.jpg", "irpin-bridge.jpg", "kharkiv-school.jpg"]
    for name in originals:
        assert b"GPS" in (samples / name).read_bytes() or Image.open(samples / name).getexif()
        previews, errors = render_previews(samples / name, "image/jpeg")
        assert errors == [] and len(previews) == 2
        for preview in previews:
            _check_clean(preview)


def test_transparency_and_sixteen_bit_images_render(tmp_path: Path) -> None:
    rgba = tmp_path / "alpha.png"
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(rgba)
    deep = tmp_path / "deep.png"
    Image.linear_gradient("L").resize((300, 100)).convert("I;16").save(deep)
    for path in (rgba, deep):
        previews, errors = render_previews(path, "image/png")
        assert errors == [] and [p.kind for p in previews] == ["thumbnail", "preview"]
    flat = _decoded(render_previews(rgba, "image/png")[0][0])
    assert flat.getpixel((10, 10)) == (255, 255, 255)  # transparent shown on white


@pytest.mark.parametrize(
    ("width", "height"), [(100_000, 100_000), (10_000, 10_001)], ids=["huge", "just-over"]
)
def test_decompression_bomb_is_an_error_not_a_render(
    tmp_path: Path, width: int, height: int
) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(b.png(width, height))  # a few dozen bytes on disk
    assert path.stat().st_size < 200
    started = time.monotonic()
    previews, errors = render_previews(path, "image/png")
    assert time.monotonic() - started < 10
    assert previews == []
    limit = "(at most 100000000 are decoded)"
    assert errors == [f"decompression bomb: {width}x{height} pixels {limit}"]
    assert _workers() == []


def _garbage(samples: Path, tmp_path: Path) -> list[tuple[Path, str]]:
    noise = random.Random(7).randbytes(64 * 1024)
    jpeg = (samples / "kharkiv-school.jpg").read_bytes()
    mp4 = (samples / "mariupol-convoy.mp4").read_bytes()
    pdf = (samples / "incident-report.pdf").read_bytes()
    wav = (samples / "voice-note.wav").read_bytes()
    files = {
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "image/jpeg"),
        "noise.jpg": (noise, "image/jpeg"),
        "header-only.png": (b.png(64, 64, idat=b""), "image/png"),
        "truncated.mp4": (mp4[: len(mp4) // 2], "video/mp4"),
        "tail.mp4": (mp4[len(mp4) // 2 :], "video/mp4"),
        "noise.mp4": (noise, "video/mp4"),
        "header-only.wav": (wav[:44], "audio/x-wav"),
        "noise.mp3": (noise, "audio/mpeg"),
        "truncated.pdf": (pdf[: len(pdf) // 2], "application/pdf"),
        "noise.pdf": (b"%PDF-1.7\n" + noise, "application/pdf"),
        "no-video.mp4": (wav, "video/mp4"),
        "no-audio.m4a": (mp4, "audio/mp4"),
        "heic-without-pixels.heic": (b.heif(b"II*\x00\x08\x00\x00\x00\x00\x00"), "image/heic"),
    }
    out = []
    for name, (data, media_type) in files.items():
        (tmp_path / name).write_bytes(data)
        out.append((tmp_path / name, media_type))
    return out


def test_broken_files_give_errors_never_a_crash_or_a_hang(samples: Path, tmp_path: Path) -> None:
    for path, media_type in _garbage(samples, tmp_path):
        started = time.monotonic()
        previews, errors = render_previews(path, media_type, timeout=30)
        elapsed = time.monotonic() - started
        assert previews == [], path.name
        assert len(errors) == 1 and 10 < len(errors[0]) <= 500, (path.name, errors)
        assert "stopped after" not in errors[0] and "crashed" not in errors[0], errors
        assert elapsed < 15, (path.name, elapsed)
    assert _workers() == []


def test_heic_needs_pillow_heif(samples: Path, tmp_path: Path) -> None:
    heic = next(p for p, t in _garbage(samples, tmp_path) if t == "image/heic")
    previews, errors = render_previews(heic, "image/heic")
    assert previews == [] and len(errors) == 1
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        assert "pillow-heif" in errors[0]


def test_wall_clock_timeout_kills_the_worker(large_png: Path) -> None:
    started = time.monotonic()
    previews, errors = render_previews(large_png, "image/png", timeout=0.5)
    assert time.monotonic() - started < 5
    assert previews == [] and errors == ["stopped after 0.5 s"]
    assert _workers() == []


def test_memory_limit_stops_a_large_legal_image(large_png: Path) -> None:
    previews, errors = render_previews(large_png, "image/png", memory_limit=192 << 20)
    assert previews == [] and errors == ["out of memory (192 MiB)"]
    assert _workers() == []


def test_memory_limit_too_small_for_a_decoder_library(samples: Path) -> None:
    previews, errors = render_previews(
        samples / "mariupol-convoy.mp4", "video/mp4", memory_limit=48 << 20
    )
    assert previews == [] and errors == ["out of memory (48 MiB)"]
    assert _workers() == []


def test_pdf_with_javascript_and_a_huge_rotated_page(tmp_path: Path) -> None:
    content = b"0 0 1 rg 0 0 7200 3600 re f"
    pdf = b.pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R"
            b" /AcroForm << /Fields [] /NeedAppearances true >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 7200] /Rotate 90"
            b" /Contents 5 0 R >>",
            b"<< /S /JavaScript /JS (app.alert('opened');"
            b" this.submitForm('http://x.invalid/');) >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        ],
        b"/Root 1 0 R",
    )
    path = tmp_path / "scripted.pdf"
    path.write_bytes(pdf)
    previews, errors = render_previews(path, "application/pdf")
    assert errors == []
    preview = next(p for p in previews if p.kind == "preview")
    assert _decoded(preview).size == (640, 1280)  # 2:1 landscape page turned upright
    thumbnail = next(p for p in previews if p.kind == "thumbnail")
    assert _decoded(thumbnail).size == (160, 320)


def test_empty_files_and_types_without_previews(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert render_previews(empty, "image/jpeg") == ([], ["the file is empty"])
    text = tmp_path / "notes.txt"
    text.write_text("a statement")
    assert render_previews(text, "text/plain; charset=utf-8") == ([], [])
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert render_previews(svg, "image/svg+xml") == ([], [])
    assert render_previews(tmp_path, "image/png") == ([], ["not a regular file"])
    missing = render_previews(tmp_path / "missing.png", "image/png")
    assert missing[0] == [] and missing[1][0].startswith("the file could not be read")
    assert _workers() == []


def test_preview_kinds_by_type() -> None:
    assert preview_kinds("IMAGE/JPEG") == ("thumbnail", "preview")
    assert preview_kinds("image/svg+xml") == ()
    assert preview_kinds("video/quicktime") == ("thumbnail", "keyframes")
    assert preview_kinds("audio/ogg") == ("waveform",)
    assert preview_kinds("application/pdf") == PREVIEW_KINDS["application/pdf"]
    assert preview_kinds("application/zip") == ()
    assert preview_kinds("nonsense") == ()


def test_bad_limits_are_refused(samples: Path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        render_previews(samples / "bucha-street.jpg", "image/jpeg", timeout=0)
    with pytest.raises(ValueError, match="memory"):
        render_previews(samples / "bucha-street.jpg", "image/jpeg", memory_limit=1 << 20)
