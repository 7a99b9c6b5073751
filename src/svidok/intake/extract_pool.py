"""Extraction in long-lived, resource-limited worker processes.

Each worker is ``sys.executable -m svidok.intake._worker`` (a fresh interpreter started
with fork+exec by :mod:`subprocess`, never a fork of this possibly threaded process),
talking JSON lines over pipes; it limits its own memory, CPU time, file writes and core
dumps (see :mod:`svidok.intake._worker`). One dispatcher thread per worker takes files
from a shared queue, so a slow file holds up only its own worker, and starts its worker
when the first file reaches it. A file whose type, as the caller detected it, has no
extractor is described by libmagic in this process and never reaches a worker.

A worker that exceeds the wall-clock ``timeout`` is killed (SIGKILL); one that dies,
crashes or runs out of memory is reaped; either way it is replaced and the file gets a
``failed`` Extraction saying why in plain words. :meth:`ExtractorPool.close` (also run
when the pool is garbage-collected or the interpreter exits) fails files still queued,
kills every worker and reaps it, so no child or zombie is left behind.
"""

from __future__ import annotations

import contextlib
import math
import queue
import signal
import threading
import time
import weakref
from concurrent.futures import Future
from pathlib import Path
from typing import Final

from svidok._isolate import (
    EXIT_MEMORY,
    cpu_allowance,
    signal_name,
    worker_command,
    worker_environment,
)
from svidok.errors import ExtractionError
from svidok.intake.extract_core import describe_unread, route
from svidok.intake.extract_model import (
    Extraction,
    extractor_name,
    failed,
    format_bytes,
    format_seconds,
    memory_message,
    timeout_message,
)
from svidok.intake.extract_pipe import EOF, GARBAGE, TIMEOUT, WorkerProcess

STARTUP_TIMEOUT: Final = 60.0
RECYCLE_AFTER: Final = 5000
OCTET: Final = "application/octet-stream"
NOT_ATTEMPTED: Final = "not attempted: the extraction pool was closed first"
STOPPED: Final = "stopped: the extraction pool was closed while this file was being read"


class _Slot:
    """A dispatcher thread and the worker it owns."""

    def __init__(self, pool: _Config, tasks: queue.SimpleQueue[_Task | None], index: int) -> None:
        self.config = pool
        self.tasks = tasks
        self.lock = threading.Lock()
        self.closing = False
        self.worker: WorkerProcess | None = None
        self.next_id = 0
        self.thread = threading.Thread(target=self.run, name=f"svidok-extract-{index}", daemon=True)

    def run(self) -> None:
        while True:  # the worker is started for the first file (errors: see handle)
            task = self.tasks.get()
            if task is None:
                break
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                result = self.handle(task.path)
            except BaseException as exc:  # never leave a future unresolved
                result = failed(OCTET, f"internal error in the extraction pool: {exc!r}")
            task.future.set_result(result)
            if self.worker is None:
                self.spawn()
        self.shutdown()

    def spawn(self) -> str | None:
        """Start a worker and wait until it is ready; an error message if it cannot start."""
        with self.lock:
            if self.closing:
                return "the extraction pool is closed"
            if self.worker is not None:
                return None
            try:
                worker = WorkerProcess(self.config.command, self.config.env)
            except (OSError, ValueError) as exc:
                return f"the extraction worker could not be started: {exc}"
            self.worker = worker
        try:
            reply = worker.receive(time.monotonic() + STARTUP_TIMEOUT)
        except OSError as exc:
            reply = f"{GARBAGE}: {exc}"
        if isinstance(reply, dict) and reply.get("ready") is True:
            return None
        self.discard(kill=True)
        if reply == TIMEOUT:
            return "the extraction worker did not start in time"
        code = worker.proc.returncode
        if code == EXIT_MEMORY:
            return (
                "the extraction worker could not start within its "
                f"{format_bytes(self.config.memory_limit)} memory allowance"
            )
        detail = worker.last_words()
        return f"the extraction worker could not start (status {code})" + (
            f": {detail}" if detail else ""
        )

    def discard(self, *, kill: bool) -> int | None:
        with self.lock:
            worker, self.worker = self.worker, None
        if worker is None:
            return None
        if kill:
            worker.kill()
        return worker.reap()

    def handle(self, path: str) -> Extraction:
        for _attempt in range(2):
            problem = self.spawn()
            worker = self.worker
            if problem is not None or worker is None:
                return failed(OCTET, problem or "the extraction worker is unavailable")
            self.next_id += 1
            ident = self.next_id
            try:
                worker.send({"id": ident, "path": path})
                break
            except OSError:  # it died while idle: not this file's fault, try a new one
                self.discard(kill=True)
        else:
            return failed(OCTET, "the extraction worker kept dying before it could be used")
        deadline = time.monotonic() + self.config.timeout
        media_type = OCTET
        while True:
            reply = worker.receive(deadline)
            if isinstance(reply, dict) and reply.get("id") == ident:
                if "result" not in reply:
                    if isinstance(reply.get("media_type"), str):
                        media_type = str(reply["media_type"])
                    continue
                try:
                    result = Extraction.from_json(reply["result"])
                except ExtractionError as exc:
                    reply = f"{GARBAGE}: {exc}"
                else:
                    worker.served += 1
                    if reply.get("restart") or worker.served >= RECYCLE_AFTER:
                        self.discard(kill=False)
                    return result
            return self.lost(worker, reply, media_type)

    def lost(self, worker: WorkerProcess, reply: object, media_type: str) -> Extraction:
        """The worker failed this file: kill it, reap it, and say why."""
        closing = self.closing
        code = self.discard(kill=reply != EOF)
        if closing or self.closing:
            return failed(media_type, STOPPED)
        if reply == TIMEOUT:
            return failed(media_type, timeout_message(self.config.timeout))
        if reply != EOF:
            detail = f"{reply!r:.80}"
            return failed(media_type, f"the extraction worker sent an unreadable reply ({detail})")
        return failed(media_type, self.config.death_message(code, worker.last_words()))

    def shutdown(self) -> None:
        with self.lock:
            self.closing = True
            worker = self.worker
        if worker is not None:
            with contextlib.suppress(OSError):
                worker.proc.kill()


class _Task:
    __slots__ = ("future", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.future: Future[Extraction] = Future()


class _Config:
    def __init__(self, timeout: float, memory_limit: int) -> None:
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.cpu_seconds = cpu_allowance(timeout)
        self.command = worker_command(
            "svidok.intake._worker",
            memory_limit,
            self.cpu_seconds,
            "--extractor",
            extractor_name(),
        )
        self.env = worker_environment()

    def death_message(self, code: int | None, last_words: str) -> str:
        allowance = format_bytes(self.memory_limit)
        if code == EXIT_MEMORY:
            return memory_message(self.memory_limit)
        if code == -signal.SIGXCPU:
            return (
                "metadata extraction used more than its "
                f"{format_seconds(self.cpu_seconds)} of CPU time and was stopped"
            )
        if code is not None and code < 0:
            name = signal_name(code)
            return (
                f"the metadata extraction worker crashed ({name}) while reading this file; the "
                "file may be malformed in a way that breaks its decoder, or extraction may "
                f"have run out of its {allowance} memory allowance"
            )
        return f"the metadata extraction worker exited unexpectedly (status {code})" + (
            f": {last_words}" if last_words else ""
        )


def _shutdown(slots: list[_Slot], tasks: queue.SimpleQueue[_Task | None]) -> None:
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            break
        if task is not None and task.future.set_running_or_notify_cancel():
            task.future.set_result(failed(OCTET, NOT_ATTEMPTED))
    for slot in slots:
        tasks.put(None)
        slot.shutdown()
    current = threading.current_thread()
    for slot in slots:
        if slot.thread is not current and slot.thread.is_alive():
            slot.thread.join(timeout=10)
        slot.discard(kill=True)


class ExtractorPool:
    """Metadata extraction in ``workers`` isolated processes (a context manager).

    ``timeout`` is the wall-clock limit per file in seconds; ``memory_limit`` the address
    space each worker may use, in bytes. Results never raise: a file that hangs, crashes
    or exhausts a worker gets a ``failed`` :class:`Extraction` saying so.
    """

    def __init__(
        self, workers: int = 2, timeout: float = 30.0, memory_limit: int = 1 << 30
    ) -> None:
        if workers < 1:
            raise ValueError("an extraction pool needs at least one worker")
        if not timeout > 0 or not math.isfinite(timeout):
            raise ValueError("the extraction timeout must be a positive number of seconds")
        if memory_limit < 1 << 20:
            raise ValueError("the memory limit must be at least 1 MiB")
        self._lock = threading.Lock()
        self._closed = False
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        config = _Config(float(timeout), int(memory_limit))
        self._slots = [_Slot(config, self._tasks, i) for i in range(workers)]
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self._tasks)
        for slot in self._slots:
            slot.thread.start()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, path: Path, media_type: str | None = None) -> Future[Extraction]:
        """Queue ``path`` for extraction; the future's result is its Extraction.

        ``media_type``, when the caller has already detected it from the file's first
        bytes, lets a file that no extractor reads be described at once in this process
        (libmagic on the whole file confirms the type; see ``describe_unread``): no worker
        is started for it.
        """
        if media_type is not None and route(media_type) is None and not self._closed:
            described = describe_unread(path)
            if described is not None:
                done: Future[Extraction] = Future()
                done.set_result(described)
                return done
        task = _Task(str(path if path.is_absolute() else Path.cwd() / path))
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is closed")
            self._tasks.put(task)
        return task.future

    def extract(self, path: Path) -> Extraction:
        """Extract ``path`` and wait for the result."""
        return self.submit(path).result()

    def close(self) -> None:
        """Fail queued files, kill and reap every worker. Safe to call twice."""
        with self._lock:
            self._closed = True
        self._finalizer()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring and tests)."""
        return [s.worker.proc.pid for s in self._slots if s.worker is not None]
