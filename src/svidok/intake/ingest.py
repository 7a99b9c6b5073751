"""Ingest: preserve files as OCFL objects and record each acquisition in the ledger.

The order of work makes a ``kill -9`` at any moment harmless:

1. copy each file into the run's staging folder, hashing while copying (two threads);
2. extract metadata in isolated worker processes;
3. for content not yet stored: build the object in staging and write an *intent* naming the
   entries that will account for it; one ``syncfs`` makes all of it durable;
4. move the objects into the storage root (atomic renames); ``syncfs`` again;
5. under the ledger lock: drop acquisitions already recorded, append the entries (one
   fsync), project them into the catalog, sign a checkpoint.

Only then is a file reported preserved. A crash after 4 leaves objects whose intents let the
next command (or ``svidok verify``) account for them; a crash before 4 leaves only staging.

Files go in batches; steps 3-5 of a batch run on one commit thread, batch after batch in
order, while the next batch goes through steps 1-2 (see ``_Commits``).
"""

from __future__ import annotations

import itertools
import os
import platform
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from svidok._fs import syncfs
from svidok.errors import IntakeError, ObjectExistsError
from svidok.home import Home, Workspace
from svidok.intake.detect import extension_for
from svidok.intake.extract import Extraction, ExtractorPool
from svidok.intake.receive import Received, receive
from svidok.intake.walk import Candidate, walk
from svidok.ledger.entries import Draft, JSONValue, canonical_json, format_time
from svidok.store.ocfl import NewObject, ObjectBatch, OcflStore, PreparedObject
from svidok.textsafe import escape_bytes, escape_text, path_value

Status = Literal["preserved", "already-preserved", "linked", "skipped", "failed"]
BATCH_FILES = 256
BATCH_FIRST = 32
BATCH_BYTES = 2 << 30
#: Receiving threads per extraction worker (``intake.workers``, normally one per core):
#: large files are written with O_DIRECT, which holds a thread until the disk has the
#: bytes, so twice as many threads keep both the cores (hashing) and the disk busy.
RECEIVE_THREADS = 2
_batch_names = itertools.count()


@dataclass(frozen=True)
class IngestOptions:
    case: str
    collector: str
    source: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        for name in ("case", "collector"):
            value = getattr(self, name)
            if not value or not value.strip():
                raise IntakeError(f"--{name} must not be empty")
            if len(value) > 500:
                raise IntakeError(f"--{name} is longer than 500 characters")
        for name in ("case", "collector", "source"):
            value = getattr(self, name)
            if value is not None and escape_text(value) != value:
                raise IntakeError(f"--{name} contains control or invisible characters")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one thing found under the given paths."""

    path: bytes
    status: Status
    size: int | None = None
    object_id: str | None = None
    new_object: bool = False
    media_type: str | None = None
    extraction: str | None = None
    reason: str | None = None
    entry: int | None = None

    @property
    def display(self) -> str:
        return escape_bytes(self.path)

    @property
    def ok(self) -> bool:
        return self.status in ("preserved", "already-preserved", "linked")

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "path": path_value(self.path),
            "display": self.display,
            "status": self.status,
            "size": self.size,
            "object": self.object_id,
            "new_object": self.new_object,
            "media_type": self.media_type,
            "extraction": self.extraction,
            "reason": self.reason,
            "entry": self.entry,
        }


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    checkpoint_size: int = 0

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def bytes_preserved(self) -> int:
        return sum(o.size or 0 for o in self.outcomes if o.status == "preserved")


class IngestProgress(Protocol):
    """Callbacks for a progress display."""

    def on_planned(self, files: int, total_bytes: int) -> None:
        """Called once the walk is done."""

    def on_bytes(self, nbytes: int) -> None:
        """More bytes were read."""

    def on_outcome(self, outcome: FileOutcome) -> None:
        """One outcome is final (durable)."""


class NoProgress:
    def on_planned(self, files: int, total_bytes: int) -> None:
        pass

    def on_bytes(self, nbytes: int) -> None:
        pass

    def on_outcome(self, outcome: FileOutcome) -> None:
        pass


@dataclass
class _Item:
    candidate: Candidate
    received: Received | None = None
    extracting: Future[Extraction] | None = None
    extraction: Extraction | None = None
    drafts: list[Draft] | None = None  # entries for a new object, as its intent names them
    object_id: str | None = None
    new_object: bool = False
    outcome: FileOutcome | None = None
    acquired_at: str = ""


def ingest(
    home: Home,
    paths: Sequence[str | bytes | os.PathLike[str]],
    options: IngestOptions,
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Preserve every file under ``paths``; return one outcome per thing found."""
    progress = progress or NoProgress()
    report = IngestReport()
    args = [os.fsencode(p) for p in paths]
    exclude = os.path.realpath(os.fsencode(home.path))
    candidates = list(walk(args, exclude=exclude))
    files = [c for c in candidates if c.kind == "file"]
    progress.on_planned(len(files), sum(c.st.st_size for c in files if c.st is not None))
    others = [_Item(c) for c in candidates if c.kind != "file"]
    cfg = home.config
    with (
        home.workspace() as ws,
        ThreadPoolExecutor(max_workers=RECEIVE_THREADS * cfg.workers) as threads,
        ExtractorPool(
            workers=cfg.workers,
            timeout=cfg.extract_timeout,
            memory_limit=cfg.extract_memory_mb << 20,
        ) as pool,
        # after the pool: on the way out, a running commit still gets its extractions
        _Commits(home, ws, options, report, progress) as commits,
    ):
        for batch in _batches(files):
            commits.submit(_receive_all(batch, ws, threads, pool, progress))
            commits.report(ahead=True)  # receive the next batch while these commit
        if others or not files:
            commits.submit(others)
        commits.report(ahead=False)
    latest = home.latest_checkpoint()
    report.checkpoint_size = latest.checkpoint.size if latest else 0
    return report


class _Commits:
    """Batches committed in order on one thread, while the caller receives the next ones.

    Besides the batch being received, staging holds uncommitted batches of at most
    BATCH_FILES files and BATCH_BYTES bytes in all: one full batch, or several small ones
    while the extraction workers start. A batch is not committed once one before it has
    failed; :meth:`report` raises the first failure. Leaving the context waits for the
    commit under way (and, when leaving on an exception, drops the batches still waiting
    for their turn).
    """

    def __init__(
        self,
        home: Home,
        ws: Workspace,
        options: IngestOptions,
        report: IngestReport,
        progress: IngestProgress,
    ) -> None:
        self._home, self._ws, self._options = home, ws, options
        self._report = report
        self._progress = progress
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-commit")
        self._pending: deque[tuple[list[_Item], Future[None]]] = deque()
        self._last: Future[None] | None = None
        self._files = self._bytes = 0  # in the pending batches

    def __enter__(self) -> _Commits:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        # after an error (or Ctrl-C) a batch that waits for its turn is not committed
        self._thread.shutdown(wait=True, cancel_futures=kind is not None)

    def submit(self, items: list[_Item]) -> None:
        self._last = self._thread.submit(self._commit, self._last, items)
        self._pending.append((items, self._last))
        self._files += len(items)
        self._bytes += _batch_bytes(items)

    def _commit(self, after: Future[None] | None, items: list[_Item]) -> None:
        if after is not None and after.exception() is not None:
            raise IntakeError("not recorded: an earlier batch failed")
        _commit(self._home, self._ws, items, self._options)

    def report(self, *, ahead: bool) -> None:
        """Wait for commits, oldest first, and pass their outcomes on; with ``ahead`` only
        until there is room in staging for the next batch, otherwise for all of them."""
        while self._pending and (
            not ahead or self._files > BATCH_FILES or self._bytes > BATCH_BYTES
        ):
            items, done = self._pending.popleft()
            self._files -= len(items)
            self._bytes -= _batch_bytes(items)
            done.result()
            for item in items:
                assert item.outcome is not None
                self._report.outcomes.append(item.outcome)
                self._progress.on_outcome(item.outcome)


def _batch_bytes(items: list[_Item]) -> int:
    return sum(i.candidate.st.st_size for i in items if i.candidate.st is not None)


def _batches(files: list[Candidate]) -> Iterator[list[Candidate]]:
    """Batches of at most BATCH_FILES files and BATCH_BYTES bytes (one file may exceed it).

    A batch is committed while the next one is received and extracted; the first ones are
    smaller (BATCH_FIRST files, then twice as many each time) so that the first commit can
    start early.
    """
    batch: list[Candidate] = []
    size = 0
    limit = BATCH_FIRST
    for c in files:
        st_size = c.st.st_size if c.st is not None else 0
        if batch and (len(batch) >= limit or size + st_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
            limit = min(BATCH_FILES, limit * 2)
        batch.append(c)
        size += st_size
    if batch:
        yield batch


def _receive_all(
    batch: list[Candidate],
    ws: Workspace,
    threads: ThreadPoolExecutor,
    pool: ExtractorPool,
    progress: IngestProgress,
) -> list[_Item]:
    """Copy a batch into staging; its extractions are queued (``_Item.extracting``)."""
    items = [_Item(c) for c in batch]

    def one(item: _Item) -> None:
        staged = ws.new_staging_file()
        assert item.candidate.st is not None
        try:
            item.received = receive(item.candidate.path, staged, item.candidate.st)
            item.acquired_at = format_time(datetime.now(UTC))
            # extraction overlaps further copying
            item.extracting = pool.submit(staged, item.received.media_type)
        except IntakeError as exc:
            staged.unlink(missing_ok=True)
            item.outcome = FileOutcome(item.candidate.path, "failed", reason=str(exc))
        except OSError as exc:
            staged.unlink(missing_ok=True)
            item.outcome = FileOutcome(
                item.candidate.path, "failed", reason=f"cannot store a copy: {exc.strerror or exc}"
            )
        progress.on_bytes(item.candidate.st.st_size)

    for _ in threads.map(one, items):
        pass
    return items


def _provenance(
    item: _Item, options: IngestOptions, object_id: str, logical: str, new_object: bool
) -> dict[str, JSONValue]:
    c, r = item.candidate, item.received
    assert r is not None
    st = r.before
    return {
        "object": object_id,
        "size": r.size,
        "media_type": r.media_type,
        "logical_path": logical,
        "new_object": new_object,
        "case": options.case,
        "collector": options.collector,
        "source": options.source,
        "note": options.note,
        "path": path_value(c.path),
        "name": path_value(os.path.basename(c.path)),
        "given": path_value(c.root),
        "file": {
            # nanosecond times, inode and device numbers can exceed the 2^53 integers that
            # RFC 8785 allows, so they are decimal strings
            "mtime_ns": str(st.st_mtime_ns),
            "atime_ns": str(st.st_atime_ns),
            "ctime_ns": str(st.st_ctime_ns),
            "mtime": _ns_time(st.st_mtime_ns),
            "ctime": _ns_time(st.st_ctime_ns),
            "atime": _ns_time(st.st_atime_ns),
            "mode": f"{st.st_mode & 0o7777:04o}",
            "uid": st.st_uid,
            "gid": st.st_gid,
            "inode": str(st.st_ino),
            "device": str(st.st_dev),
            "links": st.st_nlink,
        },
        "acquired_at": item.acquired_at,
        "host": platform.node(),
    }


def _ns_time(ns: int) -> str | None:
    """RFC 3339 UTC with nanoseconds; None for times a calendar date cannot show."""
    try:
        when = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


def _extraction_data(
    object_id: str, extraction: Extraction | None, media_type: str
) -> dict[str, JSONValue]:
    if extraction is None:
        return {
            "object": object_id,
            "media_type": media_type,
            "status": "failed",
            "metadata": {},
            "errors": ["no extraction result"],
            "extractor": "none",
        }
    data: dict[str, JSONValue] = {"object": object_id}
    data.update(extraction.to_json())
    return data


def _commit(home: Home, ws: Workspace, items: list[_Item], options: IngestOptions) -> None:
    """Store a batch's new objects, then record the whole batch (see the module's steps)."""
    for item in items:
        if item.extracting is not None:
            item.extraction = item.extracting.result()
            item.extracting = None
    with home.store.batch(ws.staging) as objects:
        prepared = _prepare(objects, items, options)
        if prepared:
            ws.write_intents(
                f"batch-{next(_batch_names):06d}",
                [(obj.inventory_digest, drafts) for _item, obj, drafts in prepared],
            )
            syncfs(home.path)  # staged bytes, objects and intents are durable before any move
            for item, obj, _drafts in prepared:
                try:
                    objects.place(obj)
                    item.new_object = True
                except ObjectExistsError:
                    item.new_object = False  # another run stored the same bytes first
                    objects.discard(obj)
            syncfs(home.path)
    with home.writing():
        planned: list[Draft] = []
        owners: list[tuple[_Item, int]] = []
        recorded: set[str] = set()
        for item in items:
            _plan_entries(home, item, options, planned, owners, recorded)
        entries = home.commit(planned)
        for item, first in owners:
            assert item.outcome is not None
            item.outcome = _with_entry(item.outcome, entries[first].index)


def _prepare(
    objects: ObjectBatch, items: list[_Item], options: IngestOptions
) -> list[tuple[_Item, PreparedObject, list[Draft]]]:
    """Build the objects for content not stored yet, with the entries that will record them."""
    prepared = []
    in_batch: set[str] = set()
    for item in items:
        r = item.received
        if r is None:
            continue
        object_id = OcflStore.object_id(r.digest)
        item.object_id = object_id
        if object_id in in_batch:
            continue
        logical = "original" + extension_for(r.media_type)
        try:
            obj = objects.prepare(
                NewObject(
                    object_id,
                    r.staged,
                    digest_hex=r.digest,
                    size=r.size,
                    logical_name=logical,
                    created=datetime.now(UTC),
                    message=f"Received from {options.source or 'collector'}",
                    user_name=options.collector,
                )
            )
        except ObjectExistsError:
            continue
        in_batch.add(object_id)
        item.drafts = _new_object_drafts(item, options, object_id, logical)
        prepared.append((item, obj, item.drafts))
    return prepared


def _new_object_drafts(
    item: _Item, options: IngestOptions, object_id: str, logical: str
) -> list[Draft]:
    """The entries that record an object new to the store: acquisition, extraction."""
    assert item.received is not None
    return [
        Draft(
            "acquisition", options.collector, _provenance(item, options, object_id, logical, True)
        ),
        Draft(
            "extraction",
            options.collector,
            _extraction_data(object_id, item.extraction, item.received.media_type),
        ),
    ]


def _plan_entries(
    home: Home,
    item: _Item,
    options: IngestOptions,
    drafts: list[Draft],
    owners: list[tuple[_Item, int]],
    recorded: set[str],
) -> None:
    """Add the entries for one item; ``recorded`` holds objects this batch records as new."""
    c, r = item.candidate, item.received
    if (item.outcome is not None and item.outcome.status == "failed") or r is None:
        reason = item.outcome.reason if item.outcome else c.reason
        status: Status = (
            item.outcome.status
            if item.outcome
            else (
                "linked"
                if c.kind == "symlink" and c.inside
                else "failed"
                if c.kind == "error"
                else "skipped"
            )
        )
        item.outcome = FileOutcome(
            c.path, status, reason=reason, size=c.st.st_size if c.st and c.kind == "file" else None
        )
        data: dict[str, JSONValue] = {
            "case": options.case,
            "path": path_value(c.path),
            "given": path_value(c.root),
            "kind": "failed" if status == "failed" else c.kind,
            "reason": reason or "",
        }
        if c.target is not None:
            data["target"] = path_value(c.target)
        owners.append((item, len(drafts)))
        drafts.append(Draft("intake.skip", options.collector, data))
        return
    assert item.object_id is not None
    object_id = item.object_id
    logical = "original" + extension_for(r.media_type)
    if not item.new_object:
        logical = home.catalog_logical_path(object_id) or logical
    outcome = FileOutcome(
        c.path,
        "preserved",
        size=r.size,
        object_id=object_id,
        new_object=item.new_object,
        media_type=r.media_type,
        extraction=item.extraction.status if item.extraction else None,
    )
    if not item.new_object:
        path_key = _path_key(c.path)
        if home.catalog.has_acquisition(
            case=options.case,
            object_id=object_id,
            path=path_key,
            mtime_ns=str(r.before.st_mtime_ns),
            size=r.size,
            collector=options.collector,
            source=options.source,
        ):
            item.outcome = FileOutcome(
                c.path,
                "already-preserved",
                size=r.size,
                object_id=object_id,
                media_type=r.media_type,
                reason="this acquisition is already recorded",
            )
            return
        if object_id not in recorded and not home.catalog_has_object(object_id):
            # in the store but in no entry (a run still going, or one that crashed without
            # its intents): record it now, fully
            item.new_object = True
            outcome = FileOutcome(
                c.path,
                "preserved",
                size=r.size,
                object_id=object_id,
                new_object=True,
                media_type=r.media_type,
                extraction=item.extraction.status if item.extraction else None,
            )
    owners.append((item, len(drafts)))
    item.outcome = outcome
    if item.new_object:
        recorded.add(object_id)
        # the drafts of the batch's intent, or new ones for an object found unrecorded
        drafts.extend(item.drafts or _new_object_drafts(item, options, object_id, logical))
    else:
        drafts.append(
            Draft(
                "acquisition",
                options.collector,
                _provenance(item, options, object_id, logical, False),
            )
        )


def _path_key(path: bytes) -> str:
    return canonical_json(path_value(path)).decode("utf-8")


def _with_entry(outcome: FileOutcome, entry: int) -> FileOutcome:
    return replace(outcome, entry=entry)


def summarize(report: IngestReport) -> dict[str, int]:
    return {
        s: report.count(s)
        for s in ("preserved", "already-preserved", "linked", "skipped", "failed")
    }
