"""Text extraction worker process, started by :func:`svidok.derive.text.extract_text`.

Run as ``python -m svidok.derive._text_worker --memory-limit BYTES --cpu-seconds N
--max-chars N``. It limits itself (:func:`svidok._isolate.confine`) before importing pypdf.

Protocol: JSON lines. It reads one request ``{"path": "...", "kind": "pdf" | "plain"}`` and
writes ``{"text": "...", "pages": N | null, "truncated": bool}`` or ``{"error": "..."}``,
then ``{"done": true}``. Out of memory, it exits with :data:`EXIT_MEMORY` without a ``done``.
"""

from __future__ import annotations

import codecs
import json
import sys

from svidok._isolate import EXIT_MEMORY, EXIT_USAGE, confine, worker_main, write_message

MAX_PAGES = 2000


def _plain(path: str, max_chars: int) -> dict[str, object]:
    with open(path, "rb") as fh:
        raw = fh.read(max_chars * 4 + 4)
    more = len(raw) > max_chars * 4
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
    else:
        text = raw.decode("utf-8-sig", errors="replace")
    return {"text": text[:max_chars], "pages": None, "truncated": more or len(text) > max_chars}


def _pdf(path: str, max_chars: int) -> dict[str, object]:
    import logging

    logging.disable(logging.CRITICAL)  # pypdf warns about every oddity of a file
    from pypdf import PdfReader

    reader = PdfReader(path)
    parts: list[str] = []
    size = 0
    pages = len(reader.pages)
    truncated = pages > MAX_PAGES
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES or size >= max_chars:
            truncated = True
            break
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text) + 1
    text = "\n".join(parts)
    return {"text": text[:max_chars], "pages": pages,
            "truncated": truncated or len(text) > max_chars}


def serve(memory_limit: int, cpu_seconds: int, max_chars: int) -> int:
    out = confine(memory_limit, cpu_seconds)
    try:
        request = json.loads(sys.stdin.buffer.readline())
        path, kind = request["path"], request["kind"]
        if not isinstance(path, str) or kind not in ("pdf", "plain"):
            raise TypeError("path must be a string and kind pdf or plain")
    except (ValueError, KeyError, TypeError) as exc:
        print(f"svidok text worker: malformed request ({exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        try:
            reply = _pdf(path, max_chars) if kind == "pdf" else _plain(path, max_chars)
        except MemoryError:
            raise
        except Exception as exc:
            reply = {"error": f"the text could not be read: {type(exc).__name__}: {exc}"[:500]}
        write_message(out, reply)
        write_message(out, {"done": True})
    except MemoryError:
        return EXIT_MEMORY
    return 0


def main() -> int:
    return worker_main(
        "svidok.derive._text_worker --memory-limit BYTES --cpu-seconds N --max-chars N",
        serve, lambda values: (int(values["--max-chars"]),))


if __name__ == "__main__":
    sys.exit(main())
