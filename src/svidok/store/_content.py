"""An object's content files: hashed (at once or on worker threads) and compared.

:class:`ContentCheck` holds the problems found in one object and checks its content
folders against every digest its inventories state; ``_validate.ObjectCheck`` builds on
it with the checks of the object's structure.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from svidok.errors import StoreError
from svidok.store import _confined as cf
from svidok.store.inventory import FIXITY_ALGORITHMS, Inventory, new_hasher
from svidok.store.problems import ProblemKind, Severity, StoreProblem

CHUNK_SIZE = 1 << 20  # 1 MiB reads when hashing
THREAD_HASH_MIN = 256 * 1024  # scan() hashes files this large on worker threads

Digests = tuple[dict[str, str], int]  # algorithm -> hex digest, and the bytes read
HashFile = Callable[[int, list[str], Callable[[int], None] | None], Digests]


def hash_fd(fd: int, algorithms: list[str], on_bytes: Callable[[int], None] | None) -> Digests:
    """Digests of the open file in each algorithm, reading it once in 1 MiB chunks."""
    hashers = [new_hasher(a) for a in algorithms]
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    total = 0
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    with open(fd, "rb", buffering=0, closefd=False) as raw:
        while True:
            n = raw.readinto(view)
            if not n:
                break
            chunk = view[:n]
            for h in hashers:
                h.update(chunk)  # hashlib releases the GIL for large updates
            total += n
            if on_bytes is not None:
                on_bytes(n)
    return {a: h.hexdigest() for a, h in zip(algorithms, hashers, strict=True)}, total


class HashJobs:
    """Hashing of large files on worker threads, with a bound on files open at once.

    Files of at least ``thread_min`` bytes count as large.
    """

    def __init__(
        self, pool: ThreadPoolExecutor, hash_file: HashFile, thread_min: int, max_open: int = 32
    ) -> None:
        self.pool = pool
        self.hash_file = hash_file
        self.thread_min = thread_min
        self.slots = threading.BoundedSemaphore(max_open)

    def submit(
        self, fd: int, algorithms: list[str], on_bytes: Callable[[int], None] | None
    ) -> Future[Digests]:
        """Hash the open file ``fd`` (closed when done); blocks while too many are queued."""
        self.slots.acquire()

        def job() -> Digests:
            try:
                return self.hash_file(fd, algorithms, on_bytes)
            finally:
                os.close(fd)
                self.slots.release()

        def if_cancelled(future: Future[Digests]) -> None:
            if future.cancelled():  # the job never ran: close and free its slot here
                os.close(fd)
                self.slots.release()

        try:
            future = self.pool.submit(job)
        except BaseException:
            os.close(fd)
            self.slots.release()
            raise
        future.add_done_callback(if_cancelled)
        return future


@dataclass(frozen=True)
class Expected:
    """A digest an inventory states for a content file; ``source`` None: the manifest."""

    algorithm: str
    digest: str
    source: str | None


def expected_digests(
    inventory: Inventory, priors: dict[str, Inventory]
) -> dict[str, list[Expected]]:
    """Every digest some inventory states for each content path."""
    result: dict[str, list[Expected]] = {}

    def expect(path: str, algorithm: str, digest: str, source: str | None) -> None:
        item = Expected(algorithm, digest.lower(), source)
        items = result.setdefault(path, [])
        if all((i.algorithm, i.digest) != (item.algorithm, item.digest) for i in items):
            items.append(item)

    for path, digest in inventory.content_paths().items():
        expect(path, inventory.digest_algorithm, digest, None)
    manifest = inventory.content_paths()
    for algorithm, block in (inventory.fixity or {}).items():
        if algorithm in FIXITY_ALGORITHMS:
            for digest, paths in block.items():
                for path in paths:
                    if path in manifest:
                        expect(path, algorithm, digest, "fixity")
    for version, prior in sorted(priors.items()):
        for path, digest in prior.content_paths().items():
            if path in manifest:
                expect(path, prior.digest_algorithm, digest, f"{version}/inventory.json")
    return result


class ContentCheck:
    """The problems found in one object, and the check of its content files.

    Files of ``jobs.thread_min`` bytes or more are hashed on ``jobs`` (other threads)
    when given; the others at once, with ``hash_file``.
    """

    def __init__(
        self,
        path: Path,
        fixity: bool,
        on_bytes: Callable[[int], None] | None,
        jobs: HashJobs | None,
        hash_file: HashFile,
    ) -> None:
        self.path = path
        self.fixity = fixity
        self.on_bytes = on_bytes
        self.jobs = jobs
        self.hash_file = hash_file
        self.problems: list[StoreProblem] = []
        self.object_id: str | None = None
        self.priors: dict[str, Inventory] = {}
        self.expectations: dict[str, list[Expected]] = {}
        self.on_disk: dict[str, int] = {}  # content path -> size
        self.digests: dict[str, dict[str, str]] = {}  # content path -> algorithm -> digest
        self.pending: dict[str, Future[Digests]] = {}

    def add(
        self,
        kind: ProblemKind,
        message: str,
        code: str | None = None,
        *,
        at: str | None = None,
        severity: Severity = "error",
    ) -> None:
        path = self.path / at if at else self.path
        self.problems.append(StoreProblem(kind, message, path, self.object_id, code, severity))

    def done(self) -> bool:
        return all(f.done() for f in self.pending.values())

    def _list(self, fd: int, rel: str) -> tuple[dict[str, os.DirEntry[str]], set[str]]:
        """Regular files and folders in ``fd``; links and special files become problems."""
        files: dict[str, os.DirEntry[str]] = {}
        dirs: set[str] = set()
        for entry in sorted(os.scandir(fd), key=lambda e: e.name):
            at = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                self.add(ProblemKind.SYMLINK, "symbolic link inside an object", "E090", at=at)
            elif entry.is_dir(follow_symlinks=False):
                dirs.add(entry.name)
            elif entry.is_file(follow_symlinks=False):
                files[entry.name] = entry
            else:
                self.add(ProblemKind.SPECIAL_FILE, "not a regular file", "E090", at=at)
        return files, dirs

    def _collect(self) -> None:
        """Take the digests of the files hashed on other threads (waits for them)."""
        for content_path, future in self.pending.items():
            try:
                found, size = future.result()
            except OSError as exc:
                self.add(ProblemKind.UNREADABLE, f"reading failed: {exc}", at=content_path)
                continue
            self.on_disk[content_path] = size
            self.digests[content_path] = found
        self.pending.clear()

    def _walk_version_content(
        self,
        obj_fd: int,
        inventory: Inventory,
        version: str,
        wanted: dict[str, set[str]],
    ) -> None:
        content = inventory.content_dir_name
        try:
            cfd = cf.open_dir_path(obj_fd, (version, content))
        except (OSError, StoreError) as exc:
            self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=f"{version}/{content}")
            return
        with cf.closing_fd(cfd):
            self._walk_content(cfd, f"{version}/{content}", wanted)

    def _walk_content(self, fd: int, rel: str, wanted: dict[str, set[str]]) -> None:
        files, dirs = self._list(fd, rel)
        if not files and not dirs:
            self.add(ProblemKind.EMPTY_DIR, "empty folder inside a content folder", "E024", at=rel)
        for name in sorted(files):
            content_path = f"{rel}/{name}"
            algorithms = sorted(wanted.get(content_path, {}))
            if not self.fixity or not algorithms:
                self.on_disk[content_path] = files[name].stat(follow_symlinks=False).st_size
                continue
            try:
                ffd = cf.open_file_at(fd, name)
            except (OSError, StoreError) as exc:
                self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=content_path)
                continue
            if self.jobs is not None and os.fstat(ffd).st_size >= self.jobs.thread_min:
                self.pending[content_path] = self.jobs.submit(ffd, algorithms, self.on_bytes)
                continue
            with cf.closing_fd(ffd):
                found, size = self.hash_file(ffd, algorithms, self.on_bytes)
            self.on_disk[content_path] = size
            self.digests[content_path] = found
        for name in sorted(dirs):
            try:
                sub = cf.open_dir_at(fd, name)
            except (OSError, StoreError) as exc:
                self.add(ProblemKind.UNREADABLE, f"cannot open: {exc}", at=f"{rel}/{name}")
                continue
            with cf.closing_fd(sub):
                self._walk_content(sub, f"{rel}/{name}", wanted)

    def _compare(self, inventory: Inventory) -> None:
        on_disk, digests = self.on_disk, self.digests
        expectations, priors = self.expectations, self.priors

        manifest = inventory.content_paths()
        for content_path in sorted(set(manifest) - set(on_disk)):
            self.add(
                ProblemKind.CONTENT_MISSING,
                f"{content_path} is listed in the manifest but missing",
                "E092",
                at=content_path,
            )
        for content_path in sorted(set(on_disk) - set(manifest)):
            self.add(
                ProblemKind.CONTENT_EXTRA,
                f"{content_path} is in a content folder but not in the manifest",
                "E023",
                at=content_path,
            )
        for version, prior in sorted(priors.items()):
            self._check_prior_covers(version, prior, inventory, on_disk)
        for content_path, found in sorted(digests.items()):
            reported: set[tuple[str, str]] = set()
            for e in expectations.get(content_path, []):
                actual = found.get(e.algorithm)
                if actual is None or actual == e.digest or (e.algorithm, e.digest) in reported:
                    continue
                reported.add((e.algorithm, e.digest))
                if e.source is None:
                    self.add(
                        ProblemKind.CONTENT_DIGEST,
                        f"{content_path} has changed: its {e.algorithm} is {actual}, "
                        f"the inventory says {e.digest} ({on_disk[content_path]} bytes on disk)",
                        "E092",
                        at=content_path,
                    )
                elif e.source == "fixity":
                    self.add(
                        ProblemKind.FIXITY_MISMATCH,
                        f"{content_path}: its {e.algorithm} is {actual}, the fixity "
                        f"block says {e.digest}",
                        "E093",
                        at=content_path,
                    )
                else:
                    self.add(
                        ProblemKind.CONTENT_DIGEST,
                        f"{content_path}: its {e.algorithm} is {actual}, but {e.source} "
                        f"says {e.digest}",
                        "E092",
                        at=content_path,
                    )

    def _check_prior_covers(
        self, version: str, prior: Inventory, inventory: Inventory, on_disk: dict[str, int]
    ) -> None:
        """A version's inventory must list every content file of that version and before."""
        number = int(version[1:])
        listed = prior.content_paths()
        for content_path in sorted(on_disk):
            folder = content_path.split("/", 1)[0]
            in_scope = folder in inventory.versions and int(folder[1:]) <= number
            if in_scope and content_path not in listed:
                self.add(
                    ProblemKind.VERSION_INVENTORY,
                    f"{version}/inventory.json does not list {content_path}",
                    "E023",
                    at=f"{version}/inventory.json",
                )
