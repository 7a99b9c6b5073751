"""What the near-duplicate tests share: generated natural-looking pictures (not flat
colours: PDQ gives flat pictures a low quality), the transformations a re-posted copy
goes through, and a case whose items are given files (``from analysis.kit import ...``)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from conftest import run_ingest, write
from svidok.cases.access import Actor
from svidok.cases.service import Casework, open_casework
from svidok.home import Home
from svidok.intake.ingest import IngestOptions

OPERATOR = Actor.operator("tester")
CASE = "dup-2026"


def natural(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture of soft gradients, a dozen large shapes and a little noise (a photograph's
    mostly low-frequency content), the same for the same seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.zeros((h, w, 3), np.float32)
    for _ in range(3):
        fx, fy = rng.uniform(0.2, 1.5, 2).tolist()
        phase = rng.uniform(0, 6.28)
        wave = np.sin(x / w * fx * 6.28 + y / h * fy * 6.28 + phase)
        base += wave[..., None] * rng.uniform(20, 60, 3)
    image = Image.fromarray(np.clip(base + 128, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(w // 6, w // 2)), y0 + int(rng.integers(h // 6, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    noisy = np.asarray(image, np.float32) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(2))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _crop(image: Image.Image) -> Image.Image:
    """5 % of the area cut away evenly around the border (about 1.3 % off each side).
    PDQ does not survive more: cutting 5 % off each axis (2.5 % off each side) moves
    these pictures 34 to 60 bits, and the PDQ project's own bridge photograph
    (pdq/data/reg-test-input/dih/bridge-1-original.jpg) 48 bits, past the 31 allowed."""
    side = (1 - 0.95**0.5) / 2
    dx, dy = round(image.width * side), round(image.height * side)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


TRANSFORMS: dict[str, Callable[[Image.Image], bytes]] = {
    "resize": lambda im: jpeg(im.resize((im.width // 2, im.height // 2))),
    "crop 5%": lambda im: jpeg(_crop(im)),
    "re-encode": lambda im: jpeg(im, quality=15),
    "brightness": lambda im: jpeg(ImageEnhance.Brightness(im).enhance(1.25)),
    "flip": lambda im: jpeg(ImageOps.mirror(im)),
}


def case_with_files(
    home: Home, folder: Path, files: dict[str, bytes]
) -> tuple[Casework, str, dict[str, str]]:
    """A case, the files ingested for it and each made an item: (casework, case id, item
    id by file name)."""
    work = open_casework(home)
    case = work.create_case(OPERATOR, {"reference": CASE, "title": "Near-duplicates"})
    paths = [write(folder / name, data) for name, data in files.items()]
    report = run_ingest(home, *paths, options=IngestOptions(case=CASE, collector="Olena Test"))
    received = [(str(o.object_id), o.path.rsplit(b"/", 1)[-1].decode())
                for o in report.outcomes if o.object_id]
    made = work.add_intake_items(OPERATOR, case.id, received)
    return work, case.id, {name: item for (_, name), item in zip(received, made, strict=True)}


def video(seeds: list[int], *, size: tuple[int, int] = (320, 240), fps: int = 5,
          quality: int = 4) -> bytes:
    """An MP4 showing the pictures ``natural(seed)`` for one second each (``quality``: the
    mpeg4 quantiser, higher is worse)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.options = {"qscale": str(quality)}
        stream.codec_context.qmin = quality
        stream.codec_context.qmax = quality
        index = 0
        for seed in seeds:
            image = natural(seed, size)
            for _ in range(fps):
                frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
                frame.pts = index
                index += 1
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
