"""Preview images of one original file, rendered in an isolated, resource-limited process.

Evidence files are hostile (decompression bombs, malformed media, crafted PDFs), so no
decoder runs in the caller's process. :func:`render_previews` starts a fresh interpreter
(``sys.executable -P -m svidok.derive._render_worker``, fork+exec through
:mod:`subprocess`, never a fork of this possibly threaded process) that limits itself
before importing any decoder: RLIMIT_AS (``memory_limit``), RLIMIT_CPU, RLIMIT_FSIZE 0 (it
cannot write a file, so nothing is left behind), RLIMIT_CORE 0 and RLIMIT_NOFILE. The
previews come back over a pipe as JSON lines with base64 data; the worker is killed when
the wall-clock ``timeout`` runs out, and reaped whatever happens.

What is rendered (:data:`PREVIEW_KINDS`), all deterministic for the same input and the
same library versions (fixed JPEG quality and encoder settings, no metadata: no EXIF, no
GPS, no ICC profile, no PNG timestamps):

- images: ``thumbnail`` (longest side at most 320 px) and ``preview`` (at most 1280 px)
  JPEGs, EXIF orientation applied, transparency flattened onto white; more than
  :data:`MAX_PIXELS` declared pixels is refused as a decompression bomb;
- PDF: the first page as ``thumbnail`` and ``preview`` JPEGs (PDFium, no form or
  JavaScript environment is ever created);
- video: a ``thumbnail`` poster frame at 10% of the duration (or the first decodable
  frame) and a ``keyframes`` strip of up to 8 evenly spaced frames, each at most 160 px
  high, display rotation applied;
- audio: a ``waveform`` PNG (800×120, minimum and maximum per column of a mono mixdown)
  of at most the first :data:`MAX_AUDIO_SECONDS` seconds, said in its ``params``;
- anything else: nothing, and no error.
"""

from __future__ import annotations

import base64
import binascii
import math
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from svidok._isolate import (
    cpu_allowance,
    worker_command,
    worker_environment,
)
from svidok.intake.extract_model import clean_text, format_bytes
from svidok.intake.extract_pipe import EOF, GARBAGE, WorkerProcess, lost_message

Param = str | int | float | bool | None

THUMBNAIL_SIDE: Final = 320
PREVIEW_SIDE: Final = 1280
STRIP_FRAMES: Final = 8
STRIP_HEIGHT: Final = 160
WAVEFORM_SIZE: Final = (800, 120)
MAX_AUDIO_SECONDS: Final = 1800
MAX_PIXELS: Final = 100_000_000
MAX_PREVIEWS: Final = 8
MAX_ERRORS: Final = 16
ALGORITHM: Final = "svidok-preview/1"

PREVIEW_KINDS: dict[str, tuple[str, ...]] = {
    "image/": ("thumbnail", "preview"),
    "image/svg+xml": (),  # drawing SVG takes a browser engine: not in this process tree
    "application/pdf": ("thumbnail", "preview"),
    "video/": ("thumbnail", "keyframes"),
    "audio/": ("waveform",),
}
"""Media type (exact) or prefix (ending in ``/``) -> the kinds of preview it gets; an
exact entry wins over its prefix, and a type matching neither gets none."""

_SIGNATURES: Final = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


@dataclass(frozen=True)
class Rendered:
    """One preview image: what it is, its bytes, and what made and shaped it."""

    kind: str
    media_type: str
    data: bytes = field(repr=False)
    algorithm: str
    params: dict[str, Param]


def preview_kinds(media_type: str) -> tuple[str, ...]:
    """The kinds of preview a file of ``media_type`` gets (parameters and case ignored)."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base in PREVIEW_KINDS:
        return PREVIEW_KINDS[base]
    prefix = base.split("/", 1)[0] + "/"
    return PREVIEW_KINDS.get(prefix, ()) if "/" in base else ()


def render_previews(
    path: Path, media_type: str, *, timeout: float = 60.0, memory_limit: int = 768 << 20
) -> tuple[list[Rendered], list[str]]:
    """(previews, errors in plain words). Never raises for what the file holds.

    A file that cannot be rendered gives no previews and an error saying why (e.g.
    ``decompression bomb: 90000x90000 pixels``, ``stopped after 60 s``, ``out of memory
    (768 MiB)``). Previews finished before a later one failed are kept. Raises
    :class:`ValueError` only for a bad ``timeout`` or ``memory_limit``.
    """
    if not timeout > 0 or not math.isfinite(timeout):
        raise ValueError("the render timeout must be a positive number of seconds")
    if memory_limit < 16 << 20:
        raise ValueError("the render memory limit must be at least 16 MiB")
    kinds = preview_kinds(media_type)
    if not kinds:
        return [], []
    try:
        info = path.stat()
    except OSError as exc:
        return [], [f"the file could not be read: {exc.strerror or exc}"]
    if not stat.S_ISREG(info.st_mode):
        return [], ["not a regular file"]
    if info.st_size == 0:
        return [], ["the file is empty"]
    base = media_type.split(";", 1)[0].strip().lower()
    absolute = path if path.is_absolute() else Path.cwd() / path
    return _Run(float(timeout), int(memory_limit), kinds).run(str(absolute), base)


class _Run:
    """One worker process rendering one file, and what came back from it."""

    def __init__(self, timeout: float, memory_limit: int, kinds: tuple[str, ...]) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.kinds = kinds
        self.cpu_seconds = cpu_allowance(timeout)
        self.previews: list[Rendered] = []
        self.errors: list[str] = []

    def command(self) -> list[str]:
        return worker_command("svidok.derive._render_worker", self.memory_limit, self.cpu_seconds)

    def run(self, path: str, media_type: str) -> tuple[list[Rendered], list[str]]:
        deadline = time.monotonic() + self.timeout
        try:
            worker = WorkerProcess(self.command(), worker_environment())
        except (OSError, ValueError) as exc:
            return [], [f"the preview renderer could not be started: {exc}"]
        finished = False
        try:
            try:
                worker.send({"path": path, "media_type": media_type, "kinds": list(self.kinds)})
            except OSError:
                reply: dict[str, object] | str = EOF  # it died before reading: see its status
            else:
                reply = worker.receive(deadline)
            while isinstance(reply, dict) and not reply.get("done"):
                if not self.take(reply):
                    reply = GARBAGE
                    break
                reply = worker.receive(deadline)
            finished = isinstance(reply, dict)
        except OSError as exc:
            reply = f"{GARBAGE}: {exc}"
        finally:
            if not finished and reply != EOF:
                worker.kill()
        code = worker.reap()
        if not finished:
            self.errors.append(self.lost(reply, code, worker.last_words()))
        return self.previews, self.errors

    def take(self, message: dict[str, object]) -> bool:
        """Keep one preview or error from the worker; False if the message is malformed."""
        if set(message) == {"error"} and isinstance(message["error"], str):
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(clean_text(message["error"], 500))
            return True
        preview = message.get("preview")
        if set(message) != {"preview"} or not isinstance(preview, dict):
            return False
        rendered = _rendered(preview, self.kinds)
        if rendered is None or len(self.previews) >= MAX_PREVIEWS:
            return False
        self.previews.append(rendered)
        return True

    def lost(self, reply: object, code: int | None, last_words: str) -> str:
        """Why the worker ended without finishing, in plain words."""
        return lost_message(
            "the preview renderer", reply, code, last_words, timeout=self.timeout,
            cpu_seconds=self.cpu_seconds, memory_limit=self.memory_limit,
            crash_hint="the file may be malformed in a way that breaks its decoder, or "
            f"rendering ran out of its {format_bytes(self.memory_limit)} memory allowance",
        )


def _rendered(data: dict[object, object], kinds: tuple[str, ...]) -> Rendered | None:
    """A :class:`Rendered` from the worker's JSON, or None if anything about it is wrong."""
    kind, media_type = data.get("kind"), data.get("media_type")
    algorithm, params, encoded = data.get("algorithm"), data.get("params"), data.get("data")
    if kind not in kinds or not isinstance(kind, str) or not isinstance(media_type, str):
        return None
    if not isinstance(algorithm, str) or not isinstance(encoded, str):
        return None
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str | int | float | bool))
        for k, v in params.items()
    ):
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    signature = _SIGNATURES.get(media_type)
    if signature is None or not raw.startswith(signature):
        return None
    return Rendered(kind, media_type, raw, clean_text(algorithm, 300), dict(params))
