"""P3: full `svidok verify --no-record` against ocfl-py's validation of the same store.

    .venv/bin/python bench/p3_verify.py [--runs 3] [--cache warm|cold|both]

Two data homes are built with ``svidok ingest`` (not timed): the P1 set (8 x 128 MiB random
files) and the P2 set (2,000 generated JPEGs). On each, ``svidok --home H verify --no-record
--json`` (every stored byte re-hashed, ledger re-read, accounting, catalog) is timed
against ``bench/ocfl_validate_root.py H/store``: ocfl-py's ``ocfl-validate.py`` root
validation (every object, digests checked) with the 0004 layout registered and a strict exit
status (ocfl-py's own exits 0 even when objects are invalid). Both are whole commands,
interpreter start included. Earlier writes are flushed before every timed run; cold runs
drop the page cache first. Order alternates; judged: ratio of medians.

Target (issue): Svidok is faster (ratio < 1); the goal is twice as fast (ratio <= 0.5).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchlib import (
    BENCH,
    FILES_P1,
    JPEG_COUNT,
    PYTHON,
    SIZE_P1,
    SVIDOK,
    Figure,
    MiB,
    alternate,
    best,
    cache_modes,
    check_ingest,
    emit,
    folder_bytes,
    header,
    info,
    ingest_argv,
    init_home,
    jpeg_set,
    median,
    need_space,
    parse,
    parser,
    run_timed,
    runs_text,
    scratch,
    scratch_base,
    settle,
    write_random_file,
)

GOAL = 0.5


def svidok_verify(home: Path, objects: int) -> float:
    result = run_timed([SVIDOK, "--home", home, "verify", "--no-record", "--json"])
    report = json.loads(result.stdout)
    if not report["ok"] or report["objects"] != objects:
        raise RuntimeError(f"svidok verify: ok={report['ok']}, {report['objects']} objects")
    return result.seconds


def ocfl_validate(store: Path, objects: int) -> float:
    result = run_timed([PYTHON, BENCH / "ocfl_validate_root.py", store, str(objects)])
    if not result.stdout.startswith(f"{objects} objects, {objects} valid".encode()):
        raise RuntimeError(f"ocfl-py: {result.stdout!r}")
    return result.seconds


def main() -> None:
    args = parse(parser(__doc__))
    header("P3 svidok verify --no-record vs ocfl-py validation of the same store")
    modes = cache_modes(args.cache)
    jpegs = jpeg_set()
    need_space(scratch_base(), 2 * FILES_P1 * SIZE_P1 + 2 * folder_bytes(jpegs) + (1 << 30))
    with scratch("p3") as tmp:
        big = tmp / "large-files"
        big.mkdir()
        for i in range(FILES_P1):
            write_random_file(big / f"disk-image-{i}.bin", SIZE_P1, seed=i)
        stores = [
            (f"{FILES_P1}x{SIZE_P1 // MiB} MiB store", big, FILES_P1),
            (f"{JPEG_COUNT}-JPEG store", jpegs, JPEG_COUNT),
        ]
        for label, source, objects in stores:
            home = init_home(tmp / f"home-{source.name}")
            check_ingest(run_timed(ingest_argv(home, source)), objects)
            info(f"{label}: ingested {objects} files into {home}")
            for mode in modes:

                def ours(_r: int, mode: str = mode, home: Path = home, n: int = objects) -> float:
                    settle(mode)
                    return svidok_verify(home, n)

                def theirs(_r: int, mode: str = mode, home: Path = home, n: int = objects) -> float:
                    settle(mode)
                    return ocfl_validate(home / "store", n)

                times = alternate(args.runs, {"svidok": ours, "ocfl": theirs}, args.warmup)
                s, o = times["svidok"], times["ocfl"]
                ratio = median(s) / median(o)
                emit(
                    Figure(
                        "P3",
                        f"svidok verify --no-record, {label}, {mode} cache, median of {len(s)}",
                        median(s),
                        "s",
                        "ocfl-py validate",
                        median(o),
                        f"ratio < 1.00 (goal <= {GOAL:.2f})",
                        ratio < 1.0,
                        note=f"{1 / ratio:.2f}x as fast; goal 2x "
                        + ("met" if ratio <= GOAL else "not met")
                        + f"; best {best(s):.3f} s vs {best(o):.3f} s",
                    )
                )
                info(f"svidok verify {runs_text(s)}; ocfl-py {runs_text(o)}")


if __name__ == "__main__":
    main()
