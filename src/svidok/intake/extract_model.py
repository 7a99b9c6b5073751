"""The :class:`Extraction` record and the rules that keep its metadata safe to store.

Every value that reaches :attr:`Extraction.metadata` passes through :func:`clean_metadata`,
which turns it into plain JSON (``str``/``int``/``float``/``bool``/``None``/``list``/``dict``)
and bounds it:

* strings: lone surrogates and NUL characters become U+FFFD; a string longer than
  :data:`MAX_STRING` characters is cut (``exif`` values: :data:`MAX_EXIF_STRING`);
* lists keep at most :data:`MAX_LIST` items, dicts at most :data:`MAX_KEYS` keys,
  nesting stops at depth :data:`MAX_DEPTH`;
* floats that are NaN or infinite become ``None``; integers outside the signed 64-bit
  range become strings (JSON readers lose precision beyond it);
* ``bytes`` become text if printable ASCII, otherwise ``"hex:…"`` of the first bytes;
* if the whole record still serialises to more than :data:`MAX_TOTAL` characters, the
  largest top-level entries are dropped, largest first.

Whatever was cut is listed, in plain words, under the top-level key ``"truncated"``.
Cleaning is idempotent: cleaning clean metadata changes nothing and adds no note.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, cast

from svidok.errors import ExtractionError
from svidok.ledger.entries import JSONValue as JSONValue

Status: TypeAlias = Literal["complete", "partial", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("complete", "partial", "failed", "skipped")

MAX_STRING = 2000
MAX_EXIF_STRING = 256
MAX_LIST = 64
MAX_KEYS = 256
MAX_DEPTH = 6
MAX_TOTAL = 64 * 1024
MAX_ERRORS = 32
MAX_ERROR_CHARS = 500
MAX_NOTES = 32
_HEX_BYTES = 64
_INT_LIMIT = 1 << 53  # RFC 8785 / I-JSON: larger integers are not exact in JSON
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
TRUNCATED = "truncated"


def clean_text(text: str, limit: int = MAX_STRING) -> str:
    """Valid Unicode with no NUL, at most ``limit`` characters (no note; for messages)."""
    text = _BAD_CHARS.sub("\ufffd", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def bytes_to_text(data: bytes) -> str:
    """Printable ASCII as is (trailing NULs dropped), anything else as bounded hex."""
    stripped = data.rstrip(b"\x00") if len(data) <= 65536 else b"\x00"
    if all(0x20 <= b < 0x7F or b in (0x09, 0x0A, 0x0D) for b in stripped):
        return stripped.decode("ascii")
    head = data[:_HEX_BYTES].hex()
    if len(data) > _HEX_BYTES:
        return f"hex:{head}… ({len(data)} bytes)"
    return f"hex:{head}"


Where = tuple[str | int, ...]


def _where(path: Where) -> str:
    """``exif.IFD0.Make`` / ``streams[0].tags`` from a path tuple (only built for notes)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


class _Cleaner:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, path: Where, text: str) -> None:
        self.notes.append(f"{_where(path)}: {text}")

    def value(self, value: object, path: Where, depth: int) -> JSONValue:
        kind = type(value)
        if kind is str:
            return self.string(cast(str, value), path)
        if value is None or kind is bool:
            return cast(bool | None, value)
        if isinstance(value, int):
            number = int(value)
            return number if -_INT_LIMIT < number < _INT_LIMIT else str(number)
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else None
        if isinstance(value, str):
            return self.string(str(value), path)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.string(bytes_to_text(bytes(value)), path)
        if isinstance(value, Mapping):
            return self.mapping(value, path, depth)
        if isinstance(value, list | tuple):
            return self.sequence(value, path, depth)
        return self.string(str(value), path)

    def string(self, text: str, path: Where) -> str:
        text = _BAD_CHARS.sub("\ufffd", text)
        limit = MAX_EXIF_STRING if path and path[0] == "exif" else MAX_STRING
        if len(text) > limit:
            self.note(path, f"text cut to {limit} of {len(text)} characters")
            text = text[:limit]
        return text

    def mapping(self, value: Mapping[Any, object], path: Where, depth: int) -> JSONValue:
        if depth >= MAX_DEPTH:
            self.note(path, "nested too deeply, dropped")
            return None
        out: dict[str, JSONValue] = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= MAX_KEYS:
                self.note(path, f"kept {MAX_KEYS} of {len(value)} entries")
                break
            name = _BAD_CHARS.sub("\ufffd", key if type(key) is str else str(key))[:200]
            out[name] = self.value(item, (*path, name), depth + 1)
        return out

    def sequence(
        self, value: list[object] | tuple[object, ...], path: Where, depth: int
    ) -> JSONValue:
        if depth >= MAX_DEPTH:
            self.note(path, "nested too deeply, dropped")
            return None
        if len(value) > MAX_LIST:
            self.note(path, f"kept {MAX_LIST} of {len(value)} items")
        return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(value[:MAX_LIST])]


def clean_metadata(metadata: Mapping[str, object]) -> dict[str, JSONValue]:
    """Plain, bounded JSON for ``metadata`` (see the module docstring)."""
    cleaner = _Cleaner()
    previous = metadata.get(TRUNCATED)
    body = {k: v for k, v in metadata.items() if k != TRUNCATED}
    out = cast(dict[str, JSONValue], cleaner.mapping(body, (), 0))
    notes: list[str] = []
    if isinstance(previous, list):
        notes.extend(clean_text(str(n), 300) for n in previous[:MAX_NOTES])
    notes.extend(cleaner.notes)
    size = len(json.dumps(out, ensure_ascii=False))
    while size > MAX_TOTAL and out:
        biggest = max(out, key=lambda k: len(json.dumps(out[k], ensure_ascii=False)))
        del out[biggest]
        notes.append(f"{biggest}: dropped, the metadata exceeded {MAX_TOTAL // 1024} KiB")
        size = len(json.dumps(out, ensure_ascii=False))
    if notes:
        if len(notes) > MAX_NOTES:
            notes = [*notes[: MAX_NOTES - 1], f"… and {len(notes) - MAX_NOTES + 1} more cuts"]
        out[TRUNCATED] = cast(JSONValue, notes)
    return out


def _clean_errors(errors: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    cleaned = [clean_text(str(e), MAX_ERROR_CHARS) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        cleaned[-1] = f"… and {len(errors) - MAX_ERRORS + 1} more errors"
    return tuple(cleaned)


@dataclass(frozen=True)
class Extraction:
    """What metadata extraction found in one file (always storable as JSON).

    ``metadata`` and ``errors`` are cleaned on construction, so every instance
    honours the bounds described in the module docstring.
    """

    media_type: str
    status: Status
    metadata: dict[str, JSONValue] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    extractor: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown extraction status {self.status!r}")
        object.__setattr__(self, "media_type", clean_text(self.media_type, 200))
        object.__setattr__(self, "metadata", clean_metadata(dict(self.metadata)))
        object.__setattr__(self, "errors", _clean_errors(tuple(self.errors)))
        object.__setattr__(self, "extractor", clean_text(self.extractor, 300))

    def to_json(self) -> dict[str, JSONValue]:
        """A JSON object: media_type, status, metadata, errors (list), extractor."""
        return {
            "media_type": self.media_type,
            "status": self.status,
            "metadata": dict(self.metadata),
            "errors": list(self.errors),
            "extractor": self.extractor,
        }

    @classmethod
    def from_json(cls, data: object) -> Extraction:
        """Rebuild from :meth:`to_json` output; :class:`ExtractionError` if malformed."""
        if not isinstance(data, dict):
            raise ExtractionError("extraction record is not a JSON object")
        media_type = data.get("media_type")
        status = data.get("status")
        metadata = data.get("metadata")
        errors = data.get("errors")
        extractor = data.get("extractor")
        if not isinstance(media_type, str) or not isinstance(extractor, str):
            raise ExtractionError("extraction record lacks media_type or extractor")
        if status not in STATUSES:
            raise ExtractionError(f"extraction record has unknown status {status!r}")
        if not isinstance(metadata, dict) or not isinstance(errors, list):
            raise ExtractionError("extraction record has malformed metadata or errors")
        if not all(isinstance(e, str) for e in errors):
            raise ExtractionError("extraction record has a non-text error")
        return cls(
            media_type=media_type,
            status=cast(Status, status),
            metadata=metadata,
            errors=tuple(errors),
            extractor=extractor,
        )


ALGORITHM = "svidok-extract/1"
_name_lock = threading.Lock()
_name: str | None = None


def set_extractor_name(name: str) -> None:
    """Use ``name`` as the extractor string (workers get it from the parent)."""
    global _name
    with _name_lock:
        _name = name


def extractor_name() -> str:
    """The versioned algorithm name, e.g. ``svidok-extract/1 (Pillow 11.0, ...)``."""
    global _name
    with _name_lock:
        if _name is None:
            from importlib.metadata import PackageNotFoundError, version

            from svidok.intake.detect import libmagic_version

            parts = [f"libmagic {libmagic_version()}"]
            for label, dist in (
                ("Pillow", "pillow"),
                ("PyAV", "av"),
                ("pypdf", "pypdf"),
                ("charset-normalizer", "charset-normalizer"),
            ):
                try:
                    parts.append(f"{label} {version(dist)}")
                except PackageNotFoundError:
                    parts.append(f"{label} ?")
            _name = f"{ALGORITHM} ({', '.join(parts)})"
        return _name


def failed(
    media_type: str, message: str, metadata: dict[str, JSONValue] | None = None
) -> Extraction:
    """A ``failed`` record with one plain-words error."""
    return Extraction(media_type, "failed", metadata or {}, (message,), extractor_name())


def format_bytes(count: int) -> str:
    """1 GiB, 512 MiB, 1.5 GiB, 64 KiB, 100 bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.4g} {unit}"
    return f"{count} bytes"


def format_seconds(seconds: float) -> str:
    """30 s, 0.5 s."""
    return f"{seconds:.4g} s"


def memory_message(limit: int) -> str:
    allowance = format_bytes(limit)
    return f"metadata extraction ran out of its {allowance} memory allowance and was stopped"


def timeout_message(seconds: float) -> str:
    return f"metadata extraction took longer than {format_seconds(seconds)} and was stopped"


class Report:
    """Accumulates metadata and error messages for one file."""

    def __init__(self) -> None:
        self.metadata: dict[str, object] = {}
        self.errors: list[str] = []
        self.fatal = False

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)


def guarded(report: Report, what: str, action: Callable[[], None]) -> None:
    """Run ``action``; an exception becomes an error message (MemoryError propagates)."""
    try:
        action()
    except MemoryError:
        raise
    except Exception as exc:
        report.error(f"{what}: {describe(exc)}")


def describe(exc: BaseException) -> str:
    """An exception as one short line of text for an error message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 300 else text[:299] + "…"
