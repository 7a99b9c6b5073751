"""Generate a small, deterministic sample evidence set (nothing is downloaded).

    python examples/make_samples.py OUTDIR

Writes four JPEG photos with camera EXIF and GPS at real places in Ukraine, a short MP4
video (H.264 if the PyAV wheel has libx264, else MPEG-4 Part 2) with a creation time and
an ISO 6709 location, a two-page PDF incident report with document information, a
bilingual (Ukrainian/English) witness-statement transcript in UTF-8 and a WAV audio clip.
All content is FICTIONAL and marked as a sample. Every generator uses a fixed seed, so
running the script again produces byte-identical files (with the same Pillow and PyAV
versions). Total size is well under 5 MB.

Tests and benchmarks import this file by path (``importlib``) for :func:`make_jpeg` and
the expected values in :data:`PHOTOS`, :data:`VIDEO`, :data:`PDF`.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import struct
import sys
import wave
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational

KYIV_WINTER = timezone(timedelta(hours=2))
KYIV_SUMMER = timezone(timedelta(hours=3))

# (file name, seed, (lat, lon, altitude m) or None, local time, make, model)
PHOTOS = [
    ("bucha-street.jpg", 11, (50.5436, 30.2171, 142.0),
     datetime(2022, 4, 2, 10, 41, 7, tzinfo=KYIV_SUMMER), "Samsung", "SM-A525F"),
    ("irpin-bridge.jpg", 12, (50.5181, 30.2498, 118.5),
     datetime(2022, 3, 6, 8, 15, 30, tzinfo=KYIV_WINTER), "Apple", "iPhone 12"),
    ("kharkiv-school.jpg", 13, (49.9935, 36.2304, 135.0),
     datetime(2022, 3, 1, 16, 2, 45, tzinfo=KYIV_WINTER), "Xiaomi", "Redmi Note 10"),
    ("no-gps-interior.jpg", 14, None,
     datetime(2022, 5, 19, 13, 30, 0), "Canon", "EOS 2000D"),  # naive: no offset recorded
]
VIDEO: dict[str, Any] = {
    "name": "mariupol-convoy.mp4",
    "seconds": 2.5,
    "fps": 10,
    "size": (320, 240),
    "creation_time": "2022-03-16T07:20:11.000000Z",
    "location": "+47.0951+037.5413/",
    "latitude": 47.0951,
    "longitude": 37.5413,
}
PDF: dict[str, Any] = {
    "name": "incident-report.pdf",
    "title": "SAMPLE Incident report 2022-04-02 (fictional)",
    "author": "Svidok sample generator",
    "creator": "examples/make_samples.py",
    "producer": "Svidok minimal PDF writer",
    "creation_date": "D:20220403091500+03'00'",
    "modification_date": "D:20220404120000Z",
    "pages": 2,
}
AUDIO: dict[str, Any] = {"name": "voice-note.wav", "seconds": 2.0, "rate": 16000}
TRANSCRIPT = "witness-statement.txt"


def _rational(value: float, denominator: int = 10000) -> IFDRational:
    return IFDRational(round(value * denominator), denominator)


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return IFDRational(degrees, 1), IFDRational(minutes, 1), _rational(seconds, 1000)


def exif_bytes(
    *, make: str, model: str, when: datetime | None, gps: tuple[float, float, float] | None
) -> bytes:
    """EXIF (``Exif\\0\\0`` + TIFF) with camera, time and GPS tags, via Pillow's writer."""
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0131] = "Svidok sample generator 1.0"
    exif[0x0112] = 1
    sub = exif.get_ifd(0x8769)
    if when is not None:
        stamp = when.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        sub[0x9003] = stamp
        sub[0x9004] = stamp
        sub[0x9291] = "250"
        if when.tzinfo is not None:
            offset = when.strftime("%z")
            sub[0x9011] = sub[0x9012] = sub[0x9010] = f"{offset[:3]}:{offset[3:]}"
    if gps is not None:
        lat, lon, alt = gps
        info = exif.get_ifd(0x8825)
        info[0x0000] = b"\x02\x03\x00\x00"
        info[0x0001] = "N" if lat >= 0 else "S"
        info[0x0002] = _dms(lat)
        info[0x0003] = "E" if lon >= 0 else "W"
        info[0x0004] = _dms(lon)
        info[0x0005] = b"\x00" if alt >= 0 else b"\x01"
        info[0x0006] = _rational(abs(alt), 10)
        if when is not None:
            utc = when.astimezone(UTC) if when.tzinfo else when
            info[0x0007] = tuple(IFDRational(v, 1) for v in (utc.hour, utc.minute, utc.second))
            info[0x001D] = utc.strftime("%Y:%m:%d")
        info[0x0012] = "WGS-84"
    return exif.tobytes()


def render_scene(seed: int, size: tuple[int, int]) -> Image.Image:
    """A plausible outdoor scene: sky gradient, ground, buildings, light sensor noise."""
    rng = random.Random(seed)
    width, height = size
    horizon = int(height * rng.uniform(0.45, 0.6))
    top = (rng.randint(90, 140), rng.randint(120, 170), rng.randint(170, 220))
    sky = Image.linear_gradient("L").resize((width, horizon))
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste(Image.merge("RGB", [sky.point(lambda v, c=c: c + v // 4) for c in top]))
    draw = ImageDraw.Draw(image)
    ground = (rng.randint(70, 110), rng.randint(65, 95), rng.randint(50, 70))
    draw.rectangle((0, horizon, width, height), fill=ground)
    x = 0
    while x < width:
        w = rng.randint(width // 14, width // 6)
        h = rng.randint(height // 8, height // 2)
        shade = rng.randint(90, 200)
        draw.rectangle((x, horizon - h, x + w, horizon), fill=(shade, shade - 10, shade - 25))
        for wy in range(horizon - h + 10, horizon - 10, 24):
            for wx in range(x + 8, x + w - 12, 20):
                lit = rng.random() < 0.3
                colour = (210, 190, 120) if lit else (40, 40, 48)
                draw.rectangle((wx, wy, wx + 9, wy + 12), fill=colour)
        x += w + rng.randint(0, width // 20)
    for _ in range(6):  # debris and smoke
        cx, cy, r = rng.randint(0, width), rng.randint(horizon, height), rng.randint(8, 40)
        draw.ellipse((cx - r, cy - r // 2, cx + r, cy + r // 2), fill=(60, 58, 55))
    noise = Image.frombytes("L", size, rng.randbytes(width * height)).point(lambda v: v // 16)
    noise = noise.filter(ImageFilter.BoxBlur(1))
    mixed = [Image.blend(channel, noise, 0.06) for channel in image.split()]
    return Image.merge("RGB", mixed).filter(ImageFilter.GaussianBlur(0.6))


def make_jpeg(
    path: Path,
    *,
    seed: int,
    size: tuple[int, int] = (1024, 768),
    gps: tuple[float, float, float] | None = (50.5436, 30.2171, 142.0),
    when: datetime | None = datetime(2022, 4, 2, 10, 41, 7, tzinfo=KYIV_SUMMER),
    make: str = "Samsung",
    model: str = "SM-A525F",
    quality: int = 85,
) -> Path:
    """Write a JPEG photo with EXIF camera, time (with offset if ``when`` is aware) and GPS."""
    image = render_scene(seed, size)
    data = io.BytesIO()
    image.save(
        data, "JPEG", quality=quality, exif=exif_bytes(make=make, model=model, when=when, gps=gps)
    )
    _write(Path(path), data.getvalue())
    return Path(path)


def make_video(path: Path) -> Path:
    """A 2.5 s clip: moving shapes, a tone track, creation_time and an ISO 6709 location."""
    import av

    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    width, height = VIDEO["size"]
    fps = int(VIDEO["fps"])
    frames = int(float(VIDEO["seconds"]) * fps)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        container.metadata["creation_time"] = str(VIDEO["creation_time"])
        container.metadata["location"] = str(VIDEO["location"])
        container.metadata["title"] = "SAMPLE convoy (fictional)"
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.thread_count = 1
        if codec == "libx264":
            stream.codec_context.options = {"preset": "veryfast", "crf": "28"}
        for index in range(frames):
            image = render_scene(100 + index // 8, (width, height))
            draw = ImageDraw.Draw(image)
            x = 10 + index * (width - 60) // frames
            draw.rectangle((x, height - 70, x + 50, height - 45), fill=(60, 80, 50))
            frame = av.VideoFrame(width, height, "rgb24")
            frame.planes[0].update(image.tobytes())
            frame = frame.reformat(format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    _write(Path(path), buffer.getvalue())
    return Path(path)


def make_wav(path: Path) -> Path:
    """A mono 16-bit PCM voice-note stand-in: a few tones with a fixed-seed hiss."""
    rng = random.Random(7)
    rate = int(AUDIO["rate"])
    count = int(float(AUDIO["seconds"]) * rate)
    samples = bytearray()
    for i in range(count):
        t = i / rate
        tone = 220 if t < 0.7 else 330 if t < 1.4 else 262
        value = 0.3 * math.sin(2 * math.pi * tone * t) + rng.uniform(-0.02, 0.02)
        samples += struct.pack("<h", int(value * 32767))
    data = io.BytesIO()
    with wave.open(data, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    _write(Path(path), data.getvalue())
    return Path(path)


def _pdf_text(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(path: Path) -> Path:
    """A two-page PDF 1.4 written by hand, with a document information dictionary."""
    pages = [
        ["SAMPLE - FICTIONAL INCIDENT REPORT",
         "Location: Bucha, Kyiv Oblast (50.5436 N, 30.2171 E)",
         "Date of events: 2022-04-02", "Photographs: bucha-street.jpg, irpin-bridge.jpg"],
        ["Page 2: chain of custody notes (sample)", "Collected by: sample investigator",
         "Hashes are recorded by Svidok at intake."],
    ]
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree (filled below)
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for lines in pages:
        shown = " ".join(f"{_pdf_text(x)} '" for x in lines)
        body = f"BT /F1 14 Tf 72 740 Td 18 TL {shown} ET"
        stream = body.encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids)
    )
    info = "<< " + " ".join(
        f"/{key} {_pdf_text(str(PDF[name]))}"
        for key, name in (("Title", "title"), ("Author", "author"), ("Creator", "creator"),
                          ("Producer", "producer"), ("CreationDate", "creation_date"),
                          ("ModDate", "modification_date"))
    ) + " >>"
    objects.append(info.encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    ident = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1, len(objects), ident, ident
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    _write(Path(path), bytes(out))
    return Path(path)


TRANSCRIPT_TEXT = """\
*** SAMPLE / ЗРАЗОК — FICTIONAL WITNESS STATEMENT, NOT REAL EVIDENCE ***
*** Вигадане свідчення для перевірки програми Svidok ***

Дата запису / Recorded: 2022-04-03 11:20 (+03:00)
Місце / Place: Буча, Київська область / Bucha, Kyiv Oblast

Свідок (С): Я вийшла з підвалу третього квітня вранці. На вулиці були спалені машини.
Witness (W): I came out of the basement on the morning of the third of April. There
were burnt cars in the street.

Інтерв'юер (І): Чи можете ви назвати точний час?
Interviewer (I): Can you give the exact time?

С: Близько дев'ятої. Я сфотографувала вулицю телефоном.
W: About nine o'clock. I photographed the street with my phone.

[Кінець зразка / End of sample]
"""


def make_transcript(path: Path) -> Path:
    _write(Path(path), TRANSCRIPT_TEXT.encode("utf-8"))
    return Path(path)


def _write(path: Path, data: bytes) -> None:
    """Write atomically, and only if the content differs (so re-runs touch nothing)."""
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def make_all(outdir: Path) -> list[Path]:
    """Write the whole sample set into ``outdir``; the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [
        make_jpeg(outdir / name, seed=seed, gps=gps, when=when, make=make, model=model)
        for name, seed, gps, when, make, model in PHOTOS
    ]
    written.append(make_video(outdir / str(VIDEO["name"])))
    written.append(make_pdf(outdir / str(PDF["name"])))
    written.append(make_transcript(outdir / TRANSCRIPT))
    written.append(make_wav(outdir / str(AUDIO["name"])))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python examples/make_samples.py OUTDIR", file=sys.stderr)
        return 2
    total = 0
    for path in make_all(Path(argv[0])):
        data = path.read_bytes()
        total += len(data)
        print(f"{hashlib.sha256(data).hexdigest()[:16]}  {len(data):>9,}  {path}")
    print(f"{total:,} bytes in total")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
