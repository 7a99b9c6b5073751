"""Images (Pillow) and the first page of a PDF (PDFium) as thumbnail and preview JPEGs.

Runs only inside the render worker. Pillow's decompression-bomb guard is set to
:data:`~svidok.derive.render.MAX_PIXELS` and its warning is an error, so an image declaring
more pixels is refused before any pixel is decoded. Only the formats the metadata
extractor allows are tried (no EPS, which would run Ghostscript). HEIC/HEIF need the
pillow-heif plugin; without it they are reported as not renderable here.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from svidok.derive._render_media import RenderFailed, Sink, bomb_message, fit, jpeg
from svidok.derive.render import MAX_PIXELS, PREVIEW_SIDE, THUMBNAIL_SIDE
from svidok.intake.extract_image import _formats
from svidok.intake.extract_model import describe

if TYPE_CHECKING:
    from PIL import Image

HEIF_TYPES = ("image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence")
_WHITE = (255, 255, 255)


def _heif_formats(media_type: str) -> tuple[str, ...]:
    if media_type not in HEIF_TYPES:
        return ()
    if importlib.util.find_spec("pillow_heif") is None:
        raise RenderFailed("HEIC/HEIF images need pillow-heif to be rendered; it is not installed")
    import pillow_heif  # type: ignore[import-not-found, unused-ignore]

    pillow_heif.register_heif_opener()
    return ("HEIF",)


def _declared_size(path: Path, formats: tuple[str, ...]) -> tuple[int, int] | None:
    """The size an image's header declares, read with the bomb guard off (no decoding)."""
    from PIL import Image

    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path, formats=formats) as im:
            return im.size
    except Exception:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _bomb(path: Path, formats: tuple[str, ...], exc: Exception) -> RenderFailed:
    size = _declared_size(path, formats)
    if size is None:
        return RenderFailed(f"decompression bomb: {describe(exc)}")
    return RenderFailed(bomb_message(*size))


def _open_decoded(path: Path, media_type: str) -> tuple[Image.Image, int | None]:
    """The decoded image, oriented, and its EXIF orientation; RenderFailed if it cannot be."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    formats = _formats() + _heif_formats(media_type)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(path, formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _bomb(path, formats, exc) from None
        except UnidentifiedImageError:
            raise RenderFailed(
                "Pillow does not recognise this image format or the header is damaged"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise RenderFailed(f"the image header could not be read: {describe(exc)}") from None
        with im:
            width, height = im.size
            if width < 1 or height < 1:
                raise RenderFailed(f"the image declares no pixels ({width}x{height})")
            if width * height > MAX_PIXELS:
                raise RenderFailed(bomb_message(width, height))
            if im.format in ("JPEG", "MPO"):
                im.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # decode at 1/2..1/8 scale
            try:
                im.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _bomb(path, formats, exc) from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise RenderFailed(
                    f"the image data is damaged or truncated: {describe(exc)}"
                ) from None
            orientation: int | None
            try:
                value = im.getexif().get(0x0112)
                orientation = value if isinstance(value, int) and 1 <= value <= 8 else None
                oriented = ImageOps.exif_transpose(im)
            except Exception:  # damaged EXIF: show the pixels as stored
                orientation, oriented = None, im.copy()
            return _to_rgb(oriented), orientation


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB; transparency flattened onto white, high bit depths scaled to their range."""
    from PIL import Image

    if im.mode in ("I", "F") or im.mode.startswith("I;"):
        grey = im.convert("F")
        extrema = grey.getextrema()
        low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
        scale = 255.0 / (high - low) if high > low else 0.0
        im = grey.point(lambda v: (v - low) * scale).convert("L")
    transparent = "transparency" in im.info or im.mode in ("RGBA", "LA", "PA", "RGBa", "La")
    if transparent:
        rgba = im.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return im.convert("RGB") if im.mode != "RGB" else im


def _emit_sizes(image: Image.Image, sink: Sink, params: dict[str, object]) -> None:
    preview = fit(image, PREVIEW_SIDE, PREVIEW_SIDE)
    if sink.wants("thumbnail"):
        thumbnail = fit(preview, THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        params_thumbnail = {"max_side": THUMBNAIL_SIDE, **params}
        sink.preview("thumbnail", "image/jpeg", jpeg(thumbnail), params_thumbnail)
    if sink.wants("preview"):
        sink.preview("preview", "image/jpeg", jpeg(preview), {"max_side": PREVIEW_SIDE, **params})


def render_image(path: Path, media_type: str, sink: Sink) -> None:
    image, orientation = _open_decoded(path, media_type)
    _emit_sizes(image, sink, {"exif_orientation": orientation})


def render_pdf(path: Path, sink: Sink) -> None:
    """The first page; no form environment is created, so no JavaScript can run."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        text = describe(exc)
        if "password" in text.lower():
            raise RenderFailed("the PDF is encrypted with a password") from None
        raise RenderFailed(f"the PDF could not be opened: {text}") from None
    try:
        if len(pdf) < 1:
            raise RenderFailed("the PDF has no pages")
        page = pdf[0]
        try:
            width, height = page.get_size()
            longest = max(width, height)
            if not (math.isfinite(longest) and min(width, height) > 0):
                raise RenderFailed(f"the first page has no usable size ({width}x{height} pt)")
            bitmap = page.render(
                scale=PREVIEW_SIDE / longest,
                may_draw_forms=False,
                draw_annots=True,
                fill_color=(*_WHITE, 255),
            )
            image = bitmap.to_pil().convert("RGB")
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise RenderFailed(f"the first page could not be rendered: {describe(exc)}") from None
    finally:
        pdf.close()
    _emit_sizes(image, sink, {"page": 1})
