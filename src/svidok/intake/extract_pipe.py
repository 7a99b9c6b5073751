"""One extraction worker process and the parent's ends of its pipes (JSON lines).

Replies are read with :func:`select.poll` against a deadline; the worker's stderr is
drained at the same time (its last lines explain a crash), so neither pipe can fill up
and block the worker.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import time
from typing import Final

MAX_REPLY: Final = 4 << 20
TIMEOUT, EOF, GARBAGE = "timeout", "eof", "garbage"


class WorkerProcess:
    """One worker process and the parent's ends of its pipes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()
        self.err_fd = self.proc.stderr.fileno()
        os.set_blocking(self.out_fd, False)
        os.set_blocking(self.err_fd, False)
        self.poller = select.poll()
        self.poller.register(self.out_fd, select.POLLIN)
        self.poller.register(self.err_fd, select.POLLIN)
        self.buffer = bytearray()
        self.stderr_tail = bytearray()
        self.served = 0

    def send(self, message: dict[str, object]) -> None:
        data = memoryview((json.dumps(message, separators=(",", ":")) + "\n").encode())
        while data:
            data = data[os.write(self.in_fd, data) :]

    def receive(self, deadline: float) -> dict[str, object] | str:
        """The next JSON object from the worker, or TIMEOUT, EOF or GARBAGE."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                try:
                    message = json.loads(line)
                except ValueError:
                    return GARBAGE
                return message if isinstance(message, dict) else GARBAGE
            if len(self.buffer) > MAX_REPLY:
                return GARBAGE
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TIMEOUT
            for fd, _event in self.poller.poll(math.ceil(remaining * 1000)):
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if fd == self.err_fd:
                    if not chunk:
                        self.poller.unregister(fd)
                    self.stderr_tail += chunk
                    del self.stderr_tail[:-4096]
                elif not chunk:
                    return EOF
                else:
                    self.buffer += chunk

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.reap()

    def reap(self, grace: float = 5.0) -> int:
        """Close its input, wait for it to exit (killing it after ``grace`` s), close pipes."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass
        return code

    def last_words(self) -> str:
        text = self.stderr_tail.decode("utf-8", "replace").strip().splitlines()
        return text[-1][:300] if text else ""


def lost_message(
    worker: str,
    reply: object,
    code: int | None,
    last_words: str,
    *,
    timeout: float,
    cpu_seconds: int,
    memory_limit: int,
    crash_hint: str,
) -> str:
    """Why a ``worker`` (e.g. "the preview renderer") ended without finishing its file,
    in plain words: its last ``reply`` (TIMEOUT, EOF or GARBAGE), its exit ``code`` and
    the last line it wrote to stderr."""
    from svidok._isolate import EXIT_MEMORY, signal_name
    from svidok.intake.extract_model import clean_text, format_bytes, format_seconds

    if reply == TIMEOUT:
        return f"stopped after {format_seconds(timeout)}"
    if reply != EOF:
        return f"{worker} sent an unreadable reply and was stopped"
    if code == EXIT_MEMORY:
        return f"out of memory ({format_bytes(memory_limit)})"
    if code == -signal.SIGXCPU:
        return f"stopped after {format_seconds(cpu_seconds)} of CPU time"
    if code is not None and code < 0:
        return f"{worker} crashed ({signal_name(code)}): {crash_hint}"
    detail = clean_text(last_words, 300)
    return f"{worker} exited unexpectedly (status {code})" + (f": {detail}" if detail else "")
