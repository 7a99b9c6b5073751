"""Shared helpers for the benchmark scripts in ``bench/`` (not tests, not part of Svidok).

Every script times Svidok against a reference measured in the same run, on the same file
system, and prints one line per figure::

    P1  ingest 8 x 128 MiB, warm | svidok 3.10 s | cp -r + sync 0.70 s | ratio 4.43 | target ...

Scratch data lives under ``bench/work/`` (git-ignored) and is removed when a script ends,
except the generated JPEG set of P2/P3 (``bench/work/jpegs-*``), which is cached.

When ``SVIDOK_BENCH_RESULTS`` names a file, every figure is also appended to it as one JSON
line; ``bench/run_all.py`` uses this for its summary table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
BIN = Path(sys.executable).parent  # the virtualenv's bin (sys.executable is not resolved)
PYTHON = Path(sys.executable)
SVIDOK = BIN / "svidok"
RESULTS_ENV = "SVIDOK_BENCH_RESULTS"
KEY_PACKAGES = (
    "svidok",
    "ocfl-py",
    "pillow",
    "av",
    "orjson",
    "msgspec",
    "rfc8785",
    "cryptography",
    "sqlalchemy",
    "typer",
)
MiB = 1 << 20
GiB = 1 << 30
FILES_P1 = 8  # the P1 data set: 8 random files of 128 MiB
SIZE_P1 = 128 * MiB


# ------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class Figure:
    """One measured figure, its same-run reference, and the target it is judged against."""

    key: str  # P1, P2, ... M1
    what: str  # what was measured, conditions included
    value: float
    unit: str
    reference_name: str
    reference: float | None
    target: str  # in words, e.g. "ratio <= 1.10"
    passed: bool | None  # None: informational only
    ratio: float | None = None  # value / reference unless given
    note: str = ""

    def line(self) -> str:
        ratio = self.ratio
        if ratio is None and self.reference:
            ratio = self.value / self.reference
        verdict = "INFO" if self.passed is None else ("PASS" if self.passed else "FAIL")
        parts = [
            f"{self.key:<4}{self.what}",
            f"measured {fmt(self.value, self.unit)}",
            f"reference {self.reference_name} "
            + (fmt(self.reference, self.unit) if self.reference is not None else "-"),
            f"ratio {ratio:.2f}" if ratio is not None else "ratio -",
            f"target {self.target}",
            verdict,
        ]
        return " | ".join(parts) + (f"  ({self.note})" if self.note else "")


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 100 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.4f} ms" if value < 0.1 else f"{value:.3f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:g} {unit}"


def emit(figure: Figure) -> Figure:
    """Print a figure's line (and record it for run_all when asked)."""
    print(figure.line(), flush=True)
    target = os.environ.get(RESULTS_ENV)
    if target:
        ratio = figure.ratio
        if ratio is None and figure.reference:
            ratio = figure.value / figure.reference
        record = asdict(figure) | {"ratio": ratio, "script": Path(sys.argv[0]).name}
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    return figure


def info(message: str) -> None:
    print(f"     · {message}", flush=True)


# -------------------------------------------------------------------- arguments
def parser(description: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(description or "").split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="timed runs of each command (3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs of each command first (1)")
    p.add_argument(
        "--cache",
        choices=("warm", "cold", "both"),
        default="both",
        help="page cache state; cold needs root (drop_caches); default both if possible",
    )
    p.add_argument(
        "--scratch",
        type=Path,
        default=WORK,
        help="folder for scratch data, i.e. the file system measured (default bench/work)",
    )
    return p


_scratch_base = WORK


def parse(p: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; apply ``--scratch``."""
    global _scratch_base
    args = p.parse_args()
    _scratch_base = args.scratch.absolute()
    return args


def scratch_base() -> Path:
    return _scratch_base


def cache_modes(requested: str) -> list[str]:
    """The cache states to measure: cold ones only if this machine lets us drop caches."""
    modes = ["warm", "cold"] if requested == "both" else [requested]
    if "cold" in modes and not can_drop_caches():
        info(
            "cannot drop the page cache here (writing /proc/sys/vm/drop_caches needs root): "
            "cold-cache figures skipped, warm cache only"
        )
        modes.remove("cold")
    return modes


# ------------------------------------------------------------------- page cache
_DROP = Path("/proc/sys/vm/drop_caches")
_can_drop: bool | None = None


def drop_caches() -> bool:
    """sync, then drop the page cache, dentries and inodes; False if not allowed."""
    global _can_drop
    os.sync()
    try:
        with _DROP.open("w") as fh:
            fh.write("3\n")
    except OSError:
        _can_drop = False
        return False
    _can_drop = True
    return True


def can_drop_caches() -> bool:
    if _can_drop is None:
        drop_caches()
    return bool(_can_drop)


def settle(cache: str) -> None:
    """Before a timed run: flush earlier writes; drop the page cache for a cold run."""
    os.sync()
    if cache == "cold" and not drop_caches():
        raise RuntimeError("cannot drop the page cache")


# ------------------------------------------------------------------------ timing
def alternate(
    runs: int, contenders: dict[str, Callable[[int], float]], warmup: int = 0
) -> dict[str, list[float]]:
    """Run each contender ``runs`` times, alternating the order (ABC, CBA, ABC...), after
    ``warmup`` untimed rounds (first-use costs: byte-code caches, memory the VM has not
    handed to this guest yet)."""
    names = list(contenders)
    for r in range(warmup):
        for name in names:
            contenders[name](-1 - r)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(runs):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(contenders[name](r))
    return times


def best(values: Sequence[float]) -> float:
    return min(values)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[k]


def runs_text(values: Sequence[float]) -> str:
    return "runs " + ", ".join(f"{v:.3f}" for v in values) + " s"


@dataclass(frozen=True)
class Completed:
    seconds: float
    stdout: bytes
    stderr: bytes
    returncode: int


def run_timed(
    argv: Sequence[str | os.PathLike[str]],
    *,
    ok_codes: Sequence[int] = (0,),
    cwd: Path | None = None,
) -> Completed:
    """Run a command, timing it from spawn to exit (wall clock)."""
    env = os.environ.copy()
    env.pop(RESULTS_ENV, None)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(a) for a in argv], capture_output=True, cwd=cwd, env=env, check=False
    )
    seconds = time.perf_counter() - t0
    if proc.returncode not in ok_codes:
        raise RuntimeError(
            f"{' '.join(str(a) for a in argv)} exited with {proc.returncode}:\n"
            + proc.stderr.decode(errors="replace")[-2000:]
            + proc.stdout.decode(errors="replace")[-2000:]
        )
    return Completed(seconds, proc.stdout, proc.stderr, proc.returncode)


# --------------------------------------------------------------------- scratch
def _rm_error(func: Callable[..., Any], path: str, _exc: object) -> None:
    """rmtree helper: make the parent writable (read-only folders) and retry once."""
    parent = os.path.dirname(path)
    with contextlib.suppress(OSError):
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
    with contextlib.suppress(FileNotFoundError):
        func(path)


def remove(path: Path) -> None:
    """Remove a file or folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=_rm_error)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh folder ``<scratch>/<name>-<pid>`` (``--scratch``, default ``bench/work``),
    removed (and synced) at the end."""
    path = _scratch_base / f"{name}-{os.getpid()}"
    remove(path)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        remove(path)
        os.sync()


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def need_space(path: Path, nbytes: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    have = free_bytes(path)
    if have < nbytes:
        raise SystemExit(
            f"not enough free space under {path}: {nbytes / GiB:.1f} GiB needed, "
            f"{have / GiB:.1f} GiB free"
        )


# ------------------------------------------------------------------ test data
def write_random_file(path: Path, size: int, seed: int) -> None:
    """``size`` bytes no two files (or MiB blocks) share: a random MiB, varied per block."""
    block = bytearray(os.urandom(MiB))
    with path.open("wb") as fh:
        done = 0
        while done < size:
            n = min(MiB, size - done)
            block[:16] = (done // MiB).to_bytes(8, "big") + seed.to_bytes(8, "big")
            fh.write(block[:n])
            done += n


def init_home(path: Path) -> Path:
    """A fresh data home (in this process; never timed)."""
    from svidok.home import Home

    Home.init(path, origin=f"bench.svidok.local/{path.name}", actor="bench")
    return path


def ingest_argv(home: Path, source: Path) -> list[str]:
    return [
        str(SVIDOK),
        "--home",
        str(home),
        "ingest",
        str(source),
        "--case",
        "bench",
        "--collector",
        "bench",
        "--json",
    ]


def check_ingest(result: Completed, files: int) -> dict[str, Any]:
    """The ingest's JSON report, after checking every file was preserved."""
    report: dict[str, Any] = json.loads(result.stdout)
    preserved = report["summary"]["preserved"]
    if not report["ok"] or preserved != files:
        raise RuntimeError(f"ingest preserved {preserved} of {files} files: {report['summary']}")
    return report


def svidok_ingest(home: Path, source: Path, files: int) -> float:
    """Time ``svidok ingest`` of ``source`` into the (fresh) home; checks the report."""
    result = run_timed(ingest_argv(home, source))
    check_ingest(result, files)
    return result.seconds


def load_make_samples() -> Any:
    """``examples/make_samples.py`` as a module (it is not part of the package)."""
    import importlib.util

    path = ROOT / "examples" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("svidok_make_samples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------- ledger entries
def acquisition_data(i: int) -> dict[str, Any]:
    """The ``data`` of an acquisition entry as ``svidok ingest`` writes it (see
    ``svidok.intake.ingest._provenance``), for the ``i``-th photo of a seized phone."""
    import hashlib
    from datetime import UTC, datetime

    from svidok.ledger.entries import format_time
    from svidok.textsafe import path_value

    digest = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
    mtime_ns = 1_648_885_267_000_000_000 + i * 7_919_000_000 + i % 1_000_000_000
    day = f"2022{i % 12 + 1:02d}{i % 28 + 1:02d}"
    path = f"/media/usb0/case-2024-117/DCIM/Camera/IMG_{day}_{i:06d}.jpg"

    def ns_time(ns: int) -> str:
        when = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"

    return {
        "object": f"sha256:{digest}",
        "size": 2_000_000 + (i * 7919) % 5_000_000,
        "media_type": "image/jpeg",
        "logical_path": "original.jpg",
        "new_object": True,
        "case": "UA-2024-117 (Bucha, Yablunska St.)",
        "collector": "Olena Kovalenko, field investigator",
        "source": "Samsung SM-A525F seized 2022-04-03, exhibit 14",
        "note": None,
        "path": path_value(path.encode()),
        "name": path_value(path.rsplit("/", 1)[1].encode()),
        "given": path_value(b"/media/usb0/case-2024-117"),
        "file": {
            "mtime_ns": str(mtime_ns),
            "atime_ns": str(mtime_ns + 3_600_000_000_000),
            "ctime_ns": str(mtime_ns + 60_000_000_000),
            "mtime": ns_time(mtime_ns),
            "ctime": ns_time(mtime_ns + 60_000_000_000),
            "atime": ns_time(mtime_ns + 3_600_000_000_000),
            "mode": "0644",
            "uid": 1000,
            "gid": 1000,
            "inode": str(1_048_576 + i),
            "device": "2049",
            "links": 1,
        },
        "acquired_at": format_time(datetime.now(UTC)),
        "host": platform.node(),
    }


def acquisition_drafts(count: int, start: int = 0) -> list[Any]:
    from svidok.ledger.entries import Draft

    actor = "Olena Kovalenko, field investigator"
    return [Draft("acquisition", actor, acquisition_data(i)) for i in range(start, start + count)]


# ------------------------------------------------------------------ JPEG set
JPEG_COUNT = 2000
_CAMERAS = [
    ("Samsung", "SM-A525F"),
    ("Apple", "iPhone 12"),
    ("Xiaomi", "Redmi Note 10"),
    ("Canon", "EOS 2000D"),
    ("Google", "Pixel 6a"),
]


def _make_one_jpeg(job: tuple[str, int]) -> int:
    """Worker: one 1024 x 768 JPEG with camera, time and (mostly) GPS EXIF."""
    from datetime import timedelta

    path, seed = job
    samples = _samples_module()
    _name, _seed, gps, when, _make, _model = samples.PHOTOS[seed % len(samples.PHOTOS)]
    make, model = _CAMERAS[seed % len(_CAMERAS)]
    if gps is not None:
        gps = (gps[0] + (seed % 97) * 1e-4, gps[1] - (seed % 89) * 1e-4, gps[2] + seed % 13)
    samples.make_jpeg(
        Path(path),
        seed=1000 + seed,
        gps=gps,
        when=when + timedelta(minutes=seed),
        make=make,
        model=model,
    )
    return seed


_SAMPLES: Any = None


def _samples_module() -> Any:
    global _SAMPLES
    if _SAMPLES is None:
        _SAMPLES = load_make_samples()
    return _SAMPLES


def jpeg_set(count: int = JPEG_COUNT) -> Path:
    """``count`` generated JPEGs in ``bench/work/jpegs-<count>/`` (cached between runs:
    regenerated only when missing or when examples/make_samples.py changed)."""
    import hashlib
    from concurrent.futures import ProcessPoolExecutor

    folder = WORK / f"jpegs-{count}"
    stamp = WORK / f"jpegs-{count}.done"
    generator = (ROOT / "examples" / "make_samples.py").read_bytes()
    want = f"{count} {hashlib.sha256(generator).hexdigest()} v1\n"
    if (
        stamp.exists()
        and stamp.read_text() == want
        and folder.is_dir()
        and sum(1 for _ in folder.iterdir()) == count
    ):
        return folder
    info(f"generating {count} JPEGs into {folder} (cached for later runs)")
    stamp.unlink(missing_ok=True)
    remove(folder)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    jobs = [(str(folder / f"IMG_{i:05d}.JPG"), i) for i in range(count)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for _ in pool.map(_make_one_jpeg, jobs, chunksize=16):
            pass
    os.sync()
    stamp.write_text(want)
    total = sum(p.stat().st_size for p in folder.iterdir())
    info(f"generated {count} JPEGs, {total / MiB:.1f} MiB, in {time.perf_counter() - t0:.1f} s")
    return folder


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------------- machine
def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def fs_of(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    fs = _cmd(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "--target", str(path)])
    return " ".join(fs.splitlines()[0].split()) if fs else "?"


def source_digest() -> str:
    """sha256 over Svidok's source files (src/), first 16 hex digits."""
    return source_fingerprint().split()[2]


def source_fingerprint() -> str:
    """sha256 over Svidok's source files (src/, without bytecode and the package metadata
    an install rewrites), and when the newest of them changed: the figures belong to
    exactly this code (git is not consulted)."""
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted((ROOT / "src").rglob("*")):
        if path.is_file() and not any(
            part == "__pycache__" or part.endswith(".egg-info") for part in path.parts
        ):  # the code only: not bytecode, nor the metadata each install rewrites
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(newest))
    return f"src sha256 {digest.hexdigest()[:16]} (newest file changed {when})"


def machine(base: Path | None = None) -> dict[str, str]:
    """What the figures were measured on (``base``: the scratch folder, default as parsed)."""
    model = ""
    for line in _cmd(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    base = base or _scratch_base
    versions = []
    for name in KEY_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return {
        "cpu": f"{model or platform.processor() or '?'}, {os.cpu_count()} logical cores",
        "memory": f"{mem_kib / (1 << 20):.1f} GiB",
        "filesystem": f"{fs_of(base)} ({base})",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "source": source_fingerprint(),
        "page cache": "cold runs possible (drop_caches)"
        if can_drop_caches()
        else "warm only (cannot drop caches)",
    }


def print_machine() -> None:
    for key, value in machine().items():
        print(f"# {key}: {value}")


def _cpu_times() -> tuple[float, float, float]:
    """(busy CPU seconds of the whole machine, steal seconds, CPU seconds of this process and
    its reaped descendants)."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    ours = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        ours += r.ru_utime + r.ru_stime
    return (user + nice + system + irq + softirq) / tick, steal / tick, ours


def _report_disturbance(start: tuple[float, float, float], t0: float) -> None:
    busy0, steal0, ours0 = start
    busy1, steal1, ours1 = _cpu_times()
    wall = time.perf_counter() - t0
    other = max(0.0, (busy1 - busy0) - (ours1 - ours0))
    info(
        f"other activity during this script ({wall:.0f} s): {other:.2f} CPU-s used by other "
        f"processes and the kernel ({other / (wall * (os.cpu_count() or 1)):.0%} of the "
        f"machine), {steal1 - steal0:.1f} s stolen by the hypervisor"
    )


def header(title: str) -> None:
    import atexit

    print(f"== {title} ({time.strftime('%Y-%m-%d %H:%M:%S')}, load {os.getloadavg()[0]:.2f})")
    atexit.register(_report_disturbance, _cpu_times(), time.perf_counter())
    info(f"scratch data in {_scratch_base}: {fs_of(_scratch_base)}")
    info(source_fingerprint())
    _compile_bytecode()


def _compile_bytecode() -> None:
    """Svidok's modules compiled to bytecode first, as an installed package has them (pip
    compiles at install); an editable checkout run with PYTHONDONTWRITEBYTECODE=1 would
    otherwise compile every module from source in every timed command."""
    import compileall

    ok = compileall.compile_dir(ROOT / "src", quiet=1, workers=1)
    info(f"src compiled to bytecode ({'ok' if ok else 'with errors'})")
