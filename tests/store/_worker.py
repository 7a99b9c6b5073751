"""A separate process that adds one object, for the concurrency and crash tests.

    python _worker.py '{"root": ..., "staging": ..., "incoming": ..., ...}'

Prints "ready", waits for a line on standard input, then calls add_object and prints
"won <path>", "exists <message>" or "error <message>". Options in the JSON:

- ``skip_precheck``: make has_object() answer False, so two writers of the same object
  both build it and meet in the final rename (the real race);
- ``kill_at``: SIGKILL this process just before its n-th file-system call inside
  add_object (counting os.rename, os.mkdir, os.open, os.write, os.fsync, os.chmod,
  os.rmdir, os.close and os.stat), so that a crash can be placed at every step.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from svidok.errors import ObjectExistsError
from svidok.store import NewObject, OcflStore

WATCHED = ("rename", "mkdir", "open", "write", "fsync", "chmod", "rmdir", "close", "stat")


def install_killer(kill_at: int) -> list[int]:
    calls = [0]
    for name in WATCHED:
        original = getattr(os, name)

        def wrapper(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return _original(*args, **kwargs)

        setattr(os, name, wrapper)
    return calls


def main() -> None:
    args = json.loads(sys.argv[1])
    store = OcflStore.open(Path(args["root"]))
    incoming = Path(args["incoming"])
    data = incoming.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if args.get("skip_precheck"):
        OcflStore.has_object = lambda self, object_id: False  # type: ignore[method-assign]
    print("ready", flush=True)
    sys.stdin.readline()
    calls = install_killer(int(args["kill_at"])) if args.get("kill_at") else [0]
    try:
        path = store.add_object(
            NewObject(
                OcflStore.object_id(digest),
                incoming,
                digest_hex=digest,
                size=len(data),
                logical_name=args.get("name", "original.bin"),
                created=datetime(2024, 5, 1, tzinfo=UTC),
                message="concurrent add",
                user_name=f"worker {os.getpid()}",
                user_address=None,
            ),
            staging_dir=Path(args["staging"]),
            durable=args.get("durable", True),
        )
    except ObjectExistsError as exc:
        print(f"exists {exc}", flush=True)
    except Exception as exc:  # reported to the test, which decides
        print(f"error {type(exc).__name__}: {exc}", flush=True)
    else:
        print(f"won {path} calls={calls[0]}", flush=True)


if __name__ == "__main__":
    main()
