"""Plain-text metadata: encoding, byte-order mark, line endings, line count, scripts.

Only the first :data:`PREFIX_BYTES` (1 MiB) of the file is read; for a longer file the
counts describe that prefix and ``complete`` is false. The encoding comes from
charset-normalizer (a byte-order mark, when present, decides). Instead of a statistical
language guess (unreliable for short or mixed-language statements) the record gives the
share of letters in each script, and for Cyrillic text a hint derived from letters
unique to Ukrainian (і ї є ґ) or Russian (ы э ъ ё).
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import IO

from svidok.intake.extract_model import Report, describe

PREFIX_BYTES = 1 << 20
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32LE", "utf-32"),
    (codecs.BOM_UTF32_BE, "UTF-32BE", "utf-32"),
    (codecs.BOM_UTF8, "UTF-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "UTF-16LE", "utf-16"),
    (codecs.BOM_UTF16_BE, "UTF-16BE", "utf-16"),
)
_UKRAINIAN = set("іїєґІЇЄҐ")
_RUSSIAN = set("ыэъёЫЭЪЁ")
_SCRIPTS = ("LATIN", "CYRILLIC", "ARABIC", "GREEK", "HEBREW", "ARMENIAN", "GEORGIAN")


def _trim_partial(prefix: bytes, unit: int) -> bytes:
    """Cut a prefix back to the last line break so no character is split."""
    cut = prefix.rfind(b"\n", max(0, len(prefix) - 65536))
    if cut > 0:
        return prefix[: cut + 1]
    return prefix[: len(prefix) - len(prefix) % unit]


def _line_endings(text: str) -> tuple[dict[str, int], str, int]:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    counts = {"crlf": crlf, "lf": lf, "cr": cr}
    used = [name for name, n in counts.items() if n]
    style = "none" if not used else used[0].upper() if len(used) == 1 else "mixed"
    breaks = crlf + lf + cr
    lines = breaks + (1 if text and not text.endswith(("\n", "\r")) else 0)
    return counts, style, lines


def _scripts(text: str) -> tuple[dict[str, float], str | None]:
    counts: dict[str, int] = {}
    letters = 0
    for char in text[:200_000]:
        if not char.isalpha():
            continue
        letters += 1
        name = unicodedata.name(char, "")
        script = next((s for s in _SCRIPTS if name.startswith(s)), "OTHER")
        counts[script] = counts.get(script, 0) + 1
    if not letters:
        return {}, None
    shares = {k.title(): round(v / letters, 3) for k, v in sorted(counts.items())}
    hint = None
    if counts.get("CYRILLIC", 0) >= 20:
        chars = set(text[:200_000])
        uk, ru = bool(chars & _UKRAINIAN), bool(chars & _RUSSIAN)
        hint = "uk" if uk and not ru else "ru" if ru and not uk else None
    return shares, hint


def extract_text(stream: IO[bytes], size: int, report: Report) -> None:
    """Fill ``report`` with text metadata (see the schema)."""
    meta = report.metadata
    prefix = stream.read(PREFIX_BYTES)
    complete = size <= PREFIX_BYTES and len(prefix) == size
    meta["examined_bytes"] = len(prefix)
    meta["complete"] = complete
    if not complete:
        meta["note"] = f"only the first {PREFIX_BYTES >> 20} MiB was examined"
    bom = next(((name, codec) for mark, name, codec in _BOMS if prefix.startswith(mark)), None)
    meta["bom"] = bom[0] if bom else None
    unit = 4 if bom and "32" in bom[0] else 2 if bom and "16" in bom[0] else 1
    if not complete:
        prefix = _trim_partial(prefix, unit) if unit == 1 else prefix[: len(prefix) // unit * unit]
    if bom:
        encoding = bom[1]
    else:
        import charset_normalizer

        best = charset_normalizer.from_bytes(prefix).best()
        if best is None:
            report.fatal = True
            report.error("the text encoding could not be determined")
            return
        encoding = best.encoding
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        report.fatal = True
        report.error(f"the detected encoding is unusable: {describe(exc)}")
        return
    meta["encoding"] = bom[0].lower() if bom else codec.name
    try:
        text = prefix.decode(codec.name)
    except UnicodeDecodeError:
        text = prefix.decode(codec.name, errors="replace")
        meta["undecodable_bytes"] = True
    counts, style, lines = _line_endings(text)
    meta["line_endings"] = style
    meta["line_ending_counts"] = counts
    meta["lines"] = lines
    meta["characters"] = len(text)
    shares, hint = _scripts(text)
    if shares:
        meta["scripts"] = shares
    if hint:
        meta["cyrillic_language_hint"] = hint
