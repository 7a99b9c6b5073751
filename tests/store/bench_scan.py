"""Measure OcflStore.scan(fixity=True) against ocfl-py's ocfl-validate.py (not a test).

    PYTHONPATH=src .venv/bin/python tests/store/bench_scan.py /tmp/svidok-bench

Builds two stores under the given folder (kept for reruns): ~2,000 small objects, and
8 objects of 128 MiB each; then times a full fixity scan by Svidok and a full
validation by ``ocfl-validate.py`` (run with the 0004 layout registered, as in the
tests). Page cache is warm for both (each is run twice, the better time is kept).
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from svidok._fs import syncfs
from svidok.store import NewObject, OcflStore, StoreProblem

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent


def build(root: Path, count: int, size: int) -> None:
    if root.exists():
        return
    store = OcflStore.init(root)
    staging = root.parent / f"{root.name}-staging"
    staging.mkdir(exist_ok=True)
    for i in range(count):
        data = os.urandom(size) if size <= 1 << 20 else None
        f = staging / "incoming"
        h = hashlib.sha256()
        with open(f, "wb") as out:
            if data is not None:
                out.write(data)
                h.update(data)
            else:
                block = os.urandom(1 << 20)
                for j in range(size >> 20):
                    chunk = block[:-8] + j.to_bytes(4, "big") + i.to_bytes(4, "big")
                    out.write(chunk)
                    h.update(chunk)
        digest = h.hexdigest()
        store.add_object(
            NewObject(
                OcflStore.object_id(digest),
                f,
                digest_hex=digest,
                size=size,
                logical_name="original.bin",
                created=datetime.now(UTC),
                message="bench",
                user_name="bench",
                user_address=None,
            ),
            staging_dir=staging,
            durable=False,
        )
    syncfs(root)


def time_it(fn: Callable[[], None], runs: int = 3) -> tuple[float, float]:
    """Best wall time and best CPU time (this process and its children) over ``runs``."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        r0, c0, t0 = resource.getrusage(resource.RUSAGE_SELF), _children(), time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
        r1, c1 = resource.getrusage(resource.RUSAGE_SELF), _children()
        cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) + (c1 - c0)
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def _children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/svidok-bench")
    base.mkdir(parents=True, exist_ok=True)
    cases = [("small", 2000, 2048), ("big", 8, 128 << 20)]
    for name, count, size in cases:
        root = base / name
        build(root, count, size)
        store = OcflStore.open(root)

        def svidok_scan(store: OcflStore = store, expected: int = count * size) -> None:
            hashed = 0

            def progress(n: int) -> None:
                nonlocal hashed
                hashed += n

            items = list(store.scan(fixity=True, progress=progress))
            problems = [x for x in items if isinstance(x, StoreProblem)]
            assert not problems, problems[:3]
            assert hashed == expected, hashed

        def ocfl_py(root: Path = root) -> None:
            cmd = [
                str(VENV_BIN / "python"),
                str(HERE / "ocfl_py_validate.py"),
                "-q",
                str(root),
            ]
            subprocess.run(cmd, check=True, capture_output=True)

        ours, ours_cpu = time_it(svidok_scan)
        theirs, theirs_cpu = time_it(ocfl_py)
        print(
            f"{name}: {count} objects x {size} bytes: "
            f"svidok scan {ours:.2f} s wall ({ours_cpu:.2f} s CPU), "
            f"ocfl-validate.py {theirs:.2f} s wall ({theirs_cpu:.2f} s CPU), "
            f"wall ratio {theirs / ours:.1f}x; load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
