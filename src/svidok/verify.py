"""``svidok verify``: check a data home without trusting its catalog or caches.

What is checked, in order:

1. every stored byte against its digest (OCFL inventories, sidecars, content; ``--quick``
   checks sizes and inventories but does not re-hash content);
2. the ledger file from scratch: every line canonical and in order, the RFC 9162 tree
   recomputed; the latest signed checkpoint's signature and root; every stored checkpoint
   consistent with the current tree; every external checkpoint given with ``--against``
   consistent with it (this is how a rewritten or rolled-back archive is caught);
3. accounting: every object in the store named by an acquisition or a derivative entry,
   and every such entry's object present with the recorded size;
4. the catalog equal to a fresh projection of the ledger;
5. every stored RFC 3161 token over the checkpoint it names, signed by its TSA (those
   lacking one are a note when TSAs are configured; ``svidok.timestamps``).

Findings are *problems* (the archive is not as the ledger says) or *notes* (harmless,
e.g. an interrupted write that the next command will complete).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select

from svidok.catalog import Catalog, schema
from svidok.errors import FormatError, ProofError, SignatureError, SvidokError
from svidok.home import Home
from svidok.ledger.checkpoint import Checkpoint, open_checkpoint
from svidok.ledger.entries import Entry
from svidok.ledger.log import ENTRIES
from svidok.ledger.merkle import HashTree, verify_consistency
from svidok.ledger.note import Verifier
from svidok.ledger.scan import read_ledger
from svidok.store.ocfl import ObjectInfo
from svidok.store.problems import StoreProblem

Severity = Literal["problem", "note"]
_READ = 16 << 20


@dataclass(frozen=True)
class Finding:
    severity: Severity
    area: str  # store, ledger, checkpoint, timestamp, accounting, catalog
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: [{self.area}] {self.message}"


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    bytes_checked: int = 0
    entries: int = 0
    checkpoint_size: int | None = None
    external_checked: int = 0
    timestamped: list[int] = field(default_factory=list)  # sizes with a valid RFC 3161 token

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "problem"]

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, area: str, message: str) -> None:
        self.findings.append(Finding("problem", area, message))

    def note(self, area: str, message: str) -> None:
        self.findings.append(Finding("note", area, message))


@dataclass
class _LedgerScan:
    tree: HashTree
    first: dict[str, Any] | None = None
    acquisitions: list[tuple[int, str, Any]] = field(default_factory=list)  # index, object, size
    torn_bytes: int = 0


def verify(
    home: Home,
    *,
    against: Iterable[Path] = (),
    quick: bool = False,
    trusted: Iterable[Verifier] = (),
    progress: Callable[[str, int, int | None], None] | None = None,
) -> VerifyReport:
    """Run every check; never raises for what it finds (only for what stops it running)."""
    report = VerifyReport()
    step = progress or (lambda _stage, _n, _total: None)
    stored = _check_store(home, report, quick, step)
    scan = _check_ledger(home, report, step, acquisitions=True)
    if scan is None:
        return report
    report.entries = scan.tree.size
    verifiers = list(trusted) or [home.verifier]
    _check_key(home, scan, verifiers, report)
    _check_checkpoints(home, scan.tree, verifiers, against, report)
    _check_timestamps(home, report)
    _check_accounting(home, scan.acquisitions, stored, report)
    _check_catalog(home, scan.tree.size, report)
    return report


def verify_ledger(
    home: Home, *, against: Iterable[Path] = (), trusted: Iterable[Verifier] = ()
) -> VerifyReport:
    """Only the ledger checks (step 2): entries, tree, key, every checkpoint."""
    report = VerifyReport()
    scan = _check_ledger(home, report, lambda _stage, _n, _total: None)
    if scan is not None:
        report.entries = scan.tree.size
        verifiers = list(trusted) or [home.verifier]
        _check_key(home, scan, verifiers, report)
        _check_checkpoints(home, scan.tree, verifiers, against, report)
    return report


# ---------------------------------------------------------------- trusted time
def _check_timestamps(home: Home, report: VerifyReport) -> None:
    """Every stored RFC 3161 token: over its checkpoint, signed by its configured TSA.
    With TSAs configured, the checkpoints lacking a token are a note."""
    stamps = home.timestamps()
    try:
        sizes = stamps.checkpoint_sizes() if home.config.tsas else []
        found = stamps.check(sizes)
    except OSError as exc:
        report.problem("timestamp", f"cannot read ledger/timestamps: {exc}")
        return
    for message in found.problems:
        report.problem("timestamp", message)
    for message in found.notes:
        report.note("timestamp", message)
    latest = report.checkpoint_size
    if latest is not None and (home.config.tsas or found.stamped):
        have = found.stamped.get(latest, [])
        report.note(
            "timestamp",
            f"the latest checkpoint ({latest}) is time-stamped by "
            + ", ".join(f"{s.tsa} at {s.time.isoformat().replace('+00:00', 'Z')}" for s in have)
            if have
            else f"the latest checkpoint ({latest}) has no timestamp yet",
        )
    report.timestamped = sorted(found.stamped)


# ------------------------------------------------------------------------- store
def _check_store(
    home: Home, report: VerifyReport, quick: bool, step: Callable[[str, int, int | None], None]
) -> dict[str, ObjectInfo]:
    stored: dict[str, ObjectInfo] = {}
    total = _expected_bytes(home) if not quick else None
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        step("store", done, total)

    for item in home.store.scan(fixity=not quick, progress=advance):
        if isinstance(item, StoreProblem):
            if item.severity == "error":
                report.problem("store", str(item))
            else:
                report.note("store", str(item))
        else:
            stored[item.id] = item
    report.objects = len(stored)
    report.bytes_checked = done
    return stored


def _expected_bytes(home: Home) -> int | None:
    """The progress bar's total, from the catalog: only an estimate, never a check."""
    try:
        with home.catalog.engine.connect() as conn:
            total = conn.execute(select(func.sum(schema.objects.c.size))).scalar_one_or_none()
    except Exception:  # a damaged catalog is reported by the catalog check, not here
        return None
    return int(total) if total is not None else None


def _check_ledger(
    home: Home,
    report: VerifyReport,
    step: Callable[[str, int, int | None], None],
    *,
    acquisitions: bool = False,
) -> _LedgerScan | None:
    """Read the ledger file from scratch: every line canonical, in order; the tree rebuilt."""
    path = home.ledger.dir / ENTRIES
    try:
        size = path.stat().st_size
        piece = read_ledger(
            path, lambda done, total: step("ledger", done, total), acquisitions=acquisitions
        )
    except OSError as exc:
        report.problem("ledger", f"cannot read the ledger file {path}: {exc}")
        return None
    if piece.tree is None:  # read_ledger always builds it
        raise AssertionError("read_ledger returned no tree")
    scan = _LedgerScan(piece.tree, piece.first, piece.acquisitions)
    scan.torn_bytes = size - piece.good_end
    count = scan.tree.size
    signed = _latest_signed_size(home)
    if scan.torn_bytes:
        where = f"after entry {count - 1}" if count else "at the start"
        if signed is not None and count < signed:
            report.problem(
                "ledger",
                f"{piece.error or 'an incomplete line'} ({where}); the ledger has only {count} "
                f"valid entries but {signed} were signed",
            )
        else:
            report.note(
                "ledger",
                f"{scan.torn_bytes} bytes of an interrupted write {where}, not covered by any "
                "checkpoint; the next command sets them aside",
            )
    return scan


def _latest_signed_size(home: Home) -> int | None:
    try:
        text = (home.ledger.dir / "checkpoint").read_text(encoding="utf-8")
        return Checkpoint.parse(text.split("\n\n", 1)[0] + "\n").size
    except (OSError, FormatError, ValueError):
        return None


def _check_key(
    home: Home, scan: _LedgerScan, verifiers: list[Verifier], report: VerifyReport
) -> None:
    if scan.first is None or scan.first["type"] != "init":
        report.problem("ledger", "the first entry is not the data home's init entry")
        return
    vkey = scan.first["data"].get("vkey")
    if vkey != home.verifier.to_vkey():
        report.problem(
            "ledger", "keys/ledger.pub is not the key recorded when the home was created"
        )
    if vkey not in {v.to_vkey() for v in verifiers}:
        report.problem(
            "ledger", "this archive was created with a key other than the one(s) you trust (--key)"
        )


# ------------------------------------------------------------------- checkpoints
def _open_with(note: str, verifiers: list[Verifier]) -> Checkpoint:
    last: Exception | None = None
    for v in verifiers:
        try:
            return open_checkpoint(note, v)
        except (SignatureError, FormatError) as exc:
            last = exc
    raise SignatureError(str(last) if last else "no key to check the signature with")


def _check_one(
    tree: HashTree, cp: Checkpoint, origin: str, label: str, report: VerifyReport
) -> None:
    if cp.origin != origin:
        report.problem("checkpoint", f"{label} is for log {cp.origin!r}, not {origin!r}")
        return
    if cp.size > tree.size:
        report.problem(
            "checkpoint",
            f"{label} covers {cp.size} entries but the ledger has "
            f"only {tree.size}: entries were removed (rolled back)",
        )
        return
    try:
        verify_consistency(
            cp.size,
            tree.size,
            tree.consistency_proof(cp.size, tree.size),
            cp.root_hash,
            tree.root(),
        )
    except ProofError:
        report.problem(
            "checkpoint",
            f"{label} (size {cp.size}) is inconsistent with the ledger: "
            "entries it covers were changed, removed or reordered",
        )


def _check_checkpoints(
    home: Home,
    tree: HashTree,
    verifiers: list[Verifier],
    against: Iterable[Path],
    report: VerifyReport,
) -> None:
    origin = home.config.origin
    try:
        latest_text = (home.ledger.dir / "checkpoint").read_text(encoding="utf-8")
    except OSError:
        report.problem("checkpoint", "the ledger has no signed checkpoint")
        latest_text = None
    if latest_text is not None:
        try:
            latest = _open_with(latest_text, verifiers)
            report.checkpoint_size = latest.size
            _check_one(tree, latest, origin, "the latest checkpoint", report)
            if latest.size < tree.size:
                report.note(
                    "checkpoint",
                    f"{tree.size - latest.size} entries are not yet "
                    "covered by a signed checkpoint (the next command signs them)",
                )
        except (SignatureError, FormatError) as exc:
            report.problem("checkpoint", f"the latest checkpoint does not verify: {exc}")
    for leftover in home.ledger.unfinished_writes():
        report.note(
            "checkpoint",
            f"{leftover.name} in {leftover.parent.name}/ is what a stopped write left (never "
            "renamed into place, so not a checkpoint); the next command removes it",
        )
    largest = 0
    for path, text in home.ledger.stored_checkpoints():
        try:
            cp = _open_with(text, verifiers)
        except (SignatureError, FormatError) as exc:
            report.problem("checkpoint", f"stored checkpoint {path.name} does not verify: {exc}")
            continue
        if path.name != f"{cp.size:020d}.note":
            report.problem("checkpoint", f"stored checkpoint {path.name} is for size {cp.size}")
        largest = max(largest, cp.size)
        _check_one(tree, cp, origin, f"stored checkpoint {path.name}", report)
    if report.checkpoint_size is not None and largest > report.checkpoint_size:
        # every stored checkpoint was checked against the tree above; this one is ahead of
        # `checkpoint` because a signing stopped between its two writes
        report.note(
            "checkpoint",
            f"a stored checkpoint covers {largest} entries but the latest file only "
            f"{report.checkpoint_size}: a signing was interrupted; the next command completes it",
        )
    for path in against:
        try:
            text = path.read_text(encoding="utf-8")
            cp = _open_with(text, verifiers)
        except (OSError, UnicodeDecodeError) as exc:
            report.problem("checkpoint", f"cannot read {path}: {exc}")
            continue
        except (SignatureError, FormatError) as exc:
            report.problem(
                "checkpoint", f"{path} is not a checkpoint signed by this log's key: {exc}"
            )
            continue
        report.external_checked += 1
        _check_one(tree, cp, origin, f"external checkpoint {path}", report)


# -------------------------------------------------------------------- accounting
def _check_accounting(
    home: Home,
    acquisitions: list[tuple[int, str, Any]],
    stored: Mapping[str, ObjectInfo],
    report: VerifyReport,
) -> None:
    named: set[str] = set()
    for index, object_id, size in acquisitions:
        named.add(object_id)
        info = stored.get(object_id)
        if info is None:
            report.problem(
                "accounting",
                f"entry {index} records object {object_id}, which is not in the store",
            )
        elif _original_size(info) != size:
            report.problem(
                "accounting",
                f"entry {index} records {size} bytes for {object_id}, the store "
                f"holds {_original_size(info)}",
            )
    pending = {i.object_id for i in home.pending_intents() if home.placed_by(i)}
    for oid in stored:
        if oid in named:
            continue
        if oid in pending:
            report.note(
                "accounting",
                f"object {oid} is from an interrupted or running intake; the next command "
                "records it",
            )
        else:
            report.problem(
                "accounting", f"object {oid} is in the store but no ledger entry accounts for it"
            )


def _original_size(info: ObjectInfo) -> int | None:
    """Size of the file holding the original bytes (the digest the object id names)."""
    digest = info.id.removeprefix("sha256:")
    for f in info.files:
        if f.digest == digest:
            return f.size
    return None


# ----------------------------------------------------------------------- catalog
def _check_catalog(home: Home, valid: int, report: VerifyReport) -> None:
    """Replay the ledger into a scratch catalog and compare it with the live one."""
    try:
        applied = home.catalog.applied()
        live = home.catalog.dump()
    except Exception as exc:  # any database failure is a finding, not a crash
        report.problem("catalog", f"cannot read the catalog: {exc}")
        return
    if applied > valid:
        report.problem(
            "catalog",
            f"the catalog reflects {applied} entries but the ledger has {valid} valid ones",
        )
        return
    if applied < valid:
        report.note(
            "catalog",
            f"the catalog is {valid - applied} entries behind the ledger (the next command "
            "brings it up to date)",
        )
    fresh = Catalog.in_memory()
    try:
        batch: list[Entry] = []
        for entry in _read_entries(home.ledger.dir / ENTRIES, applied):
            batch.append(entry)
            if len(batch) >= 5000:
                fresh.apply(batch)
                batch = []
        fresh.apply(batch)
        expected = fresh.dump()
    except SvidokError as exc:
        report.problem("catalog", f"the ledger cannot be projected: {exc}")
        return
    finally:
        fresh.close()
    for table, rows in expected.items():
        have = live.get(table, [])
        if have != rows:
            for message in _diff(table, rows, have):
                report.problem("catalog", message)


def _read_entries(path: Path, count: int) -> Iterator[Entry]:
    """The first ``count`` entries of the ledger file, parsed (already checked above)."""
    if count <= 0:
        return
    with path.open("rb") as fh:
        for index, line in enumerate(fh):
            if index >= count:
                return
            yield Entry.parse(line.rstrip(b"\n"), expected_index=index)


def _diff(
    table: str, expected: list[tuple[Any, ...]], have: list[tuple[Any, ...]]
) -> Iterator[str]:
    exp = {r[0]: r for r in expected}
    got = {r[0]: r for r in have}
    shown = 0
    for key in sorted(set(exp) | set(got), key=str):
        if exp.get(key) == got.get(key):
            continue
        shown += 1
        if shown > 20:
            yield f"table {table}: more differences not shown"
            return
        if key not in got:
            yield f"table {table}: row {key!r} from the ledger is missing"
        elif key not in exp:
            yield f"table {table}: row {key!r} is not in the ledger"
        else:
            yield f"table {table}: row {key!r} differs from the ledger"
