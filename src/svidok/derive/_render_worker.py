"""Preview render worker process, started by :func:`svidok.derive.render.render_previews`.

Run as ``python -m svidok.derive._render_worker --memory-limit BYTES --cpu-seconds N``.
It limits itself the way the extraction worker does (:func:`svidok._isolate.confine`:
RLIMIT_AS, RLIMIT_FSIZE 0, RLIMIT_CORE 0, RLIMIT_NOFILE, RLIMIT_CPU, nice 10, killed if
its parent dies, its stdout pointed at stderr) before importing any decoder.

Protocol: JSON lines. It reads one request ``{"path": "...", "media_type": "...",
"kinds": [...]}`` and writes ``{"preview": {"kind", "media_type", "data" (base64),
"algorithm", "params"}}`` for each preview as soon as it is made, ``{"error": "..."}`` for
each problem, and ``{"done": true}`` last. Out of memory, it exits with status
:data:`EXIT_MEMORY` without a ``done``.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from svidok._isolate import EXIT_MEMORY, EXIT_USAGE, confine, worker_main, write_message


class _Sink:
    """Writes previews and errors to the parent as they are made."""

    def __init__(self, fd: int, kinds: list[str]) -> None:
        self.fd = fd
        self.kinds = kinds
        self._algorithm: str | None = None

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    def preview(self, kind: str, media_type: str, data: bytes, params: dict[str, object]) -> None:
        if not self.wants(kind):
            return
        message = {
            "kind": kind,
            "media_type": media_type,
            "data": base64.b64encode(data).decode("ascii"),
            "algorithm": self.algorithm(),
            "params": params,
        }
        write_message(self.fd, {"preview": message})

    def error(self, text: str) -> None:
        write_message(self.fd, {"error": text})

    def algorithm(self) -> str:
        if self._algorithm is None:
            from svidok.derive._render_media import algorithm_name

            self._algorithm = algorithm_name()
        return self._algorithm


def serve(memory_limit: int, cpu_seconds: int) -> int:
    """Apply the limits, render the one file asked for, and say when it is done."""
    out = confine(memory_limit, cpu_seconds)
    try:
        request = json.loads(sys.stdin.buffer.readline())
        path, media_type, kinds = request["path"], request["media_type"], request["kinds"]
        if not (isinstance(path, str) and isinstance(media_type, str)):
            raise TypeError("path and media_type must be strings")
        if not isinstance(kinds, list):
            raise TypeError("kinds must be a list")
    except (ValueError, KeyError, TypeError) as exc:
        print(f"svidok render worker: malformed request ({exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        from svidok.derive._render_media import render

        sink = _Sink(out, [str(k) for k in kinds])
        render(Path(path), media_type, sink)
        write_message(out, {"done": True})
    except MemoryError:
        return EXIT_MEMORY
    return 0


def main() -> int:
    return worker_main("svidok.derive._render_worker --memory-limit BYTES --cpu-seconds N",
                       serve)


if __name__ == "__main__":
    sys.exit(main())
