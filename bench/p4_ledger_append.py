"""P4: durable ledger appends per second with group commit.

    .venv/bin/python bench/p4_ledger_append.py [--runs 3] [--appends 64000] [--tasks 64]

Target (issue): at least 20,000 durable appends per second through
``svidok.ledger.log.AsyncGroupCommitter``, with 64 asyncio tasks each awaiting
``append(Draft(...))`` one after another. Also shown, without a target: ``GroupCommitter``
with 64 threads, and one ``Ledger.append`` of every draft at once (one write, one fsync).

The entries are realistic acquisition entries (the fields ``svidok ingest`` writes, about
1 KB each); the drafts are built before the clock starts, so the time covers what
``append`` does: index and time stamp, RFC 8785 encoding, one write and one fsync per
group, Merkle tree and cache update. The reference, measured right after each run, writes
the very bytes that run appended, in the very groups it formed (recorded by wrapping
``Ledger.append``), to a fresh file in the same folder with ``os.write`` + ``os.fsync``
per group: the cost of the durability alone. Each run starts from a fresh data home.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import (
    Figure,
    acquisition_drafts,
    emit,
    header,
    info,
    init_home,
    median,
    parse,
    parser,
    remove,
    scratch,
    settle,
)

TARGET = 20_000


def record_groups(ledger: Any) -> list[int]:
    """Wrap this ledger's ``append`` so that the size of every group is recorded."""
    groups: list[int] = []
    original = ledger.append

    def append(drafts: Any) -> Any:
        groups.append(len(drafts))
        return original(drafts)

    ledger.append = append
    return groups


def run_async(ledger: Any, drafts: list[Any], tasks: int) -> float:
    from svidok.ledger.log import AsyncGroupCommitter

    parts = [drafts[k::tasks] for k in range(tasks)]

    async def go() -> float:
        async with AsyncGroupCommitter(ledger) as committer:

            async def writer(mine: list[Any]) -> None:
                for draft in mine:
                    await committer.append(draft)

            t0 = time.perf_counter()
            await asyncio.gather(*(writer(p) for p in parts))
            return time.perf_counter() - t0

    return asyncio.run(go())


def run_threads(ledger: Any, drafts: list[Any], tasks: int) -> float:
    from svidok.ledger.log import GroupCommitter

    parts = [drafts[k::tasks] for k in range(tasks)]
    start = threading.Barrier(tasks + 1)
    errors: list[BaseException] = []
    with GroupCommitter(ledger) as committer:

        def writer(mine: list[Any]) -> None:
            start.wait()
            try:
                for draft in mine:
                    committer.append(draft)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(p,)) for p in parts]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def run_batch(ledger: Any, drafts: list[Any], _tasks: int) -> float:
    with ledger.locked():
        t0 = time.perf_counter()
        ledger.append(drafts)
        elapsed = time.perf_counter() - t0
        ledger.sign()
    return elapsed


def raw_reference(blob: bytes, groups: list[int], path: Path) -> float:
    """os.write + os.fsync of ``blob``'s lines in the given groups, to a fresh file."""
    lines = blob.split(b"\n")[:-1]
    assert len(lines) == sum(groups), (len(lines), sum(groups))
    chunks = []
    at = 0
    for n in groups:
        chunks.append(b"".join(line + b"\n" for line in lines[at : at + n]))
        at += n
    os.sync()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    try:
        t0 = time.perf_counter()
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        elapsed = time.perf_counter() - t0
    finally:
        os.close(fd)
    path.unlink()
    return elapsed


def one_run(
    tmp: Path, name: str, r: int, drafts: list[Any], tasks: int, runner: Callable[..., float]
) -> tuple[float, float, list[int]]:
    from svidok.home import Home

    path = init_home(tmp / f"home-{name}-{r}")
    try:
        with Home.open(path) as home:
            ledger = home.ledger
            before_size, before_end = ledger.size, ledger.end
            groups = record_groups(ledger)
            settle("warm")
            elapsed = runner(ledger, drafts, tasks)
            if ledger.size != before_size + len(drafts) or sum(groups) != len(drafts):
                raise RuntimeError(f"{name}: {ledger.size - before_size} entries appended")
            with ledger.path.open("rb") as fh:
                fh.seek(before_end)
                blob = fh.read(ledger.end - before_end)
        raw = raw_reference(blob, groups, tmp / f"raw-{name}-{r}")
    finally:
        remove(path)
    return elapsed, raw, groups


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--appends", type=int, default=64_000, help="entries per run (64,000)")
    p.add_argument("--tasks", type=int, default=64, help="concurrent writers (64)")
    args = parse(p)
    header(f"P4 durable ledger appends, {args.tasks} concurrent writers")
    drafts = acquisition_drafts(args.appends)
    modes: list[tuple[str, str, Callable[..., float], bool]] = [
        ("async", f"AsyncGroupCommitter, {args.tasks} asyncio tasks", run_async, True),
        ("threads", f"GroupCommitter, {args.tasks} threads", run_threads, False),
        ("batch", "one Ledger.append of every draft", run_batch, False),
    ]
    with scratch("p4") as tmp:
        for name, label, runner, judged in modes:
            for w in range(args.warmup):
                one_run(tmp, name, -1 - w, drafts[: max(args.tasks * 20, 1)], args.tasks, runner)
            ours, raws, sizes = [], [], []
            for r in range(args.runs):
                elapsed, raw, groups = one_run(tmp, name, r, drafts, args.tasks, runner)
                ours.append(args.appends / elapsed)
                raws.append(args.appends / raw)
                sizes.append(statistics.mean(groups))
            emit(
                Figure(
                    "P4",
                    f"{label}: {args.appends:,} appends, median of {len(ours)}",
                    median(ours),
                    "/s",
                    "os.write+fsync, same bytes and groups",
                    median(raws),
                    f">= {TARGET:,}/s" if judged else "none (for comparison)",
                    median(ours) >= TARGET if judged else None,
                    note=f"mean group {median(sizes):.1f} entries; time ratio "
                    f"{median(raws) / median(ours):.2f} x the raw writes",
                )
            )
            info(
                f"{name}: appends/s "
                + ", ".join(f"{v:,.0f}" for v in ours)
                + "; raw "
                + ", ".join(f"{v:,.0f}" for v in raws)
            )


if __name__ == "__main__":
    main()
