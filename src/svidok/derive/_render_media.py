"""What the render worker does with one file (runs only inside the worker).

Each renderer hands its previews to a :class:`Sink` as soon as they are made and raises
:class:`RenderFailed` with plain words when the file cannot be rendered; anything else it
raises becomes an error too (MemoryError ends the worker). Encoding is fixed so the same
input and library versions give the same bytes: JPEG quality 85, 4:2:0, optimised
Huffman tables, baseline; PNG at compression level 9; and no metadata at all.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from svidok.derive.render import ALGORITHM, MAX_PIXELS
from svidok.intake.extract_model import describe

if TYPE_CHECKING:
    from PIL import Image

JPEG_QUALITY = 85


class RenderFailed(Exception):
    """This file cannot be rendered; the message says why in plain words."""


class Sink(Protocol):
    def wants(self, kind: str) -> bool: ...

    def preview(
        self, kind: str, media_type: str, data: bytes, params: dict[str, object]
    ) -> None: ...

    def error(self, text: str) -> None: ...


def algorithm_name() -> str:
    """``svidok-preview/1 (Pillow X, PyAV Y, pypdfium2 Z)`` with the installed versions."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for label, dist in (
        ("Pillow", "pillow"),
        ("PyAV", "av"),
        ("pypdfium2", "pypdfium2"),
        ("pillow-heif", "pillow-heif"),
    ):
        try:
            parts.append(f"{label} {version(dist)}")
        except PackageNotFoundError:
            if dist != "pillow-heif":
                parts.append(f"{label} ?")
    return f"{ALGORITHM} ({', '.join(parts)})"


def render(path: Path, media_type: str, sink: Sink) -> None:
    """Render ``path`` into ``sink``; errors go to the sink, MemoryError propagates."""
    try:
        if media_type == "application/pdf":
            from svidok.derive._render_image import render_pdf

            render_pdf(path, sink)
        elif media_type.startswith("image/"):
            from svidok.derive._render_image import render_image

            render_image(path, media_type, sink)
        elif media_type.startswith("video/"):
            from svidok.derive._render_av import render_video

            render_video(path, sink)
        elif media_type.startswith("audio/"):
            from svidok.derive._render_av import render_audio

            render_audio(path, sink)
    except MemoryError:
        raise
    except ImportError as exc:  # a decoder's shared library did not fit in the allowance
        text = str(exc)
        if "failed to map segment" in text or "cannot allocate memory" in text.lower():
            raise MemoryError(text) from None
        sink.error(f"a decoder could not be loaded: {describe(exc)}")
    except RenderFailed as exc:
        sink.error(str(exc))
    except Exception as exc:
        sink.error(f"the file could not be rendered: {describe(exc)}")


def bomb_message(width: int, height: int) -> str:
    return f"decompression bomb: {width}x{height} pixels (at most {MAX_PIXELS} are decoded)"


def clean(image: Image.Image) -> Image.Image:
    """``image`` with no metadata left for an encoder to copy (EXIF, ICC, XMP, text)."""
    image.info = {}
    return image


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    clean(image).save(
        buffer, "JPEG", quality=JPEG_QUALITY, subsampling=2, optimize=True, progressive=False
    )
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    clean(image).save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """A copy of ``image`` within ``width``×``height`` (never enlarged), aspect kept."""
    from PIL import Image

    copy = image.copy()
    copy.thumbnail((width, height), Image.Resampling.LANCZOS)
    return copy
