"""The custody ledger on disk: an append-only file of canonical JSON lines, its Merkle tree,
and the signed checkpoints over it.

Files in the ledger folder::

    entries.jsonl               one RFC 8785 entry per line; the leaves of the RFC 9162 tree
    checkpoint                  the latest signed checkpoint (C2SP signed-note)
    checkpoints/<size>.note     every checkpoint ever signed, by tree size (20 digits)
    cache/leaves.bin            derived: 32-byte leaf hashes, one per entry
    cache/ends.bin              derived: 8-byte little-endian end offset of each line
    torn/                       bytes of interrupted writes set aside by recovery (never deleted)
    .lock                       flock(2) lock held by the one writer at a time

Only ``entries.jsonl`` and the checkpoints are evidence; the caches are rebuilt whenever they
disagree with the entries, and ``svidok verify`` never reads them.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import itertools
import os
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from svidok._fs import atomic_write, fsync_dir, is_unfinished_write
from svidok.errors import (
    InconsistentTreeError,
    LedgerCorruptError,
    LedgerError,
    LedgerLockedError,
    SvidokError,
)
from svidok.ledger.checkpoint import Checkpoint, Receipt, open_checkpoint, sign_checkpoint
from svidok.ledger.entries import Draft, Entry, format_time, utc_now
from svidok.ledger.merkle import HASH_SIZE, HashTree, leaf_hash, verify_consistency
from svidok.ledger.note import Signer, Verifier
from svidok.ledger.scan import read_piece

ENTRIES = "entries.jsonl"
_END = struct.Struct("<Q")
_READ_CHUNK = 8 << 20
_MAX_NOTE = 1 << 20


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


@dataclass(frozen=True)
class TornTail:
    """Bytes after the last complete entry: an interrupted write, set aside by the next writer."""

    offset: int
    length: int


class Ledger:
    """One data home's custody ledger. Reading needs no lock; appending and signing do."""

    def __init__(
        self, directory: Path, origin: str, verifier: Verifier, signer: Signer | None = None
    ) -> None:
        self.dir = directory
        self.origin = origin
        self.verifier = verifier
        self.signer = signer
        self.path = directory / ENTRIES
        self.tree = HashTree()
        self._ends: list[int] = []
        self._lock_fd: int | None = None
        self._thread_lock = threading.Lock()  # threads of this process, one at a time
        self._owner: int | None = None  # the thread holding it
        self._load_cache()
        self.refresh()

    # ----------------------------------------------------------------- creation
    @classmethod
    def create(cls, directory: Path, origin: str, signer: Signer) -> Ledger:
        directory.mkdir(parents=True, exist_ok=False)
        for sub in ("checkpoints", "cache", "torn"):
            (directory / sub).mkdir()
        fd = os.open(directory / ENTRIES, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.fsync(fd)
        os.close(fd)
        (directory / ".lock").touch()
        fsync_dir(directory)
        return cls(directory, origin, signer.verifier(), signer)

    # ------------------------------------------------------------------ reading
    @property
    def size(self) -> int:
        return self.tree.size

    @property
    def end(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _load_cache(self) -> None:
        try:
            leaves = (self.dir / "cache" / "leaves.bin").read_bytes()
            ends_raw = (self.dir / "cache" / "ends.bin").read_bytes()
        except FileNotFoundError:
            return
        count = min(len(leaves) // 32, len(ends_raw) // _END.size)
        ends = [e for (e,) in _END.iter_unpack(ends_raw[: count * _END.size])]
        try:
            file_size = self.path.stat().st_size
        except FileNotFoundError as exc:
            raise LedgerCorruptError(f"the ledger file {self.path} is missing") from exc
        if count and (ends[-1] > file_size or any(b <= a for a, b in itertools.pairwise(ends))):
            return  # the cache does not fit the file: rebuild from the entries
        self.tree = HashTree.from_leaf_bytes(leaves[: count * 32])
        self._ends = ends

    def _reset_cache(self) -> None:
        self.tree = HashTree()
        self._ends = []
        for name in ("leaves.bin", "ends.bin"):
            (self.dir / "cache" / name).unlink(missing_ok=True)

    def refresh(self) -> TornTail | None:
        """Take in complete entries appended since this object last looked.

        Returns the torn tail (bytes after the last complete, valid entry), if any.
        """
        size = self._file_size()
        piece = read_piece(str(self.path), self.end, size, first_index=self.size, ends=True)
        if piece.count:
            self.tree.extend(
                piece.leaves[i : i + HASH_SIZE] for i in range(0, len(piece.leaves), HASH_SIZE)
            )
            self._ends.extend(piece.ends)
        if piece.good_end < size:
            return TornTail(piece.good_end, size - piece.good_end)
        return None

    def _file_size(self) -> int:
        return self.path.stat().st_size

    def catch_up(self) -> None:
        """Take in entries that another process (or Ledger object) appended since this one
        last looked: a long-running server reads what the command line has just written."""
        if self._owner == threading.get_ident():
            self.refresh()
            return
        if not self._thread_lock.acquire(timeout=120.0):
            raise LedgerLockedError("another thread has held the ledger lock for over 120 s")
        try:
            self.refresh()
        finally:
            self._thread_lock.release()

    def read_raw(self, index: int) -> bytes:
        if index >= self.size:
            self.catch_up()
        if not 0 <= index < self.size:
            raise IndexError(f"the ledger has no entry {index} (it has {self.size})")
        start = self._ends[index - 1] if index else 0
        with self.path.open("rb") as fh:
            fh.seek(start)
            data = fh.read(self._ends[index] - start)
        return data[:-1]

    def entry(self, index: int) -> Entry:
        raw = self.read_raw(index)
        if leaf_hash(raw) != self.tree.leaf(index):
            raise LedgerCorruptError(f"entry {index} differs from the one recorded in the tree")
        return Entry.parse(raw, expected_index=index)

    def iter_entries(self, start: int = 0, stop: int | None = None) -> Iterator[Entry]:
        stop = self.size if stop is None else stop
        if start >= stop:
            return
        begin = self._ends[start - 1] if start else 0
        with self.path.open("rb") as fh:
            fh.seek(begin)
            index = start
            for line in fh:
                if index >= stop:
                    break
                yield Entry.parse(line.rstrip(b"\n"), expected_index=index)
                index += 1

    # ---------------------------------------------------------------- checkpoints
    def latest_checkpoint(self) -> SignedCheckpoint | None:
        try:
            note = (self.dir / "checkpoint").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return SignedCheckpoint(open_checkpoint(note, self.verifier), note)

    def unfinished_writes(self) -> list[Path]:
        """Temporary files of writes a crash stopped before their rename (not data)."""
        return sorted(
            p
            for d in (self.dir, self.dir / "checkpoints")
            for p in d.iterdir()
            if is_unfinished_write(p)
        )

    def stored_checkpoints(self) -> Iterator[tuple[Path, str]]:
        """Every stored checkpoint note (text as read; unreadable ones as empty text).
        Temporary files of unfinished writes are not checkpoints and are left out."""
        for path in sorted((self.dir / "checkpoints").iterdir()):
            if is_unfinished_write(path):
                continue
            try:
                with path.open("rb") as fh:
                    data = fh.read(_MAX_NOTE + 1)
            except OSError:
                data = b""
            yield path, data.decode("utf-8", errors="replace")

    def receipt(self, index: int) -> Receipt:
        """A C2SP tlog-proof for entry ``index`` against the latest signed checkpoint."""
        latest = self.latest_checkpoint()
        if latest is None or latest.checkpoint.size <= index:
            raise LedgerError(
                f"entry {index} is not yet covered by a signed checkpoint; run any command "
                "that writes (or `svidok checkpoint`) to sign one"
            )
        size = latest.checkpoint.size
        proof = self.tree.inclusion_proof(index, size)
        return Receipt(
            index=index, proof=tuple(proof), checkpoint_note=latest.note, extra=self.read_raw(index)
        )

    # ------------------------------------------------------------------- writing
    def held(self) -> bool:
        """Whether this thread holds the writer lock (inside :meth:`locked`)."""
        return self._owner == threading.get_ident() and self._lock_fd is not None

    @contextmanager
    def locked(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the writer lock; on entry, take in others' appends and set aside a torn tail.

        The lock excludes other processes (``flock``) and other threads of this one; the
        thread holding it may take it again (nested use)."""
        if self.held():
            yield  # this thread holds it already
            return
        if not self._thread_lock.acquire(timeout=timeout):
            raise LedgerLockedError(
                f"another thread has held the ledger lock for over {timeout:.0f} s"
            )
        self._owner = threading.get_ident()
        try:
            with self._process_lock(timeout):
                yield
        finally:  # possibly in another thread (asyncio callers enter in a worker thread)
            self._owner = None
            self._thread_lock.release()

    @contextmanager
    def _process_lock(self, timeout: float) -> Iterator[None]:
        fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise LedgerLockedError(
                        f"another Svidok process has held the ledger lock for over {timeout:.0f} s"
                    ) from None
                time.sleep(0.01)
        self._lock_fd = fd
        try:
            self._recover()
            yield
        finally:
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _recover(self) -> None:
        if self.end > self._file_size():
            self._reset_cache()
        torn = self.refresh()
        for leftover in self.unfinished_writes():  # a stop mid-write: never data
            leftover.unlink(missing_ok=True)
        latest = self._complete_signing()
        if latest is not None and self.size < latest.checkpoint.size:
            raise LedgerCorruptError(
                f"the ledger holds {self.size} valid entries but a checkpoint was signed for "
                f"{latest.checkpoint.size}: entries were removed or damaged"
            )
        if torn is not None:
            with self.path.open("rb") as fh:
                fh.seek(torn.offset)
                data = fh.read()
            stamp = format_time_now_compact()
            atomic_write(self.dir / "torn" / f"{stamp}-at-{torn.offset}.bin", data)
            with self.path.open("r+b") as fh:
                fh.truncate(torn.offset)
                os.fsync(fh.fileno())
        self._write_cache()

    def _complete_signing(self) -> SignedCheckpoint | None:
        """The latest checkpoint, after finishing a signing that a crash interrupted.

        ``sign`` stores ``checkpoints/<size>.note`` before it replaces ``checkpoint``: a
        stop in between leaves the newest stored checkpoint ahead of the latest. It is our
        own signed checkpoint (checked here), so it becomes the latest; later signing is
        then checked against it, so the log never signs anything inconsistent with it."""
        latest = self.latest_checkpoint()
        newest = max(
            (p for p in (self.dir / "checkpoints").glob("*.note") if not is_unfinished_write(p)),
            default=None,
        )
        if newest is None or not newest.name[:-5].isdigit():
            return latest
        size = int(newest.name[:-5])
        if latest is not None and size <= latest.checkpoint.size:
            return latest
        try:
            note = newest.read_text(encoding="utf-8")
            found = SignedCheckpoint(open_checkpoint(note, self.verifier), note)
        except (OSError, UnicodeDecodeError, SvidokError):
            return latest  # not ours or damaged: left for `svidok verify` to report
        if found.checkpoint.size != size or found.checkpoint.origin != self.origin:
            return latest
        atomic_write(self.dir / "checkpoint", note.encode("utf-8"))
        return found

    def _require_lock(self) -> None:
        if self._lock_fd is None:
            raise LedgerError("the ledger must be locked for writing")

    def append(self, drafts: Sequence[Draft]) -> list[Entry]:
        """Append entries durably (one write, one fsync for the whole group)."""
        self._require_lock()
        base = self.size
        now = utc_now()  # one group, one moment
        entries = [Entry.create(draft, base + i, now) for i, draft in enumerate(drafts)]
        if not entries:
            return entries
        blob = b"".join(e.raw + b"\n" for e in entries)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        offset = self.end
        for e in entries:
            offset += len(e.raw) + 1
            self._ends.append(offset)
        self.tree.extend(leaf_hash(e.raw) for e in entries)
        self._write_cache()
        return entries

    def _write_cache(self) -> None:
        """Bring the derived caches up to the in-memory state (not fsynced: they are derived)."""
        leaves_path = self.dir / "cache" / "leaves.bin"
        ends_path = self.dir / "cache" / "ends.bin"
        have = min(_size(leaves_path) // 32, _size(ends_path) // _END.size)
        if have > self.size:
            have = 0
        with leaves_path.open("r+b" if leaves_path.exists() else "wb") as fh:
            fh.truncate(have * 32)
            fh.seek(have * 32)
            fh.write(self.tree.leaf_bytes(have))
        with ends_path.open("r+b" if ends_path.exists() else "wb") as fh:
            fh.truncate(have * _END.size)
            fh.seek(have * _END.size)
            fh.write(b"".join(_END.pack(e) for e in self._ends[have:]))

    def sign(self) -> SignedCheckpoint | None:
        """Sign a checkpoint for the current tree, unless the latest one already covers it.

        Refuses (``InconsistentTreeError``) when the tree does not extend the latest signed
        checkpoint: the log never signs two inconsistent checkpoints.
        """
        self._require_lock()
        if self.signer is None:
            raise LedgerError("this data home has no signing key")
        latest = self.latest_checkpoint()
        size = self.size
        if latest is not None:
            old = latest.checkpoint
            if size < old.size:
                raise InconsistentTreeError(
                    f"the ledger has {size} entries but {old.size} were already signed"
                )
            try:
                verify_consistency(
                    old.size,
                    size,
                    self.tree.consistency_proof(old.size, size),
                    old.root_hash,
                    self.tree.root(size),
                )
            except Exception as exc:
                raise InconsistentTreeError(
                    f"the ledger no longer matches the checkpoint signed at size {old.size}: {exc}"
                ) from exc
            if size == old.size:
                return latest
        cp = Checkpoint(origin=self.origin, size=size, root_hash=self.tree.root(size))
        note = sign_checkpoint(cp, self.signer)
        data = note.encode("utf-8")
        atomic_write(self.dir / "checkpoints" / f"{size:020d}.note", data)
        atomic_write(self.dir / "checkpoint", data)
        return SignedCheckpoint(cp, note)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def format_time_now_compact() -> str:
    return format_time(datetime.now(UTC)).replace(":", "").replace("-", "")


class _Group:
    """Drafts that go to disk together, and the one event their writers wait on."""

    __slots__ = ("done", "drafts", "results")

    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.done = threading.Event()
        self.results: list[Entry | Exception] = []

    def wait(self, position: int) -> Entry:
        self.done.wait()
        result = self.results[position]
        if isinstance(result, Exception):
            raise result
        return result


def _append_group(ledger: Ledger, drafts: Sequence[Draft]) -> list[Entry | Exception]:
    """Append a group; if it fails, retry one by one so one bad draft fails only itself."""
    try:
        return list(ledger.append(drafts))
    except Exception:
        out: list[Entry | Exception] = []
        for draft in drafts:
            try:
                out.append(ledger.append([draft])[0])
            except Exception as exc:
                out.append(exc)
        return out


class GroupCommitter:
    """Durable appends from many threads with one write and one fsync per group.

    Each ``append`` returns once its entry is on disk. While one group is being written,
    new requests gather in the next group, which then goes out with one write and one
    fsync: throughput grows with the number of concurrent writers (group commit). Use as
    a context manager: it holds the ledger lock while open and signs a checkpoint on close.
    """

    def __init__(self, ledger: Ledger, max_group: int = 8192) -> None:
        self.ledger = ledger
        self.max_group = max_group
        self._cond = threading.Condition()
        self._open = _Group()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="svidok-group-commit", daemon=True)
        self._lock_cm = ledger.locked()

    def __enter__(self) -> GroupCommitter:
        self._lock_cm.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        try:
            self.ledger.sign()
        finally:
            self._lock_cm.__exit__(None, None, None)

    def append(self, draft: Draft) -> Entry:
        """Append one entry; returns it once it is durable."""
        with self._cond:
            if self._closed:
                raise LedgerError("the group committer is closed")
            while len(self._open.drafts) >= self.max_group:
                self._cond.wait()
            group = self._open
            position = len(group.drafts)
            group.drafts.append(draft)
            if position == 0:
                self._cond.notify_all()
        return group.wait(position)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._open.drafts and not self._closed:
                    self._cond.wait()
                group = self._open
                if not group.drafts:
                    return
                self._open = _Group()
                self._cond.notify_all()
            group.results = _append_group(self.ledger, group.drafts)
            group.done.set()


class AsyncGroupCommitter:
    """Group commit for asyncio callers (the API server): ``await append(draft)`` returns
    once the entry is durable; the entries of all tasks waiting meanwhile share one write
    and one fsync, done in a worker thread so the event loop keeps serving."""

    def __init__(self, ledger: Ledger, max_group: int = 8192) -> None:
        self.ledger = ledger
        self.max_group = max_group
        self._pending: list[tuple[Draft, asyncio.Future[Entry]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._lock_cm = ledger.locked()

    async def __aenter__(self) -> AsyncGroupCommitter:
        await asyncio.to_thread(self._lock_cm.__enter__)
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._writer is not None:
            await self._writer
        try:
            await asyncio.to_thread(self.ledger.sign)
        finally:
            self._lock_cm.__exit__(None, None, None)

    async def append(self, draft: Draft) -> Entry:
        fut: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._pending.append((draft, fut))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await fut

    async def _write(self) -> None:
        try:
            while self._pending:
                group = self._pending[: self.max_group]
                del self._pending[: self.max_group]
                results = await asyncio.to_thread(_append_group, self.ledger, [d for d, _ in group])
                for (_, fut), result in zip(group, results, strict=True):
                    if fut.done():
                        continue
                    if isinstance(result, Exception):
                        fut.set_exception(result)
                    else:
                        fut.set_result(result)
        finally:
            self._writer = None
