"""Computing PDQ and vPDQ hashes of one file. Runs only inside the hash worker
(:mod:`svidok.analysis._hash_worker`), after its limits are set.

Pictures are decoded as the preview renderer decodes them (Pillow, the same
decompression-bomb guard, EXIF orientation applied, transparency flattened onto white).
A picture larger than :data:`DOWNSAMPLE` (384) pixels on a side is then resized to
384×384 (nearest neighbour) before hashing, as ThreatExchange's reference
``pdq-photo-hasher`` resizes to 512×512 (``pdq/cpp/io/pdqio.cpp``). Why 384 and not 512:
on the PDQ project's eight ``reg-test-input/dih`` photographs (1600×1004), the hashes made
at 512 with Pillow's JPEG decoder were 6 to 16 bits from the C++ reference's published
hashes (half beyond the 10 PDQ's README allows an implementation), those made at 384 were
2 to 10 (all within), and hashing takes half the time. The eight dihedral hashes
(rotations and flips) are kept so a flipped or rotated copy can be found.

Videos (vPDQ): one frame per second of the first video stream (the first frame at or after
each whole second), each resized so its longer side is at most :data:`DOWNSAMPLE` pixels
and hashed with PDQ; at most :data:`MAX_FRAMES` frames: a longer video is sampled at a
longer interval, said in the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from svidok.analysis.pdq import IMAGE_ALGORITHM, VIDEO_ALGORITHM

DOWNSAMPLE: Final = 384
MAX_FRAMES: Final = 7200
MAX_VIDEO_PACKETS: Final = 5_000_000
DIHEDRAL: Final = ("original", "rotate90", "rotate180", "rotate270", "flipx", "flipy",
                   "flipplus1", "flipminus1")


class HashFailed(Exception):
    """This file cannot be hashed; the message says why in plain words."""


@dataclass(frozen=True)
class Result:
    """What the worker sends back for one file (JSON-ready members)."""

    algorithm: str
    hash: str | None  # pictures: the PDQ hash
    quality: int | None
    dihedral: list[str]  # pictures: the 7 other dihedral hashes, in DIHEDRAL order
    frames: list[list[Any]]  # videos: [hash, quality, seconds] per sampled frame
    interval: float | None  # videos: seconds between samples

    def to_json(self) -> dict[str, object]:
        return {"algorithm": self.algorithm, "hash": self.hash, "quality": self.quality,
                "dihedral": self.dihedral, "frames": self.frames, "interval": self.interval}


def _hex(bits: Any) -> str:
    import numpy as np

    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def hash_picture(image: Any) -> tuple[list[str], int]:
    """The 8 dihedral PDQ hashes (original first) and quality of an RGB Pillow image."""
    import numpy as np
    import pdqhash  # type: ignore[import-untyped]
    from PIL import Image

    if image.width > DOWNSAMPLE or image.height > DOWNSAMPLE:
        image = image.resize((DOWNSAMPLE, DOWNSAMPLE), Image.Resampling.NEAREST)
    if image.width < 5 or image.height < 5:
        raise HashFailed(f"too small to hash ({image.width}x{image.height} pixels)")
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(np.asarray(image)))
    return [_hex(h) for h in hashes], int(quality)


def hash_image(path: Path, media_type: str) -> Result:
    from svidok.derive._render_image import _open_decoded
    from svidok.derive._render_media import RenderFailed

    try:
        image, _orientation = _open_decoded(path, media_type)
    except RenderFailed as exc:
        raise HashFailed(str(exc)) from None
    hashes, quality = hash_picture(image)
    return Result(IMAGE_ALGORITHM, hashes[0], quality, hashes[1:], [], None)


def _fit(image: Any) -> Any:
    from PIL import Image

    scale = DOWNSAMPLE / max(image.width, image.height)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


def hash_video(path: Path) -> Result:
    import av

    from svidok.derive._render_av import _duration, _opened, _picture, _start
    from svidok.derive._render_media import RenderFailed, bomb_message
    from svidok.derive.render import MAX_PIXELS

    frames: list[list[Any]] = []
    try:
        with _opened(av, path, "video") as (container, stream):
            width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
            if width * height > MAX_PIXELS:
                raise HashFailed(bomb_message(width, height))
            duration = _duration(container, stream)
            interval = 1.0
            if duration is not None and duration > MAX_FRAMES:
                interval = math.ceil(duration / MAX_FRAMES)
            start, due, packets = _start(stream), 0.0, 0
            for packet in container.demux(stream):
                packets += 1
                if packets > MAX_VIDEO_PACKETS or len(frames) >= MAX_FRAMES:
                    break
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    continue
                for frame in decoded:
                    at = None if frame.time is None else float(frame.time) - start
                    if at is not None and at < due:
                        continue
                    hashes, quality = hash_picture(_fit(_picture(frame)))
                    seconds = round(at if at is not None else due, 3)
                    frames.append([hashes[0], quality, seconds])
                    due = (math.floor(seconds / interval) + 1) * interval
    except RenderFailed as exc:
        raise HashFailed(str(exc)) from None
    except av.error.FFmpegError as exc:
        if not frames:
            raise HashFailed(f"the video could not be decoded: {exc}") from None
    if not frames:
        raise HashFailed("no frame of the video could be decoded")
    return Result(VIDEO_ALGORITHM, None, None, [], frames, interval)


def hash_file(path: Path, media_type: str) -> Result:
    """The hash of one file by its media type (see :func:`svidok.analysis.hashing.kind_of`)."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base.startswith("video/"):
        return hash_video(path)
    return hash_image(path, base)
