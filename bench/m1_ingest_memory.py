"""M1: peak memory of `svidok ingest` of one 4 GiB file (bounded memory for huge files).

    .venv/bin/python bench/m1_ingest_memory.py [--size-gib 4]

Target (issue): the peak resident set of ``svidok ingest`` of one 4 GiB file stays under
200 MB; what matters is that memory does not grow with the file (20 GB evidence files).

Measured for the 4 GiB file and, as the same-run reference, for a 1 MiB file (ratio near 1
means memory does not depend on the file's size), each ingested into a fresh data home by
the whole CLI command:

* ``ru_maxrss`` from ``wait4`` on the ``svidok`` process: the largest peak RSS of that
  process *or* of any descendant it reaped (the extraction workers), i.e. the largest
  single process of the tree. This is the judged figure.
* ``VmHWM`` (peak RSS) of the ``svidok`` process itself and of each extraction worker
  (grandchildren of this script), sampled from ``/proc`` every 25 ms while the command
  runs (peaks are kept by the kernel, so only growth in the last 25 ms could be missed;
  the process tree is re-read at every sample for 2 s, then at every 10th),
  and the largest sum of ``VmRSS`` over the whole process tree at any sample.

For information it also measures the 2,000-JPEG ingest of P2 (``--no-many-files`` skips
it), with ``--json`` and without: there the report grows with the number of files.

Page cache is not resident set memory and is not counted. MB here are 10^6 bytes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import (
    JPEG_COUNT,
    Completed,
    Figure,
    GiB,
    MiB,
    check_ingest,
    emit,
    header,
    info,
    ingest_argv,
    init_home,
    jpeg_set,
    need_space,
    parse,
    parser,
    remove,
    scratch,
    scratch_base,
    settle,
    write_random_file,
)

TARGET_MB = 200.0
KB = 1024 / 1e6  # KiB (as the kernel reports) to MB (10^6 bytes, as in the target)


@dataclass
class Tree:
    """Peaks seen in one process tree."""

    hwm_kib: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM
    names: dict[int, str] = field(default_factory=dict)
    peak_sum_kib: int = 0
    samples: int = 0


def _status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        found.extend(frontier)
    return found


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


def sample(root: int, tree: Tree, stop: threading.Event) -> None:
    pids: list[int] = []
    while not stop.is_set():
        if tree.samples < 80 or tree.samples % 10 == 0:  # then rarely: workers live long
            pids = _descendants(root)
        total = 0
        for pid in pids:
            try:
                st = _status(pid)
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "VmHWM" not in st:
                continue  # a zombie
            tree.hwm_kib[pid] = max(tree.hwm_kib.get(pid, 0), _kib(st["VmHWM"]))
            tree.names.setdefault(pid, cmd)
            total += _kib(st.get("VmRSS", ""))
        tree.peak_sum_kib = max(tree.peak_sum_kib, total)
        tree.samples += 1
        stop.wait(0.025)


def measured_ingest(argv: list[str], out: Path) -> tuple[Completed, int, Tree, int]:
    """Run the ingest; (result, ru_maxrss KiB from wait4, sampled tree peaks, its pid)."""
    env = os.environ.copy()
    env.pop("SVIDOK_BENCH_RESULTS", None)
    with out.open("wb") as stdout:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env)
        tree, stop = Tree(), threading.Event()
        sampler = threading.Thread(target=sample, args=(proc.pid, tree, stop), daemon=True)
        sampler.start()
        assert proc.stderr is not None
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"svidok ingest exited {proc.returncode}: {err[-2000:]!r}")
    result = Completed(seconds, out.read_bytes(), err, proc.returncode)
    return result, usage.ru_maxrss, tree, proc.pid


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--size-gib", type=float, default=4.0, help="size of the big file (4)")
    p.add_argument(
        "--many-files",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the 2,000-JPEG ingest of P2 (default: yes)",
    )
    args = parse(p)
    size = int(args.size_gib * GiB)
    header(f"M1 peak memory of svidok ingest of one {size / GiB:g} GiB file")
    need_space(scratch_base(), 2 * size + GiB)
    with scratch("m1") as tmp:
        results = {}
        for label, nbytes in (("1 MiB", MiB), (f"{size / GiB:g} GiB", size)):
            src = tmp / f"src-{nbytes}"
            src.mkdir()
            write_random_file(src / "evidence.img", nbytes, seed=nbytes)
            home = init_home(tmp / f"home-{nbytes}")
            settle("warm")
            result, maxrss, tree, main_pid = measured_ingest(
                ingest_argv(home, src), tmp / "out.json"
            )
            check_ingest(result, 1)
            remove(home)
            remove(src)
            workers = {
                pid: kib
                for pid, kib in tree.hwm_kib.items()
                if "svidok.intake._worker" in tree.names.get(pid, "")
            }
            results[label] = (result.seconds, maxrss, tree.hwm_kib.get(main_pid, 0), workers, tree)
            info(
                f"{label}: {result.seconds:.1f} s; ru_maxrss {maxrss * KB:.1f} MB; "
                f"svidok VmHWM {tree.hwm_kib.get(main_pid, 0) * KB:.1f} MB; workers "
                + ", ".join(f"{k * KB:.1f}" for k in workers.values())
                + f" MB; tree peak {tree.peak_sum_kib * KB:.1f} MB; {tree.samples} samples"
            )
        (_, small_rss, small_main, small_workers, small_tree) = results["1 MiB"]
        big_label = f"{size / GiB:g} GiB"
        (_, big_rss, big_main, big_workers, big_tree) = results[big_label]
        emit(
            Figure(
                "M1",
                f"svidok ingest of one {big_label} file: ru_maxrss (largest process of the tree)",
                big_rss * KB,
                "MB",
                "same, 1 MiB file",
                small_rss * KB,
                f"< {TARGET_MB:g} MB",
                big_rss * KB < TARGET_MB,
            )
        )
        emit(
            Figure(
                "M1",
                f"  svidok process VmHWM, {big_label} file (sampled)",
                big_main * KB,
                "MB",
                "same, 1 MiB file",
                small_main * KB,
                f"< {TARGET_MB:g} MB",
                big_main * KB < TARGET_MB,
            )
        )
        emit(
            Figure(
                "M1",
                f"  largest extraction worker VmHWM, {big_label} file (sampled)",
                max(big_workers.values(), default=0) * KB,
                "MB",
                "same, 1 MiB file",
                max(small_workers.values(), default=0) * KB,
                f"< {TARGET_MB:g} MB",
                max(big_workers.values(), default=0) * KB < TARGET_MB,
                note=f"{len(big_workers)} workers seen",
            )
        )
        emit(
            Figure(
                "M1",
                f"  whole tree, largest sum of VmRSS, {big_label} file (sampled)",
                big_tree.peak_sum_kib * KB,
                "MB",
                "same, 1 MiB file",
                small_tree.peak_sum_kib * KB,
                "none (svidok + workers together)",
                None,
            )
        )
        if args.many_files:
            many_files(tmp, small_rss)


def many_files(tmp: Path, single_rss: int) -> None:
    """For information: the 2,000-JPEG set of P2, with and without ``--json``."""
    src = jpeg_set()
    peaks = {}
    for label, json_out in (("--json", True), ("table output", False)):
        home = init_home(tmp / f"home-many-{json_out}")
        argv = ingest_argv(home, src)
        if not json_out:
            argv.remove("--json")
        settle("warm")
        result, maxrss, tree, main_pid = measured_ingest(argv, tmp / "out.txt")
        if json_out:
            check_ingest(result, JPEG_COUNT)
        remove(home)
        peaks[label] = maxrss
        info(
            f"{JPEG_COUNT} JPEGs, {label}: {result.seconds:.1f} s; ru_maxrss {maxrss * KB:.1f} MB; "
            f"svidok VmHWM {tree.hwm_kib.get(main_pid, 0) * KB:.1f} MB"
        )
    emit(
        Figure(
            "M1",
            f"svidok ingest of {JPEG_COUNT} JPEGs --json: ru_maxrss",
            peaks["--json"] * KB,
            "MB",
            "one 1 MiB file",
            single_rss * KB,
            "none (memory per file reported)",
            None,
            note=f"without --json: {peaks['table output'] * KB:.1f} MB",
        )
    )


if __name__ == "__main__":
    main()
