"""Walking the whole storage root: finding its objects, and checking them all (``scan``).

Large files are hashed on worker threads while the walk goes on; the objects are still
reported one by one, in a stable order.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from svidok.errors import ObjectNotFoundError, PathEscapeError, StoreError
from svidok.store import _confined as cf
from svidok.store._content import HashFile, HashJobs
from svidok.store._read import ObjectInfo
from svidok.store._root import (
    EXTENSIONS_DIR,
    INVENTORY_LIMIT,
    LAYOUT_FILE,
    ROOT_DECLARATION,
    SPEC_VERSION,
    absolute,
    check_root,
    open_root,
)
from svidok.store._validate import ObjectCheck
from svidok.store.inventory import load_json
from svidok.store.layout import EXTENSION_NAME, HashedNTupleLayout
from svidok.store.problems import ProblemKind, StoreProblem

_ROOT_FILES_KNOWN = frozenset({ROOT_DECLARATION, LAYOUT_FILE, f"ocfl_{SPEC_VERSION}.md"})


class _ByteCounter:
    """Bytes hashed so far, shared by worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._reported = 0

    def add(self, n: int) -> None:
        with self._lock:
            self._total += n

    def take(self) -> int:
        """Bytes hashed since the last call."""
        with self._lock:
            delta = self._total - self._reported
            self._reported = self._total
            return delta


def _walk(root: Path, layout: HashedNTupleLayout) -> Iterator[StoreProblem | tuple[str, ...]]:
    """Walk the storage root: problems found on the way, and each object's path parts."""
    with cf.closing_fd(open_root(root)) as root_fd:
        problems, _ = check_root(root_fd, root)
        yield from problems
        entries = sorted(os.scandir(root_fd), key=lambda e: e.name)
        for entry in entries:
            path = root / entry.name
            if entry.is_symlink():
                yield StoreProblem(
                    ProblemKind.SYMLINK, "symbolic link in the storage root", path, None, "E090"
                )
            elif entry.is_dir(follow_symlinks=False):
                if entry.name == EXTENSIONS_DIR:
                    yield from _check_extensions(root, root_fd)
                else:
                    yield from _walk_dir(root, layout, root_fd, (entry.name,))
            elif not entry.is_file(follow_symlinks=False):
                yield StoreProblem(ProblemKind.SPECIAL_FILE, "not a regular file", path)
            elif entry.name not in _ROOT_FILES_KNOWN and not entry.name.startswith("0="):
                yield StoreProblem(
                    ProblemKind.STRAY_FILE,
                    "file in the storage root that Svidok does not know",
                    path,
                    severity="warning",
                )


def _check_extensions(root: Path, root_fd: int) -> Iterator[StoreProblem]:
    base = root / EXTENSIONS_DIR
    try:
        fd = cf.open_dir_at(root_fd, EXTENSIONS_DIR)
    except (OSError, StoreError) as exc:
        yield StoreProblem(ProblemKind.UNREADABLE, f"cannot read: {exc}", base)
        return
    with cf.closing_fd(fd):
        for entry in sorted(os.scandir(fd), key=lambda e: e.name):
            if entry.is_symlink():
                yield StoreProblem(
                    ProblemKind.SYMLINK, "symbolic link", base / entry.name, None, "E090"
                )
            elif not entry.is_dir(follow_symlinks=False):
                yield StoreProblem(
                    ProblemKind.STRAY_FILE,
                    "the extensions folder may only hold extension folders",
                    base / entry.name,
                    None,
                    "E112",
                )
            elif entry.name != EXTENSION_NAME:
                yield StoreProblem(
                    ProblemKind.STRAY_DIR,
                    "extension folder Svidok does not know",
                    base / entry.name,
                    None,
                    "W016",
                    "warning",
                )


def _walk_dir(
    root: Path, layout: HashedNTupleLayout, parent_fd: int, parts: tuple[str, ...]
) -> Iterator[StoreProblem | tuple[str, ...]]:
    path = root.joinpath(*parts)
    try:
        fd = cf.open_dir_at(parent_fd, parts[-1])
    except (OSError, StoreError) as exc:
        yield StoreProblem(ProblemKind.UNREADABLE, f"cannot read this folder: {exc}", path)
        return
    with cf.closing_fd(fd):
        try:
            entries = sorted(os.scandir(fd), key=lambda e: e.name)
        except OSError as exc:
            yield StoreProblem(ProblemKind.UNREADABLE, f"cannot list: {exc.strerror}", path)
            return
        if not entries:
            yield StoreProblem(ProblemKind.EMPTY_DIR, "empty folder", path, None, "E073")
            return
        if any(
            (e.name.startswith("0=") or e.name == "inventory.json")
            and not e.is_dir(follow_symlinks=False)
            for e in entries
        ):
            yield parts  # an object, or what is left of one (validate_object judges it)
            return
        depth = len(parts)
        if depth > layout.number_of_tuples or not layout.tuple_name_ok(parts[-1]):
            yield StoreProblem(
                ProblemKind.STRAY_DIR,
                "folder that is neither an object nor a folder of the storage layout",
                path,
                None,
                "E088",
            )
        for entry in entries:
            child = path / entry.name
            if entry.is_symlink():
                yield StoreProblem(ProblemKind.SYMLINK, "symbolic link", child, None, "E090")
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk_dir(root, layout, fd, (*parts, entry.name))
            elif entry.is_file(follow_symlinks=False):
                yield StoreProblem(
                    ProblemKind.STRAY_FILE,
                    "file that belongs to no object",
                    child,
                    None,
                    "E084",
                )
            else:
                yield StoreProblem(ProblemKind.SPECIAL_FILE, "not a regular file", child)


def iter_objects(root: Path, layout: HashedNTupleLayout) -> Iterator[tuple[str, Path]]:
    """(object id, object path) for every object whose inventory can be read."""
    for item in _walk(root, layout):
        if isinstance(item, StoreProblem):
            continue
        path = root.joinpath(*item)
        try:
            with cf.closing_fd(open_root(root)) as root_fd:
                obj_fd = cf.open_dir_path(root_fd, item)
            with cf.closing_fd(obj_fd):
                raw = cf.read_small_at(obj_fd, "inventory.json", INVENTORY_LIMIT)
            doc = load_json(raw)
        except (OSError, StoreError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            yield doc["id"], path


def _relative_parts(root: Path, object_path: Path) -> tuple[str, ...]:
    try:
        rel = absolute(object_path).relative_to(root)
    except ValueError:
        raise PathEscapeError(f"{object_path} is not inside the storage root {root}") from None
    if not rel.parts:
        raise PathEscapeError(f"{object_path} is the storage root itself, not an object")
    return rel.parts


def validate_object(
    root: Path,
    layout: HashedNTupleLayout,
    object_path: Path,
    *,
    fixity: bool,
    hash_file: HashFile,
) -> list[StoreProblem]:
    """The problems of the object at ``object_path`` (see :meth:`OcflStore.validate_object`)."""
    parts = _relative_parts(root, object_path)
    with cf.closing_fd(open_root(root)) as root_fd:
        try:
            os.close(cf.open_dir_path(root_fd, parts))
        except FileNotFoundError:
            raise ObjectNotFoundError(f"there is no folder {object_path}") from None
        except (OSError, StoreError):
            pass  # reported as a problem below
    problems, _ = ObjectCheck(root, layout, parts, fixity, None, None, hash_file).run()
    return problems


def scan(
    root: Path,
    layout: HashedNTupleLayout,
    *,
    threads: int,
    fixity: bool,
    progress: Callable[[int], None] | None,
    hash_file: HashFile,
    thread_min: int,
) -> Iterator[StoreProblem | ObjectInfo]:
    """Walk and check the whole storage root (see :meth:`OcflStore.scan`).

    Each object is checked as the walk reaches it, its large files hashed on ``threads``
    worker threads while the walk goes on.
    """
    counter = _ByteCounter()
    on_bytes = counter.add if progress is not None else None
    max_ahead = max(2, threads * 4)  # objects checked but not yet reported

    def report() -> None:
        if progress is not None:
            delta = counter.take()
            if delta:
                progress(delta)

    queue: deque[StoreProblem | ObjectCheck] = deque()
    checks = 0
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="svidok-scan") as pool:
        jobs = HashJobs(pool, hash_file, thread_min)
        try:

            def emit(limit: int) -> Iterator[StoreProblem | ObjectInfo]:
                """Report finished heads; wait for the head while over ``limit`` are open."""
                nonlocal checks
                while queue:
                    head = queue[0]
                    if isinstance(head, StoreProblem):
                        queue.popleft()
                        yield head
                        continue
                    if not head.done():
                        if checks <= limit:
                            return
                        while not head.done():
                            wait(list(head.pending.values()), timeout=0.25)
                            report()
                    queue.popleft()
                    checks -= 1
                    problems, info = head.finish()
                    report()
                    yield from problems
                    if info is not None:
                        yield info

            for item in _walk(root, layout):
                if isinstance(item, StoreProblem):
                    queue.append(item)
                else:
                    check = ObjectCheck(root, layout, item, fixity, on_bytes, jobs, hash_file)
                    check.start()
                    queue.append(check)
                    checks += 1
                report()
                yield from emit(limit=max_ahead)
            yield from emit(limit=-1)
        finally:
            for entry in queue:
                if isinstance(entry, ObjectCheck):
                    for future in entry.pending.values():
                        future.cancel()
    report()
