"""Video and audio metadata with PyAV (FFmpeg), read from the container headers.

PyAV is imported only when the first audio or video file arrives. The container is
opened through a Python file object with bounded probing (``probesize``,
``analyzeduration``), an FFmpeg interrupt timeout, and an ``io_open`` that refuses every
secondary file or URL a container might name (playlists, data references), so a file can
make FFmpeg read nothing but itself. The preview renderer opens containers the same way
(:func:`open_container`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import IO, Any

from svidok.intake.extract_model import Report, describe
from svidok.intake.extract_times import iso_time, parse_iso6709

PROBE_BYTES = 32 << 20
ANALYZE_MICROSECONDS = 20_000_000
OPEN_TIMEOUT = 20.0
MAX_STREAMS = 32
MAX_LOG_LINES = 10
LOCATION_TAGS = (
    "com.apple.quicktime.location.ISO6709",
    "location",
    "location-eng",
)


class UnreadableContainer(Exception):
    """FFmpeg could not open the container; the message says why in plain words."""


def _refuse(url: str, flags: int, options: dict[str, str]) -> Any:
    raise PermissionError(f"refused to open {url!r} named inside the file")


def _seconds(value: int | None, base: Fraction | None) -> float | None:
    if value is None or base is None:
        return None
    seconds = float(value * base)
    return round(seconds, 6) if math.isfinite(seconds) and seconds >= 0 else None


def _rate(value: Fraction | None) -> float | None:
    if value is None or value.denominator == 0 or value <= 0:
        return None
    return round(float(value), 6)


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _stream(stream: Any) -> dict[str, object]:
    out: dict[str, object] = {"index": stream.index, "type": stream.type}
    ctx = stream.codec_context
    out["codec"] = getattr(ctx, "name", None)
    out["profile"] = getattr(stream, "profile", None)
    out["duration"] = _seconds(stream.duration, stream.time_base)
    out["frames"] = _positive(stream.frames)
    out["bit_rate"] = _positive(getattr(ctx, "bit_rate", None))
    if stream.type == "video":
        out["width"] = _positive(ctx.width)
        out["height"] = _positive(ctx.height)
        out["frame_rate"] = _rate(stream.average_rate) or _rate(stream.guessed_rate)
        out["pixel_format"] = getattr(ctx, "pix_fmt", None)
    elif stream.type == "audio":
        out["sample_rate"] = _positive(ctx.sample_rate)
        layout = getattr(ctx, "layout", None)
        out["channels"] = _positive(getattr(layout, "nb_channels", None)) or _positive(
            getattr(ctx, "channels", None)
        )
        out["channel_layout"] = getattr(layout, "name", None)
    if stream.metadata:
        out["tags"] = dict(stream.metadata)
    return {k: v for k, v in out.items() if v is not None}


def _location(tags: dict[str, str], report: Report) -> dict[str, object] | None:
    names = [n for n in LOCATION_TAGS if n in tags]
    names += sorted(n for n in tags if n.startswith("location-") and n not in names)
    for name in names:
        parsed = parse_iso6709(tags[name])
        if parsed is not None:
            return {**parsed, "source": name}
        report.error(f"location tag {name} is not a valid ISO 6709 position: {tags[name]!r}")
    return None


def extract_av(stream: IO[bytes], report: Report) -> None:
    """Fill ``report`` with container and stream metadata (see the schema)."""
    import av
    import av.logging

    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=True) as logs:
            _open_and_fill(av, stream, report)
    finally:
        av.logging.set_level(previous)
    messages = [m.strip() for level, _name, m in logs if level <= av.logging.ERROR and m.strip()]
    if messages:
        report.metadata["decoder_messages"] = messages[:MAX_LOG_LINES]


def ffmpeg_problem(av: Any, exc: Exception) -> str:
    """What went wrong in FFmpeg (or PyAV), in plain words."""
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or describe(exc)
        log = exc.log
        if isinstance(log, tuple) and len(log) == 3 and str(log[2]).strip():
            text += f" ({str(log[2]).strip()})"
        return text
    return describe(exc)


def open_container(av: Any, stream: IO[bytes]) -> Any:
    """``stream`` opened with PyAV (module ``av``), bounded and refusing other files.

    Raises :class:`UnreadableContainer` when FFmpeg cannot read it; MemoryError as it is.
    """
    try:
        return av.open(
            stream,
            mode="r",
            options={"probesize": str(PROBE_BYTES), "analyzeduration": str(ANALYZE_MICROSECONDS)},
            metadata_errors="replace",
            timeout=(OPEN_TIMEOUT, OPEN_TIMEOUT),
            io_open=_refuse,
        )
    except MemoryError:
        raise
    except Exception as exc:
        message = f"the audio/video container could not be read: {ffmpeg_problem(av, exc)}"
        raise UnreadableContainer(message) from None


def _open_and_fill(av: Any, stream: IO[bytes], report: Report) -> None:
    try:
        container = open_container(av, stream)
    except UnreadableContainer as exc:
        report.fatal = True
        report.error(str(exc))
        return
    with container:
        _fill(container, report)


def _fill(container: Any, report: Report) -> None:
    meta = report.metadata
    fmt = container.format
    meta["container"] = fmt.name
    meta["container_long_name"] = fmt.long_name
    duration = container.duration
    meta["duration"] = (
        round(duration / 1_000_000, 6) if isinstance(duration, int) and duration >= 0 else None
    )
    meta["bit_rate"] = _positive(container.bit_rate)
    streams = list(container.streams)
    meta["stream_count"] = len(streams)
    described = []
    for item in streams[:MAX_STREAMS]:
        try:
            described.append(_stream(item))
        except MemoryError:
            raise
        except Exception as exc:
            report.error(f"stream {item.index} could not be described: {describe(exc)}")
    meta["streams"] = described
    if len(streams) > MAX_STREAMS:
        report.error(f"only the first {MAX_STREAMS} of {len(streams)} streams are described")
    tags = dict(container.metadata)
    if "creation_time" in tags:
        meta["creation_time"] = iso_time(tags["creation_time"])
    if "com.apple.quicktime.creationdate" in tags:
        meta["creation_date_local"] = iso_time(tags["com.apple.quicktime.creationdate"])
    for key, tag in (
        ("make", "com.apple.quicktime.make"),
        ("model", "com.apple.quicktime.model"),
        ("software", "com.apple.quicktime.software"),
        ("encoder", "encoder"),
        ("title", "title"),
    ):
        if tags.get(tag):
            meta[key] = tags[tag]
    location = _location(tags, report)
    if location is not None:
        meta["gps"] = location
    meta["tags"] = tags
    if meta["duration"] is None:
        meta.pop("duration")
        report.error("the container does not state a duration")
