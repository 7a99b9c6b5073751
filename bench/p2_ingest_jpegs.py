"""P2: `svidok ingest` of 2,000 generated 1024 x 768 JPEGs with EXIF, against
`cp -r SRC DST && sync` and against ocfl-py's `ocfl-object.py create` of the same folder.

    .venv/bin/python bench/p2_ingest_jpegs.py [--runs 3] [--cache warm|cold|both]

Targets (issue): ingest (the whole CLI command, fresh data home each run, ``init`` not
timed) takes at most 2 x ``cp -r + sync``, and less than ``ocfl-object.py create`` building
one OCFL object from the same folder. ocfl-py is run with ``--digest sha256`` (the digest
Svidok uses; its default, sha512, is slower here) and is followed by ``sync`` so that its
objects are as durable as Svidok's (ocfl-py does not flush); its time without the ``sync``
is shown as well. The JPEGs come from ``examples/make_samples.py`` (``make_jpeg``) and are
cached in ``bench/work/jpegs-2000/``. Earlier writes are flushed before every timed run;
cold runs also drop the page cache. Order alternates; judged: ratio of medians.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchlib import (
    BIN,
    JPEG_COUNT,
    Figure,
    MiB,
    alternate,
    best,
    cache_modes,
    emit,
    folder_bytes,
    header,
    info,
    init_home,
    jpeg_set,
    median,
    need_space,
    parse,
    parser,
    remove,
    run_timed,
    runs_text,
    scratch,
    scratch_base,
    settle,
    svidok_ingest,
)

TARGET_CP = 2.0


def cp_sync(src: Path, dst: Path) -> float:
    return run_timed(["sh", "-c", 'cp -r -- "$1" "$2" && sync', "sh", src, dst]).seconds


def ocfl_create(src: Path, dst: Path) -> tuple[float, float]:
    """(create, create + sync) seconds for one ocfl-py object built from ``src``."""
    created = run_timed(
        [
            BIN / "ocfl-object.py",
            "create",
            "--quiet",
            "--srcdir",
            src,
            "--objdir",
            dst,
            "--id",
            "bench-jpegs",
            "--digest",
            "sha256",
            "--name",
            "bench",
            "--message",
            "bench",
        ]
    ).seconds
    synced = run_timed(["sync"]).seconds
    if not (dst / "0=ocfl_object_1.1").exists():
        raise RuntimeError(f"ocfl-object.py create made no object at {dst}")
    return created, created + synced


def main() -> None:
    args = parse(parser(__doc__))
    header(f"P2 ingest of {JPEG_COUNT} JPEGs vs cp -r + sync and ocfl-object.py create")
    modes = cache_modes(args.cache)
    src = jpeg_set()
    size = folder_bytes(src)
    need_space(scratch_base(), 4 * size + (1 << 30))
    info(f"{JPEG_COUNT} files, {size / MiB:.1f} MiB in {src}")
    with scratch("p2") as tmp:
        for mode in modes:
            ocfl_only: list[float] = []

            def ours(r: int, mode: str = mode) -> float:
                home = init_home(tmp / f"home-{r}")
                settle(mode)
                try:
                    return svidok_ingest(home, src, JPEG_COUNT)
                finally:
                    remove(home)

            def copy(r: int, mode: str = mode) -> float:
                dst = tmp / f"copy-{r}"
                settle(mode)
                try:
                    return cp_sync(src, dst)
                finally:
                    remove(dst)

            def ocfl(r: int, mode: str = mode, only: list[float] = ocfl_only) -> float:
                dst = tmp / f"ocfl-{r}"
                settle(mode)
                try:
                    created, synced = ocfl_create(src, dst)
                finally:
                    remove(dst)
                if r >= 0:
                    only.append(created)
                return synced

            times = alternate(args.runs, {"svidok": ours, "cp": copy, "ocfl": ocfl}, args.warmup)
            s, c, o = times["svidok"], times["cp"], times["ocfl"]
            ratio = median(s) / median(c)
            emit(
                Figure(
                    "P2",
                    f"svidok ingest {JPEG_COUNT} JPEGs, {mode} cache, median of {len(s)}",
                    median(s),
                    "s",
                    "cp -r + sync",
                    median(c),
                    f"ratio <= {TARGET_CP:.2f}",
                    ratio <= TARGET_CP,
                    note=f"best {best(s):.3f} s vs {best(c):.3f} s = {best(s) / best(c):.2f}; "
                    f"{JPEG_COUNT / median(s):.0f} files/s",
                )
            )
            ratio = median(s) / median(o)
            emit(
                Figure(
                    "P2",
                    f"svidok ingest {JPEG_COUNT} JPEGs, {mode} cache, median of {len(s)}",
                    median(s),
                    "s",
                    "ocfl-object.py create + sync",
                    median(o),
                    "ratio < 1.00",
                    ratio < 1.0,
                    note=f"best {best(s):.3f} s vs {best(o):.3f} s = {best(s) / best(o):.2f}; "
                    f"ocfl-object.py without sync: median {median(ocfl_only):.3f} s, "
                    f"ratio {median(s) / median(ocfl_only):.2f}",
                )
            )
            info(
                f"svidok ingest {runs_text(s)}; cp -r + sync {runs_text(c)}; "
                f"ocfl-object.py create + sync {runs_text(o)}"
            )
    os.sync()


if __name__ == "__main__":
    main()
