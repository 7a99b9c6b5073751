"""Extraction worker process, started by :class:`svidok.intake.extract_pool.ExtractorPool`.

Run as ``python -m svidok.intake._worker --memory-limit BYTES --cpu-seconds N
--extractor NAME``. It limits itself (:func:`svidok._isolate.confine`) before importing
any extraction library: RLIMIT_AS (the memory allowance), RLIMIT_FSIZE 0 (it cannot
write files; SIGXFSZ is ignored so a write fails instead of killing it), RLIMIT_CORE 0,
RLIMIT_NOFILE 64, nice 10, and a fresh RLIMIT_CPU budget before every file. It asks the
kernel to kill it if its parent dies, and points its own stdout at stderr so that
nothing a library prints can corrupt the protocol.

Protocol: JSON lines. The worker first writes ``{"ready": true, "pid": N}``. For each
request ``{"id": N, "path": "..."}`` it writes ``{"id": N, "media_type": "..."}`` once the
type is known and then ``{"id": N, "result": {...Extraction...}, "restart": false}``.
When it ran out of memory it answers with ``"restart": true`` and exits with status
:data:`EXIT_MEMORY`, which it also uses if it cannot answer at all. End of input ends it.
"""

from __future__ import annotations

import json
import os
import sys

from svidok._isolate import (
    EXIT_MEMORY,
    confine,
    cpu_budget,
    worker_main,
    write_message,
)


def serve(memory_limit: int, cpu_seconds: int, extractor: str) -> int:
    """Apply the limits, then answer requests from stdin until it closes."""
    out = confine(memory_limit, cpu_seconds)
    try:
        from pathlib import Path

        from svidok.intake import extract_model
        from svidok.intake.extract_core import extract_file

        if extractor:
            extract_model.set_extractor_name(extractor)
        write_message(out, {"ready": True, "pid": os.getpid()})
    except MemoryError:
        return EXIT_MEMORY
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return 0
        try:
            request = json.loads(line)
            ident, path = request["id"], request["path"]
        except (ValueError, KeyError, TypeError):
            print(f"svidok worker: ignoring a malformed request {line[:200]!r}", file=sys.stderr)
            continue
        seen: list[str] = []

        def announce(media_type: str, ident: object = ident, seen: list[str] = seen) -> None:
            seen.append(media_type)
            write_message(out, {"id": ident, "media_type": media_type})

        cpu_budget(cpu_seconds)
        try:
            try:
                result = extract_file(Path(path), announce)
            except MemoryError:
                result = None
            if result is None:
                media_type = seen[-1] if seen else "application/octet-stream"
                message = extract_model.memory_message(memory_limit)
                record = extract_model.failed(media_type, message).to_json()
                write_message(out, {"id": ident, "result": record, "restart": True})
                return EXIT_MEMORY
            write_message(out, {"id": ident, "result": result.to_json(), "restart": False})
        except MemoryError:
            return EXIT_MEMORY


def main() -> int:
    return worker_main(
        "svidok.intake._worker --memory-limit BYTES --cpu-seconds N [--extractor NAME]",
        serve,
        lambda values: (values.get("--extractor", ""),),
    )


if __name__ == "__main__":
    sys.exit(main())
