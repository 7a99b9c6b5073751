"""Previews made in the background while ``svidok serve`` runs: a single worker thread that
takes originals from a queue (every upload's, and at start every original that lacks its
previews) and makes them (:func:`svidok.derive.previews.make_previews`). What it is doing
is visible (:meth:`PreviewJobs.state`): waiting, working, or its last result per object.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Literal

from svidok.analysis.hashing import HashWorker, compute_hashes
from svidok.derive.previews import make_previews
from svidok.derive.text import make_texts
from svidok.home import Home

log = logging.getLogger("svidok.previews")

State = Literal["waiting", "working", "done", "failed"]
_ALL = "*"


@dataclass(frozen=True)
class JobState:
    state: State
    reason: str | None = None


class PreviewJobs:
    """The background preview maker of one server (start it, submit objects, stop it)."""

    def __init__(self, home: Home, actor: str) -> None:
        self._home = home
        self._actor = actor
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._states: dict[str, JobState] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="svidok-previews", daemon=True)
        self._hasher = HashWorker()  # one long-lived hash worker for this server

    def start(self, *, catch_up: bool = True) -> None:
        """Start the worker; with ``catch_up``, first every original lacking previews."""
        self._thread.start()
        if catch_up:
            self._queue.put(_ALL)

    def submit(self, objects: list[str]) -> None:
        with self._lock:
            for obj in objects:
                self._states[obj] = JobState("waiting")
                self._queue.put(obj)

    def state(self, obj: str) -> JobState | None:
        """What the worker did or will do for ``obj`` in this server's life (None: nothing
        asked of it)."""
        with self._lock:
            return self._states.get(obj)

    def stop(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        if not self._thread.is_alive():
            self._hasher.close()

    def _run(self) -> None:
        while True:
            obj = self._queue.get()
            if obj is None:
                return
            objects = None if obj == _ALL else [obj]
            if objects is not None:
                with self._lock:
                    self._states[obj] = JobState("working")
            try:
                report = make_previews(self._home, self._actor, objects=objects)
            except Exception as exc:  # shown here; the worker goes on with the next one
                log.error("previews could not be made: %s", type(exc).__name__)
                if objects is not None:
                    with self._lock:
                        self._states[obj] = JobState("failed", str(exc))
                continue
            failed = dict(report.failed)
            try:  # perceptual hashes for near-duplicates (failures recorded in the ledger)
                compute_hashes(self._home, self._actor, objects=objects, worker=self._hasher)
            except Exception as exc:  # shown here; the worker goes on with the next one
                log.error("hashes could not be made: %s", type(exc).__name__)
            try:  # the text of PDFs and plain-text files, for search (failures recorded)
                make_texts(self._home, self._actor, objects=objects)
            except Exception as exc:  # shown here; the worker goes on with the next one
                log.error("texts could not be extracted: %s", type(exc).__name__)
            if objects is not None:
                with self._lock:
                    self._states[obj] = (JobState("failed", failed[obj]) if obj in failed
                                         else JobState("done"))
