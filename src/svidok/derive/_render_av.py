"""Video poster frames and keyframe strips, and audio waveforms, with PyAV (FFmpeg).

Runs only inside the render worker. Containers are opened as the metadata extractor opens
them (:mod:`svidok.intake.extract_av`: a Python file object, bounded probing, and every
secondary file or URL a container names refused). Decoding is bounded: at most
:data:`MAX_PACKETS` packets per frame sought, :data:`MAX_AUDIO_PACKETS` audio packets,
and :data:`~svidok.derive.render.MAX_AUDIO_SECONDS` seconds of sound; one decoding thread,
so frames come out the same on every machine.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from svidok.derive._render_media import RenderFailed, Sink, bomb_message, fit, jpeg, png
from svidok.derive.render import (
    MAX_AUDIO_SECONDS,
    MAX_PIXELS,
    STRIP_FRAMES,
    STRIP_HEIGHT,
    THUMBNAIL_SIDE,
    WAVEFORM_SIZE,
)
from svidok.intake.extract_av import UnreadableContainer, ffmpeg_problem, open_container

MAX_PACKETS = 1500
MAX_AUDIO_PACKETS = 2_000_000
MAX_BAD_PACKETS = 200
POSTER_AT = 0.1
WAVE_RATE = 16000
WAVE_BLOCK = 20  # samples per stored (min, max) pair: 1.25 ms at 16 kHz


def _open(av: Any, stream: IO[bytes]) -> Any:
    try:
        return open_container(av, stream)
    except UnreadableContainer as exc:
        raise RenderFailed(str(exc)) from None


def _duration(container: Any, stream: Any) -> float | None:
    seconds = None
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    return seconds if seconds is not None and math.isfinite(seconds) and seconds > 0 else None


def _start(stream: Any) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _frame_at(
    av: Any, container: Any, stream: Any, seconds: float | None, *, rewind: bool = False
) -> Any:
    """The first frame at or after ``seconds`` from the start (None: the next frame)."""
    target = _start(stream) + (seconds or 0.0)
    if seconds is not None or rewind:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
    last, bad = None, 0
    for count, packet in enumerate(container.demux(stream)):
        if count >= MAX_PACKETS:
            break
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            bad += 1
            if bad > MAX_BAD_PACKETS:
                break
            continue
        for frame in frames:
            last = frame
            if frame.time is None or frame.time >= target - 1e-6:
                return frame
    return last


def _picture(frame: Any) -> Any:
    """The frame as an RGB image turned as it is meant to be shown."""
    from PIL import Image

    image = frame.to_image()
    rotation = round((getattr(frame, "rotation", 0) or 0) / 90) % 4  # counterclockwise
    turns = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180}
    turns[3] = Image.Transpose.ROTATE_270
    return image.transpose(turns[rotation]) if rotation else image


def _relative(frame: Any, stream: Any) -> float | None:
    return None if frame.time is None else round(float(frame.time) - _start(stream), 3)


@contextmanager
def _opened(av: Any, path: Path, kind: str) -> Iterator[tuple[Any, Any]]:
    """The container and its first ``kind`` (video, audio) stream, decoded on one thread."""
    with path.open("rb") as raw, _open(av, raw) as container:
        streams = getattr(container.streams, kind)
        if not streams:
            raise RenderFailed(f"the file has no {kind} stream")
        stream = streams[0]
        stream.codec_context.thread_count = 1
        yield container, stream


def render_video(path: Path, sink: Sink) -> None:
    import av

    with _opened(av, path, "video") as (container, stream):
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > MAX_PIXELS:
            raise RenderFailed(bomb_message(width, height))
        duration = _duration(container, stream)
        at = duration * POSTER_AT if duration else None
        try:
            poster = _frame_at(av, container, stream, at)
        except av.error.FFmpegError:
            poster = _frame_at(av, container, stream, None) if at else None
        if poster is None:
            raise RenderFailed("no frame of the video could be decoded")
        thumbnail = fit(_picture(poster), THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        sink.preview(
            "thumbnail",
            "image/jpeg",
            jpeg(thumbnail),
            {"max_side": THUMBNAIL_SIDE, "at_seconds": _relative(poster, stream)},
        )
        if sink.wants("keyframes"):
            _strip(av, container, stream, duration, sink)


def _strip(av: Any, container: Any, stream: Any, duration: float | None, sink: Sink) -> None:
    from PIL import Image

    times: list[float | None] = [None]  # no duration: the first frame only
    if duration:
        times = [duration * (i + 0.5) / STRIP_FRAMES for i in range(STRIP_FRAMES)]
    pictures, seen = [], []
    for seconds in times:
        try:
            frame = _frame_at(av, container, stream, seconds, rewind=True)
        except av.error.FFmpegError as exc:
            sink.error(f"a keyframe could not be sought: {ffmpeg_problem(av, exc)}")
            break
        if frame is None:
            continue
        at = _relative(frame, stream)
        if at in seen:
            continue
        seen.append(at)
        pictures.append(fit(_picture(frame), 2 * STRIP_HEIGHT, STRIP_HEIGHT))
    if not pictures:
        sink.error("no frame for the keyframe strip could be decoded")
        return
    height = max(p.height for p in pictures)
    strip = Image.new("RGB", (sum(p.width for p in pictures), height), (0, 0, 0))
    x = 0
    for picture in pictures:
        strip.paste(picture, (x, (height - picture.height) // 2))
        x += picture.width
    params: dict[str, object] = {
        "frames": len(pictures),
        "max_height": STRIP_HEIGHT,
        "at_seconds": ",".join("?" if s is None else f"{s:g}" for s in seen),
    }
    sink.preview("keyframes", "image/jpeg", jpeg(strip), params)


class _Peaks:
    """Minimum and maximum of every block of :data:`WAVE_BLOCK` mono 16-bit samples."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.samples = 0
        self.lows = array("h")
        self.highs = array("h")
        self.carry = array("h")

    def add(self, frame: Any) -> None:
        room = self.limit - self.samples
        count = min(frame.samples, room)
        if count <= 0:
            return
        values = array("h")
        values.frombytes(bytes(memoryview(frame.planes[0])[: count * 2]))
        self.samples += count
        values = self.carry + values if self.carry else values
        whole = len(values) - len(values) % WAVE_BLOCK
        view = memoryview(values)
        for start in range(0, whole, WAVE_BLOCK):
            block = view[start : start + WAVE_BLOCK]
            self.lows.append(min(block))
            self.highs.append(max(block))
        self.carry = values[whole:]

    def full(self) -> bool:
        return self.samples >= self.limit

    def finish(self) -> None:
        if self.carry:
            self.lows.append(min(self.carry))
            self.highs.append(max(self.carry))
            self.carry = array("h")


def render_audio(path: Path, sink: Sink) -> None:
    import av

    with _opened(av, path, "audio") as (container, stream):
        channels = stream.codec_context.channels
        resampler = av.AudioResampler(format="s16", layout="mono", rate=WAVE_RATE)
        peaks = _Peaks(MAX_AUDIO_SECONDS * WAVE_RATE)
        bad = 0
        for count, packet in enumerate(container.demux(stream)):
            if count >= MAX_AUDIO_PACKETS or peaks.full():
                break
            try:
                for frame in packet.decode():
                    for mono in resampler.resample(frame):
                        peaks.add(mono)
            except av.error.FFmpegError:
                bad += 1
                if bad > MAX_BAD_PACKETS:
                    sink.error("too many damaged audio packets: the rest was not drawn")
                    break
        truncated = peaks.full()
        if not truncated:
            for mono in resampler.resample(None):
                peaks.add(mono)
    peaks.finish()
    if not peaks.lows:
        raise RenderFailed("no audio could be decoded")
    params: dict[str, object] = {
        "width": WAVEFORM_SIZE[0],
        "height": WAVEFORM_SIZE[1],
        "sample_rate": WAVE_RATE,
        "channels": channels,
        "seconds_drawn": round(peaks.samples / WAVE_RATE, 3),
        "max_seconds": MAX_AUDIO_SECONDS,
        "truncated": truncated,
    }
    sink.preview("waveform", "image/png", png(_waveform(peaks)), params)


def _waveform(peaks: _Peaks) -> Any:
    from PIL import Image, ImageDraw

    width, height = WAVEFORM_SIZE
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    middle, half = (height - 1) / 2, (height - 2) / 2
    draw.line((0, round(middle), width - 1, round(middle)), fill=200)
    blocks = len(peaks.lows)
    for column in range(width):
        first = column * blocks // width
        last = max(first + 1, (column + 1) * blocks // width)
        low = min(peaks.lows[first:last])
        high = max(peaks.highs[first:last])
        top = round(middle - high / 32768 * half)
        bottom = round(middle - low / 32768 * half)
        draw.line((column, top, column, bottom), fill=40)
    return image
