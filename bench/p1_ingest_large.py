"""P1: `svidok ingest` of 8 x 128 MiB random files against `cp -r SRC DST && sync`.

    .venv/bin/python bench/p1_ingest_large.py [--runs 3] [--cache warm|cold|both]

Target (issue): the whole CLI command, ``svidok --home H ingest DIR --case bench
--collector bench --json``, takes at most 1.1 x the time of ``cp -r SRC DST && sync`` of the
same files. Each run gets a fresh data home (``init`` is not timed) or a fresh copy target;
earlier writes are flushed (``sync``) before every timed run, and for cold runs the page
cache is dropped as well. The two commands alternate (A B, B A, ...); the judged figure is
the ratio of medians, the ratio of bests is shown too.

Also shows ``svidok --version`` (interpreter start and imports, no work) against the same
reference: the fixed cost inside every CLI figure.
"""

from __future__ import annotations

from pathlib import Path

from benchlib import (
    FILES_P1,
    SIZE_P1,
    SVIDOK,
    Figure,
    MiB,
    alternate,
    best,
    cache_modes,
    emit,
    header,
    info,
    init_home,
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
    write_random_file,
)

FILES = FILES_P1
SIZE = SIZE_P1
TARGET = 1.10


def cp_sync(src: Path, dst: Path) -> float:
    return run_timed(["sh", "-c", 'cp -r -- "$1" "$2" && sync', "sh", src, dst]).seconds


def main() -> None:
    args = parse(parser(__doc__))
    header(f"P1 ingest of {FILES} x {SIZE // MiB} MiB random files vs cp -r + sync")
    modes = cache_modes(args.cache)
    need_space(scratch_base(), 4 * FILES * SIZE)
    with scratch("p1") as tmp:
        src = tmp / "evidence"
        src.mkdir()
        for i in range(FILES):
            write_random_file(src / f"disk-image-{i}.bin", SIZE, seed=i)
        for mode in modes:

            def ours(r: int, mode: str = mode) -> float:
                home = init_home(tmp / f"home-{r}")
                settle(mode)
                try:
                    return svidok_ingest(home, src, FILES)
                finally:
                    remove(home)

            def reference(r: int, mode: str = mode) -> float:
                dst = tmp / f"copy-{r}"
                settle(mode)
                try:
                    return cp_sync(src, dst)
                finally:
                    remove(dst)

            times = alternate(args.runs, {"svidok": ours, "cp": reference}, args.warmup)
            s, c = times["svidok"], times["cp"]
            ratio = median(s) / median(c)
            emit(
                Figure(
                    "P1",
                    f"svidok ingest {FILES}x{SIZE // MiB} MiB, {mode} cache, median of {len(s)}",
                    median(s),
                    "s",
                    "cp -r + sync",
                    median(c),
                    f"ratio <= {TARGET:.2f}",
                    ratio <= TARGET,
                    note=f"best {best(s):.3f} s vs {best(c):.3f} s = {best(s) / best(c):.2f}; "
                    f"{FILES * SIZE / MiB / median(s):.0f} MiB/s",
                )
            )
            info(f"svidok ingest {runs_text(s)}; cp -r + sync {runs_text(c)}")

        # the fixed cost of any CLI command: interpreter, imports, argument parsing
        run_timed([SVIDOK, "--version"])  # warm-up
        versions = [run_timed([SVIDOK, "--version"]).seconds for _ in range(max(3, args.runs))]
        copies = []
        for r in range(max(3, args.runs)):
            settle("warm")
            dst = tmp / f"copy-v{r}"
            copies.append(cp_sync(src, dst))
            remove(dst)
        emit(
            Figure(
                "P1",
                "svidok --version (start-up only, no work), median",
                median(versions),
                "s",
                "cp -r + sync (warm)",
                median(copies),
                "none (fixed cost inside every CLI figure)",
                None,
            )
        )


if __name__ == "__main__":
    main()
