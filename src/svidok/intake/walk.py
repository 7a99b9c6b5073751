"""Finding what to ingest: walk the given paths without following links out of them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["file", "symlink", "fifo", "device", "socket", "other", "error"]


@dataclass(frozen=True)
class Candidate:
    """Something found under a given path. ``path`` and ``root`` are exact bytes."""

    path: bytes
    root: bytes
    kind: Kind
    st: os.stat_result | None = None
    reason: str = ""
    target: bytes | None = None  # what a symbolic link points to
    inside: bool = False  # a link whose target resolves inside the given folder


def _kind(mode: int) -> Kind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def _within(path: bytes, root: bytes) -> bool:
    return path == root or path.startswith(root.rstrip(b"/") + b"/")


def walk(arguments: list[bytes], *, exclude: bytes | None = None) -> Iterator[Candidate]:
    """Yield candidates in a stable order (sorted by name within each folder).

    A path given on the command line is followed if it is a link (like ``cp -H``); links
    found inside are never followed. ``exclude`` (the data home) is never entered.
    """
    for arg in arguments:
        path = os.path.abspath(arg)
        try:
            st = os.stat(path)
        except OSError as exc:
            yield Candidate(path, path, "error", reason=_os_reason(exc))
            continue
        real_root = os.path.realpath(path)
        if exclude is not None and _within(real_root, exclude):
            yield Candidate(path, path, "other", st, "inside the Svidok data home itself")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(path, path, real_root, exclude)
        else:
            yield _candidate(path, path, real_root, st)


def _candidate(path: bytes, root: bytes, real_root: bytes, st: os.stat_result) -> Candidate:
    kind = _kind(st.st_mode)
    if kind == "symlink":
        try:
            target = os.readlink(path)
        except OSError as exc:
            return Candidate(path, root, "error", st, _os_reason(exc))
        resolved = os.path.realpath(path)
        inside = _within(resolved, real_root)
        if not os.path.exists(resolved):
            reason = "broken symbolic link; not followed"
        elif inside:
            reason = (
                "symbolic link inside the given folder; not followed "
                "(its target is ingested as itself)"
            )
        else:
            reason = "symbolic link to a place outside the given folder; not followed"
        return Candidate(path, root, "symlink", st, reason, target, inside)
    if kind == "fifo":
        return Candidate(path, root, kind, st, "named pipe (FIFO): no content to preserve; skipped")
    if kind == "device":
        return Candidate(path, root, kind, st, "device file: not read; skipped")
    if kind == "socket":
        return Candidate(path, root, kind, st, "socket: no content to preserve; skipped")
    if kind == "other":
        return Candidate(path, root, kind, st, "not a regular file; skipped")
    return Candidate(path, root, kind, st)


def _walk_dir(
    top: bytes, root: bytes, real_root: bytes, exclude: bytes | None
) -> Iterator[Candidate]:
    try:
        with os.scandir(top) as it:
            items = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Candidate(top, root, "error", reason=f"cannot list this folder: {_os_reason(exc)}")
        return
    for item in items:
        path = item.path
        try:
            st = item.stat(follow_symlinks=False)
        except OSError as exc:
            yield Candidate(path, root, "error", reason=_os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            if exclude is not None and _within(os.path.realpath(path), exclude):
                continue
            yield from _walk_dir(path, root, real_root, exclude)
        else:
            yield _candidate(path, root, real_root, st)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
