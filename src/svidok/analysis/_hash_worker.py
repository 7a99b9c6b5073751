"""Hash worker process, started by :class:`svidok.analysis.hashing.HashWorker`.

Run as ``python -m svidok.analysis._hash_worker --memory-limit BYTES --cpu-seconds N``.
It limits itself as the preview render worker does (:func:`svidok._isolate.confine`:
RLIMIT_AS, RLIMIT_FSIZE 0, RLIMIT_CORE 0, RLIMIT_NOFILE, RLIMIT_CPU, nice 10, killed if
its parent dies) before importing any decoder. Unlike the render worker it serves many
files, one after the other, so hashing is not slowed by starting an interpreter per file;
the CPU allowance is renewed for each file.

Protocol: JSON lines. For each request ``{"path": "...", "media_type": "..."}`` it writes
one reply, ``{"result": {...}}`` (:meth:`svidok.analysis._hash_media.Result.to_json`) or
``{"error": "..."}``. Out of memory, it exits with status :data:`EXIT_MEMORY`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from svidok._isolate import (
    EXIT_MEMORY,
    EXIT_USAGE,
    confine,
    cpu_budget,
    worker_main,
    write_message,
)


def serve(memory_limit: int, cpu_seconds: int) -> int:
    out = confine(memory_limit, cpu_seconds)
    try:
        from svidok.analysis._hash_media import HashFailed, hash_file
    except MemoryError:  # the decoders do not even load in this allowance
        return EXIT_MEMORY
    except ImportError as exc:  # a library's code cannot be mapped: the same, said by ld.so
        if "failed to map segment" in str(exc) or "Cannot allocate memory" in str(exc):
            return EXIT_MEMORY
        raise

    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            path, media_type = request["path"], request["media_type"]
            if not (isinstance(path, str) and isinstance(media_type, str)):
                raise TypeError("path and media_type must be strings")
        except (ValueError, KeyError, TypeError) as exc:
            print(f"svidok hash worker: malformed request ({exc})", file=sys.stderr)
            return EXIT_USAGE
        cpu_budget(cpu_seconds)
        try:
            reply: dict[str, object] = {"result": hash_file(Path(path), media_type).to_json()}
        except HashFailed as exc:
            reply = {"error": str(exc)}
        except MemoryError:
            return EXIT_MEMORY
        except OSError as exc:
            reply = {"error": f"the file could not be read: {exc.strerror or exc}"}
        except Exception as exc:  # a decoder's own failure: reported for this file
            reply = {"error": f"the hasher failed: {type(exc).__name__}: {exc}"[:500]}
        write_message(out, reply)
    return 0


def main() -> int:
    return worker_main("svidok.analysis._hash_worker --memory-limit BYTES --cpu-seconds N",
                       serve)


if __name__ == "__main__":
    sys.exit(main())
