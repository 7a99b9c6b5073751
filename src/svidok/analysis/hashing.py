"""Hashing stored originals (``svidok duplicates hash``, and the web server after an
upload): every picture and video received whose hash by the current version is not yet
in the ledger is hashed in an isolated worker (:class:`HashWorker`, the render worker's
limits: :mod:`svidok._isolate`) reading the stored original, and one ``perceptual_hash``
entry per original records the result: the algorithm and its version, the PDQ hash, its
quality and the dihedral hashes for a picture, every sampled frame's hash, quality and
time for a video, or, when it could not be hashed, why (``status`` ``failed``; not tried
again unless asked). Anyone can recompute a hash from the stored bytes and compare.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from svidok._isolate import (
    cpu_allowance,
    worker_command,
    worker_environment,
)
from svidok.analysis.pdq import IMAGE_ALGORITHM, VIDEO_ALGORITHM, is_hash
from svidok.catalog import schema as s
from svidok.derive.previews import _content_path, _originals
from svidok.errors import SvidokError
from svidok.home import Home
from svidok.intake.extract_model import clean_text
from svidok.intake.extract_pipe import EOF, WorkerProcess, lost_message
from svidok.ledger.entries import Draft, JSONValue

ENTRY: Final = "perceptual_hash"
METHOD: Final = "svidok-pdq/1"
BATCH: Final = 64  # originals hashed before their entries are written together
IMAGE_TIMEOUT: Final = 60.0
VIDEO_TIMEOUT: Final = 1800.0
MEMORY_LIMIT: Final = 768 << 20


def kind_of(media_type: str) -> str | None:
    """The algorithm for a media type: ``pdq`` (pictures), ``vpdq`` (video) or None."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base.startswith("video/"):
        return VIDEO_ALGORITHM
    if base.startswith("image/") and base != "image/svg+xml":
        return IMAGE_ALGORITHM
    return None


def algorithm_version(algorithm: str) -> str:
    """What made a hash: Svidok's method and the libraries' versions."""
    libraries = f"pdqhash {version('pdqhash')}"
    if algorithm == VIDEO_ALGORITHM:
        libraries += f", av {version('av')}"
    return f"{METHOD} ({libraries})"


@dataclass(frozen=True)
class Hashed:
    """What the worker made of one file (see :class:`svidok.analysis._hash_media.Result`)."""

    algorithm: str
    hash: str | None
    quality: int | None
    dihedral: list[str]
    frames: list[list[Any]]
    interval: float | None


def _hashed(data: object) -> Hashed | None:
    """A :class:`Hashed` from the worker's JSON, or None if anything about it is wrong."""
    if not isinstance(data, dict):
        return None
    algorithm, frames, dihedral = data.get("algorithm"), data.get("frames"), data.get("dihedral")
    quality, hash_ = data.get("quality"), data.get("hash")
    if not isinstance(frames, list) or not isinstance(dihedral, list):
        return None
    if algorithm == IMAGE_ALGORITHM:
        good = (is_hash(hash_) and isinstance(quality, int) and 0 <= quality <= 100
                and len(dihedral) == 7 and all(is_hash(h) for h in dihedral) and not frames)
    elif algorithm == VIDEO_ALGORITHM:
        good = (hash_ is None and bool(frames) and all(
            isinstance(f, list) and len(f) == 3 and is_hash(f[0]) and isinstance(f[1], int)
            and isinstance(f[2], int | float) and math.isfinite(f[2]) for f in frames)
            and isinstance(data.get("interval"), int | float))
    else:
        good = False
    if not good:
        return None
    interval = data.get("interval")
    return Hashed(str(algorithm), hash_ if isinstance(hash_, str) else None,
                  quality if isinstance(quality, int) else None, [str(h) for h in dihedral],
                  [list(f) for f in frames],
                  float(interval) if isinstance(interval, int | float) else None)


class HashWorker:
    """A long-lived, resource-limited hash worker process, started on first use and
    started again after one had to be stopped (timeout, crash, out of memory). Close it
    (or use it in a ``with``) to reap it."""

    def __init__(self, *, image_timeout: float = IMAGE_TIMEOUT,
                 video_timeout: float = VIDEO_TIMEOUT, memory_limit: int = MEMORY_LIMIT) -> None:
        if not (image_timeout > 0 and video_timeout > 0 and math.isfinite(image_timeout)
                and math.isfinite(video_timeout)):
            raise ValueError("hash timeouts must be positive numbers of seconds")
        if memory_limit < 16 << 20:
            raise ValueError("the hash memory limit must be at least 16 MiB")
        self.image_timeout, self.video_timeout = image_timeout, video_timeout
        self.memory_limit = memory_limit
        self._worker: WorkerProcess | None = None

    def __enter__(self) -> HashWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.reap()
            self._worker = None

    def pid(self) -> int | None:
        """The worker process's id while one runs (for measuring it)."""
        return self._worker.proc.pid if self._worker is not None else None

    def hash(self, path: Path, media_type: str) -> Hashed | str:
        """The hashes of one file, or why it could not be hashed (plain words)."""
        algorithm = kind_of(media_type)
        if algorithm is None:
            return f"{media_type} is neither a picture nor a video"
        timeout = self.video_timeout if algorithm == VIDEO_ALGORITHM else self.image_timeout
        cpu = cpu_allowance(timeout)
        if self._worker is None:
            try:
                self._worker = WorkerProcess(worker_command(
                    "svidok.analysis._hash_worker", self.memory_limit,
                    cpu_allowance(max(self.image_timeout, self.video_timeout))),
                    worker_environment())
            except (OSError, ValueError) as exc:
                return f"the hash worker could not be started: {exc}"
        worker = self._worker
        absolute = path if path.is_absolute() else Path.cwd() / path
        try:
            worker.send({"path": str(absolute), "media_type": media_type})
            reply = worker.receive(time.monotonic() + timeout)
        except OSError:
            reply = EOF
        if isinstance(reply, dict):
            if set(reply) == {"error"} and isinstance(reply["error"], str):
                return clean_text(reply["error"], 500)
            hashed = _hashed(reply.get("result")) if set(reply) == {"result"} else None
            if hashed is not None and hashed.algorithm == algorithm:
                return hashed
        self._worker = None
        if reply != EOF:
            worker.kill()
        code = worker.reap()
        return self._lost(reply, code, worker.last_words(), timeout, cpu)

    def _lost(self, reply: object, code: int | None, last_words: str, timeout: float,
              cpu: int) -> str:
        return lost_message(
            "the hash worker", reply, code, last_words, timeout=timeout, cpu_seconds=cpu,
            memory_limit=self.memory_limit,
            crash_hint="the file may be malformed in a way that breaks its decoder")


@dataclass
class HashReport:
    originals: int = 0  # originals looked at
    hashed: int = 0  # perceptual_hash entries written with a hash
    unchanged: int = 0  # hashed already, or neither picture nor video
    failed: list[tuple[str, str]] = field(default_factory=list)  # (object, why)

    def to_json(self) -> dict[str, Any]:
        return {"originals": self.originals, "hashed": self.hashed,
                "unchanged": self.unchanged,
                "failed": [{"object": o, "reason": r} for o, r in self.failed]}


def _settled(home: Home, objects: Sequence[str], retry: bool) -> set[str]:
    """Objects hashed by the current method, or (unless ``retry``) that failed with it."""
    h = s.perceptual_hashes.c
    done: set[str] = set()
    with home.catalog.engine.connect() as conn:
        for i in range(0, len(objects), 500):
            for r in conn.execute(select(h.object_id, h.status, h.version).where(
                    h.object_id.in_(list(objects[i : i + 500])))):
                if str(r.version).split(" ", 1)[0] == METHOD and (
                        retry is False or r.status == "hashed"):
                    done.add(str(r.object_id))
    return done


def draft_for(obj: str, actor: str, media_type: str, outcome: Hashed | str) -> Draft:
    """The ``perceptual_hash`` entry recording ``outcome`` for object ``obj``."""
    algorithm = kind_of(media_type) or IMAGE_ALGORITHM
    data: dict[str, JSONValue] = {
        "object": obj, "algorithm": algorithm, "version": algorithm_version(algorithm),
        "status": "failed", "hash": None, "quality": None, "dihedral": [], "frames": [],
        "interval": None, "reason": None}
    if isinstance(outcome, str):
        data["reason"] = outcome
    else:
        data.update({"status": "hashed", "hash": outcome.hash, "quality": outcome.quality,
                     "dihedral": list[JSONValue](outcome.dihedral),
                     "frames": [list[JSONValue](f) for f in outcome.frames],
                     "interval": outcome.interval})
    return Draft(ENTRY, actor, data)


def compute_hashes(
    home: Home, actor: str, *, case: str | None = None, objects: Sequence[str] | None = None,
    retry: bool = False, worker: HashWorker | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> HashReport:
    """Hash the pictures and videos received (for ``case``, or those named in ``objects``,
    or all) that have no hash by the current method yet; failures recorded, never raised
    (only a missing case raises :class:`SvidokError`)."""
    report = HashReport()
    todo = _originals(home, case, objects)
    settled = _settled(home, [t[0] for t in todo], retry)
    drafts: list[Draft] = []
    own = worker is None
    hasher = worker if worker is not None else HashWorker()
    try:
        for number, (obj, media_type, logical) in enumerate(todo, start=1):
            report.originals += 1
            if obj in settled or kind_of(media_type) is None:
                report.unchanged += 1
            else:
                try:
                    outcome = hasher.hash(_content_path(home, obj, logical), media_type)
                except (SvidokError, OSError) as exc:
                    outcome = f"the original could not be read from the store: {exc}"
                if isinstance(outcome, str):
                    report.failed.append((obj, outcome))
                else:
                    report.hashed += 1
                drafts.append(draft_for(obj, actor, media_type, outcome))
            if drafts and (len(drafts) >= BATCH or number == len(todo)):
                with home.writing():
                    home.commit(drafts)
                drafts = []
            if progress is not None:
                progress(number, len(todo))
    finally:
        if own:
            hasher.close()
    return report
