"""Resource-limited worker processes for hostile files: the limits and how one is started.

Shared by the metadata extraction workers (:mod:`svidok.intake.extract_pool`,
:mod:`svidok.intake._worker`) and the preview render worker (:mod:`svidok.derive.render`,
:mod:`svidok.derive._render_worker`); :class:`svidok.intake.extract_pipe.WorkerProcess`
holds the parent's ends of the pipes and reads the replies.

Parent side: :func:`worker_command` (``sys.executable -P -m MODULE --memory-limit BYTES
--cpu-seconds N ...``) and :func:`worker_environment` start a fresh interpreter that can
import this package but nothing from the current folder.

Worker side: :func:`confine`, called before any decoder is imported, points the worker's
own stdout at stderr (so nothing a library prints can corrupt the protocol, written with
:func:`write_message` to the descriptor it returns), asks the kernel to kill it if its
parent dies, and limits it: RLIMIT_AS (the memory allowance), RLIMIT_FSIZE 0 (it cannot
write files; SIGXFSZ is ignored so a write fails instead of killing it), RLIMIT_CORE 0,
RLIMIT_NOFILE :data:`NOFILE`, nice 10, and a RLIMIT_CPU budget (renewed by
:func:`cpu_budget`). A worker out of memory exits with :data:`EXIT_MEMORY`.

Only light standard modules are imported here: the worker imports this before its limits.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
from collections.abc import Callable

EXIT_USAGE = 2
EXIT_MEMORY = 3
NOFILE = 64


# Parent side.


def package_root() -> str:
    """The folder holding the ``svidok`` package."""
    from pathlib import Path

    import svidok

    return str(Path(svidok.__file__).resolve().parent.parent)


def worker_environment() -> dict[str, str]:
    """The environment of a worker: this one, able to import this package, no bytecode."""
    from pathlib import Path

    env = dict(os.environ)
    root = package_root()
    if Path(root).name not in ("site-packages", "dist-packages"):  # e.g. a source tree
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MALLOC_ARENA_MAX"] = "2"
    return env


def cpu_allowance(timeout: float) -> int:
    """The CPU seconds a worker may use for a job with a wall-clock ``timeout``."""
    return max(2, math.ceil(timeout * 2) + 1)


def worker_command(module: str, memory_limit: int, cpu_seconds: int, *extra: str) -> list[str]:
    """The command line that runs worker ``module`` with these limits."""
    # -P (and cwd "/", see WorkerProcess): never import modules from the current folder,
    # which may hold the evidence being read.
    return [
        sys.executable,
        "-P",
        "-m",
        module,
        "--memory-limit",
        str(memory_limit),
        "--cpu-seconds",
        str(cpu_seconds),
        *extra,
    ]


def signal_name(code: int) -> str:
    """The name of the signal that ended a process with (negative) exit status ``code``."""
    return signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)


# Worker side.


def limit_arguments(argv: list[str]) -> tuple[int, int, dict[str, str]]:
    """(memory limit, CPU seconds, all options) from ``--option value`` pairs.

    Raises KeyError or ValueError when a limit is missing or not a number.
    """
    values = dict(zip(argv[::2], argv[1::2], strict=False))
    return int(values["--memory-limit"]), int(values["--cpu-seconds"]), values


def worker_main(
    usage: str,
    serve: Callable[..., int],
    options: Callable[[dict[str, str]], tuple[object, ...]] = lambda _values: (),
) -> int:
    """A worker's ``main``: its limits (and ``options(values)``, more arguments for
    ``serve``) from the command line, ``usage`` on stderr and EXIT_USAGE when they are bad;
    then ``serve(memory, cpu, *more)``; a parent that went away ends it quietly."""
    try:
        memory, cpu, values = limit_arguments(sys.argv[1:])
        more = options(values)
    except (KeyError, ValueError):
        print(f"usage: python -m {usage}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return serve(memory, cpu, *more)
    except BrokenPipeError:
        return 0


def write_message(fd: int, message: dict[str, object]) -> None:
    """Write ``message`` to ``fd`` as one JSON line."""
    data = (json.dumps(message, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: S110 - not Linux: the parent's pipes still end us
        pass


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_limits(memory_limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_NOFILE, NOFILE)
    _limit(resource.RLIMIT_AS, memory_limit)
    os.nice(10)


def cpu_budget(seconds: int) -> None:
    """Allow ``seconds`` more CPU time from now (the soft RLIMIT_CPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds
    _old_soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def confine(memory_limit: int, cpu_seconds: int) -> int:
    """Limit this worker process; returns the descriptor its replies go to (its stdout)."""
    out = os.dup(1)
    os.dup2(2, 1)
    os.set_inheritable(out, False)
    die_with_parent()
    apply_limits(memory_limit)
    cpu_budget(cpu_seconds)
    return out
